import { createMatrix, GenrecError, normalizeRows, type Seed, type SequenceDataset } from '@genrec/core';
import { randomizedSvd } from './randomized-svd.js';
import type { ItemEmbeddings } from './text-encoder.js';

/** Options of {@link collaborativeEmbeddings}. */
export interface CollaborativeEmbeddingOptions {
  /** Output dimension. @defaultValue 64 */
  dimension?: number;
  /** Two items co-occur when at most this many positions apart in one user's sequence. @defaultValue 5 */
  window?: number;
  /**
   * Per user row, how many leading items count (e.g. the length minus 2 for leave-one-out
   * training, so validation and test items never leak); every item by default.
   */
  trainingEnd?: Int32Array;
  /** Power iterations of the randomised SVD. @defaultValue 5 */
  powerIterations?: number;
  /** Seed of the randomised SVD. @defaultValue 0 */
  seed?: Seed;
  /** L2-normalise the rows. @defaultValue true */
  normalize?: boolean;
}

/**
 * Built-in collaborative encoder: counts how often two items occur within `window` positions of
 * each other in a user's sequence, turns the counts into positive pointwise mutual information
 * (`max(0, ln(n_ij N / (n_i n_j)))`), and takes a truncated SVD; item `i`'s vector is row `i` of
 * `U·sqrt(S)`. Items that never co-occur get a zero vector. Rows are item ids `1..itemCount`.
 *
 * @throws GenrecError `INVALID_OPTION` for a bad window or dimension, `INVALID_INPUT` when no
 * pair co-occurs.
 * @example
 * ```ts
 * const { itemIds, vectors } = collaborativeEmbeddings(dataset, { dimension: 64, window: 5 });
 * ```
 */
export function collaborativeEmbeddings(dataset: SequenceDataset, options: CollaborativeEmbeddingOptions = {}): ItemEmbeddings {
  const window = options.window ?? 5;
  const dimension = options.dimension ?? 64;
  if (!Number.isInteger(window) || window < 1) throw new GenrecError('INVALID_OPTION', `window must be a positive integer, got ${window}`, { details: { field: 'window' } });
  const itemCount = dataset.itemCount;
  if (!Number.isInteger(dimension) || dimension < 1 || dimension > itemCount) {
    throw new GenrecError('INVALID_OPTION', `dimension must be an integer in 1..${itemCount}, got ${dimension}`, { details: { field: 'dimension' } });
  }
  // Pair counts per row item (items are 1-based; row i-1 of the matrix is item i).
  const pairs: Map<number, number>[] = Array.from({ length: itemCount }, () => new Map());
  const { offsets, items } = dataset;
  for (let row = 0; row < dataset.userCount; row++) {
    const start = offsets[row]!;
    const end = options.trainingEnd ? Math.min(offsets[row + 1]!, start + options.trainingEnd[row]!) : offsets[row + 1]!;
    for (let p = start; p < end; p++) {
      const a = items[p]!;
      if (a < 1 || a > itemCount) throw new GenrecError('INVALID_INPUT', `user row ${row} has item ${a}, outside 1..${itemCount}`);
      for (let q = p + 1; q < Math.min(end, p + window + 1); q++) {
        const b = items[q]!;
        if (b === a || b < 1 || b > itemCount) continue;
        const ma = pairs[a - 1]!;
        const mb = pairs[b - 1]!;
        ma.set(b - 1, (ma.get(b - 1) ?? 0) + 1);
        mb.set(a - 1, (mb.get(a - 1) ?? 0) + 1);
      }
    }
  }
  const marginal = new Float64Array(itemCount);
  let total = 0;
  pairs.forEach((map, i) => {
    for (const count of map.values()) marginal[i] = marginal[i]! + count;
    total += marginal[i]!;
  });
  if (total === 0) throw new GenrecError('INVALID_INPUT', `no two items co-occur within a window of ${window}`);
  const indptr = new Int32Array(itemCount + 1);
  const indices: number[] = [];
  const values: number[] = [];
  pairs.forEach((map, i) => {
    for (const [j, count] of [...map.entries()].sort((x, y) => x[0] - y[0])) {
      const pmi = Math.log((count * total) / (marginal[i]! * marginal[j]!));
      if (pmi > 0) {
        indices.push(j);
        values.push(pmi);
      }
    }
    indptr[i + 1] = indices.length;
  });
  const svd = randomizedSvd(
    { rows: itemCount, cols: itemCount, indptr, indices: Int32Array.from(indices), values: Float64Array.from(values) },
    { rank: dimension, powerIterations: options.powerIterations ?? 5, seed: options.seed ?? 0 },
  );
  const vectors = createMatrix(itemCount, dimension);
  for (let r = 0; r < itemCount; r++) {
    for (let c = 0; c < dimension; c++) vectors.data[r * dimension + c] = svd.u[r * dimension + c]! * Math.sqrt(svd.singularValues[c]!);
  }
  if (options.normalize ?? true) normalizeRows(vectors);
  return { itemIds: Int32Array.from({ length: itemCount }, (_, i) => i + 1), vectors };
}
