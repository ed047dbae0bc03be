import { GenrecError } from '@genrec/core';

/**
 * A set of items per user in compressed-row form (relevant items with grades, or history items):
 * user `u` owns `items[offsets[u] .. offsets[u+1] - 1]` and, when present, `grades` at the same
 * indices. Used for relevance judgements (grade > 0 means relevant) and for history to mask.
 */
export interface UserItemSets {
  /** Number of users. */
  readonly userCount: number;
  /** `userCount + 1` row offsets into `items`, non-decreasing, `offsets[0] = 0`. */
  readonly offsets: Int32Array;
  /** Item ids of all users, concatenated. */
  readonly items: Int32Array;
  /** Optional relevance grades aligned with `items` (absent: every item has grade 1). */
  readonly grades?: Float64Array;
}

/**
 * Builds {@link UserItemSets} from one array of item ids per user.
 *
 * @param sets - item ids per user (duplicates within a user are rejected later by the evaluator)
 * @param grades - optional grades per user, aligned with `sets`
 * @returns compressed rows
 * @throws GenrecError `SHAPE_MISMATCH` when `grades` does not align; `INVALID_INPUT` for a non-integer
 *   id or a non-finite grade
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
      if (!Number.isInteger(item)) {
        throw new GenrecError('INVALID_INPUT', `item sets: user ${u} entry ${j} is ${item}, not an integer id`, { details: { user: u } });
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
 * Builds {@link UserItemSets} from a padded matrix `[userCount, width]` (the layout of the peer
 * dumps): row `u` holds its items first and `padding` after them.
 *
 * @param padded - item ids, row-major
 * @param width - row width
 * @param padding - the padding value
 * @defaultValue padding -1
 * @returns compressed rows
 * @throws GenrecError `SHAPE_MISMATCH` when the size is not a multiple of `width`
 */
export function itemSetsFromPadded(padded: Int32Array, width: number, padding = -1): UserItemSets {
  if (!Number.isSafeInteger(width) || width <= 0 || padded.length % width !== 0) {
    throw new GenrecError('SHAPE_MISMATCH', `padded item sets: ${padded.length} values is not a whole number of rows of width ${width}`);
  }
  const userCount = padded.length / width;
  const offsets = new Int32Array(userCount + 1);
  let total = 0;
  for (let u = 0; u < userCount; u++) {
    for (let j = 0; j < width; j++) if (padded[u * width + j] !== padding) total++;
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
 * Checks a set's structure and that every id lies in `0 .. itemCount-1` (and every grade is finite).
 *
 * @param sets - the sets to check
 * @param itemCount - catalogue size
 * @param name - what the sets are, for messages ("relevant", "history")
 * @throws GenrecError `SHAPE_MISMATCH` for bad offsets; `INVALID_INPUT` for an id outside the catalogue
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
    if (item < 0 || item >= itemCount) {
      throw new GenrecError('INVALID_INPUT', `${name} sets: item id ${item} is outside the catalogue 0..${itemCount - 1}`, {
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
