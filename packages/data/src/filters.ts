import { GenrecError } from '@genrec/core';
import { selectInteractions, type InteractionDataset } from './sequence-dataset.js';

/** Sizes of a dataset before or after a filter. */
export interface DatasetSize {
  /** User rows. */
  users: number;
  /** Item ids (`itemCount`). */
  items: number;
  /** Interactions. */
  interactions: number;
}

/** What a filter removed. Every filter of this package returns one. */
export interface FilterReport {
  /** Which filter, with its parameters, e.g. `'k-core(user>=5, item>=5)'`. */
  filter: string;
  /** Sizes before. */
  before: DatasetSize;
  /** Sizes after. */
  after: DatasetSize;
  /** Interactions removed. */
  removedInteractions: number;
  /** User rows removed (left without interactions). */
  removedUsers: number;
  /** Item ids removed (left without interactions; ids are compacted unless asked not to). */
  removedItems: number;
  /** Passes over the data, the last one being the pass that removed nothing (k-core); 1 for single-pass filters. */
  iterations: number;
}

/** A filtered dataset, its report and how item ids moved. */
export interface FilterResult {
  /** The filtered dataset. */
  dataset: InteractionDataset;
  /** What was removed. */
  report: FilterReport;
  /** `itemIdMap[oldId]` = new item id, 0 when removed. Use it with `remapCatalog`. */
  itemIdMap: Int32Array;
}

/** Options shared by the filters. */
export interface FilterOptions {
  /**
   * Renumber the remaining items `1..N'` (in their old order) so that every id has interactions.
   * When false, ids stay and removed items simply have no interactions.
   *
   * @defaultValue `true`
   */
  compactItemIds?: boolean;
}

/** Options of {@link kCoreFilter}. */
export interface KCoreOptions extends FilterOptions {
  /** Minimum interactions per user and per item (sets both). @defaultValue `5` */
  k?: number;
  /** Minimum interactions per user. @defaultValue `k` */
  userK?: number;
  /** Minimum interactions per item. @defaultValue `k` */
  itemK?: number;
}

function sizeOf(dataset: InteractionDataset): DatasetSize {
  return { users: dataset.userCount, items: dataset.itemCount, interactions: dataset.items.length };
}

function finish(dataset: InteractionDataset, keep: Uint8Array, filter: string, iterations: number, options: FilterOptions): FilterResult {
  const selection = selectInteractions(dataset, keep, options.compactItemIds ?? true);
  return {
    dataset: selection.dataset,
    itemIdMap: selection.itemIdMap,
    report: {
      filter,
      before: sizeOf(dataset),
      after: sizeOf(selection.dataset),
      removedInteractions: selection.removedInteractions,
      removedUsers: selection.removedUsers,
      removedItems: selection.removedItems,
      iterations,
    },
  };
}

function checkCount(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 0) {
    throw new GenrecError('INVALID_OPTION', `${field} must be a non-negative integer, got ${value}`, { details: { field } });
  }
  return value;
}

/**
 * Keeps the k-core: removes users with fewer than `userK` interactions and items with fewer than
 * `itemK`, and repeats (removing an item shortens users and vice versa) until a pass removes
 * nothing, so every remaining user and item meets its threshold. Repeated (user, item) pairs count
 * once per occurrence; run {@link deduplicateInteractions} first to count distinct pairs.
 *
 * @example
 * ```ts
 * const { dataset, report } = kCoreFilter(raw, { k: 5 });
 * report.iterations; // passes until the fixed point
 * ```
 */
export function kCoreFilter(dataset: InteractionDataset, options: KCoreOptions = {}): FilterResult {
  const k = checkCount(options.k ?? 5, 'k');
  const userK = checkCount(options.userK ?? k, 'userK');
  const itemK = checkCount(options.itemK ?? k, 'itemK');
  const { offsets, items, userCount, itemCount } = dataset;
  const keep = new Uint8Array(items.length).fill(1);
  const itemCounts = new Int32Array(itemCount + 1);
  let iterations = 0;
  for (;;) {
    iterations++;
    itemCounts.fill(0);
    for (let i = 0; i < items.length; i++) if (keep[i]) itemCounts[items[i]!]!++;
    let changed = false;
    for (let row = 0; row < userCount; row++) {
      let length = 0;
      for (let i = offsets[row]!; i < offsets[row + 1]!; i++) length += keep[i]!;
      if (length === 0) continue;
      const dropUser = length < userK;
      for (let i = offsets[row]!; i < offsets[row + 1]!; i++) {
        if (keep[i] && (dropUser || itemCounts[items[i]!]! < itemK)) {
          keep[i] = 0;
          changed = true;
        }
      }
    }
    if (!changed) break;
  }
  return finish(dataset, keep, `k-core(user>=${userK}, item>=${itemK})`, iterations, options);
}

/**
 * Keeps interactions rated at least `minRating`.
 *
 * @throws GenrecError `INVALID_INPUT` when the dataset has no ratings.
 * @example
 * ```ts
 * const { dataset, report } = minRatingFilter(movielens, 4);
 * ```
 */
export function minRatingFilter(dataset: InteractionDataset, minRating: number, options: FilterOptions = {}): FilterResult {
  const ratings = dataset.ratings;
  if (!ratings) throw new GenrecError('INVALID_INPUT', `dataset "${dataset.name}" has no ratings to filter on`);
  if (!Number.isFinite(minRating)) throw new GenrecError('INVALID_OPTION', `minRating must be finite, got ${minRating}`, { details: { field: 'minRating' } });
  const keep = new Uint8Array(ratings.length);
  for (let i = 0; i < ratings.length; i++) keep[i] = ratings[i]! >= minRating ? 1 : 0;
  return finish(dataset, keep, `min-rating(>=${minRating})`, 1, options);
}

/**
 * How {@link deduplicateInteractions} treats a (user, item) pair that occurs several times in a
 * user's sequence: `'keep-first'` keeps the earliest occurrence (the first time the user met the
 * item), `'keep-last'` keeps the latest (the most recent interest). The kept occurrence keeps its
 * own timestamp and rating.
 */
export type DeduplicatePolicy = 'keep-first' | 'keep-last';

/** Options of {@link deduplicateInteractions}. */
export interface DeduplicateOptions extends FilterOptions {
  /** Which occurrence survives. @defaultValue `'keep-first'` */
  policy?: DeduplicatePolicy;
}

/**
 * Removes repeated (user, item) pairs inside each user's sequence, keeping one occurrence by the
 * stated policy (see {@link DeduplicatePolicy}).
 *
 * @example
 * ```ts
 * deduplicateInteractions(createSequenceDataset({ sequences: [[1, 2, 1, 3]] })).dataset.items; // [1, 2, 3]
 * ```
 */
export function deduplicateInteractions(dataset: InteractionDataset, options: DeduplicateOptions = {}): FilterResult {
  const policy = options.policy ?? 'keep-first';
  if (policy !== 'keep-first' && policy !== 'keep-last') {
    throw new GenrecError('INVALID_OPTION', `policy must be 'keep-first' or 'keep-last', got ${String(policy)}`, { details: { field: 'policy' } });
  }
  const { offsets, items, userCount, itemCount } = dataset;
  const keep = new Uint8Array(items.length);
  // lastSeenRow[item] = row + 1 when the item was already met in this row (no clearing between rows).
  const seenInRow = new Int32Array(itemCount + 1);
  for (let row = 0; row < userCount; row++) {
    const from = offsets[row]!;
    const to = offsets[row + 1]!;
    if (policy === 'keep-first') {
      for (let i = from; i < to; i++) {
        const item = items[i]!;
        if (seenInRow[item] !== row + 1) {
          seenInRow[item] = row + 1;
          keep[i] = 1;
        }
      }
    } else {
      for (let i = to - 1; i >= from; i--) {
        const item = items[i]!;
        if (seenInRow[item] !== row + 1) {
          seenInRow[item] = row + 1;
          keep[i] = 1;
        }
      }
    }
  }
  return finish(dataset, keep, `deduplicate(${policy})`, 1, options);
}
