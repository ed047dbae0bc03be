import { GenrecError, checkBooleanOption, type Matrix } from '@genrec/core';
import type * as ort from 'onnxruntime-node';
import { checkAlpha, checkInner, checkMatrix, checkTopK, matMulTopKModel, topKResult, type MatMulOptions, type TopKResult } from './kernels.js';
import { checkSessionOptions, createSession, ortTensor, runSession } from './runtime/session.js';

/**
 * Largest right operand {@link prepareMatMulTopK} compiles (bytes of float32 values): the operand is
 * embedded in an ONNX model, whose protobuf encoding cannot exceed 2 GiB.
 */
export const MAX_PREPARED_OPERAND_BYTES = 1024 * 1024 * 1024;

/** A matrix product with a fixed right operand followed by a top-k, from {@link prepareMatMulTopK}. */
export interface PreparedMatMulTopK {
  /** Rows of the fixed operand (`n` with `transposeB`). */
  readonly rows: number;
  /** Columns of the fixed operand. */
  readonly cols: number;
  /**
   * The `k` largest entries of every row of `alpha * a * op(b)`, best first, exactly as
   * {@link matMulTopK}`(a, b, k, options)` (same ties: lower column first; `k` above the number of
   * columns is clamped).
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
export async function prepareMatMulTopK(b: Matrix, options: MatMulOptions = {}): Promise<PreparedMatMulTopK> {
  checkMatrix(b, 'b', 'prepareMatMulTopK');
  const transposeB = checkBooleanOption(options.transposeB ?? false, 'transposeB');
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
  const session = await createSession(matMulTopKModel(inner, transposeB, alpha, b), options);
  return new PreparedTopK(session, b, transposeB, n);
}

class PreparedTopK implements PreparedMatMulTopK {
  readonly rows: number;
  readonly cols: number;
  private session: ort.InferenceSession | undefined;
  private pending = 0;
  private releasing: Promise<void> | undefined;
  private resolveRelease: (() => void) | undefined;

  constructor(
    session: ort.InferenceSession,
    b: Matrix,
    private readonly transposeB: boolean,
    private readonly n: number,
  ) {
    this.session = session;
    this.rows = b.rows;
    this.cols = b.cols;
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
      const out = await runSession(
        session,
        { a: ortTensor('float32', a.data, [a.rows, a.cols]), k: ortTensor('int64', BigInt64Array.of(BigInt(kept)), [1]) },
        'prepareMatMulTopK',
      );
      return topKResult(out, a.rows, kept);
    } finally {
      this.pending--;
      if (this.pending === 0 && this.releasing !== undefined) void this.finishRelease();
    }
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
