import { GenrecError } from './errors.js';

/** A dense row-major float32 matrix: element (r, c) is `data[r * cols + c]`. */
export interface Matrix {
  readonly data: Float32Array;
  readonly rows: number;
  readonly cols: number;
}

function checkDimension(value: number, name: string): void {
  if (!Number.isInteger(value) || value < 0) {
    throw new GenrecError('INVALID_INPUT', `matrix ${name} must be a non-negative integer, got ${value}`);
  }
}

/**
 * Creates a matrix, zero-filled or over existing data (not copied).
 *
 * @throws GenrecError `SHAPE_MISMATCH` when `data.length !== rows * cols`.
 */
export function createMatrix(rows: number, cols: number, data?: Float32Array): Matrix {
  checkDimension(rows, 'rows');
  checkDimension(cols, 'cols');
  const buffer = data ?? new Float32Array(rows * cols);
  if (buffer.length !== rows * cols) {
    throw new GenrecError(
      'SHAPE_MISMATCH',
      `matrix data has ${buffer.length} values, expected rows x cols = ${rows} x ${cols} = ${rows * cols}`,
    );
  }
  return { data: buffer, rows, cols };
}

/**
 * Builds a matrix from nested arrays (one inner array per row, all of one length).
 *
 * @throws GenrecError `SHAPE_MISMATCH` on ragged rows.
 */
export function matrixFromArrays(rows: ReadonlyArray<ArrayLike<number>>): Matrix {
  const cols = rows.length === 0 ? 0 : rows[0]!.length;
  const matrix = createMatrix(rows.length, cols);
  rows.forEach((row, r) => {
    if (row.length !== cols) {
      throw new GenrecError('SHAPE_MISMATCH', `row ${r} has ${row.length} values, row 0 has ${cols}`);
    }
    for (let c = 0; c < cols; c++) matrix.data[r * cols + c] = row[c]!;
  });
  return matrix;
}

/** Copies a matrix into nested arrays (one array per row). */
export function matrixToArrays(matrix: Matrix): number[][] {
  const out: number[][] = [];
  for (let r = 0; r < matrix.rows; r++) out.push(Array.from(matrixRow(matrix, r)));
  return out;
}

/**
 * A view of row `r` (no copy: writing to it writes the matrix).
 *
 * @throws GenrecError `INVALID_INPUT` when `r` is out of range.
 */
export function matrixRow(matrix: Matrix, r: number): Float32Array {
  if (!Number.isInteger(r) || r < 0 || r >= matrix.rows) {
    throw new GenrecError('INVALID_INPUT', `row ${r} is out of range for a matrix of ${matrix.rows} rows`);
  }
  return matrix.data.subarray(r * matrix.cols, (r + 1) * matrix.cols);
}

/** A deep copy. */
export function cloneMatrix(matrix: Matrix): Matrix {
  return createMatrix(matrix.rows, matrix.cols, matrix.data.slice());
}

/**
 * Scales each row to unit Euclidean norm, in place unless `out` is given. Rows of norm 0 stay 0
 * (as scikit-learn's `normalize` does). Norms are accumulated in float64.
 */
export function normalizeRows(matrix: Matrix, out: Matrix = matrix): Matrix {
  assertSameShape(matrix, out, 'normalizeRows');
  const { rows, cols } = matrix;
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let sum = 0;
    for (let c = 0; c < cols; c++) {
      const v = matrix.data[base + c]!;
      sum += v * v;
    }
    const scale = sum > 0 ? 1 / Math.sqrt(sum) : 0;
    for (let c = 0; c < cols; c++) out.data[base + c] = matrix.data[base + c]! * scale;
  }
  return out;
}

/** Euclidean norm of each row, as float64 values. */
export function rowNorms(matrix: Matrix): Float64Array {
  const norms = new Float64Array(matrix.rows);
  for (let r = 0; r < matrix.rows; r++) {
    let sum = 0;
    for (let c = 0; c < matrix.cols; c++) {
      const v = matrix.data[r * matrix.cols + c]!;
      sum += v * v;
    }
    norms[r] = Math.sqrt(sum);
  }
  return norms;
}

/** Copies the listed rows into a new matrix (in the given order). */
export function selectRows(matrix: Matrix, rows: ArrayLike<number>): Matrix {
  const out = createMatrix(rows.length, matrix.cols);
  for (let i = 0; i < rows.length; i++) out.data.set(matrixRow(matrix, rows[i]!), i * matrix.cols);
  return out;
}

/**
 * Throws `SHAPE_MISMATCH` naming `operation` and both shapes unless `a` and `b` have one shape.
 */
export function assertSameShape(a: Matrix, b: Matrix, operation: string): void {
  if (a.rows !== b.rows || a.cols !== b.cols) {
    throw new GenrecError('SHAPE_MISMATCH', `${operation}: shapes ${a.rows}x${a.cols} and ${b.rows}x${b.cols} differ`);
  }
}

/**
 * Throws `INVALID_INPUT` at the first NaN or infinite value, naming `what`, the row and column.
 */
export function assertFinite(matrix: Matrix, what: string): void {
  const { data, cols } = matrix;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!)) {
      const row = cols === 0 ? 0 : Math.floor(i / cols);
      throw new GenrecError('INVALID_INPUT', `${what} has a non-finite value ${data[i]} at row ${row}, column ${i - row * cols}`);
    }
  }
}
