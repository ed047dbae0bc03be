import { GenrecError, assertFinite, checkBooleanOption, checkEnumOption, selectRows, type Matrix } from '@genrec/core';
import type * as ort from 'onnxruntime-node';
import { CHUNKED_TOP_K_SHAPE, chunkedMatMulTopKModel, chunkedTopKFeeds } from './chunked-top-k.js';
import { checkAlpha, checkInner, checkMatrix, checkTopK, matMulTopKModel, topKResult, type MatMulOptions, type TopKResult } from './kernels.js';
import { checkSessionOptions, createSession, ortTensor, runSession } from './runtime/session.js';

/**
 * Largest right operand {@link prepareMatMulTopK} compiles (bytes of float32 values): the operand is
 * embedded in an ONNX model, whose protobuf encoding cannot exceed 2 GiB.
 */
export const MAX_PREPARED_OPERAND_BYTES = 1024 * 1024 * 1024;

/**
 * Fewest columns (`n`) for which {@link prepareMatMulTopK}'s `selection: 'auto'` picks the chunked
 * form: four chunks of {@link PreparedMatMulTopK.scoreColumns} (65,536; a choice — measured only at
 * 11,924 columns, no gain, and 100,000: one thread, k 10, 298 → 147 ms of operator time per 1,000
 * queries, README "Chunked selection").
 */
export const CHUNKED_MIN_COLUMNS = 4 * CHUNKED_TOP_K_SHAPE.chunkColumns;

/**
 * Largest `k` for which the chunked selection (see {@link PrepareMatMulTopKOptions.selection}) is
 * the faster one: its blocks run up to this `k`.
 */
export const CHUNKED_FAST_MAX_K = CHUNKED_TOP_K_SHAPE.maxBlockedK;

/** How a prepared product selects its top k (see {@link PrepareMatMulTopKOptions.selection}). */
export type TopKSelection = 'auto' | 'whole' | 'chunked';

/** Options of {@link prepareMatMulTopK}. */
export interface PrepareMatMulTopKOptions extends MatMulOptions {
  /**
   * `'whole'`: one Gemm over all `n` columns, then a TopK over each whole row of scores.
   * `'chunked'`: the columns in chunks of 16,384, one Gemm per chunk (its scores still in cache when
   * they are read); for k up to 32 each chunk is reduced to the maxima of its 32-column blocks and
   * only its k best blocks reach the final TopK (far fewer scores compared); above, each chunk
   * hands on its own top k (exact, but no faster than `'whole'`, and slower from about k 100: use
   * `'whole'` for large k, see {@link CHUNKED_FAST_MAX_K}). The same results as `'whole'` (exact,
   * same ties, same values bit for bit) for finite operands: the chunked selection refuses NaN and
   * infinite values in `b` (at compilation) and in `a` (at each call) with `INVALID_INPUT`, where
   * the whole-row form would rank NaN scores in an unspecified order. `'auto'`: chunked from
   * {@link CHUNKED_MIN_COLUMNS} columns.
   * @defaultValue 'auto'
   */
  selection?: TopKSelection;
}

/** A matrix product with a fixed right operand followed by a top-k, from {@link prepareMatMulTopK}. */
export interface PreparedMatMulTopK {
  /** Rows of the fixed operand (`n` with `transposeB`). */
  readonly rows: number;
  /** Columns of the fixed operand. */
  readonly cols: number;
  /** The selection this product uses (`'whole'` or `'chunked'`). */
  readonly selection: Exclude<TopKSelection, 'auto'>;
  /**
   * Scores held at once per row of `a`: `n` for the whole-row selection, one chunk's 16,384 columns
   * for the chunked one at k up to 32 (fastest at about 128 rows a call; above k 32 a row also holds
   * every chunk's own top k, up to `chunks x min(k, 16384)` candidates). Size row blocks by it: `rows x scoreColumns` floats are in memory at a time.
   */
  readonly scoreColumns: number;
  /**
   * The `k` largest entries of every row of `alpha * a * op(b)`, best first, as
   * {@link matMulTopK}`(a, b, k, options)` (same ties: lower column first; `k` above the number of
   * columns is clamped). For operands up to 128 wide the scores are bit for bit `matMulTopK`'s;
   * wider, onnxruntime sums the packed operand in blocks of 128 and scores may differ from
   * `matMulTopK`'s by float32 rounding (about 1e-7 relative), which can swap near-equal entries.
   * Both selections give identical results at every width.
   *
   * @throws GenrecError `INVALID_INPUT` for a bad `k`, `SHAPE_MISMATCH` for a wrong width of `a`,
   * `NOT_FITTED` after {@link PreparedMatMulTopK.release}.
   */
  topK(a: Matrix, k: number): Promise<TopKResult>;
  /** Releases the session (idempotent). Pending `topK` calls finish first. */
  release(): Promise<void>;
}

/**
 * Compiles `b` into its own onnxruntime session (Gemm then TopK, `b` an initializer), for many
 * products against the same operand — a vector index's stored items, a model's item table.
 * onnxruntime packs a constant operand for its matrix kernel once, at session creation, where
 * {@link matMulTopK} passes `b` as an input and has it packed on every call: measured through
 * `@genrec/ann`'s flat index, 1,000 queries in blocks, 1 thread, 1.06–1.67x more queries per second
 * at the same block size (README "A fixed operand, compiled"). The session holds its own packed copy of `b` (about `b`'s size) until
 * {@link PreparedMatMulTopK.release} or garbage collection; later changes to `b.data` are not seen.
 *
 * @param b - `d x n`, or `n x d` with `transposeB`; at most {@link MAX_PREPARED_OPERAND_BYTES}.
 * @throws GenrecError `SHAPE_MISMATCH` for a malformed matrix, `INVALID_INPUT` for an empty or too
 * large one, `INVALID_OPTION` for a bad option, `RUNTIME_ERROR` when onnxruntime rejects the model.
 * @example
 * ```ts
 * const items = await prepareMatMulTopK(itemTable, { transposeB: true, intraOpNumThreads: 1 });
 * const { indices } = await items.topK(queries, 10);
 * await items.release();
 * ```
 */
export async function prepareMatMulTopK(b: Matrix, options: PrepareMatMulTopKOptions = {}): Promise<PreparedMatMulTopK> {
  checkMatrix(b, 'b', 'prepareMatMulTopK');
  const transposeB = checkBooleanOption(options.transposeB ?? false, 'transposeB');
  const selectionOption = checkEnumOption<TopKSelection>(options.selection ?? 'auto', 'selection', ['auto', 'whole', 'chunked']);
  const alpha = options.alpha ?? 1;
  checkAlpha(alpha, 'prepareMatMulTopK');
  checkSessionOptions(options); // before the operand is copied into a model
  const inner = transposeB ? b.cols : b.rows;
  const n = transposeB ? b.rows : b.cols;
  if (inner === 0 || n === 0) {
    throw new GenrecError('INVALID_INPUT', `prepareMatMulTopK: b is ${b.rows}x${b.cols}; an empty operand has nothing to compile (use matMulTopK)`, { details: { field: 'b' } });
  }
  if (b.data.byteLength > MAX_PREPARED_OPERAND_BYTES) {
    throw new GenrecError('INVALID_INPUT', `prepareMatMulTopK: b holds ${b.data.byteLength} bytes, above the ${MAX_PREPARED_OPERAND_BYTES} an ONNX model can embed (use matMulTopK)`, { details: { field: 'b' } });
  }
  const selection = selectionOption === 'auto' ? (n >= CHUNKED_MIN_COLUMNS ? 'chunked' : 'whole') : selectionOption;
  // non-finite scores have no order, and the padding's -Infinity needs finite products
  if (selection === 'chunked') assertFinite(b, 'prepareMatMulTopK (chunked selection): b');
  const model = selection === 'chunked' ? chunkedMatMulTopKModel(b, transposeB, alpha) : matMulTopKModel(inner, transposeB, alpha, b);
  const session = await createSession(model, options);
  return new PreparedTopK(session, b, transposeB, n, selection);
}

class PreparedTopK implements PreparedMatMulTopK {
  readonly rows: number;
  readonly cols: number;
  readonly scoreColumns: number;
  private session: ort.InferenceSession | undefined;
  private pending = 0;
  private releasing: Promise<void> | undefined;
  private resolveRelease: (() => void) | undefined;

  constructor(
    session: ort.InferenceSession,
    b: Matrix,
    private readonly transposeB: boolean,
    private readonly n: number,
    readonly selection: Exclude<TopKSelection, 'auto'>,
  ) {
    this.session = session;
    this.rows = b.rows;
    this.cols = b.cols;
    this.scoreColumns = selection === 'chunked' ? Math.min(n, CHUNKED_TOP_K_SHAPE.chunkColumns) : n;
  }

  async topK(a: Matrix, k: number): Promise<TopKResult> {
    checkTopK(k, 'prepareMatMulTopK');
    checkMatrix(a, 'a', 'prepareMatMulTopK');
    checkInner(a, this.rows, this.cols, this.transposeB, 'prepareMatMulTopK');
    const session = this.session;
    if (session === undefined || this.releasing !== undefined) {
      throw new GenrecError('NOT_FITTED', 'prepareMatMulTopK: this product was released', { details: { field: 'release' } });
    }
    const kept = Math.min(k, this.n);
    if (a.rows === 0) return { indices: new Int32Array(0), values: new Float32Array(0), rows: 0, k: kept };
    this.pending++;
    try {
      if (this.selection === 'whole') {
        const feeds = { a: ortTensor('float32', a.data, [a.rows, a.cols]), k: ortTensor('int64', BigInt64Array.of(BigInt(kept)), [1]) };
        return topKResult(await runSession(session, feeds, 'prepareMatMulTopK'), a.rows, kept);
      }
      assertFinite(a, 'prepareMatMulTopK (chunked selection): a');
      return await this.chunkedTopK(session, a, kept);
    } finally {
      this.pending--;
      if (this.pending === 0 && this.releasing !== undefined) void this.finishRelease();
    }
  }

  /**
   * The chunked model's top `kept`. Blocks (small k) are asked for one more entry and repaired: equal
   * scores put in column order, and rows whose k-th and (k+1)-th scores are equal (the block order
   * could have chosen a tied entry over a lower column) answered again by the exact chunks branch.
   */
  private async chunkedTopK(session: ort.InferenceSession, a: Matrix, kept: number): Promise<TopKResult> {
    const chunked = chunkedTopKFeeds(this.n, kept, CHUNKED_TOP_K_SHAPE);
    const scalar = (value: number) => ortTensor('int64', BigInt64Array.of(BigInt(value)), [1]);
    const run = async (rows: Matrix, blocked: boolean, k: number) =>
      runSession(
        session,
        {
          a: ortTensor('float32', rows.data, [rows.rows, rows.cols]),
          k: scalar(k),
          blocked: ortTensor('bool', Uint8Array.of(blocked ? 1 : 0), []),
          blocksFull: scalar(chunked.blocksFull),
          blocksLast: scalar(chunked.blocksLast),
          columnsFull: scalar(chunked.columnsFull),
          columnsLast: scalar(chunked.columnsLast),
        },
        'prepareMatMulTopK',
      );
    if (!chunked.blocked) return topKResult(await run(a, false, kept), a.rows, kept);
    const asked = Math.min(kept + 1, chunked.blockCandidates);
    const out = await run(a, true, asked);
    const wideIndices = out.indices!.data as BigInt64Array;
    const wideValues = out.values!.data as Float32Array;
    const indices = new Int32Array(a.rows * kept);
    const values = new Float32Array(a.rows * kept);
    const tied: number[] = [];
    for (let r = 0; r < a.rows; r++) {
      const from = r * asked;
      const to = r * kept;
      for (let j = 0; j < kept; j++) {
        indices[to + j] = Number(wideIndices[from + j]!);
        values[to + j] = wideValues[from + j]!;
      }
      if (asked > kept && wideValues[from + kept - 1] === wideValues[from + kept]) tied.push(r);
      else orderTiesByColumn(indices, values, to, kept);
    }
    if (tied.length > 0) {
      const exact = topKResult(await run(selectRows(a, tied), false, kept), tied.length, kept);
      tied.forEach((r, i) => {
        indices.set(exact.indices.subarray(i * kept, (i + 1) * kept), r * kept);
        values.set(exact.values.subarray(i * kept, (i + 1) * kept), r * kept);
      });
    }
    return { indices, values, rows: a.rows, k: kept };
  }

  release(): Promise<void> {
    if (this.releasing === undefined) {
      this.releasing = new Promise<void>((resolve) => (this.resolveRelease = resolve));
      if (this.pending === 0) void this.finishRelease();
    }
    return this.releasing;
  }

  private async finishRelease(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    try {
      await session?.release();
    } catch {
      // nothing left to free
    } finally {
      this.resolveRelease?.();
    }
  }
}

/** Sorts each run of equal values in `values[from, from + k)` by ascending index (insertion sort: runs are short). */
function orderTiesByColumn(indices: Int32Array, values: Float32Array, from: number, k: number): void {
  for (let j = from + 1; j < from + k; j++) {
    const index = indices[j]!;
    const value = values[j]!;
    let i = j - 1;
    while (i >= from && values[i] === value && indices[i]! > index) {
      indices[i + 1] = indices[i]!;
      i--;
    }
    indices[i + 1] = index;
  }
}
