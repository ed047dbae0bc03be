import { datasetFingerprint, type FitData, type Matrix } from '@genrec/core';
import { describeRecommenderConformance, qualityData, smallData } from '@genrec/model-baselines/testing';
import { fitSasrec } from '@genrec/model-sasrec';
import { fitSetrec, loadSetrec, type FitSetrecOptions } from './index.js';

/** One cheap SASRec per training set: its item embeddings are the frozen CF vectors. */
const cfCache = new Map<string, Promise<Matrix>>();
function cfVectorsFor(data: FitData): Promise<Matrix> {
  const key = datasetFingerprint(data.train);
  let pending = cfCache.get(key);
  if (!pending) {
    pending = (async () => {
      const sasrec = await fitSasrec({ train: data.train }, { hiddenSize: 16, blocks: 1, maxLength: 10, dropout: 0.1, learningRate: 0.005, batchSize: 128, epochs: 3, threads: 1, seed: 1 });
      const vectors = sasrec.itemEmbeddings();
      await sasrec.dispose();
      return vectors;
    })();
    cfCache.set(key, pending);
  }
  return pending;
}

/** The cheap configuration of every conformance fit. */
export const CHEAP: FitSetrecOptions = {
  hiddenSize: 16,
  autoencoderHidden: [64, 64],
  layers: 1,
  decoderLayers: 1,
  heads: 1,
  maxLength: 10,
  lengthBuckets: [10],
  dropout: 0.1,
  batchPositions: 640,
  learningRate: 0.005,
  contentDimension: 32,
  inferenceBatchSize: 64,
  threads: 1,
  // the quality case validates on a sample (the suite's early-stopping case sets its own rule)
  earlyStopping: { sampleUsers: 500 },
};

describeRecommenderConformance({
  name: 'SETRec (query decoder, continuous)',
  fit: async (data, options) => {
    const { hyperParameters, ...common } = options;
    // SETRec needs item content: a case that fits on `{ train }` alone gets its data set's catalogue
    const catalog = data.catalog ?? [smallData(), qualityData()].find((known) => known.split.train.itemCount === data.train.itemCount)!.catalog;
    return fitSetrec({ ...data, catalog }, { ...CHEAP, ...common, cfVectors: await cfVectorsFor(data), ...hyperParameters });
  },
  load: loadSetrec,
  supports: { training: true },
  epochBudget: 2,
  emptyHistoryFallback: 'popularity',
  scoreTolerance: 1e-4,
  invalidOptions: [{ alpha: Number.NaN }, { beta: 1.5 }, { semanticTokens: 0 }, { backbone: 'lstm' }, { autoencoderHidden: [64, 60] }],
});
