import { assertFinite, createMatrix, GenrecError, progressReporter, Rng, type Matrix, type ProgressCallback, type Seed } from '@genrec/core';
import { assignNearest, runKMeans } from './kmeans.js';
import { matMulPlain, squaredRowNorms, type KernelBackend } from './kernels.js';
import { symmetricEigen } from './randomized-svd.js';

/**
 * A product quantiser: the (optionally rotated) vector is cut into `subspaces` consecutive
 * pieces and each piece is quantised by its own codebook.
 */
export class ProductQuantizer {
  /** Vector dimension. */
  readonly dimension: number;
  /** Number of subspaces (codes per vector). */
  readonly subspaces: number;
  /** Codebook size of each subspace. */
  readonly codebookSizes: readonly number[];

  /**
   * @param codebooks - one `K_s x (offsets[s+1] - offsets[s])` matrix per subspace.
   * @param offsets - first dimension of each subspace, plus the total dimension at the end.
   * @param rotation - optional `dimension x dimension` orthogonal matrix `R`: vectors are quantised as `x R`.
   * @throws GenrecError `SHAPE_MISMATCH` when the pieces do not fit together.
   */
  constructor(
    readonly codebooks: readonly Matrix[],
    readonly offsets: readonly number[],
    readonly rotation?: Matrix,
  ) {
    if (codebooks.length === 0 || offsets.length !== codebooks.length + 1 || offsets[0] !== 0) {
      throw new GenrecError('SHAPE_MISMATCH', `a product quantiser needs one codebook per subspace and offsets 0..d (${codebooks.length} codebooks, ${offsets.length} offsets)`);
    }
    codebooks.forEach((codebook, s) => {
      if (codebook.cols !== offsets[s + 1]! - offsets[s]! || codebook.rows === 0) {
        throw new GenrecError('SHAPE_MISMATCH', `codebook ${s} is ${codebook.rows}x${codebook.cols}, subspace ${s} has ${offsets[s + 1]! - offsets[s]!} dimensions`);
      }
    });
    this.dimension = offsets[offsets.length - 1]!;
    if (rotation && (rotation.rows !== this.dimension || rotation.cols !== this.dimension)) {
      throw new GenrecError('SHAPE_MISMATCH', `the rotation is ${rotation.rows}x${rotation.cols}, expected ${this.dimension}x${this.dimension}`);
    }
    this.subspaces = codebooks.length;
    this.codebookSizes = codebooks.map((codebook) => codebook.rows);
  }

  /** `vectors R` (a copy when there is no rotation). */
  async rotate(vectors: Matrix, backend: KernelBackend = 'auto'): Promise<Matrix> {
    return this.rotation ? matMulPlain(vectors, this.rotation, backend) : createMatrix(vectors.rows, vectors.cols, vectors.data.slice());
  }

  /**
   * The code of each vector in each subspace: `rows x subspaces`, row-major.
   *
   * @throws GenrecError `SHAPE_MISMATCH` for another dimension, `INVALID_INPUT` for non-finite values.
   */
  async encode(vectors: Matrix, options: { backend?: KernelBackend } = {}): Promise<Int32Array> {
    if (vectors.cols !== this.dimension) throw new GenrecError('SHAPE_MISMATCH', `the quantiser was fitted on ${this.dimension}-d vectors, got ${vectors.cols}-d`);
    assertFinite(vectors, 'vectors to encode');
    const rotated = await this.rotate(vectors, options.backend);
    const n = vectors.rows;
    const codes = new Int32Array(n * this.subspaces);
    const labels = new Int32Array(n);
    const rows = Int32Array.from({ length: n }, (_, i) => i);
    const scratch = new Float64Array(n);
    for (let s = 0; s < this.subspaces; s++) {
      const piece = slice(rotated, this.offsets[s]!, this.offsets[s + 1]!);
      labels.fill(-1);
      await assignNearest(piece, squaredRowNorms(piece), rows, n, this.codebooks[s]!, labels, scratch, new Float64Array(n), options.backend ?? 'auto');
      for (let i = 0; i < n; i++) codes[i * this.subspaces + s] = labels[i]!;
    }
    return codes;
  }

  /**
   * Reconstructions in the rotated space (concatenated codewords), `rows x dimension`.
   *
   * @throws GenrecError `INVALID_INPUT` for a code outside its codebook.
   */
  decodeRotated(codes: ArrayLike<number>): Matrix {
    if (codes.length % this.subspaces !== 0) throw new GenrecError('SHAPE_MISMATCH', `${codes.length} codes do not form rows of ${this.subspaces}`);
    const n = codes.length / this.subspaces;
    const out = createMatrix(n, this.dimension);
    for (let i = 0; i < n; i++) {
      for (let s = 0; s < this.subspaces; s++) {
        const code = codes[i * this.subspaces + s]!;
        const codebook = this.codebooks[s]!;
        if (!Number.isInteger(code) || code < 0 || code >= codebook.rows) {
          throw new GenrecError('INVALID_INPUT', `row ${i}: code ${code} of subspace ${s} is outside 0..${codebook.rows - 1}`);
        }
        out.data.set(codebook.data.subarray(code * codebook.cols, (code + 1) * codebook.cols), i * this.dimension + this.offsets[s]!);
      }
    }
    return out;
  }

  /** Reconstructions in the original space (`decodeRotated(codes) Rᵀ`). */
  async decode(codes: ArrayLike<number>, options: { backend?: KernelBackend } = {}): Promise<Matrix> {
    const rotated = this.decodeRotated(codes);
    if (!this.rotation) return rotated;
    return matMulPlain(rotated, transposeOf(this.rotation), options.backend ?? 'auto');
  }
}

/** Options of {@link fitProductQuantizer}. */
export interface ProductQuantizerOptions {
  /** Number of subspaces (codes per vector); the dimension is split as evenly as possible. */
  subspaces: number;
  /** Codes per subspace. @defaultValue 256 */
  codebookSize?: number;
  /** Lloyd iterations per subspace. @defaultValue 25 */
  maxIterations?: number;
  /**
   * `'opq'` learns an orthogonal rotation first (non-parametric OPQ: alternate PQ fitting and the
   * Procrustes rotation that best maps vectors onto their reconstructions). @defaultValue 'none'
   */
  rotation?: 'none' | 'opq';
  /** Alternations of OPQ. @defaultValue 5 */
  opqIterations?: number;
  /** Seed. @defaultValue 0 */
  seed?: Seed;
  /** Where the products run. @defaultValue 'auto' */
  backend?: KernelBackend;
  /**
   * Progress: task `'product-quantizer'`, one step per subspace k-means (`subspaces x (1 +
   * opqIterations)` with OPQ), each k-means' iterations as task `'pq-kmeans'`.
   */
  onProgress?: ProgressCallback;
}

/**
 * Fits a product quantiser (optionally OPQ-rotated) and returns it with the training codes.
 *
 * @throws GenrecError `INVALID_OPTION` when the subspaces do not fit the dimension,
 * `INVALID_INPUT` for non-finite vectors or fewer vectors than codes.
 * @example
 * ```ts
 * const { quantizer, codes } = await fitProductQuantizer(embeddings, { subspaces: 4, codebookSize: 256 });
 * ```
 */
export async function fitProductQuantizer(vectors: Matrix, options: ProductQuantizerOptions): Promise<{ quantizer: ProductQuantizer; codes: Int32Array; relativeError: number }> {
  const d = vectors.cols;
  const subspaces = options.subspaces;
  if (!Number.isInteger(subspaces) || subspaces < 1 || subspaces > d) {
    throw new GenrecError('INVALID_OPTION', `subspaces must be an integer in 1..${d}, got ${subspaces}`, { details: { field: 'subspaces' } });
  }
  const codebookSize = options.codebookSize ?? 256;
  if (vectors.rows < codebookSize) {
    throw new GenrecError('INVALID_INPUT', `product quantisation with ${codebookSize} codes needs at least ${codebookSize} vectors, got ${vectors.rows}`);
  }
  assertFinite(vectors, 'product quantiser input');
  const backend = options.backend ?? 'auto';
  const offsets = Array.from({ length: subspaces + 1 }, (_, s) => Math.round((s * d) / subspaces));
  const rng = new Rng(options.seed ?? 0);
  const opq = (options.rotation ?? 'none') === 'opq';
  const passes = opq ? 1 + (options.opqIterations ?? 5) : 1;
  const progress = progressReporter(options.onProgress, 'product-quantizer', { total: subspaces * passes, unit: 'k-means fits' });
  const kmeansProgress = options.onProgress ? { onProgress: options.onProgress, task: 'pq-kmeans' } : {};
  let fitted = 0;
  progress.start();
  const fitPieces = async (space: Matrix, seed: number): Promise<{ quantizer: ProductQuantizer; codes: Int32Array }> => {
    const codebooks: Matrix[] = [];
    const codes = new Int32Array(space.rows * subspaces);
    const local = new Rng(seed);
    for (let s = 0; s < subspaces; s++) {
      const piece = slice(space, offsets[s]!, offsets[s + 1]!);
      const fit = await runKMeans(piece, { clusterCount: codebookSize, maxIterations: options.maxIterations ?? 25, seed: local.nextUint32(), backend, ...kmeansProgress }, undefined, false);
      progress.update(++fitted, { metrics: { subspace: s, iterations: fit.iterations } });
      codebooks.push(fit.centroids);
      for (let i = 0; i < space.rows; i++) codes[i * subspaces + s] = fit.labels[i]!;
    }
    return { quantizer: new ProductQuantizer(codebooks, offsets), codes };
  };
  let rotation: Matrix | undefined;
  let result = await fitPieces(vectors, rng.nextUint32());
  if (opq) {
    rotation = identity(d);
    for (let iteration = 0; iteration < (options.opqIterations ?? 5); iteration++) {
      // R = argmin ||X R - Y||, R orthogonal: the polar factor of Xᵀ Y.
      const reconstruction = result.quantizer.decodeRotated(result.codes);
      rotation = procrustes(await matMulPlain(transposeOf(vectors), reconstruction, backend));
      result = await fitPieces(await matMulPlain(vectors, rotation, backend), rng.nextUint32());
    }
    result = { quantizer: new ProductQuantizer(result.quantizer.codebooks, offsets, rotation), codes: result.codes };
  }
  const decoded = await result.quantizer.decode(result.codes, { backend });
  let top = 0;
  let bottom = 0;
  for (let i = 0; i < vectors.data.length; i++) {
    top += (vectors.data[i]! - decoded.data[i]!) ** 2;
    bottom += vectors.data[i]! ** 2;
  }
  const relativeError = bottom > 0 ? top / bottom : 0;
  progress.end(fitted, { metrics: { relativeError } });
  return { ...result, relativeError };
}

/** Columns `from..to` of a matrix (a copy). */
function slice(matrix: Matrix, from: number, to: number): Matrix {
  const width = to - from;
  const out = createMatrix(matrix.rows, width);
  for (let r = 0; r < matrix.rows; r++) out.data.set(matrix.data.subarray(r * matrix.cols + from, r * matrix.cols + to), r * width);
  return out;
}

function identity(size: number): Matrix {
  const out = createMatrix(size, size);
  for (let i = 0; i < size; i++) out.data[i * size + i] = 1;
  return out;
}

function transposeOf(matrix: Matrix): Matrix {
  const out = createMatrix(matrix.cols, matrix.rows);
  for (let r = 0; r < matrix.rows; r++) for (let c = 0; c < matrix.cols; c++) out.data[c * matrix.rows + r] = matrix.data[r * matrix.cols + c]!;
  return out;
}

/**
 * The orthogonal polar factor of a square matrix `M` (`M (MᵀM)^(-1/2)`), which maximises
 * `trace(Rᵀ M)` over orthogonal `R`. Directions with a (near-)zero singular value are completed
 * from the identity and re-orthonormalised.
 */
export function procrustes(m: Matrix): Matrix {
  const size = m.rows;
  const gram = new Float64Array(size * size);
  for (let i = 0; i < size; i++) {
    for (let j = i; j < size; j++) {
      let sum = 0;
      for (let r = 0; r < size; r++) sum += m.data[r * size + i]! * m.data[r * size + j]!;
      gram[i * size + j] = sum;
      gram[j * size + i] = sum;
    }
  }
  const { values, vectors } = symmetricEigen(gram, size);
  let largest = 0;
  for (const value of values) largest = Math.max(largest, value);
  // inverse square root of MᵀM on its well-conditioned part
  const inverseRoot = new Float64Array(size * size);
  for (let k = 0; k < size; k++) {
    const value = values[k]!;
    if (!(value > 1e-12 * largest)) continue;
    const scale = 1 / Math.sqrt(value);
    for (let i = 0; i < size; i++) {
      const vi = vectors[i * size + k]! * scale;
      for (let j = 0; j < size; j++) inverseRoot[i * size + j] = inverseRoot[i * size + j]! + vi * vectors[j * size + k]!;
    }
  }
  const out = new Float64Array(size * size);
  for (let r = 0; r < size; r++) {
    for (let j = 0; j < size; j++) {
      let sum = 0;
      for (let i = 0; i < size; i++) sum += m.data[r * size + i]! * inverseRoot[i * size + j]!;
      out[r * size + j] = sum;
    }
  }
  // Re-orthonormalise columns (fills rank-deficient directions from the identity).
  for (let c = 0; c < size; c++) {
    for (let attempt = 0; attempt <= size; attempt++) {
      for (let p = 0; p < c; p++) {
        let dot = 0;
        for (let r = 0; r < size; r++) dot += out[r * size + p]! * out[r * size + c]!;
        for (let r = 0; r < size; r++) out[r * size + c] = out[r * size + c]! - dot * out[r * size + p]!;
      }
      let norm = 0;
      for (let r = 0; r < size; r++) norm += out[r * size + c]! ** 2;
      if (norm > 1e-6) {
        const scale = 1 / Math.sqrt(norm);
        for (let r = 0; r < size; r++) out[r * size + c] = out[r * size + c]! * scale;
        break;
      }
      for (let r = 0; r < size; r++) out[r * size + c] = r === (c + attempt) % size ? 1 : 0;
    }
  }
  return createMatrix(size, size, Float32Array.from(out));
}
