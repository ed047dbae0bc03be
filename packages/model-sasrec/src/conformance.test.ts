import { describeRecommenderConformance } from '@genrec/model-baselines/testing';
import { fitSasrec } from './fit-sasrec.js';
import { loadSasrec } from './load-sasrec.js';
import type { SasrecOptions } from './options.js';

/**
 * The cheap configuration of the conformance suite (README "Conformance"): each loss reaches 3x
 * popularity's HitRate@10 on the synthetic default within 3 epochs (measured: 'ce' 5.2x, 'bce'
 * 3.4x with its learning rate of 0.01, 'sampled-softmax' 3.7x with its default row-sparse embedding, 3.9x dense).
 */
const CONFORMANCE: SasrecOptions = { hiddenSize: 32, blocks: 1, maxLength: 20, dropout: 0.1, learningRate: 0.005, batchSize: 128, positionBucket: 256, negatives: 64, threads: 1 };

for (const loss of ['ce', 'bce', 'sampled-softmax'] as const) {
  const learningRate = loss === 'bce' ? 0.01 : 0.005;
  describeRecommenderConformance({
    name: `SASRec (loss '${loss}')`,
    fit: (data, { hyperParameters, ...options }) => fitSasrec(data, { ...CONFORMANCE, loss, learningRate, ...options, ...hyperParameters }),
    load: (directory) => loadSasrec(directory),
    supports: { training: true },
    epochBudget: 3,
    invalidOptions: [{ hiddenSize: Number.NaN }, { dropout: Number.NaN }, { learningRate: Number.NaN }, { loss: 'softmax' }, { heads: 3 }],
    emptyHistoryFallback: 'popularity',
    // recommend's scores come from onnxruntime's Gemm, score()'s from a float64 dot product of the
    // same float32 vectors: they differ by float32 rounding (logits of magnitude ~10)
    scoreTolerance: 1e-4,
  });
}
