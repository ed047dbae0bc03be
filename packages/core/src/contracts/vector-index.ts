import type { Matrix } from '../matrix.js';

/**
 * Similarity a {@link VectorIndex} ranks by. Scores are always "higher is better":
 * `'ip'` = inner product, `'cosine'` = cosine similarity, `'l2'` = minus the squared Euclidean distance.
 */
export type VectorMetric = 'ip' | 'cosine' | 'l2';

/** Result of a batched search: `queryCount x k` values, row-major, best first per query. */
export interface VectorSearchResult {
  /** Item ids; `-1` pads rows that have fewer than `k` results. */
  readonly ids: Int32Array;
  /** Scores (see {@link VectorMetric}); `-Infinity` where `ids` is `-1`. */
  readonly scores: Float32Array;
  readonly queryCount: number;
  readonly k: number;
}

/** Options of {@link VectorIndex.search}. */
export interface VectorSearchOptions {
  /**
   * Per query, ids that must not be returned (e.g. the user's history). Length must equal the
   * number of queries; an entry may be undefined.
   */
  exclude?: ReadonlyArray<ReadonlySet<number> | ArrayLike<number> | undefined>;
  /** Only ids for which this returns true are returned. */
  filter?: (id: number) => boolean;
  /** Search breadth for approximate indexes (HNSW `ef`); ignored by exact ones. */
  ef?: number;
}

/** Options of {@link VectorIndex.add}. */
export interface VectorAddOptions {
  /** Replace the vector of an id already present instead of throwing `DUPLICATE_ID`. @defaultValue false */
  replace?: boolean;
}

/**
 * A nearest-neighbour index over item vectors. Item ids are non-negative integers.
 * Implementations: `FlatIndex` (exact) and `HnswIndex` in `@genrec/ann`. Loading goes through a
 * factory per implementation (a {@link VectorIndexLoader}); `loadVectorIndex` in `@genrec/ann`
 * reads the sidecar manifest and picks the implementation.
 *
 * Writes (`add`, `remove`) are asynchronous so that an index kept in a database or on disk can
 * implement the contract; an in-memory index applies them at once and returns a settled promise.
 * Every implementation guarantees, for its writes:
 * - **Visibility.** Once a write's promise resolves, `size`, `has` and every `search` (and `save`)
 *   started afterwards see the whole write. While it is pending they see the index either as it
 *   was before the write or as it is after it, never part of it.
 * - **Order.** Writes apply one at a time, in call order, whether or not the caller awaits each
 *   one: a write is checked against the index as every earlier write left it (two `add`s of the
 *   same id issued back to back without `await`: the first applies, the second rejects with
 *   `DUPLICATE_ID`). A rejected write does not stop the writes issued after it.
 * - **All or nothing.** A write rejected for its input (`DUPLICATE_ID`, `UNKNOWN_ID`,
 *   `SHAPE_MISMATCH`, `INVALID_INPUT`) leaves the index exactly as it was: every check runs before
 *   anything changes. A write rejected by the storage itself (`RUNTIME_ERROR`, `IO_ERROR`) must say
 *   in its implementation's documentation what it leaves behind.
 * - **Errors are rejections.** Bad input rejects the returned promise; `add` and `remove` never
 *   throw synchronously.
 *
 * Callers await a write before depending on it, and do not start a write while a `search` of the
 * same index is pending (an implementation may read its storage across the awaits of a search).
 *
 * @example
 * ```ts
 * await index.add([10, 11], new Float32Array([1, 0, 0, 0, 1, 0])); // dimension 3
 * await index.remove([11]);
 * const { ids } = await index.search(new Float32Array([1, 0, 0]), 1); // ids [10]
 * ```
 */
export interface VectorIndex {
  /** Implementation name written into the sidecar, e.g. `'flat'` or `'hnsw'`. */
  readonly kind: string;
  readonly metric: VectorMetric;
  readonly dimension: number;
  /** Number of vectors currently in the index. */
  readonly size: number;
  /**
   * Adds vectors (`ids.length x dimension`, row-major), all or nothing, in call order with the
   * other writes (see the interface's notes on writes).
   *
   * @param ids - non-negative integer ids, one per row; no id twice in one call unless `replace`.
   * @param vectors - `ids.length x dimension`, row-major. The index copies what it keeps: the
   *   caller may reuse the buffer as soon as `add` has returned (before the promise settles).
   * @param options - `replace` overwrites the vector of an id already present.
   * @returns a promise that resolves (to nothing) once every row is visible to `has`, `size` and
   *   `search`.
   * @throws GenrecError, as a rejection, with the index unchanged: `DUPLICATE_ID` for an id already
   *   present (or repeated in `ids`) unless `replace`; `SHAPE_MISMATCH` for a wrong dimension;
   *   `INVALID_INPUT` for NaN/infinite values or negative/non-integer ids.
   */
  add(ids: ArrayLike<number>, vectors: Matrix | Float32Array, options?: VectorAddOptions): Promise<void>;
  /**
   * Removes ids, all or nothing, in call order with the other writes. An id repeated in `ids` is
   * removed once. A removed id may be added again later.
   *
   * @param ids - ids to remove; every one must be in the index when this write applies.
   * @returns a promise that resolves (to nothing) once no search started afterwards can return
   *   these ids and `has` is false for each of them.
   * @throws GenrecError, as a rejection, with the index unchanged: `UNKNOWN_ID` when an id is not in
   *   the index (nothing is removed, not even the ids that are present); `INVALID_INPUT` for
   *   negative/non-integer ids.
   */
  remove(ids: ArrayLike<number>): Promise<void>;
  /** True when `id` is in the index. */
  has(id: number): boolean;
  /**
   * The `k` best ids per query. Results are padded with id -1 and score -Infinity when fewer than
   * `k` exist.
   *
   * @throws GenrecError `SHAPE_MISMATCH` for a wrong query dimension, `INVALID_INPUT` for non-finite queries.
   */
  search(queries: Matrix | Float32Array, k: number, options?: VectorSearchOptions): Promise<VectorSearchResult>;
  /** Saves the index to `path` (a folder or a file plus sidecar, per implementation), atomically. */
  save(path: string): Promise<void>;
}

/** Loads one implementation's saved index. */
export type VectorIndexLoader<T extends VectorIndex = VectorIndex> = (path: string) => Promise<T>;
