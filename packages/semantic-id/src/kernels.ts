import { createMatrix, GenrecError, type Matrix } from '@genrec/core';
import { matMul } from '@genrec/nn';

/**
 * Where heavy matrix products run: `'auto'` uses `@genrec/nn`'s onnxruntime `matMul` when the
 * product is large enough to pay for the call, and the typed-array implementation here otherwise;
 * `'js'` always uses the typed-array implementation.
 */
export type KernelBackend = 'auto' | 'js';

/** Multiply-adds below which the typed-array product is used even in `'auto'` mode (call overhead). */
const SMALL_PRODUCT = 1 << 16;

/** Which implementation large products use under `backend`: `'onnxruntime'` or `'js'`. */
export function resolvedBackend(backend: KernelBackend = 'auto'): 'onnxruntime' | 'js' {
  return backend === 'js' ? 'js' : 'onnxruntime';
}

/**
 * `a * b^T` (`a`: m x d, `b`: n x d, result m x n), through `@genrec/nn` (see {@link KernelBackend}).
 *
 * @throws GenrecError `SHAPE_MISMATCH` when the inner dimensions differ.
 */
export async function matMulTransposed(a: Matrix, b: Matrix, backend: KernelBackend = 'auto'): Promise<Matrix> {
  if (a.cols !== b.cols) throw new GenrecError('SHAPE_MISMATCH', `a * b^T needs equal column counts, got ${a.rows}x${a.cols} and ${b.rows}x${b.cols}`);
  if (backend === 'auto' && a.rows * b.rows * a.cols >= SMALL_PRODUCT) return matMul(a, b, { transposeB: true });
  return matMulTransposedJs(a, b);
}

/**
 * `a * b` (`a`: m x k, `b`: k x n), through `@genrec/nn` (see {@link KernelBackend}).
 *
 * @throws GenrecError `SHAPE_MISMATCH` when the inner dimensions differ.
 */
export async function matMulPlain(a: Matrix, b: Matrix, backend: KernelBackend = 'auto'): Promise<Matrix> {
  if (a.cols !== b.rows) throw new GenrecError('SHAPE_MISMATCH', `a * b needs a.cols = b.rows, got ${a.rows}x${a.cols} and ${b.rows}x${b.cols}`);
  if (backend === 'auto' && a.rows * b.cols * a.cols >= SMALL_PRODUCT) return matMul(a, b);
  return matMulTransposedJs(a, transpose(b));
}

/** The transpose of a matrix (a copy). */
export function transpose(matrix: Matrix): Matrix {
  const { rows, cols, data } = matrix;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[base + c]!;
  }
  return createMatrix(cols, rows, out);
}

/**
 * Typed-array `a * b^T` with a 2 x 4 register block (both operands are read along contiguous
 * rows). Accumulates in float64 registers, stores float32.
 */
export function matMulTransposedJs(a: Matrix, b: Matrix, out: Matrix = createMatrix(a.rows, b.rows)): Matrix {
  const m = a.rows;
  const n = b.rows;
  const d = a.cols;
  const A = a.data;
  const B = b.data;
  const C = out.data;
  let i = 0;
  for (; i + 1 < m; i += 2) {
    const a0 = i * d;
    const a1 = a0 + d;
    let j = 0;
    for (; j + 3 < n; j += 4) {
      const b0 = j * d;
      const b1 = b0 + d;
      const b2 = b1 + d;
      const b3 = b2 + d;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      for (let t = 0; t < d; t++) {
        const x0 = A[a0 + t]!;
        const x1 = A[a1 + t]!;
        const y0 = B[b0 + t]!;
        const y1 = B[b1 + t]!;
        const y2 = B[b2 + t]!;
        const y3 = B[b3 + t]!;
        s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
        s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
      }
      const o0 = i * n + j;
      const o1 = o0 + n;
      C[o0] = s00; C[o0 + 1] = s01; C[o0 + 2] = s02; C[o0 + 3] = s03;
      C[o1] = s10; C[o1 + 1] = s11; C[o1 + 2] = s12; C[o1 + 3] = s13;
    }
    for (; j < n; j++) {
      const b0 = j * d;
      let s0 = 0, s1 = 0;
      for (let t = 0; t < d; t++) {
        const y = B[b0 + t]!;
        s0 += A[a0 + t]! * y;
        s1 += A[a1 + t]! * y;
      }
      C[i * n + j] = s0;
      C[(i + 1) * n + j] = s1;
    }
  }
  for (; i < m; i++) {
    const a0 = i * d;
    for (let j = 0; j < n; j++) {
      const b0 = j * d;
      let s = 0;
      for (let t = 0; t < d; t++) s += A[a0 + t]! * B[b0 + t]!;
      C[i * n + j] = s;
    }
  }
  return out;
}

/** Squared Euclidean norm of each row (float64 accumulation, stored as float64). */
export function squaredRowNorms(matrix: Matrix): Float64Array {
  const { rows, cols, data } = matrix;
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    const base = r * cols;
    for (let c = 0; c < cols; c++) {
      const v = data[base + c]!;
      sum += v * v;
    }
    out[r] = sum;
  }
  return out;
}
