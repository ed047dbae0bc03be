/**
 * Shared helpers of this package's tests (not exported): small synthetic data with content, cheap
 * configurations, CF vectors from a cheap SASRec, and naive float64 references of the model's math.
 *
 * @module
 */
import { createMatrix, datasetFingerprint, type FitData, type Matrix, type SequenceDataset } from '@genrec/core';
import { generateSyntheticDataset, leaveOneOutSplit, type DatasetSplit, type SyntheticDataset } from '@genrec/data';
import { fitSasrec } from '@genrec/model-sasrec';
import type { FitSetrecOptions } from './options.js';

/** A small synthetic data set with titles and categories (300 users, 120 items). */
export function smallSynthetic(): SyntheticDataset {
  return generateSyntheticDataset({ seed: 7, userCount: 300, itemCount: 120, topicCount: 4, subtopicsPerTopic: 3 });
}

/** Its leave-one-out split (histories cut to 50) and `fitData`. */
export function smallSplit(): { split: DatasetSplit; fitData: FitData; synthetic: SyntheticDataset } {
  const synthetic = smallSynthetic();
  const split = leaveOneOutSplit(synthetic.dataset, { maxHistoryLength: 50 });
  return { split, synthetic, fitData: { train: split.train, validation: split.validation, catalog: synthetic.catalog } };
}

/** The cheap configuration of the unit tests. */
export const CHEAP: FitSetrecOptions = {
  hiddenSize: 8,
  autoencoderHidden: [32, 32],
  layers: 1,
  decoderLayers: 1,
  heads: 1,
  maxLength: 8,
  lengthBuckets: [8],
  dropout: 0.1,
  batchPositions: 512,
  learningRate: 0.01,
  contentDimension: 16,
  inferenceBatchSize: 32,
  threads: 1,
  epochs: 2,
  seed: 3,
};

const cfCache = new Map<string, Promise<Matrix>>();

/** Item embeddings of a cheap SASRec on `train` (cached per training set). */
export function cheapCfVectors(train: SequenceDataset): Promise<Matrix> {
  const key = datasetFingerprint(train);
  let pending = cfCache.get(key);
  if (!pending) {
    pending = (async () => {
      const sasrec = await fitSasrec({ train }, { hiddenSize: 8, blocks: 1, maxLength: 8, dropout: 0.1, learningRate: 0.01, batchSize: 128, epochs: 2, threads: 1, seed: 1 });
      const vectors = sasrec.itemEmbeddings();
      await sasrec.dispose();
      return vectors;
    })();
    cfCache.set(key, pending);
  }
  return pending;
}

/** log-sum-exp of a float64 row. */
export function logSumExp(row: ArrayLike<number>): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < row.length; i++) max = Math.max(max, row[i]!);
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i]! - max);
  return max + Math.log(sum);
}

/**
 * Naive float64 scores of every item for one user: `Σ_s w_s (<q_s, v_s(i)> − log Σ_j exp <q_s, v_s(j)>)`.
 *
 * @param queries - the user's `(n+1)·d` query vector
 * @param tokens - `itemCount x (n+1)·d` item tokens
 */
export function naiveScores(queries: ArrayLike<number>, tokens: Matrix, weights: ArrayLike<number>, d: number): Float64Array {
  const slots = weights.length;
  const n = tokens.rows;
  const out = new Float64Array(n);
  for (let s = 0; s < slots; s++) {
    const logits = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let c = 0; c < d; c++) sum += queries[s * d + c]! * tokens.data[i * tokens.cols + s * d + c]!;
      logits[i] = sum;
    }
    const normalizer = logSumExp(logits);
    for (let i = 0; i < n; i++) out[i] = out[i]! + weights[s]! * (logits[i]! - normalizer);
  }
  return out;
}

/** `x W^T + b` in float64 for one row (`W` `[out, in]`). */
export function naiveDense(x: ArrayLike<number>, weight: Float32Array, bias: Float32Array): Float64Array {
  const out = new Float64Array(bias.length);
  const inFeatures = x.length;
  for (let o = 0; o < bias.length; o++) {
    let sum = bias[o]!;
    for (let i = 0; i < inFeatures; i++) sum += weight[o * inFeatures + i]! * x[i]!;
    out[o] = sum;
  }
  return out;
}

/** Top `k` ids (1-based) of float64 scores, excluding `excluded`, ties to the lower id. */
export function naiveTopK(scores: ArrayLike<number>, k: number, excluded: ReadonlySet<number>): number[] {
  const ids = Array.from({ length: scores.length }, (_, j) => j + 1).filter((id) => !excluded.has(id));
  ids.sort((a, b) => scores[b - 1]! - scores[a - 1]! || a - b);
  return ids.slice(0, k);
}

/** Rows `from .. to - 1` of a matrix. */
export function rowsOf(matrix: Matrix, from: number, to: number): Matrix {
  return createMatrix(to - from, matrix.cols, matrix.data.slice(from * matrix.cols, to * matrix.cols));
}
