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
 */
export interface VectorIndex {
  /** Implementation name written into the sidecar, e.g. `'flat'` or `'hnsw'`. */
  readonly kind: string;
  readonly metric: VectorMetric;
  readonly dimension: number;
  /** Number of vectors currently in the index. */
  readonly size: number;
  /**
   * Adds vectors (`ids.length x dimension`, row-major).
   *
   * @throws GenrecError `DUPLICATE_ID` for an id already present unless `replace`; `SHAPE_MISMATCH`
   * for a wrong dimension; `INVALID_INPUT` for NaN/infinite values or negative/non-integer ids.
   */
  add(ids: ArrayLike<number>, vectors: Matrix | Float32Array, options?: VectorAddOptions): void;
  /** Removes ids. @throws GenrecError `UNKNOWN_ID` for an id not present. */
  remove(ids: ArrayLike<number>): void;
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
