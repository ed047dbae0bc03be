import { GenrecError, progressReporter, Rng, type ProgressCallback, type Seed } from '@genrec/core';
import { checkSparseMatrix, sparseTimesDense, sparseTransposeTimesDense, type SparseMatrix } from './sparse-matrix.js';

/** Options of {@link randomizedSvd}. */
export interface RandomizedSvdOptions {
  /** Number of singular triplets. */
  rank: number;
  /** Extra random directions (Halko et al.). @defaultValue 10 */
  oversamples?: number;
  /** Power iterations (each one a product with A and with Aᵀ). @defaultValue 5 */
  powerIterations?: number;
  /** Seed of the random test matrix. @defaultValue 0 */
  seed?: Seed;
  /** Progress: task `'randomized-svd'`, one step per pass over the matrix (range finder, each power iteration, projection). */
  onProgress?: ProgressCallback;
}

/** A truncated SVD `A ≈ U diag(S) Vᵀ`. */
export interface TruncatedSvd {
  /** `rows x rank` left singular vectors, row-major (float64). */
  u: Float64Array;
  /** `rank` singular values, descending. */
  singularValues: Float64Array;
  /** `cols x rank` right singular vectors, row-major (float64). */
  v: Float64Array;
  /** The rank (columns of `u` and `v`). */
  rank: number;
}

/**
 * Randomised truncated SVD of a sparse matrix (Halko, Martinsson & Tropp, as scikit-learn's
 * `randomized_svd`): a Gaussian test matrix, power iterations re-orthonormalised after every
 * product, then the exact SVD of the small projected matrix. Deterministic for a seed; the signs of
 * singular vectors are fixed so that the largest entry of each column of `u` is positive.
 *
 * @throws GenrecError `INVALID_OPTION` when the rank does not fit the matrix.
 * @example
 * ```ts
 * const { u, singularValues } = randomizedSvd(tfidf, { rank: 128, seed: 0 });
 * ```
 */
export function randomizedSvd(matrix: SparseMatrix, options: RandomizedSvdOptions): TruncatedSvd {
  checkSparseMatrix(matrix);
  const { rows: m, cols: n } = matrix;
  const rank = options.rank;
  if (!Number.isInteger(rank) || rank < 1 || rank > Math.min(m, n)) {
    throw new GenrecError('INVALID_OPTION', `rank must be an integer in 1..${Math.min(m, n)} for a ${m}x${n} matrix, got ${rank}`, { details: { field: 'rank' } });
  }
  const width = Math.min(rank + (options.oversamples ?? 10), m, n);
  const rng = new Rng(options.seed ?? 0);
  const omega = new Float64Array(n * width);
  for (let i = 0; i < omega.length; i++) omega[i] = rng.normal();
  // Intermediate steps only need well-separated columns (one Gram–Schmidt pass); the final basis
  // gets two passes.
  const iterations = options.powerIterations ?? 5;
  const progress = progressReporter(options.onProgress, 'randomized-svd', { total: iterations + 2, unit: 'passes' });
  progress.start();
  let y = orthonormalizeColumns(sparseTimesDense(matrix, omega, width), m, width, iterations === 0 ? 2 : 1);
  progress.update(1);
  const z = new Float64Array(n * width);
  for (let iteration = 0; iteration < iterations; iteration++) {
    orthonormalizeColumns(sparseTransposeTimesDense(matrix, y, width, z), n, width, 1);
    y = orthonormalizeColumns(sparseTimesDense(matrix, z, width, y), m, width, iteration === iterations - 1 ? 2 : 1);
    progress.update(iteration + 2);
  }
  // B = Yᵀ A (width x n), stored as its transpose Aᵀ Y (n x width).
  const bt = sparseTransposeTimesDense(matrix, y, width);
  // B Bᵀ = (Aᵀ Y)ᵀ (Aᵀ Y): width x width, symmetric.
  const gram = new Float64Array(width * width);
  for (let r = 0; r < n; r++) {
    const base = r * width;
    for (let i = 0; i < width; i++) {
      const value = bt[base + i]!;
      if (value === 0) continue;
      for (let j = i; j < width; j++) gram[i * width + j] = gram[i * width + j]! + value * bt[base + j]!;
    }
  }
  for (let i = 0; i < width; i++) for (let j = 0; j < i; j++) gram[i * width + j] = gram[j * width + i]!;
  const { values, vectors } = symmetricEigen(gram, width);
  const order = Array.from({ length: width }, (_, i) => i).sort((a, b) => values[b]! - values[a]! || a - b);
  const singularValues = new Float64Array(rank);
  const u = new Float64Array(m * rank);
  const v = new Float64Array(n * rank);
  for (let c = 0; c < rank; c++) {
    const source = order[c]!;
    const sigma = Math.sqrt(Math.max(0, values[source]!));
    singularValues[c] = sigma;
    // u_c = Y w_c ; v_c = Bᵀ w_c / sigma = (Aᵀ Y) w_c / sigma
    for (let r = 0; r < m; r++) {
      let sum = 0;
      for (let t = 0; t < width; t++) sum += y[r * width + t]! * vectors[t * width + source]!;
      u[r * rank + c] = sum;
    }
    let largest = 0;
    for (let r = 0; r < m; r++) if (Math.abs(u[r * rank + c]!) > Math.abs(largest)) largest = u[r * rank + c]!;
    const sign = largest < 0 ? -1 : 1;
    for (let r = 0; r < m; r++) u[r * rank + c] = u[r * rank + c]! * sign;
    const scale = sigma > 0 ? sign / sigma : 0;
    for (let r = 0; r < n; r++) {
      let sum = 0;
      for (let t = 0; t < width; t++) sum += bt[r * width + t]! * vectors[t * width + source]!;
      v[r * rank + c] = sum * scale;
    }
  }
  progress.end(iterations + 2);
  return { u, singularValues, v, rank };
}

/**
 * Orthonormalises the columns of a row-major `rows x width` matrix in place (modified
 * Gram–Schmidt on a column-major copy; `passes = 2` re-orthogonalises for full accuracy); a
 * column that vanishes is left 0.
 */
export function orthonormalizeColumns(matrix: Float64Array, rows: number, width: number, passes = 2): Float64Array {
  const columns = new Float64Array(rows * width);
  for (let r = 0; r < rows; r++) for (let c = 0; c < width; c++) columns[c * rows + r] = matrix[r * width + c]!;
  for (let pass = 0; pass < passes; pass++) {
    for (let c = 0; c < width; c++) {
      const current = c * rows;
      let before = 0;
      for (let r = 0; r < rows; r++) before += columns[current + r]! ** 2;
      for (let p = 0; p < c; p++) {
        const previous = p * rows;
        let dot = 0;
        for (let r = 0; r < rows; r++) dot += columns[previous + r]! * columns[current + r]!;
        if (dot === 0) continue;
        for (let r = 0; r < rows; r++) columns[current + r] = columns[current + r]! - dot * columns[previous + r]!;
      }
      let norm = 0;
      for (let r = 0; r < rows; r++) norm += columns[current + r]! ** 2;
      // A column (numerically) inside the span of the previous ones is dropped (set to 0):
      // normalising its rounding noise would give a non-orthogonal column.
      const scale = norm > 1e-20 * before && norm > 0 ? 1 / Math.sqrt(norm) : 0;
      for (let r = 0; r < rows; r++) columns[current + r] = columns[current + r]! * scale;
    }
  }
  for (let r = 0; r < rows; r++) for (let c = 0; c < width; c++) matrix[r * width + c] = columns[c * rows + r]!;
  return matrix;
}

/**
 * Eigen-decomposition of a symmetric `size x size` matrix (row-major, float64) by cyclic Jacobi
 * rotations. Returns the eigenvalues (unsorted) and the eigenvectors as columns of `vectors`.
 */
export function symmetricEigen(matrix: Float64Array, size: number): { values: Float64Array; vectors: Float64Array } {
  const a = matrix.slice();
  const vectors = new Float64Array(size * size);
  for (let i = 0; i < size; i++) vectors[i * size + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let offDiagonal = 0;
    let diagonal = 0;
    for (let i = 0; i < size; i++) {
      diagonal += a[i * size + i]! ** 2;
      for (let j = i + 1; j < size; j++) offDiagonal += a[i * size + j]! ** 2;
    }
    if (offDiagonal <= 1e-30 * Math.max(diagonal, 1e-300)) break;
    for (let p = 0; p < size; p++) {
      for (let q = p + 1; q < size; q++) {
        const apq = a[p * size + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const app = a[p * size + p]!;
        const aqq = a[q * size + q]!;
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < size; k++) {
          const akp = a[k * size + p]!;
          const akq = a[k * size + q]!;
          a[k * size + p] = c * akp - s * akq;
          a[k * size + q] = s * akp + c * akq;
        }
        for (let k = 0; k < size; k++) {
          const apk = a[p * size + k]!;
          const aqk = a[q * size + k]!;
          a[p * size + k] = c * apk - s * aqk;
          a[q * size + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < size; k++) {
          const vkp = vectors[k * size + p]!;
          const vkq = vectors[k * size + q]!;
          vectors[k * size + p] = c * vkp - s * vkq;
          vectors[k * size + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(size);
  for (let i = 0; i < size; i++) values[i] = a[i * size + i]!;
  return { values, vectors };
}
