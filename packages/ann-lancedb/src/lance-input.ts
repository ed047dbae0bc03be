import { GenrecError, checkBooleanOption, checkIntegerOption, checkResultSize, type Matrix, type VectorSearchOptions } from '@genrec/core';

// The input rules of the VectorIndex contract, as @genrec/ann's FlatIndex and HnswIndex apply them
// (packages/ann/src/index-input.ts, which @genrec/ann does not export): the same limits, codes and
// messages, so the conformance suite sees the same behaviour from every implementation.

/** The largest id the index accepts: ids are stored as int32 and results are `Int32Array`s (-1 pads). */
export const MAX_ITEM_ID = 0x7fffffff;

/** The largest vector dimension the index accepts. */
export const MAX_DIMENSION = 1 << 20;

/** The `k` every index accepts even when it holds fewer vectors (rows are padded with -1). */
export const PADDED_K_LIMIT = 1024;

/** Most result entries (queries x k) one search may return: 2^27 ids + scores = 1 GiB. */
export const MAX_RESULT_ENTRIES = 1 << 27;

/** Largest `nprobes` / `refineFactor` accepted (far above any useful value; catches typos such as 1e9). */
export const MAX_SEARCH_PARAMETER = 1 << 20;

/**
 * The largest `k` an index of `size` vectors supports: its size, or {@link PADDED_K_LIMIT} when
 * that is larger (answers padded with -1, as the contract says).
 */
export function maxSearchK(size: number): number {
  return Math.max(size, PADDED_K_LIMIT);
}

/** The options of `LanceIndex.search`: the contract's, plus LanceDB's own knobs. */
export interface LanceSearchOptions extends VectorSearchOptions {
  /**
   * IVF partitions probed per query once `buildIndex` has run (LanceDB's `nprobes`); ignored
   * before. When the probed partitions hold fewer rows than the search needs (a narrow `where`, a
   * long exclusion list, a selective `filter`), the query is repeated with 4 times as many, up to
   * all partitions, so it never comes back short.
   * @defaultValue 20 (LanceDB's default)
   */
  nprobes?: number;
  /**
   * Once `buildIndex` has run: LanceDB takes `limit x refineFactor` candidates by their PQ codes
   * and re-ranks them by their full vectors, returning exact distances. 1 re-ranks only the
   * candidates it returns (exact scores, PQ recall); larger values raise recall; 0 skips the
   * re-ranking (scores are then LanceDB's approximate PQ distances, converted). Ignored before an
   * index exists.
   * @defaultValue 4 (`DEFAULT_REFINE_FACTOR`)
   */
  refineFactor?: number;
  /**
   * An SQL filter over the table's columns (`id`, `vector`), e.g. `'id BETWEEN 1 AND 5000'`, applied
   * by LanceDB before the vector search (a prefilter). Checked with LanceDB's planner before the
   * search: a malformed filter is `INVALID_OPTION`.
   */
  where?: string;
  /** Bypass the IVF-PQ index: an exact, brute-force search (ground truth). @defaultValue false */
  exact?: boolean;
}

/**
 * Checks the ids and vectors of an `add` call and returns the vectors as one row-major
 * `Float32Array` of `ids.length x dimension` values (the caller's buffer, not a copy).
 *
 * @throws GenrecError `SHAPE_MISMATCH` when the shapes disagree, `INVALID_INPUT` for a bad id or a
 * non-finite value.
 */
export function checkAddInput(ids: ArrayLike<number>, vectors: Matrix | Float32Array, dimension: number): Float32Array {
  if (typeof ids !== 'object' || ids === null || typeof ids.length !== 'number') {
    throw new GenrecError('INVALID_INPUT', 'add: ids must be an array of integer ids', { details: { field: 'ids' } });
  }
  const data = vectorData(vectors, dimension, 'vectors');
  if (data.length !== ids.length * dimension) {
    throw new GenrecError(
      'SHAPE_MISMATCH',
      `add: ${ids.length} ids need ${ids.length} x ${dimension} = ${ids.length * dimension} vector values, got ${data.length}`,
      { details: { field: 'vectors' } },
    );
  }
  checkIdList(ids, 'ids');
  checkFiniteValues(data, dimension, 'vectors');
  return data;
}

/**
 * Checks an id list (`remove`, `add`).
 *
 * @throws GenrecError `INVALID_INPUT` for an id that is not an integer in [0, 2^31 - 1].
 */
export function checkIdList(ids: ArrayLike<number>, field: string): void {
  if (typeof ids !== 'object' || ids === null || typeof ids.length !== 'number') {
    throw new GenrecError('INVALID_INPUT', `${field} must be an array of integer ids`, { details: { field } });
  }
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (!Number.isInteger(id) || id < 0 || id > MAX_ITEM_ID) {
      throw new GenrecError('INVALID_INPUT', `${field}[${i}] must be an integer id in [0, ${MAX_ITEM_ID}], got ${id}`, { details: { field } });
    }
  }
}

/**
 * Checks the queries, `k` and options of a `search` call; returns the query values (row-major, not
 * copied) and their count. `k` follows genrec's one rule of result sizes (core's `checkResultSize`):
 * an integer in `[1, max(size, 1024)]`, and `queries x k` at most {@link MAX_RESULT_ENTRIES}.
 *
 * @throws GenrecError `SHAPE_MISMATCH` for a wrong width or `exclude` length, `INVALID_INPUT` for
 * non-finite values, `INVALID_OPTION` for a bad `k`, `ef`, `filter`, `nprobes`, `refineFactor`,
 * `where` (not a string) or `exact`.
 */
export function checkSearchInput(
  queries: Matrix | Float32Array,
  k: number,
  options: LanceSearchOptions,
  dimension: number,
  size: number,
): { data: Float32Array; queryCount: number } {
  const maxK = maxSearchK(size);
  checkResultSize(k, 'k', maxK, `the index holds ${size} vectors; k may be up to max(size, ${PADDED_K_LIMIT}), rows padded with -1`);
  const data = vectorData(queries, dimension, 'queries');
  if (data.length % dimension !== 0) {
    throw new GenrecError('SHAPE_MISMATCH', `search: queries hold ${data.length} values, not a multiple of the index dimension ${dimension}`, {
      details: { field: 'queries' },
    });
  }
  const queryCount = data.length / dimension;
  if (queryCount * k > MAX_RESULT_ENTRIES) {
    throw new GenrecError('INVALID_OPTION', `search: ${queryCount} queries x k ${k} = ${queryCount * k} results exceed ${MAX_RESULT_ENTRIES} (1 GiB of ids and scores); search in smaller batches`, {
      details: { field: 'k', maximum: Math.floor(MAX_RESULT_ENTRIES / queryCount) },
    });
  }
  checkFiniteValues(data, dimension, 'queries');
  if (options.exclude !== undefined && options.exclude.length !== queryCount) {
    throw new GenrecError('SHAPE_MISMATCH', `search: exclude has ${options.exclude.length} entries for ${queryCount} queries`, {
      details: { field: 'exclude' },
    });
  }
  if (options.filter !== undefined && typeof options.filter !== 'function') {
    throw new GenrecError('INVALID_OPTION', 'search: filter must be a function (id) => boolean', { details: { field: 'filter' } });
  }
  if (options.ef !== undefined) checkIntegerOption(options.ef, 'ef', 1, MAX_ITEM_ID);
  if (options.nprobes !== undefined) checkIntegerOption(options.nprobes, 'nprobes', 1, MAX_SEARCH_PARAMETER);
  if (options.refineFactor !== undefined) checkIntegerOption(options.refineFactor, 'refineFactor', 0, MAX_SEARCH_PARAMETER);
  if (options.where !== undefined && (typeof options.where !== 'string' || options.where.trim() === '')) {
    throw new GenrecError('INVALID_OPTION', `search: where must be a non-empty SQL filter string, got ${JSON.stringify(options.where)}`, { details: { field: 'where' } });
  }
  if (options.exact !== undefined) checkBooleanOption(options.exact, 'exact');
  return { data, queryCount };
}

function vectorData(vectors: Matrix | Float32Array, dimension: number, field: string): Float32Array {
  if (vectors instanceof Float32Array) return vectors;
  if (typeof vectors !== 'object' || vectors === null || !(vectors.data instanceof Float32Array)) {
    throw new GenrecError('INVALID_INPUT', `${field} must be a Matrix or a Float32Array`, { details: { field } });
  }
  if (vectors.cols !== dimension) {
    throw new GenrecError('SHAPE_MISMATCH', `${field} have ${vectors.cols} columns, the index dimension is ${dimension}`, { details: { field } });
  }
  if (vectors.data.length !== vectors.rows * vectors.cols) {
    throw new GenrecError('SHAPE_MISMATCH', `${field}: matrix data has ${vectors.data.length} values, expected ${vectors.rows} x ${vectors.cols}`, {
      details: { field },
    });
  }
  return vectors.data;
}

function checkFiniteValues(data: Float32Array, dimension: number, field: string): void {
  for (let i = 0; i < data.length; i++) {
    const value = data[i]!;
    // value - value is NaN for NaN and for ±Infinity: one comparison per value
    if (value - value !== 0) {
      const row = Math.floor(i / dimension);
      throw new GenrecError('INVALID_INPUT', `${field} has a non-finite value ${value} at row ${row}, column ${i - row * dimension}`, {
        details: { field, row },
      });
    }
  }
}

/**
 * One query's exclusion set as a `Set` (or undefined when empty): the `exclude` option accepts sets
 * and array-likes.
 *
 * @throws GenrecError `INVALID_INPUT` for an entry that is neither a Set nor an array-like.
 */
export function exclusionSet(entry: ReadonlySet<number> | ArrayLike<number> | undefined): ReadonlySet<number> | undefined {
  if (entry === undefined || entry === null) return undefined;
  if (entry instanceof Set) return entry.size === 0 ? undefined : entry;
  const list = entry as ArrayLike<number>;
  if (typeof list.length !== 'number') {
    throw new GenrecError('INVALID_INPUT', 'search: each exclude entry must be a Set of ids or an array of ids', { details: { field: 'exclude' } });
  }
  if (list.length === 0) return undefined;
  const set = new Set<number>();
  for (let i = 0; i < list.length; i++) set.add(list[i]!);
  return set;
}

/** An empty result of `queryCount x k`: ids -1, scores -Infinity. */
export function paddedResult(queryCount: number, k: number): { ids: Int32Array; scores: Float32Array; queryCount: number; k: number } {
  const ids = new Int32Array(queryCount * k).fill(-1);
  const scores = new Float32Array(queryCount * k).fill(Number.NEGATIVE_INFINITY);
  return { ids, scores, queryCount, k };
}
