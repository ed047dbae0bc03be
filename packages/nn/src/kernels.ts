import { GenrecError, createMatrix, type Matrix } from '@genrec/core';
import { attr, encodeModel, type NodeInit } from './onnx/proto.js';
import { SessionCache, ortTensor, runSession, type SessionOptions } from './runtime/session.js';

/** Options of {@link matMul} and {@link matMulTopK}. */
export interface MatMulOptions extends SessionOptions {
  /**
   * Multiply by the transpose of `b` (`b` is then `n x k`, e.g. one item embedding per row).
   * @defaultValue false
   */
  transposeB?: boolean;
  /**
   * Scale applied to the product (`alpha * a * op(b)`).
   * @defaultValue 1
   */
  alpha?: number;
}

/** Options of {@link matMul}. */
export interface MatMulIntoOptions extends MatMulOptions {
  /**
   * A preallocated `m x n` result to write into (passed to onnxruntime as a preallocated output)
   * and return. It saves no allocation with onnxruntime-node 1.30, whose binding still copies the
   * output into a fresh buffer, and measured no faster than a fresh result (README "Kernels").
   */
  out?: Matrix;
}

/** The best `k` columns of each row, best first. */
export interface TopKResult {
  /** `rows x k` column indices, row-major. */
  indices: Int32Array;
  /** `rows x k` scores, row-major, descending within a row. */
  values: Float32Array;
  /** Number of rows (rows of `a`). */
  rows: number;
  /** Columns kept per row (the requested `k`, clamped to the number of columns). */
  k: number;
}

const cache = new SessionCache();

/** @internal */
export function checkMatrix(m: Matrix, name: string, op: string): void {
  if (!(m.data instanceof Float32Array) || m.data.length !== m.rows * m.cols) {
    throw new GenrecError('SHAPE_MISMATCH', `${op}: ${name} must be a Matrix whose Float32Array holds rows x cols = ${m.rows} x ${m.cols} values, got ${m.data?.length}`);
  }
}

function productShape(a: Matrix, b: Matrix, transposeB: boolean, op: string): { inner: number; n: number } {
  checkMatrix(a, 'a', op);
  checkMatrix(b, 'b', op);
  return checkInner(a, b.rows, b.cols, transposeB, op);
}

/**
 * The inner dimension and columns of `a * op(b)` for a `bRows x bCols` operand.
 * @throws GenrecError `SHAPE_MISMATCH` when the inner dimensions differ.
 * @internal
 */
export function checkInner(a: Matrix, bRows: number, bCols: number, transposeB: boolean, op: string): { inner: number; n: number } {
  const inner = transposeB ? bCols : bRows;
  if (a.cols !== inner) {
    throw new GenrecError(
      'SHAPE_MISMATCH',
      `${op}: a is ${a.rows}x${a.cols} and b${transposeB ? '^T' : ''} is ${transposeB ? `${bCols}x${bRows}` : `${bRows}x${bCols}`}; inner dimensions ${a.cols} and ${inner} differ`,
    );
  }
  return { inner, n: transposeB ? bRows : bCols };
}

/**
 * Checks the `k` of a top-k product (a positive integer).
 * @internal
 */
export function checkTopK(k: number, op: string): void {
  if (!Number.isInteger(k) || k < 1) throw new GenrecError('INVALID_INPUT', `${op}: k must be a positive integer, got ${k}`, { details: { field: 'k' } });
}

/** @internal */
export function checkAlpha(alpha: number, op: string): void {
  if (!Number.isFinite(alpha)) throw new GenrecError('INVALID_OPTION', `${op}: alpha must be finite, got ${alpha}`, { details: { field: 'alpha' } });
}

function gemmNode(inner: number, transposeB: boolean, alpha: number, output: string): { node: NodeInit; bShape: (number | string)[] } {
  return {
    node: { opType: 'Gemm', inputs: ['a', 'b'], outputs: [output], attributes: { transB: attr.int(transposeB ? 1 : 0), alpha: attr.float(alpha) } },
    bShape: transposeB ? ['n', inner] : [inner, 'n'],
  };
}

/*
 * Shapes: the kernels' models have symbolic row counts (`m` rows of `a`, `n` columns of the
 * product) and a static inner dimension, so one cached session serves every batch size without
 * padding. Measured on this machine (README "Kernels"): a symbolic-dimension Gemm ran as fast as a
 * static one (256x64 by 64x12000: 7.9 ms symbolic vs 11.9 ms static, 37 rows: 1.6 vs 1.8 ms), and
 * the per-call overhead of a tiny product was 15 us vs 26 us. Padding rows to a bucket would only
 * add copies, so the cache is keyed by (op, inner dimension, transposeB, alpha, threads).
 */

/**
 * Matrix product `alpha * a * op(b)` on onnxruntime (Gemm), with a cached session per inner
 * dimension and options.
 *
 * @param a - `m x k`.
 * @param b - `k x n`, or `n x k` with `transposeB`.
 * @returns the `m x n` product (a fresh buffer allocated by onnxruntime).
 * @throws GenrecError `SHAPE_MISMATCH` when the inner dimensions differ; `INVALID_OPTION` for a bad option.
 * @example
 * ```ts
 * const c = await matMul(createMatrix(2, 3, a), createMatrix(4, 3, items), { transposeB: true }); // 2 x 4
 * ```
 */
export async function matMul(a: Matrix, b: Matrix, options: MatMulIntoOptions = {}): Promise<Matrix> {
  const transposeB = options.transposeB ?? false;
  const alpha = options.alpha ?? 1;
  checkAlpha(alpha, 'matMul');
  const { inner, n } = productShape(a, b, transposeB, 'matMul');
  const out = options.out;
  if (out !== undefined && (out.rows !== a.rows || out.cols !== n || out.data.length !== a.rows * n)) {
    throw new GenrecError('SHAPE_MISMATCH', `matMul: out is ${out.rows}x${out.cols}, the product is ${a.rows}x${n}`, { details: { field: 'out' } });
  }
  if (a.rows === 0 || n === 0 || inner === 0) {
    if (out) {
      out.data.fill(0);
      return out;
    }
    return createMatrix(a.rows, n);
  }
  const key = `matmul|${inner}|${transposeB}|${alpha}|${options.intraOpNumThreads ?? 0}`;
  const session = await cache.get(
    key,
    () => {
      const { node, bShape } = gemmNode(inner, transposeB, alpha, 'c');
      return encodeModel({
        name: 'genrec_matmul',
        nodes: [node],
        inputs: [
          { name: 'a', dtype: 'float32', shape: ['m', inner] },
          { name: 'b', dtype: 'float32', shape: bShape },
        ],
        outputs: [{ name: 'c', dtype: 'float32', shape: ['m', 'n'] }],
      });
    },
    options,
  );
  const result = await runSession(
    session,
    { a: ortTensor('float32', a.data, [a.rows, a.cols]), b: ortTensor('float32', b.data, [b.rows, b.cols]) },
    'matMul',
    out ? { c: ortTensor('float32', out.data, [a.rows, n]) } : undefined,
  );
  if (out) return out;
  return createMatrix(a.rows, n, result.c!.data as Float32Array);
}

/**
 * Matrix product followed by a top-k along each row: the `k` largest entries of every row of
 * `alpha * a * op(b)`, best first; equal scores are ordered by lower column index first. `k` larger
 * than the number of columns is clamped to it (the result's `k` says how many were kept).
 *
 * @param a - `m x d` queries.
 * @param b - `d x n`, or `n x d` with `transposeB` (e.g. item embeddings, one per row).
 * @param k - a positive integer.
 * @returns `rows x k` indices and values.
 * @throws GenrecError `INVALID_INPUT` when `k` is not a positive integer; `SHAPE_MISMATCH` on inner dimensions.
 * @example
 * ```ts
 * const { indices, values } = await matMulTopK(queries, items, 10, { transposeB: true });
 * ```
 */
export async function matMulTopK(a: Matrix, b: Matrix, k: number, options: MatMulOptions = {}): Promise<TopKResult> {
  checkTopK(k, 'matMulTopK');
  const transposeB = options.transposeB ?? false;
  const alpha = options.alpha ?? 1;
  checkAlpha(alpha, 'matMulTopK');
  const { inner, n } = productShape(a, b, transposeB, 'matMulTopK');
  const kept = Math.min(k, n);
  if (a.rows === 0 || kept === 0) return { indices: new Int32Array(0), values: new Float32Array(0), rows: a.rows, k: kept };
  if (inner === 0) {
    // every score is 0: ties everywhere, lower index first
    const indices = new Int32Array(a.rows * kept);
    for (let r = 0; r < a.rows; r++) for (let j = 0; j < kept; j++) indices[r * kept + j] = j;
    return { indices, values: new Float32Array(a.rows * kept), rows: a.rows, k: kept };
  }
  const key = `matmultopk|${inner}|${transposeB}|${alpha}|${options.intraOpNumThreads ?? 0}`;
  const session = await cache.get(key, () => matMulTopKModel(inner, transposeB, alpha), options);
  const out = await runSession(
    session,
    {
      a: ortTensor('float32', a.data, [a.rows, a.cols]),
      b: ortTensor('float32', b.data, [b.rows, b.cols]),
      k: ortTensor('int64', BigInt64Array.of(BigInt(kept)), [1]),
    },
    'matMulTopK',
  );
  return topKResult(out, a.rows, kept);
}

/**
 * The model of {@link matMulTopK}: Gemm then TopK, inputs `a` (`m x inner`), `b` and `k`; with
 * `constantB`, `b` is an initializer of the model instead of an input (onnxruntime then packs it
 * once, at session creation).
 * @internal
 */
export function matMulTopKModel(inner: number, transposeB: boolean, alpha: number, constantB?: Matrix): Uint8Array {
  const { node, bShape } = gemmNode(inner, transposeB, alpha, 'scores');
  return encodeModel({
    name: 'genrec_matmul_topk',
    nodes: [node, { opType: 'TopK', inputs: ['scores', 'k'], outputs: ['values', 'indices'], attributes: { axis: attr.int(-1), largest: attr.int(1), sorted: attr.int(1) } }],
    inputs: [
      { name: 'a', dtype: 'float32', shape: ['m', inner] },
      ...(constantB ? [] : [{ name: 'b', dtype: 'float32' as const, shape: bShape }]),
      { name: 'k', dtype: 'int64', shape: [1] },
    ],
    outputs: [
      { name: 'values', dtype: 'float32', shape: ['m', 'k'] },
      { name: 'indices', dtype: 'int64', shape: ['m', 'k'] },
    ],
    ...(constantB ? { initializers: [{ name: 'b', dtype: 'float32' as const, shape: [constantB.rows, constantB.cols], data: constantB.data }] } : {}),
  });
}

/**
 * A {@link TopKResult} from the outputs of {@link matMulTopKModel}'s session.
 * @internal
 */
export function topKResult(out: Record<string, { data: unknown }>, rows: number, kept: number): TopKResult {
  const wide = out.indices!.data as BigInt64Array;
  const indices = new Int32Array(wide.length);
  for (let i = 0; i < wide.length; i++) indices[i] = Number(wide[i]!);
  return { indices, values: out.values!.data as Float32Array, rows, k: kept };
}

/**
 * Row-wise squared Euclidean distances: `out[i][j] = ||a_i - b_j||^2`, computed as
 * `||a_i||^2 + ||b_j||^2 - 2 a_i.b_j` on onnxruntime and clamped at 0 (float32 rounding can make
 * the expansion slightly negative; its absolute error is about 1e-7 times the squared norms).
 *
 * @param a - `m x d`.
 * @param b - `n x d`.
 * @returns the `m x n` distances.
 * @throws GenrecError `SHAPE_MISMATCH` when the widths differ.
 * @example
 * ```ts
 * const d = await squaredDistances(points, centroids); // points.rows x centroids.rows
 * ```
 */
export async function squaredDistances(a: Matrix, b: Matrix, options: SessionOptions = {}): Promise<Matrix> {
  checkMatrix(a, 'a', 'squaredDistances');
  checkMatrix(b, 'b', 'squaredDistances');
  if (a.cols !== b.cols) {
    throw new GenrecError('SHAPE_MISMATCH', `squaredDistances: a is ${a.rows}x${a.cols} and b is ${b.rows}x${b.cols}; widths ${a.cols} and ${b.cols} differ`);
  }
  const width = a.cols;
  if (a.rows === 0 || b.rows === 0 || width === 0) return createMatrix(a.rows, b.rows);
  const key = `sqdist|${width}|${options.intraOpNumThreads ?? 0}`;
  const session = await cache.get(
    key,
    () =>
      encodeModel({
        name: 'genrec_squared_distances',
        nodes: [
          { opType: 'Mul', inputs: ['a', 'a'], outputs: ['a2'] },
          { opType: 'ReduceSum', inputs: ['a2', 'axis1'], outputs: ['aa'], attributes: { keepdims: attr.int(1) } },
          { opType: 'Mul', inputs: ['b', 'b'], outputs: ['b2'] },
          { opType: 'ReduceSum', inputs: ['b2', 'axis1'], outputs: ['bb'], attributes: { keepdims: attr.int(0) } },
          { opType: 'Gemm', inputs: ['a', 'b', 'bb'], outputs: ['ab'], attributes: { transB: attr.int(1), alpha: attr.float(-2), beta: attr.float(1) } },
          { opType: 'Add', inputs: ['ab', 'aa'], outputs: ['raw'] },
          { opType: 'Relu', inputs: ['raw'], outputs: ['distances'] },
        ],
        inputs: [
          { name: 'a', dtype: 'float32', shape: ['m', width] },
          { name: 'b', dtype: 'float32', shape: ['n', width] },
        ],
        outputs: [{ name: 'distances', dtype: 'float32', shape: ['m', 'n'] }],
        initializers: [{ name: 'axis1', dtype: 'int64', shape: [1], data: BigInt64Array.of(1n) }],
      }),
    options,
  );
  const out = await runSession(
    session,
    { a: ortTensor('float32', a.data, [a.rows, width]), b: ortTensor('float32', b.data, [b.rows, width]) },
    'squaredDistances',
  );
  return createMatrix(a.rows, b.rows, out.distances!.data as Float32Array);
}

/** Releases every cached kernel session (they are recreated on next use). */
export async function releaseKernelSessions(): Promise<void> {
  await cache.clear();
}
