import { GenrecError, checkIntegerOption, checkResultSize, type Matrix, type VectorMetric, type VectorSearchOptions } from '@genrec/core';

// The input rules of core's `VectorIndex` contract as genrec's indexes apply them: the same limits,
// error codes and messages for every implementation. Public as the subpath `@genrec/ann/index-input`
// (it loads only @genrec/core, not hnswlib, usearch or onnxruntime), for implementations in other
// packages such as @genrec/ann-lancedb's LanceIndex.

/** The largest id an index accepts: results are `Int32Array`s, and -1 is the padding id. */
export const MAX_ITEM_ID = 0x7fffffff;

/** The largest vector dimension an index accepts (1,048,576). */
export const MAX_DIMENSION = 1 << 20;

const METRICS: readonly VectorMetric[] = ['ip', 'cosine', 'l2'];

/**
 * The `k` every index accepts even when it holds fewer vectors (the `VectorIndex` contract pads the
 * rows with -1): an empty or small index answers `k` up to this, padded.
 */
export const PADDED_K_LIMIT = 1024;

/** Most result entries (queries x k) one search may return: 2^27 ids + scores = 1 GiB. */
export const MAX_RESULT_ENTRIES = 1 << 27;

/**
 * The largest `k` an index of `size` vectors supports: its size (a complete ranking), or
 * {@link PADDED_K_LIMIT} when that is larger (answers padded with -1, as the contract says).
 *
 * @param size - vectors in the index
 * @returns `max(size, 1024)`
 * @example
 * ```ts
 * maxSearchK(10); // 1024
 * maxSearchK(5000); // 5000
 * ```
 */
export function maxSearchK(size: number): number {
  return Math.max(size, PADDED_K_LIMIT);
}

/**
 * Checks a metric name.
 *
 * @param metric - the value to check
 * @param field - the option's name in the error
 * @returns the metric
 * @throws GenrecError `INVALID_OPTION` for anything but `'ip'`, `'cosine'` or `'l2'`.
 * @example
 * ```ts
 * const metric = checkMetric(options.metric ?? 'ip');
 * ```
 */
export function checkMetric(metric: unknown, field = 'metric'): VectorMetric {
  if (!METRICS.includes(metric as VectorMetric)) {
    throw new GenrecError('INVALID_OPTION', `${field} must be one of ${METRICS.join(', ')}, got ${String(metric)}`, { details: { field } });
  }
  return metric as VectorMetric;
}

/**
 * Checks the ids and vectors of an `add` call and returns the vectors as one row-major
 * `Float32Array` of `ids.length x dimension` values (the caller's buffer, not a copy). Checks, in
 * order: `ids` is an array-like, the vectors' shape, each id, each value.
 *
 * @param ids - the ids of the call
 * @param vectors - a `Matrix` of `dimension` columns or a flat row-major `Float32Array`
 * @param dimension - the index dimension
 * @returns the vector values (not copied)
 * @throws GenrecError `SHAPE_MISMATCH` when the shapes disagree, `INVALID_INPUT` for `ids` that is
 * not an array, a bad id (not an integer in [0, 2^31 − 1]) or a non-finite value.
 * @example
 * ```ts
 * const data = checkAddInput([4, 5], new Float32Array([1, 0, 0, 1]), 2); // the 4 values
 * ```
 */
export function checkAddInput(ids: ArrayLike<number>, vectors: Matrix | Float32Array, dimension: number): Float32Array {
  if (!isArrayLike(ids)) throw new GenrecError('INVALID_INPUT', 'add: ids must be an array of integer ids', { details: { field: 'ids' } });
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
 * Checks an id list (`remove`, `add`): an array-like of integers in [0, 2^31 − 1].
 *
 * @param ids - the list
 * @param field - its name in the error (`details.field`)
 * @throws GenrecError `INVALID_INPUT` for a list that is not an array-like, or an id that is not an
 * integer in [0, 2^31 − 1] (the message names its position).
 * @example
 * ```ts
 * checkIdList([4, 5], 'ids'); // passes
 * checkIdList([4, -1], 'ids'); // INVALID_INPUT: ids[1] must be an integer id in [0, 2147483647], got -1
 * ```
 */
export function checkIdList(ids: ArrayLike<number>, field: string): void {
  if (!isArrayLike(ids)) throw new GenrecError('INVALID_INPUT', `${field} must be an array of integer ids`, { details: { field } });
  for (let i = 0; i < ids.length; i++) checkId(ids[i]!, field, i);
}

/**
 * The id checks of an `add`, run before anything changes (every index shares them): an id already
 * in the index, or repeated in the call, is `DUPLICATE_ID` unless `replace`. The ids themselves are
 * checked by {@link checkAddInput} first.
 *
 * @param ids - the ids of the call
 * @param has - whether the index holds an id
 * @param replace - the call's `replace` option
 * @returns how many distinct ids of the call are new to the index.
 * @throws GenrecError `DUPLICATE_ID` naming the first offending id.
 * @example
 * ```ts
 * const fresh = checkAddIds([4, 5], (id) => rowOf.has(id), false);
 * ```
 */
export function checkAddIds(ids: ArrayLike<number>, has: (id: number) => boolean, replace: boolean): number {
  let fresh = 0;
  const seen = new Set<number>();
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    const present = has(id) || seen.has(id);
    if (present && !replace) {
      throw new GenrecError('DUPLICATE_ID', `id ${id} is already in the index (pass { replace: true } to overwrite its vector)`, { details: { field: 'ids', id } });
    }
    if (!present) fresh++;
    seen.add(id);
  }
  return fresh;
}

/**
 * The id checks of a `remove`, run before anything changes (every index shares them): each id an
 * integer in [0, 2^31 − 1] and in the index.
 *
 * @param ids - the ids of the call
 * @param has - whether the index holds an id
 * @throws GenrecError `INVALID_INPUT` for a bad id, `UNKNOWN_ID` for an id not in the index.
 * @example
 * ```ts
 * checkRemoveIds([4], (id) => rowOf.has(id));
 * ```
 */
export function checkRemoveIds(ids: ArrayLike<number>, has: (id: number) => boolean): void {
  checkIdList(ids, 'ids');
  for (let i = 0; i < ids.length; i++) {
    if (!has(ids[i]!)) throw new GenrecError('UNKNOWN_ID', `cannot remove id ${ids[i]}: it is not in the index`, { details: { field: 'ids', id: ids[i] } });
  }
}

function isArrayLike(value: unknown): value is ArrayLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as ArrayLike<unknown>).length === 'number';
}

function checkId(id: number, field: string, position: number): void {
  if (!Number.isInteger(id) || id < 0 || id > MAX_ITEM_ID) {
    throw new GenrecError('INVALID_INPUT', `${field}[${position}] must be an integer id in [0, ${MAX_ITEM_ID}], got ${id}`, { details: { field } });
  }
}

/**
 * Checks the queries, `k` and the contract's options (`exclude`, `filter`, `ef`) of a `search`
 * call; returns the query values (row-major, not copied) and their count. An implementation with
 * options of its own checks them after this.
 *
 * `k` follows the one rule of genrec's result sizes (`checkResultSize`): an integer in
 * `[1, max(size, 1024)]`, anything else `INVALID_OPTION`, never clamped; and `queries x k` at most
 * {@link MAX_RESULT_ENTRIES}. Checked before the result is allocated.
 *
 * @param queries - a `Matrix` of `dimension` columns or a flat row-major `Float32Array`
 * @param k - results per query
 * @param options - the search options
 * @param dimension - the index dimension
 * @param size - vectors in the index (bounds `k`)
 * @returns the query values (not copied) and the number of queries
 * @throws GenrecError `SHAPE_MISMATCH` for a wrong width or a wrong `exclude` length,
 * `INVALID_INPUT` for non-finite values, `INVALID_OPTION` for a bad `k`, `ef` or `filter`.
 * @example
 * ```ts
 * const { data, queryCount } = checkSearchInput(queries, 10, options, index.dimension, index.size);
 * const result = paddedResult(queryCount, 10);
 * ```
 */
export function checkSearchInput(
  queries: Matrix | Float32Array,
  k: number,
  options: VectorSearchOptions,
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
 * @param entry - one entry of `options.exclude`
 * @returns the set (the entry itself when it is a non-empty `Set`), or undefined when empty
 * @throws GenrecError `INVALID_INPUT` for an entry that is neither a Set nor an array-like.
 * @example
 * ```ts
 * exclusionSet([3, 4]); // Set {3, 4}
 * exclusionSet([]); // undefined
 * ```
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

/**
 * An empty result of `queryCount x k`: ids -1, scores -Infinity (the contract's padding), which a
 * search then fills row by row.
 *
 * @param queryCount - rows
 * @param k - entries per row
 * @returns the padded result
 * @example
 * ```ts
 * const { ids, scores } = paddedResult(2, 3); // ids all -1, scores all -Infinity
 * ```
 */
export function paddedResult(queryCount: number, k: number): { ids: Int32Array; scores: Float32Array; queryCount: number; k: number } {
  const ids = new Int32Array(queryCount * k).fill(-1);
  const scores = new Float32Array(queryCount * k).fill(Number.NEGATIVE_INFINITY);
  return { ids, scores, queryCount, k };
}

/**
 * The save-fault hook of every index here, for other implementations: a saver calls it between
 * writing its data and switching its sidecar or pointer; it throws `IO_ERROR` once after
 * `armSaveFault` (`@genrec/ann/testing`) armed it, so the conformance case "a failed save leaves the
 * previous index intact" can fail a save at its worst moment.
 */
export { checkSaveFault } from './save-fault.js';
