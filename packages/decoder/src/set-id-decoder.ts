import { GenrecError, checkResultSize, createMatrix, type Matrix, type SetIdTable, type VectorIndex } from '@genrec/core';
import { matMulTopK } from '@genrec/nn';
import type { ExcludedItems } from './beam-search.js';
import { TopKSelector } from './top-k-selector.js';

/**
 * The `k` every set-id decoder accepts even when the catalogue is smaller (rows padded with -1):
 * the one rule of result sizes allows `k` up to `max(itemCount, 1024)`.
 */
const PADDED_K_LIMIT = 1024;
/** Most result entries (users x k) one call may return: 2^27 ids + scores. */
const MAX_RESULT_ENTRIES = 2 ** 27;

function checkK(k: unknown, itemCount: number, users: number): number {
  checkResultSize(k, 'k', Math.max(itemCount, PADDED_K_LIMIT), `the catalogue holds ${itemCount} items; k may be up to max(items, ${PADDED_K_LIMIT}), rows padded with -1`);
  if (users * (k as number) > MAX_RESULT_ENTRIES) {
    throw new GenrecError('INVALID_OPTION', `${users} users x k ${String(k)} results exceed ${MAX_RESULT_ENTRIES}; decode in smaller batches`, { details: { field: 'k' } });
  }
  return k as number;
}

/** Options of {@link SetIdDecoder.decode}. */
export interface SetIdDecodeOptions {
  /** Items per user: 1 to `max(itemCount, 1024)` (rows padded with -1 beyond the catalogue); above it `INVALID_OPTION`. */
  k: number;
  /** Per user, item ids never to return (the user's history). */
  exclude?: ExcludedItems;
  /**
   * `'exact'`: every item scored by one matrix product on onnxruntime (`matMulTopK` of
   * `@genrec/nn`) plus partial top-k; `'index'`: the decoder's {@link VectorIndex} (exact up to the
   * index's recall).
   * @defaultValue `'index'` when the decoder has an index, else `'exact'`
   */
  method?: 'exact' | 'index';
  /** Search breadth passed to an approximate index (HNSW `ef`). */
  ef?: number;
  /** onnxruntime intra-op threads of the exact product. @defaultValue onnxruntime's default */
  intraOpNumThreads?: number;
}

/** Best `k` items per user, best first; `-1` / `-Infinity` pad users with fewer candidates. */
export interface SetIdDecodeResult {
  /** Users (query rows). */
  readonly queryCount: number;
  /** Results per user. */
  readonly k: number;
  /** `queryCount x k` item ids. */
  readonly ids: Int32Array;
  /**
   * `queryCount x k` scores: `sum_s weight_s <q_s, v_s(item)>` for query vectors,
   * `sum_s weight_s logp_s(code_s(item))` for code distributions.
   */
  readonly scores: Float32Array;
}

/** Options of the {@link SetIdDecoder} constructor. */
export interface SetIdDecoderOptions {
  /**
   * An index over the flattened set table (inner product), e.g. `HnswIndex` or `FlatIndex` of
   * `@genrec/ann`. Fill an empty one with {@link addSetIdTableToIndex}.
   */
  index?: VectorIndex;
}

/**
 * Grounds SETRec-style set identifiers: a model produces one query vector per slot (in one
 * forward pass), and every item is scored by `sum_s weight_s * <q_s, v_s(item)>`, which is the
 * inner product of the concatenated queries with the item's row of `table.flatten()`. The top-k
 * comes either from an exact product over all items or from a vector index over the same rows;
 * both exclude the user's history and agree up to the index's recall. For the discrete variant a
 * model may instead produce a distribution over each slot's codes:
 * {@link SetIdDecoder.decodeCodeDistributions} scores every item by its codes' weighted
 * log-probabilities.
 *
 * @example
 * ```ts
 * const decoder = new SetIdDecoder(table);
 * const { ids } = await decoder.decode(slotQueries, { k: 10, exclude: histories }); // queries: users x sum(slotDimensions)
 * ```
 */
export class SetIdDecoder {
  /** The set table being decoded against. */
  readonly table: SetIdTable;
  /** The index used by `method: 'index'`, if any. */
  readonly index: VectorIndex | undefined;
  /** Width of a concatenated query (`sum(slotDimensions)`). */
  readonly dimension: number;
  readonly #flat: Matrix;

  /**
   * @throws GenrecError `SHAPE_MISMATCH` when the flattened table or the index has the wrong width;
   *   `INVALID_OPTION` when the index's metric is not inner product.
   */
  constructor(table: SetIdTable, options: SetIdDecoderOptions = {}) {
    this.table = table;
    this.dimension = table.slotDimensions.reduce((sum, d) => sum + d, 0);
    this.#flat = table.flatten();
    if (this.#flat.cols !== this.dimension || this.#flat.rows !== table.itemCount) {
      throw new GenrecError('SHAPE_MISMATCH', `flatten() gave ${this.#flat.rows} x ${this.#flat.cols}, expected items x sum(slotDimensions) = ${table.itemCount} x ${this.dimension}`);
    }
    if (options.index) {
      if (options.index.metric !== 'ip') throw new GenrecError('INVALID_OPTION', `the index must rank by inner product ('ip'), got '${options.index.metric}'`, { details: { field: 'index' } });
      if (options.index.dimension !== this.dimension) {
        throw new GenrecError('SHAPE_MISMATCH', `the index has dimension ${options.index.dimension}, the flattened set table ${this.dimension}`, { details: { field: 'index' } });
      }
    }
    this.index = options.index;
  }

  /**
   * Concatenates per-slot query matrices (`users x slotDimensions[s]` each) into one
   * `users x dimension` matrix, the input of {@link SetIdDecoder.decode}.
   *
   * @throws GenrecError `SHAPE_MISMATCH` for a wrong slot count, width or row count.
   */
  concatenateSlots(slotQueries: readonly Matrix[]): Matrix {
    const table = this.table;
    if (slotQueries.length !== table.slotCount) throw new GenrecError('SHAPE_MISMATCH', `got ${slotQueries.length} slot query matrices, expected ${table.slotCount}`);
    const users = slotQueries[0]!.rows;
    const out = createMatrix(users, this.dimension);
    let column = 0;
    slotQueries.forEach((slot, s) => {
      if (slot.rows !== users || slot.cols !== table.slotDimensions[s]) {
        throw new GenrecError('SHAPE_MISMATCH', `slot ${s} queries are ${slot.rows} x ${slot.cols}, expected ${users} x ${table.slotDimensions[s]}`);
      }
      for (let u = 0; u < users; u++) out.data.set(slot.data.subarray(u * slot.cols, (u + 1) * slot.cols), u * this.dimension + column);
      column += slot.cols;
    });
    return out;
  }

  /**
   * The best `k` items per user.
   *
   * @param queries - `users x dimension`: each user's slot queries, concatenated in slot order
   *   (unweighted; the slot weights are in the table).
   * @throws GenrecError `SHAPE_MISMATCH` for a wrong query width or exclude length,
   *   `INVALID_INPUT` for non-finite queries, `INVALID_OPTION` for a bad `k` or `method: 'index'`
   *   without an index.
   */
  async decode(queries: Matrix, options: SetIdDecodeOptions): Promise<SetIdDecodeResult> {
    const k = checkK(options.k, this.table.itemCount, queries.rows);
    if (queries.cols !== this.dimension || queries.data.length !== queries.rows * queries.cols) {
      throw new GenrecError('SHAPE_MISMATCH', `queries are ${queries.rows} x ${queries.cols}, expected users x ${this.dimension} (concatenated slots)`, { details: { field: 'queries' } });
    }
    for (let i = 0; i < queries.data.length; i++) {
      if (!Number.isFinite(queries.data[i]!)) throw new GenrecError('INVALID_INPUT', `query value ${queries.data[i]} at user ${Math.floor(i / queries.cols)} is not finite`, { details: { field: 'queries' } });
    }
    const users = queries.rows;
    if (options.exclude && options.exclude.length !== users) {
      throw new GenrecError('SHAPE_MISMATCH', `exclude has ${options.exclude.length} entries, expected one per user (${users})`, { details: { field: 'exclude' } });
    }
    const method = options.method ?? (this.index ? 'index' : 'exact');
    if (method === 'index') {
      if (!this.index) throw new GenrecError('INVALID_OPTION', "method 'index' needs a decoder constructed with an index", { details: { field: 'method' } });
      const searchOptions: { exclude?: ExcludedItems; ef?: number } = {};
      if (options.exclude) searchOptions.exclude = options.exclude;
      if (options.ef !== undefined) searchOptions.ef = options.ef;
      const found = await this.index.search(queries, k, searchOptions);
      return { queryCount: users, k, ids: found.ids, scores: found.scores };
    }
    return this.#exact(queries, k, options);
  }

  /**
   * Discrete set ids: grounds one code distribution per slot. `slotScores[s]` is
   * `users x codebookSizes[s]`, logits or log-probabilities of slot `s`'s codes (each row is
   * log-softmax normalised here, which leaves log-probabilities unchanged). An item's score is
   * `sum_s slotWeights[s] * logp_s(code_s(item))`, computed exactly for every item (float64
   * lookups, no product needed); the best `k` per user are kept by partial selection, history
   * excluded, ties to the lower table row.
   *
   * @throws GenrecError `UNSUPPORTED` for a continuous table; `SHAPE_MISMATCH` for a wrong slot
   *   count, code-distribution width, row count or exclude length; `INVALID_INPUT` for NaN or
   *   +Infinity scores; `INVALID_OPTION` for a bad `k`.
   * @example
   * ```ts
   * const { ids } = decoder.decodeCodeDistributions([cfLogits, sem1Logits, sem2Logits], { k: 10, exclude: histories });
   * ```
   */
  decodeCodeDistributions(slotScores: readonly Matrix[], options: Pick<SetIdDecodeOptions, 'k' | 'exclude'>): SetIdDecodeResult {
    const table = this.table;
    const k = checkK(options.k, table.itemCount, slotScores[0]?.rows ?? 0);
    if (table.variant !== 'discrete' || !table.slotCodes || !table.codebookSizes) {
      throw new GenrecError('UNSUPPORTED', 'code distributions need a discrete set table (slot codes and codebook sizes)', { details: { field: 'table' } });
    }
    if (slotScores.length !== table.slotCount) throw new GenrecError('SHAPE_MISMATCH', `got ${slotScores.length} slot score matrices, expected ${table.slotCount}`);
    const users = slotScores[0]!.rows;
    if (options.exclude && options.exclude.length !== users) {
      throw new GenrecError('SHAPE_MISMATCH', `exclude has ${options.exclude.length} entries, expected one per user (${users})`, { details: { field: 'exclude' } });
    }
    const codes = slotScores.map((scores, s) => {
      const size = table.codebookSizes![s]!;
      if (scores.rows !== users || scores.cols !== size || scores.data.length !== users * size) {
        throw new GenrecError('SHAPE_MISMATCH', `slot ${s} scores are ${scores.rows} x ${scores.cols}, expected ${users} x ${size} (the slot's codebook)`);
      }
      return table.slotCodes!(s);
    });
    const itemCount = table.itemCount;
    const itemIds = table.itemIds;
    const weights = table.slotWeights;
    const ids = new Int32Array(users * k).fill(-1);
    const out = new Float32Array(users * k).fill(Number.NEGATIVE_INFINITY);
    const itemScores = new Float64Array(itemCount);
    const logProbabilities = slotScores.map((scores) => new Float64Array(scores.cols));
    const selector = new TopKSelector(k);
    for (let user = 0; user < users; user++) {
      itemScores.fill(0);
      for (let s = 0; s < slotScores.length; s++) {
        const scores = slotScores[s]!;
        const row = scores.data.subarray(user * scores.cols, (user + 1) * scores.cols);
        const logp = logProbabilities[s]!;
        let max = Number.NEGATIVE_INFINITY;
        for (let c = 0; c < row.length; c++) {
          const value = row[c]!;
          if (value !== value || value === Number.POSITIVE_INFINITY) throw new GenrecError('INVALID_INPUT', `slot ${s} score ${value} of user ${user}, code ${c}`, { details: { field: 'slotScores' } });
          if (value > max) max = value;
        }
        if (max === Number.NEGATIVE_INFINITY) throw new GenrecError('INVALID_INPUT', `slot ${s} scores of user ${user} are all -Infinity (no code possible)`, { details: { field: 'slotScores' } });
        const weight = weights[s]!;
        if (weight === 0) continue; // a slot without weight adds nothing (and 0 x -Infinity must not drop items)
        let sum = 0;
        for (let c = 0; c < row.length; c++) sum += Math.exp(row[c]! - max);
        const normalizer = max + Math.log(sum);
        for (let c = 0; c < row.length; c++) logp[c] = row[c]! - normalizer;
        const slotCodes = codes[s]!;
        for (let i = 0; i < itemCount; i++) itemScores[i]! += weight * logp[slotCodes[i]!]!;
      }
      const excluded = options.exclude?.[user];
      const excludedSet = excluded === undefined ? undefined : excluded instanceof Set ? (excluded as ReadonlySet<number>) : new Set(Array.from(excluded as ArrayLike<number>));
      selector.reset(k);
      for (let i = 0; i < itemCount; i++) {
        const score = itemScores[i]!;
        if (score < selector.threshold || score === Number.NEGATIVE_INFINITY) continue;
        if (excludedSet?.has(itemIds[i]!)) continue;
        selector.offer(score, i, 0);
      }
      selector.finish();
      for (let j = 0; j < selector.size; j++) {
        ids[user * k + j] = itemIds[selector.flats[j]!]!;
        out[user * k + j] = selector.scores[j]!;
      }
    }
    return { queryCount: users, k, ids, scores: out };
  }

  async #exact(queries: Matrix, k: number, options: SetIdDecodeOptions): Promise<SetIdDecodeResult> {
    const users = queries.rows;
    const itemIds = this.table.itemIds;
    const excludeSets = options.exclude?.map((entry) => (entry === undefined ? undefined : entry instanceof Set ? (entry as ReadonlySet<number>) : new Set(Array.from(entry as ArrayLike<number>))));
    let extra = 0;
    if (excludeSets) for (const set of excludeSets) if (set) extra = Math.max(extra, set.size);
    // Asking for k + |largest history| candidates guarantees k survivors after exclusion.
    const wanted = Math.min(this.table.itemCount, k + extra);
    const ids = new Int32Array(users * k).fill(-1);
    const scores = new Float32Array(users * k).fill(Number.NEGATIVE_INFINITY);
    if (wanted === 0 || users === 0) return { queryCount: users, k, ids, scores };
    const matOptions: { transposeB: boolean; intraOpNumThreads?: number } = { transposeB: true };
    if (options.intraOpNumThreads !== undefined) matOptions.intraOpNumThreads = options.intraOpNumThreads;
    const top = await matMulTopK(queries, this.#flat, wanted, matOptions);
    for (let user = 0; user < users; user++) {
      const excluded = excludeSets?.[user];
      let count = 0;
      for (let j = 0; j < top.k && count < k; j++) {
        const item = itemIds[top.indices[user * top.k + j]!]!;
        if (excluded?.has(item)) continue;
        ids[user * k + count] = item;
        scores[user * k + count] = top.values[user * top.k + j]!;
        count++;
      }
    }
    return { queryCount: users, k, ids, scores };
  }
}

/**
 * Adds every item of a set table to an (empty or partial) inner-product index: row `i` of
 * `table.flatten()` under id `table.itemIds[i]`, in one `index.add` (asynchronous, as core's
 * `VectorIndex` writes are).
 *
 * @param table - the set table whose flattened rows are added.
 * @param index - an inner-product index of the flattened width.
 * @returns a promise that resolves once the index's `add` has (every item visible to `search`).
 * @throws GenrecError, as a rejection: `SHAPE_MISMATCH` when the index's dimension differs from the
 *   flattened width, `INVALID_OPTION` when it does not rank by inner product (the index untouched
 *   either way); and whatever `index.add` rejects with (e.g. `DUPLICATE_ID`).
 * @example
 * ```ts
 * const index = new HnswIndex({ dimension: new SetIdDecoder(table).dimension, metric: 'ip' });
 * await addSetIdTableToIndex(table, index);
 * const { ids } = await new SetIdDecoder(table, { index }).decode(queries, { k: 10 });
 * ```
 */
export async function addSetIdTableToIndex(table: SetIdTable, index: VectorIndex): Promise<void> {
  const flat = table.flatten();
  if (index.metric !== 'ip') throw new GenrecError('INVALID_OPTION', `the index must rank by inner product ('ip'), got '${index.metric}'`, { details: { field: 'index' } });
  if (index.dimension !== flat.cols) throw new GenrecError('SHAPE_MISMATCH', `the index has dimension ${index.dimension}, the flattened set table ${flat.cols}`, { details: { field: 'index' } });
  await index.add(table.itemIds, flat);
}
