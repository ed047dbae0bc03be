/**
 * User interaction sequences in compressed-row form. Users are rows `0 .. userCount-1`; item ids
 * are dense integers `1 .. itemCount` (0 is reserved for padding). Row `r` holds the items
 * `items[offsets[r] .. offsets[r+1])` in chronological order.
 *
 * @example
 * ```ts
 * // the items of user row 3
 * const history = dataset.items.subarray(dataset.offsets[3], dataset.offsets[4]);
 * ```
 */
export interface SequenceDataset {
  /** A name for reports, e.g. `'amazon2014-toys'` or `'synthetic'`. */
  readonly name: string;
  /** Number of user rows. */
  readonly userCount: number;
  /** Largest item id; item ids are `1 .. itemCount`. */
  readonly itemCount: number;
  /** Row offsets into `items`, length `userCount + 1`, non-decreasing, `offsets[0] = 0`. */
  readonly offsets: Int32Array;
  /** Item ids of all rows, concatenated. */
  readonly items: Int32Array;
  /** Timestamps (seconds) parallel to `items`, when the source has them. */
  readonly timestamps?: Float64Array;
  /** Dense user id of each row (1-based). For sources with contiguous integer user ids this is the id itself. */
  readonly userIds: Int32Array;
  /** External id of each dense user id (index = dense id; index 0 unused), when the source had string ids. */
  readonly externalUserIds?: readonly string[];
  /** External id of each item id (index = item id; index 0 unused), when the source had string ids. */
  readonly externalItemIds?: readonly string[];
}

/** One item's metadata. */
export interface ItemRecord {
  /** Dense item id (1-based), the same id the sequences use. */
  readonly id: number;
  /** Title text, if known. */
  readonly title?: string;
  /** Category paths, each from the broadest to the most specific category. */
  readonly categories?: readonly (readonly string[])[];
  /** Every other field of the source record, kept as read. */
  readonly fields: Readonly<Record<string, unknown>>;
}

/** The item catalogue: metadata by dense item id. */
export interface ItemCatalog {
  /** Largest item id covered (ids are `1 .. itemCount`). */
  readonly itemCount: number;
  /** Records indexed by item id (index 0 and missing items are `undefined`). */
  readonly records: ReadonlyArray<ItemRecord | undefined>;
}

/**
 * Users to evaluate (produced by `@genrec/data`'s splits, consumed by `@genrec/eval` and every model): per user a history (what the model sees, chronological, at most
 * `maxHistoryLength` most recent items) and one or more target items, both in compressed-row form.
 */
export interface EvaluationSet {
  /** Number of evaluated users. */
  readonly size: number;
  /** Row of each evaluated user in the source dataset. */
  readonly rows: Int32Array;
  /** Dense user id of each evaluated user. */
  readonly userIds: Int32Array;
  /** Offsets into `historyItems`, length `size + 1`. */
  readonly historyOffsets: Int32Array;
  /** Histories, concatenated (oldest first). */
  readonly historyItems: Int32Array;
  /** Offsets into `targetItems`, length `size + 1`. */
  readonly targetOffsets: Int32Array;
  /** Targets, concatenated (chronological). */
  readonly targetItems: Int32Array;
}
