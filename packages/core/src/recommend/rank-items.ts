import type { HistoryBatch, RecommendOptions, Recommendations } from '../contracts/recommender.js';
import { GenrecError } from '../errors.js';
import { checkResultSize } from '../options.js';

/**
 * Validates `recommend` options against the model and the batch, before anything is allocated.
 *
 * @throws GenrecError `INVALID_OPTION` for `k` outside `1 .. maxK`, a non-function filter, or an
 * `exclude` list whose length differs from the batch; `INVALID_INPUT` for excluded ids outside the catalogue.
 */
export function checkRecommendOptions(options: RecommendOptions, maxK: number, users: number, itemCount: number): void {
  if (typeof options !== 'object' || options === null) throw new GenrecError('INVALID_OPTION', 'recommend options must be an object with k', { details: { field: 'options' } });
  checkResultSize(options.k, 'k', maxK, `this model returns at most ${maxK} items`);
  if (options.excludeHistory !== undefined && typeof options.excludeHistory !== 'boolean') {
    throw new GenrecError('INVALID_OPTION', `excludeHistory must be true or false, got ${String(options.excludeHistory)}`, { details: { field: 'excludeHistory' } });
  }
  if (options.filter !== undefined && typeof options.filter !== 'function') {
    throw new GenrecError('INVALID_OPTION', 'filter must be a function (itemId, user) => boolean', { details: { field: 'filter' } });
  }
  if (options.userIds !== undefined && (!(options.userIds instanceof Int32Array) || options.userIds.length !== users)) {
    throw new GenrecError('INVALID_OPTION', `userIds must be an Int32Array with one id per user (${users})`, { details: { field: 'userIds' } });
  }
  if (options.exclude !== undefined) {
    if (!Array.isArray(options.exclude) || options.exclude.length !== users) {
      throw new GenrecError('INVALID_OPTION', `exclude must hold one list per user (${users})`, { details: { field: 'exclude' } });
    }
    for (let u = 0; u < users; u++) {
      const list = options.exclude[u];
      if (list === undefined) continue;
      for (let i = 0; i < list.length; i++) {
        const id = list[i]!;
        if (!Number.isInteger(id) || id < 1 || id > itemCount) {
          throw new GenrecError('INVALID_INPUT', `exclude: user ${u}, position ${i} holds item id ${String(id)}, outside the catalogue 1..${itemCount}`, {
            details: { field: 'exclude', user: u, position: i },
          });
        }
      }
    }
  }
}

/**
 * Per-user exclusion marks over the catalogue (index = item id), reused from user to user: marks
 * the user's history (unless `excludeHistory` is false), the user's `exclude` list and the
 * retired items; `clear` undoes one user's marks in time proportional to what was marked.
 */
export class ExclusionMask {
  /** `marks[id]` is nonzero when item `id` is excluded for the current user. */
  readonly marks: Uint8Array;
  private readonly touched: number[] = [];

  constructor(readonly itemCount: number, private readonly retired: ArrayLike<number>) {
    this.marks = new Uint8Array(itemCount + 1);
    this.marks[0] = 1;
    for (let i = 0; i < retired.length; i++) this.marks[retired[i]!] = 2;
  }

  /** Marks what user `u` of the batch may not receive. */
  set(batch: HistoryBatch, u: number, options: Pick<RecommendOptions, 'excludeHistory' | 'exclude'>): void {
    if (options.excludeHistory !== false) {
      for (let i = batch.offsets[u]!; i < batch.offsets[u + 1]!; i++) this.mark(batch.items[i]!);
    }
    const extra = options.exclude?.[u];
    if (extra !== undefined) for (let i = 0; i < extra.length; i++) this.mark(extra[i]!);
  }

  /** Removes the current user's marks (retired items stay marked). */
  clear(): void {
    for (const id of this.touched) this.marks[id] = 0;
    this.touched.length = 0;
  }

  /** Number of items the current user may still receive. */
  available(): number {
    let excluded = 0;
    for (let id = 1; id <= this.itemCount; id++) if (this.marks[id] !== 0) excluded++;
    return this.itemCount - excluded;
  }

  private mark(id: number): void {
    if (this.marks[id] === 0) {
      this.marks[id] = 1;
      this.touched.push(id);
    }
  }
}

/** Allocates an empty {@link Recommendations} of `size x k` (items 0, scores -Infinity). */
export function emptyRecommendations(size: number, k: number): Recommendations {
  return { size, k, items: new Int32Array(size * k), scores: new Float32Array(size * k).fill(-Infinity), lengths: new Int32Array(size) };
}

/**
 * Selects the `k` best items of one user's score row into row `u` of `out`: `scores[j]` is item
 * `j + 1`'s score; items marked in `excluded`, non-finite scores and items the filter rejects
 * are skipped; ties go to the lower item id. Allocation-free (a bounded heap inside `out`'s row).
 *
 * @returns the number of items written (less than `k` only when fewer items remain)
 */
export function selectTopItems(
  scores: ArrayLike<number>,
  excluded: Uint8Array,
  out: Recommendations,
  u: number,
  filter?: (itemId: number, user: number) => boolean,
): number {
  const { k } = out;
  const base = u * k;
  const items = out.items;
  const values = out.scores;
  let size = 0;
  // min-heap on (score, -id): the root is the worst kept entry
  const worse = (a: number, b: number): boolean => values[base + a]! < values[base + b]! || (values[base + a] === values[base + b] && items[base + a]! > items[base + b]!);
  const swap = (a: number, b: number): void => {
    const item = items[base + a]!;
    const value = values[base + a]!;
    items[base + a] = items[base + b]!;
    values[base + a] = values[base + b]!;
    items[base + b] = item;
    values[base + b] = value;
  };
  const siftDown = (start: number): void => {
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < size && worse(left, smallest)) smallest = left;
      if (right < size && worse(right, smallest)) smallest = right;
      if (smallest === i) return;
      swap(i, smallest);
      i = smallest;
    }
  };
  const count = scores.length;
  for (let j = 0; j < count; j++) {
    const id = j + 1;
    if (excluded[id] !== 0) continue;
    // compared in float32, the precision `out.scores` keeps (a float64 score against a stored float32 one breaks ties)
    const value = Math.fround(scores[j]!);
    if (!(value > -Infinity) || Number.isNaN(value)) continue;
    if (size === k) {
      const rootValue = values[base]!;
      if (value < rootValue || (value === rootValue && id > items[base]!)) continue;
    }
    if (filter !== undefined && !filter(id, u)) continue;
    if (size < k) {
      items[base + size] = id;
      values[base + size] = value;
      size++;
      let i = size - 1;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!worse(i, parent)) break;
        swap(i, parent);
        i = parent;
      }
    } else {
      items[base] = id;
      values[base] = value;
      siftDown(0);
    }
  }
  // heap -> sorted, best first
  const length = size;
  while (size > 1) {
    swap(0, size - 1);
    size--;
    siftDown(0);
  }
  for (let i = length; i < k; i++) {
    items[base + i] = 0;
    values[base + i] = -Infinity;
  }
  out.lengths[u] = length;
  return length;
}
