import { GenrecError, type Recommendations } from '@genrec/core';

/**
 * Ranked recommendation lists of many users, flat and row-major: user `u`'s list is
 * `items[u * width .. u * width + length(u) - 1]`, best first. `length(u)` is `lengths[u]` when
 * `lengths` is given, otherwise `width`; entries after it are padding and never read (genrec pads
 * with 0, as `Recommendations` do). Item ids are `@genrec/data`'s `1 .. itemCount`; an entry
 * inside a list's length that is not (0 included) is an invalid id, handled by the evaluator's
 * `invalidIds` policy (an error by default).
 */
export interface RankedLists {
  /** Item ids `1 .. itemCount`, `[userCount, width]`. */
  readonly items: Int32Array;
  /** Number of users (rows). */
  readonly userCount: number;
  /** Row stride: the claimed maximum list length (the K the lists were generated for). */
  readonly width: number;
  /** Per-user list lengths (each `0..width`); absent means every list has `width` entries. */
  readonly lengths?: Int32Array;
}

/**
 * Wraps flat ranked lists after checking their shape.
 *
 * @param items - `[userCount, width]` item ids, best first
 * @param width - row stride (the claimed list length K)
 * @param lengths - optional per-user lengths `0..width`
 * @returns the lists (no copy)
 * @throws GenrecError `SHAPE_MISMATCH` when `items.length` is not a multiple of `width` or
 *   `lengths` has the wrong size; `INVALID_INPUT` when a length is outside `0..width` (a list longer
 *   than the claimed K)
 * @example
 * ```ts
 * const lists = createRankedLists(new Int32Array([3, 1, 2, 4]), 2); // two users, top-2 each
 * const short = createRankedLists(new Int32Array([3, 1, 2, 0]), 2, new Int32Array([2, 1])); // user 1: [2]
 * ```
 */
export function createRankedLists(items: Int32Array, width: number, lengths?: Int32Array): RankedLists {
  if (!Number.isSafeInteger(width) || width < 0) {
    throw new GenrecError('INVALID_INPUT', `ranked lists need a non-negative integer width, got ${width}`, { details: { field: 'width' } });
  }
  if (width === 0 ? items.length !== 0 : items.length % width !== 0) {
    throw new GenrecError('SHAPE_MISMATCH', `ranked lists: ${items.length} item ids is not a whole number of rows of width ${width}`, {
      details: { field: 'items' },
    });
  }
  const userCount = width === 0 ? (lengths?.length ?? 0) : items.length / width;
  if (lengths !== undefined) {
    if (lengths.length !== userCount) {
      throw new GenrecError('SHAPE_MISMATCH', `ranked lists: ${lengths.length} lengths for ${userCount} rows`, { details: { field: 'lengths' } });
    }
    for (let u = 0; u < userCount; u++) {
      const length = lengths[u]!;
      if (length < 0 || length > width) {
        throw new GenrecError(
          'INVALID_INPUT',
          `ranked list of user ${u} has ${length} items, longer than the claimed K = ${width} (or negative)`,
          { details: { field: 'lengths', user: u } },
        );
      }
    }
  }
  return lengths === undefined ? { items, userCount, width } : { items, userCount, width, lengths };
}

/**
 * Packs one array of item ids per user into {@link RankedLists}.
 *
 * @param lists - one ranked list of item ids (`1 .. itemCount`) per user, best first
 * @param width - the claimed K; default: the longest list
 * @returns flat lists padded with 0 after each list's length
 * @throws GenrecError `INVALID_INPUT` when a list is longer than `width` or holds a non-integer
 * @example
 * ```ts
 * const lists = rankedListsFromArrays([[5, 2, 9], [1]], 3);
 * ```
 */
export function rankedListsFromArrays(lists: ReadonlyArray<ArrayLike<number>>, width?: number): RankedLists {
  let longest = 0;
  for (const list of lists) longest = Math.max(longest, list.length);
  const stride = width ?? longest;
  if (!Number.isSafeInteger(stride) || stride < 0) {
    throw new GenrecError('INVALID_OPTION', `width must be a non-negative integer, got ${stride}`, { details: { field: 'width' } });
  }
  const items = new Int32Array(lists.length * stride);
  const lengths = new Int32Array(lists.length);
  lists.forEach((list, u) => {
    if (list.length > stride) {
      throw new GenrecError('INVALID_INPUT', `ranked list of user ${u} has ${list.length} items, longer than the claimed K = ${stride}`, {
        details: { field: 'lists', user: u },
      });
    }
    for (let j = 0; j < list.length; j++) {
      const item = list[j]!;
      if (!Number.isInteger(item) || item < -2147483648 || item > 2147483647) {
        throw new GenrecError('INVALID_INPUT', `ranked list of user ${u}, position ${j}: ${item} is not an integer item id`, {
          details: { field: 'lists', user: u },
        });
      }
      items[u * stride + j] = item;
    }
    lengths[u] = list.length;
  });
  return { items, userCount: lists.length, width: stride, lengths };
}

/**
 * Wraps the output of core's `Recommender.recommend` as {@link RankedLists} (no copy): rows of
 * `recommendations.k` entries, `lengths` real entries each, 0 padding after them.
 *
 * @param recommendations - what `recommend` returned
 * @returns the lists
 * @throws GenrecError `SHAPE_MISMATCH` / `INVALID_INPUT` when the rows and lengths disagree
 * @example
 * ```ts
 * const lists = rankedListsFromRecommendations(await model.recommend(histories, { k: 10 }));
 * ```
 */
export function rankedListsFromRecommendations(recommendations: Recommendations): RankedLists {
  const { items, k, lengths, size } = recommendations;
  if (!(items instanceof Int32Array) || !(lengths instanceof Int32Array) || lengths.length !== size || items.length !== size * k) {
    throw new GenrecError('SHAPE_MISMATCH', `recommendations: ${String(items?.length)} item ids and ${String(lengths?.length)} lengths for ${size} rows of k = ${k}`, {
      details: { field: 'recommendations' },
    });
  }
  return createRankedLists(items, k, lengths);
}

/**
 * The length of user `u`'s list.
 *
 * @param lists - the lists
 * @param u - the user (row)
 * @returns `lengths[u]`, or `width` when the lists have no lengths
 * @example
 * ```ts
 * listLength(rankedListsFromArrays([[5, 2], [1]]), 1); // 1
 * ```
 */
export function listLength(lists: RankedLists, u: number): number {
  return lists.lengths === undefined ? lists.width : lists.lengths[u]!;
}

/**
 * User `u`'s list as a plain array (for reports and tests), without its padding.
 *
 * @param lists - the lists
 * @param u - the user (row)
 * @returns the item ids of the list, best first
 * @example
 * ```ts
 * rankedListOf(rankedListsFromArrays([[5, 2], [1]]), 1); // [1]
 * ```
 */
export function rankedListOf(lists: RankedLists, u: number): number[] {
  const start = u * lists.width;
  return Array.from(lists.items.subarray(start, start + listLength(lists, u)));
}
