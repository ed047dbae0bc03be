import { GenrecError } from '@genrec/core';

/**
 * A set of items per user in compressed-row form (relevant items with grades, or history items):
 * user `u` owns `items[offsets[u] .. offsets[u+1] - 1]` and, when present, `grades` at the same
 * indices. Used for relevance judgements (grade > 0 means relevant) and for history to mask.
 * Item ids are `@genrec/data`'s: `1 .. itemCount` (0 is padding and never an item). The layout is
 * that of an `EvaluationSet`'s `historyOffsets` / `historyItems` and `targetOffsets` / `targetItems`.
 */
export interface UserItemSets {
  /** Number of users. */
  readonly userCount: number;
  /** `userCount + 1` row offsets into `items`, non-decreasing, `offsets[0] = 0`. */
  readonly offsets: Int32Array;
  /** Item ids (`1 .. itemCount`) of all users, concatenated. */
  readonly items: Int32Array;
  /** Optional relevance grades aligned with `items` (absent: every item has grade 1). */
  readonly grades?: Float64Array;
}

/**
 * Builds {@link UserItemSets} from one array of item ids per user.
 *
 * @param sets - item ids (`1 .. itemCount`) per user (duplicates within a user are rejected later by
 *   the evaluator, ids above the catalogue too)
 * @param grades - optional grades per user, aligned with `sets`
 * @returns compressed rows
 * @throws GenrecError `SHAPE_MISMATCH` when `grades` does not align; `INVALID_INPUT` for a non-integer
 *   id, an id below 1 (0 is padding, never an item) or a non-finite grade
 * @example
 * ```ts
 * const relevant = itemSetsFromArrays([[4], [1, 7], []]);
 * const graded = itemSetsFromArrays([[4, 5]], [[2, 1]]);
 * ```
 */
export function itemSetsFromArrays(
  sets: ReadonlyArray<ArrayLike<number>>,
  grades?: ReadonlyArray<ArrayLike<number>>,
): UserItemSets {
  if (grades !== undefined && grades.length !== sets.length) {
    throw new GenrecError('SHAPE_MISMATCH', `item sets: ${grades.length} grade rows for ${sets.length} users`, { details: { field: 'grades' } });
  }
  const offsets = new Int32Array(sets.length + 1);
  for (let u = 0; u < sets.length; u++) offsets[u + 1] = offsets[u]! + sets[u]!.length;
  const total = offsets[sets.length]!;
  const items = new Int32Array(total);
  const gradeValues = grades === undefined ? undefined : new Float64Array(total);
  for (let u = 0; u < sets.length; u++) {
    const row = sets[u]!;
    const gradeRow = grades?.[u];
    if (gradeRow !== undefined && gradeRow.length !== row.length) {
      throw new GenrecError('SHAPE_MISMATCH', `item sets: user ${u} has ${row.length} items but ${gradeRow.length} grades`, {
        details: { field: 'grades', user: u },
      });
    }
    for (let j = 0; j < row.length; j++) {
      const item = row[j]!;
      if (!Number.isInteger(item) || item < 1 || item > 2147483647) {
        throw new GenrecError('INVALID_INPUT', `item sets: user ${u} entry ${j} is ${item}, not an item id (integers from 1; 0 is padding)`, {
          details: { user: u, position: j },
        });
      }
      items[offsets[u]! + j] = item;
      if (gradeValues !== undefined) {
        const grade = gradeRow![j]!;
        if (!Number.isFinite(grade)) {
          throw new GenrecError('INVALID_INPUT', `item sets: user ${u} grade ${j} is ${grade}, not finite`, { details: { user: u } });
        }
        gradeValues[offsets[u]! + j] = grade;
      }
    }
  }
  return gradeValues === undefined ? { userCount: sets.length, offsets, items } : { userCount: sets.length, offsets, items, grades: gradeValues };
}

/**
 * Builds {@link UserItemSets} from a padded matrix `[userCount, width]` (e.g. `@genrec/data`'s
 * padded histories): every entry equal to `padding` is skipped, the others are the row's items.
 *
 * @param padded - item ids (`1 .. itemCount`), row-major
 * @param width - row width
 * @param padding - the padding value
 * @defaultValue padding 0 (`@genrec/data`'s padding id)
 * @returns compressed rows
 * @throws GenrecError `SHAPE_MISMATCH` when the size is not a multiple of `width`; `INVALID_INPUT` for
 *   a non-padding entry below 1
 * @example
 * ```ts
 * const sets = itemSetsFromPadded(new Int32Array([3, 0, 0, 5, 2, 0]), 3); // [[3], [5, 2]]
 * ```
 */
export function itemSetsFromPadded(padded: Int32Array, width: number, padding = 0): UserItemSets {
  if (!Number.isSafeInteger(width) || width <= 0 || padded.length % width !== 0) {
    throw new GenrecError('SHAPE_MISMATCH', `padded item sets: ${padded.length} values is not a whole number of rows of width ${width}`);
  }
  const userCount = padded.length / width;
  const offsets = new Int32Array(userCount + 1);
  let total = 0;
  for (let u = 0; u < userCount; u++) {
    for (let j = 0; j < width; j++) {
      const item = padded[u * width + j]!;
      if (item === padding) continue;
      if (item < 1) {
        throw new GenrecError('INVALID_INPUT', `padded item sets: row ${u}, column ${j} holds ${item}, not an item id (ids start at 1) nor the padding ${padding}`, {
          details: { user: u, position: j },
        });
      }
      total++;
    }
    offsets[u + 1] = total;
  }
  const items = new Int32Array(total);
  let next = 0;
  for (let u = 0; u < userCount; u++) {
    for (let j = 0; j < width; j++) {
      const item = padded[u * width + j]!;
      if (item !== padding) items[next++] = item;
    }
  }
  return { userCount, offsets, items };
}

/**
 * Checks a set's structure and that every id lies in `1 .. itemCount` (and every grade is finite).
 *
 * @param sets - the sets to check
 * @param itemCount - catalogue size
 * @param name - what the sets are, for messages ("relevant", "history")
 * @throws GenrecError `SHAPE_MISMATCH` for bad offsets; `INVALID_INPUT` for an id outside the catalogue
 *   (0, the padding id, included)
 * @example
 * ```ts
 * validateItemSets(itemSetsFromArrays([[1, 4]]), 4, 'relevance'); // passes; [[0]] or [[5]] would throw
 * ```
 */
export function validateItemSets(sets: UserItemSets, itemCount: number, name: string): void {
  const { offsets, items, grades, userCount } = sets;
  if (offsets.length !== userCount + 1 || offsets[0] !== 0 || offsets[userCount] !== items.length) {
    throw new GenrecError('SHAPE_MISMATCH', `${name} sets: offsets must have userCount + 1 = ${userCount + 1} entries from 0 to ${items.length}`, {
      details: { field: name },
    });
  }
  if (grades !== undefined && grades.length !== items.length) {
    throw new GenrecError('SHAPE_MISMATCH', `${name} sets: ${grades.length} grades for ${items.length} items`, { details: { field: name } });
  }
  for (let u = 0; u < userCount; u++) {
    if (offsets[u + 1]! < offsets[u]!) {
      throw new GenrecError('SHAPE_MISMATCH', `${name} sets: offsets decrease at user ${u}`, { details: { field: name, user: u } });
    }
  }
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    if (item < 1 || item > itemCount) {
      throw new GenrecError('INVALID_INPUT', `${name} sets: item id ${item} is outside the catalogue 1..${itemCount}${item === 0 ? ' (0 is padding)' : ''}`, {
        details: { field: name, item, user: userOfIndex(offsets, i) },
      });
    }
    if (grades !== undefined && !Number.isFinite(grades[i]!)) {
      throw new GenrecError('INVALID_INPUT', `${name} sets: grade ${grades[i]} of item ${item} is not finite`, {
        details: { field: name, user: userOfIndex(offsets, i) },
      });
    }
  }
}

function userOfIndex(offsets: Int32Array, index: number): number {
  let low = 0;
  let high = offsets.length - 2;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (offsets[middle]! <= index) low = middle;
    else high = middle - 1;
  }
  return low;
}
