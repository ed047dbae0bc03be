import { assertFinite, createMatrix, GenrecError, progressReporter, Rng, type Matrix, type ProgressCallback, type Seed } from '@genrec/core';
import { assignNearest, runKMeans, type BalanceOptions } from './kmeans.js';
import { squaredRowNorms, type KernelBackend } from './kernels.js';

/**
 * Codebooks of a residual quantiser: level `l` has `codebooks[l]` (`K_l x dimension`); a vector's
 * code at level `l` is the nearest centroid to what the previous levels left over, and its
 * reconstruction is the sum of its chosen centroids.
 */
export class ResidualQuantizer {
  /** Vector dimension. */
  readonly dimension: number;
  /** Number of levels. */
  readonly levels: number;
  /** Codebook size of each level. */
  readonly codebookSizes: readonly number[];

  /**
   * @param codebooks - one `K_l x dimension` matrix per level.
   * @throws GenrecError `SHAPE_MISMATCH` when the codebooks disagree on the dimension.
   */
  constructor(readonly codebooks: readonly Matrix[]) {
    if (codebooks.length === 0) throw new GenrecError('INVALID_INPUT', 'a residual quantiser needs at least one level');
    this.dimension = codebooks[0]!.cols;
    for (const [level, codebook] of codebooks.entries()) {
      if (codebook.cols !== this.dimension) {
        throw new GenrecError('SHAPE_MISMATCH', `codebook ${level} has dimension ${codebook.cols}, codebook 0 has ${this.dimension}`);
      }
      if (codebook.rows === 0) throw new GenrecError('INVALID_INPUT', `codebook ${level} is empty`);
    }
    this.levels = codebooks.length;
    this.codebookSizes = codebooks.map((codebook) => codebook.rows);
  }

  /**
   * Greedy residual encoding: `vectors.rows x levels` codes, row-major.
   *
   * @throws GenrecError `SHAPE_MISMATCH` for another dimension, `INVALID_INPUT` for non-finite values.
   */
  async encode(vectors: Matrix, options: { backend?: KernelBackend } = {}): Promise<Int32Array> {
    if (vectors.cols !== this.dimension) {
      throw new GenrecError('SHAPE_MISMATCH', `the quantiser was fitted on ${this.dimension}-d vectors, got ${vectors.cols}-d`);
    }
    assertFinite(vectors, 'vectors to encode');
    const n = vectors.rows;
    const d = this.dimension;
    const residual = createMatrix(n, d, vectors.data.slice());
    const codes = new Int32Array(n * this.levels);
    const labels = new Int32Array(n);
    const rows = Int32Array.from({ length: n }, (_, i) => i);
    const upper = new Float64Array(n);
    const lower = new Float64Array(n);
    let norms = squaredRowNorms(residual);
    for (let level = 0; level < this.levels; level++) {
      const codebook = this.codebooks[level]!;
      labels.fill(-1);
      await assignNearest(residual, norms, rows, n, codebook, labels, upper, lower, options.backend ?? 'auto');
      norms = subtractCentroids(residual, codebook, labels);
      for (let i = 0; i < n; i++) codes[i * this.levels + level] = labels[i]!;
    }
    return codes;
  }

  /**
   * The reconstruction (sum of chosen centroids) of each code tuple. Uses the first `levels` codes
   * of each row of `codes` (rows of `codesPerRow` values, e.g. with a collision token after them).
   *
   * @throws GenrecError `INVALID_INPUT` for a code outside its codebook.
   */
  decode(codes: ArrayLike<number>, codesPerRow: number = this.levels): Matrix {
    if (codesPerRow < this.levels || codes.length % codesPerRow !== 0) {
      throw new GenrecError('SHAPE_MISMATCH', `decode needs rows of at least ${this.levels} codes, got ${codes.length} values in rows of ${codesPerRow}`);
    }
    const n = codes.length / codesPerRow;
    const d = this.dimension;
    const out = createMatrix(n, d);
    for (let i = 0; i < n; i++) {
      for (let level = 0; level < this.levels; level++) {
        const code = codes[i * codesPerRow + level]!;
        const codebook = this.codebooks[level]!;
        if (!Number.isInteger(code) || code < 0 || code >= codebook.rows) {
          throw new GenrecError('INVALID_INPUT', `row ${i}: code ${code} at level ${level} is outside 0..${codebook.rows - 1}`);
        }
        for (let t = 0; t < d; t++) out.data[i * d + t] = out.data[i * d + t]! + codebook.data[code * d + t]!;
      }
    }
    return out;
  }
}

/** Options of {@link fitResidualKMeans}. */
export interface ResidualKMeansOptions {
  /** Number of levels. @defaultValue 3 */
  levels?: number;
  /** Codes per level (one number for all levels, or one per level). @defaultValue 256 */
  codebookSize?: number | readonly number[];
  /** Lloyd iterations per level (stops earlier when no assignment changes). @defaultValue 25 */
  maxIterations?: number;
  /** Initialisation of each level's k-means. @defaultValue 'kmeans++' */
  init?: 'kmeans++' | 'random';
  /** Points k-means++ samples from. @defaultValue 4096 */
  initSampleSize?: number;
  /** Greedy k-means++ candidates per step. @defaultValue 2 + floor(ln codebookSize) */
  initCandidates?: number;
  /**
   * Balanced (capacity-constrained) assignment at every level: against collapse and collisions,
   * at some cost in quantisation error. @defaultValue false
   */
  balance?: boolean | BalanceOptions;
  /** Seed (each level draws its own stream from it). @defaultValue 0 */
  seed?: Seed;
  /** Where the distance products run. @defaultValue 'auto' */
  backend?: KernelBackend;
  /**
   * Progress: task `'rq-level'` (one `progress` per level, with its iterations and error) and
   * task `'rq-level-<l>'` per Lloyd iteration.
   */
  onProgress?: ProgressCallback;
}

/** What {@link fitResidualKMeans} returns. */
export interface ResidualKMeansFit {
  /** The fitted codebooks. */
  quantizer: ResidualQuantizer;
  /** Codes of the training vectors, `rows x levels` (equal to `quantizer.encode(vectors)` up to ties). */
  codes: Int32Array;
  /** `sum ||x - x̂||² / sum ||x||²` over the training vectors. */
  relativeError: number;
  /** Lloyd iterations done per level. */
  iterationsPerLevel: number[];
  /** Fraction of distance computations skipped by the bounds, per level. */
  skippedFractionPerLevel: number[];
}

/**
 * Residual k-means (RQ-KMeans, OneRec style): k-means on the vectors, then on what the first
 * level's centroids leave over, and so on for `levels` levels.
 *
 * @throws GenrecError `INVALID_INPUT` for non-finite vectors or fewer vectors than codes,
 * `INVALID_OPTION` for bad options.
 * @example
 * ```ts
 * const fit = await fitResidualKMeans(embeddings, { levels: 3, codebookSize: 256, seed: 0 });
 * fit.relativeError; // e.g. 0.11 on Toys title embeddings
 * ```
 */
export async function fitResidualKMeans(vectors: Matrix, options: ResidualKMeansOptions = {}): Promise<ResidualKMeansFit> {
  const levels = options.levels ?? 3;
  if (!Number.isInteger(levels) || levels < 1) {
    throw new GenrecError('INVALID_OPTION', `levels must be a positive integer, got ${levels}`, { details: { field: 'levels' } });
  }
  const sizes = typeof options.codebookSize === 'object' ? [...options.codebookSize] : new Array<number>(levels).fill(options.codebookSize ?? 256);
  if (sizes.length !== levels) {
    throw new GenrecError('INVALID_OPTION', `codebookSize lists ${sizes.length} sizes for ${levels} levels`, { details: { field: 'codebookSize' } });
  }
  assertFinite(vectors, 'residual k-means input');
  const largest = Math.max(...sizes);
  if (vectors.rows < largest) {
    throw new GenrecError('INVALID_INPUT', `residual k-means with ${largest} codes per level needs at least ${largest} items, got ${vectors.rows}`);
  }
  const n = vectors.rows;
  const d = vectors.cols;
  const rng = new Rng(options.seed ?? 0);
  const progress = progressReporter(options.onProgress, 'rq-level', { total: levels, unit: 'levels' });
  progress.start();
  const residual = createMatrix(n, d, vectors.data.slice());
  let residualNorms = squaredRowNorms(residual);
  let total = 0;
  for (const value of residualNorms) total += value;
  const codes = new Int32Array(n * levels);
  const codebooks: Matrix[] = [];
  const iterationsPerLevel: number[] = [];
  const skippedFractionPerLevel: number[] = [];
  for (let level = 0; level < levels; level++) {
    const fit = await runKMeans(residual, {
      clusterCount: sizes[level]!,
      maxIterations: options.maxIterations ?? 25,
      init: options.init ?? 'kmeans++',
      initSampleSize: options.initSampleSize ?? 4096,
      ...(options.initCandidates === undefined ? {} : { initCandidates: options.initCandidates }),
      balance: options.balance ?? false,
      seed: rng.fork().nextUint32(),
      backend: options.backend ?? 'auto',
      task: `rq-level-${level}`,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    }, residualNorms, false);
    residualNorms = subtractCentroids(residual, fit.centroids, fit.labels);
    for (let i = 0; i < n; i++) codes[i * levels + level] = fit.labels[i]!;
    codebooks.push(fit.centroids);
    iterationsPerLevel.push(fit.iterations);
    skippedFractionPerLevel.push(fit.skippedFraction);
    progress.update(level + 1, { metrics: { iterations: fit.iterations, relativeError: total > 0 ? fit.inertia / total : 0 } });
  }
  let remaining = 0;
  for (const value of residualNorms) remaining += value;
  const relativeError = total > 0 ? remaining / total : 0;
  progress.end(levels, { metrics: { relativeError } });
  return { quantizer: new ResidualQuantizer(codebooks), codes, relativeError, iterationsPerLevel, skippedFractionPerLevel };
}

/** `residual[i] -= centroids[labels[i]]`, in place; returns the new squared row norms. */
function subtractCentroids(residual: Matrix, centroids: Matrix, labels: Int32Array): Float64Array {
  const d = residual.cols;
  const r = residual.data;
  const c = centroids.data;
  const norms = new Float64Array(residual.rows);
  for (let i = 0; i < residual.rows; i++) {
    const base = labels[i]! * d;
    const row = i * d;
    let sum = 0;
    for (let t = 0; t < d; t++) {
      const value = r[row + t]! - c[base + t]!;
      r[row + t] = value;
      sum += value * value;
    }
    norms[i] = sum;
  }
  return norms;
}

/** `sum ||residual||² / sum ||original||²` (0 when the original is all zeros). */
export function relativeResidual(residual: Matrix, original: Matrix): number {
  let top = 0;
  let bottom = 0;
  for (const value of squaredRowNorms(residual)) top += value;
  for (const value of squaredRowNorms(original)) bottom += value;
  return bottom > 0 ? top / bottom : 0;
}
