/**
 * Shared helpers of this package's tests (not exported): a tiny deterministic recommender and the
 * cheap SASRec configuration.
 *
 * @module
 */
import { toHistoryBatch, type Histories, type Recommendations, type RecommendOptions, type Recommender } from '@genrec/core';

/**
 * A recommender that ranks items by a fixed score per item (`scores[id]`, ties to the lower id) and
 * excludes the history: enough to check pair building by hand.
 */
export function fixedScoreRecommender(scores: readonly number[]): Recommender & { recommendCalls: number } {
  const itemCount = scores.length - 1;
  const order = Array.from({ length: itemCount }, (_, j) => j + 1).sort((a, b) => scores[b]! - scores[a]! || a - b);
  return {
    kind: 'fixed',
    itemCount,
    maxK: itemCount,
    scoreScale: 'logit',
    retiredItems: new Int32Array(0),
    recommendCalls: 0,
    async recommend(histories: Histories, options: RecommendOptions): Promise<Recommendations> {
      this.recommendCalls++;
      const batch = toHistoryBatch(histories, itemCount);
      const size = batch.offsets.length - 1;
      const items = new Int32Array(size * options.k);
      const out = new Float32Array(size * options.k).fill(-Infinity);
      const lengths = new Int32Array(size);
      for (let u = 0; u < size; u++) {
        const seen = new Set(batch.items.subarray(batch.offsets[u]!, batch.offsets[u + 1]!));
        for (const item of order) {
          if (lengths[u] === options.k) break;
          if (options.excludeHistory !== false && seen.has(item)) continue;
          items[u * options.k + lengths[u]!] = item;
          out[u * options.k + lengths[u]!] = scores[item]!;
          lengths[u]!++;
        }
      }
      return { size, k: options.k, items, scores: out, lengths };
    },
    async score(histories: Histories, candidates: Histories): Promise<Float32Array> {
      const batch = toHistoryBatch(candidates, itemCount);
      void histories;
      return Float32Array.from(batch.items, (item) => scores[item]!);
    },
    retireItems() {},
    restoreItems() {},
    describe: () => ({ kind: 'fixed', package: { name: 'test', version: '0' }, hyperParameters: {}, itemCount, dataFingerprint: '' }),
    async save() {},
    async dispose() {},
  };
}

/** A cheap SASRec configuration (with dropout, which alignment switches off by default). */
export const CHEAP_SASREC = {
  hiddenSize: 16,
  blocks: 1,
  maxLength: 12,
  dropout: 0.1,
  learningRate: 0.01,
  batchSize: 128,
  epochs: 3,
  threads: 1,
  positionBucket: 128,
  inferenceBatchSize: 128,
  seed: 3,
  earlyStopping: false,
} as const;

/**
 * A cheap decoder-only TIGER (collaborative vectors of 16 dimensions, 3 levels x 16 codes, 2
 * layers of width 32, no dropout, history of 10, seed 3) — the TIGER tests' model; `extra`
 * overrides (e.g. `itemTokens`, `epochs`, `beamWidth`).
 */
export const CHEAP_TIGER = {
  itemVectors: 'collaborative',
  vectorDimension: 16,
  levels: 3,
  codebookSize: 16,
  modelDimension: 32,
  heads: 2,
  feedForwardDimension: 64,
  layers: 2,
  maxHistory: 10,
  dropout: 0,
  batchSize: 64,
  learningRate: 0.005,
  warmupSteps: 20,
  schedule: 'constant',
  workers: 0,
  threads: 1,
  earlyStopping: false,
  seed: 3,
} as const;
