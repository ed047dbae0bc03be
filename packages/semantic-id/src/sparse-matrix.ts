import { GenrecError } from '@genrec/core';

/**
 * A sparse matrix in compressed-row form: row `r` holds columns `indices[indptr[r] .. indptr[r+1])`
 * with `values` at the same positions (columns ascending within a row).
 */
export interface SparseMatrix {
  readonly rows: number;
  readonly cols: number;
  /** Row offsets, length `rows + 1`. */
  readonly indptr: Int32Array;
  /** Column of each stored value. */
  readonly indices: Int32Array;
  /** Stored values (float64). */
  readonly values: Float64Array;
}

/**
 * Checks the compressed-row invariants.
 *
 * @throws GenrecError `SHAPE_MISMATCH` when offsets or indices are inconsistent.
 */
export function checkSparseMatrix(matrix: SparseMatrix): void {
  const { rows, cols, indptr, indices, values } = matrix;
  if (indptr.length !== rows + 1 || indptr[0] !== 0 || indptr[rows] !== indices.length || indices.length !== values.length) {
    throw new GenrecError('SHAPE_MISMATCH', `sparse matrix ${rows}x${cols}: offsets and values disagree`);
  }
  for (let r = 0; r < rows; r++) {
    if (indptr[r + 1]! < indptr[r]!) throw new GenrecError('SHAPE_MISMATCH', `sparse matrix row ${r} has decreasing offsets`);
  }
  for (let i = 0; i < indices.length; i++) {
    if (indices[i]! < 0 || indices[i]! >= cols) throw new GenrecError('SHAPE_MISMATCH', `sparse matrix column ${indices[i]} is outside 0..${cols - 1}`);
  }
}

/**
 * `out = A * dense` where `dense` is `A.cols x width` row-major (float64); `out` is
 * `A.rows x width` row-major.
 */
export function sparseTimesDense(a: SparseMatrix, dense: Float64Array, width: number, out: Float64Array = new Float64Array(a.rows * width)): Float64Array {
  out.fill(0);
  const { indptr, indices, values } = a;
  for (let r = 0; r < a.rows; r++) {
    const base = r * width;
    for (let p = indptr[r]!; p < indptr[r + 1]!; p++) {
      const value = values[p]!;
      const source = indices[p]! * width;
      for (let c = 0; c < width; c++) out[base + c] = out[base + c]! + value * dense[source + c]!;
    }
  }
  return out;
}

/**
 * `out = Aᵀ * dense` where `dense` is `A.rows x width` row-major (float64); `out` is
 * `A.cols x width` row-major.
 */
export function sparseTransposeTimesDense(a: SparseMatrix, dense: Float64Array, width: number, out: Float64Array = new Float64Array(a.cols * width)): Float64Array {
  out.fill(0);
  const { indptr, indices, values } = a;
  for (let r = 0; r < a.rows; r++) {
    const source = r * width;
    for (let p = indptr[r]!; p < indptr[r + 1]!; p++) {
      const value = values[p]!;
      const base = indices[p]! * width;
      for (let c = 0; c < width; c++) out[base + c] = out[base + c]! + value * dense[source + c]!;
    }
  }
  return out;
}
