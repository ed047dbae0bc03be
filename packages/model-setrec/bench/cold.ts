/**
 * SETRec on new items: `@genrec/data`'s `coldItemSplit` of Toys (10% of the items are cold: no
 * training interaction, content only; cold items stay in evaluation histories), SASRec pre-trained
 * on the cold split's training part (recorded apart), SETRec fitted with validation, then
 * Recall/NDCG@10 through `evaluateRecommender` (history excluded) on the test users whose target is
 * warm and on those whose target is cold — over the whole catalogue, and restricted to the warm or
 * cold items as SETRec's own evaluation does — beside SASRec and two popularity rankings restricted
 * to the cold items: by training count (every cold item has 0, so ties go to the lowest ids) and by
 * the count in the test histories (what a service has observed of the new items before the request).
 *
 *   flock /tmp/genrec-bench.lock npx tsx --conditions=@genrec/source bench/cold.ts --seed 42 [--cold-cf imputed|zero] [--options '{...}']
 */
import { GenrecError, batchSize, emptyRecommendations, toHistoryBatch, type EvaluationSet, type Histories, type RecommendOptions, type Recommender } from '@genrec/core';
import { coldItemSplit } from '@genrec/data';
import { evaluateRecommender } from '@genrec/eval';
import { fitSasrec } from '@genrec/model-sasrec';
import { fitSetrec, type ColdCfToken, type FitSetrecOptions } from '../src/index.js';
import { log, option, peakRssMiB, readBenchData } from './data.js';

const seed = Number(option('seed', '42'));
const threads = Number(option('threads', '2'));
const sasrecEpochs = Number(option('sasrec-epochs', '20'));
const coldCf = option('cold-cf', 'imputed') as ColdCfToken;
const extra = JSON.parse(option('options', '{}')) as FitSetrecOptions;
const data = await readBenchData(option('data', 'toys'));
const split = coldItemSplit(data.dataset, { share: 0.1, seed });
log(`cold split: ${split.coldItems.length} cold items, test warm ${split.testWarm.size}, test cold ${split.testCold.size}; ${JSON.stringify(split.report)}`);

/** The model with every item outside `allowed` filtered out (SETRec's warm / cold evaluation). */
function restricted(model: Recommender, allowed: (id: number) => boolean, kind: string): Recommender {
  return new Proxy(model, {
    get(target, property, receiver) {
      if (property === 'kind') return kind;
      if (property === 'recommend') return (histories: Histories, options: RecommendOptions) => target.recommend(histories, { ...options, filter: (id, u) => allowed(id) && (options.filter?.(id, u) ?? true) });
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** A fixed ranking (ties to the lower id), history excluded: a minimal `Recommender` for the baselines. */
function rankingRecommender(kind: string, scores: Float64Array, itemCount: number): Recommender {
  const order = Array.from({ length: itemCount }, (_, j) => j + 1).sort((a, b) => scores[b]! - scores[a]! || a - b);
  return {
    kind,
    itemCount,
    maxK: itemCount,
    scoreScale: 'count',
    retiredItems: new Int32Array(0),
    async recommend(histories, options) {
      const batch = toHistoryBatch(histories, itemCount);
      const users = batchSize(batch);
      const out = emptyRecommendations(users, options.k);
      for (let u = 0; u < users; u++) {
        const seen = new Set(batch.items.subarray(batch.offsets[u]!, batch.offsets[u + 1]!));
        let length = 0;
        for (const id of order) {
          if (length === options.k) break;
          if ((options.excludeHistory !== false && seen.has(id)) || (options.filter && !options.filter(id, u))) continue;
          out.items[u * options.k + length] = id;
          out.scores[u * options.k + length] = scores[id]!;
          length++;
        }
        out.lengths[u] = length;
      }
      return out;
    },
    async score() {
      throw new GenrecError('UNSUPPORTED', 'a baseline ranking');
    },
    retireItems() {},
    restoreItems() {},
    describe: () => ({ kind, package: { name: 'bench', version: '0.0.0' }, hyperParameters: {}, itemCount, dataFingerprint: '' }),
    save: async () => undefined,
    dispose: async () => undefined,
  };
}

async function metrics(model: Recommender, set: EvaluationSet): Promise<Record<string, number>> {
  const result = await evaluateRecommender(model, set, { ks: [10], keepPerUser: false });
  return { 'recall@10': +result.metrics['recall@10']!.toFixed(4), 'ndcg@10': +result.metrics['ndcg@10']!.toFixed(4), users: set.size };
}

const isCold = (id: number): boolean => split.isCold[id] === 1;
const isWarm = (id: number): boolean => split.isCold[id] !== 1;
let started = performance.now();
const sasrec = await fitSasrec({ train: split.train }, { epochs: sasrecEpochs, seed, threads, earlyStopping: false, onProgress: (e) => e.type === 'epoch-end' && log(`sasrec epoch ${e.epoch} loss ${e.loss.toFixed(4)}`) });
const sasrecSeconds = (performance.now() - started) / 1000;
started = performance.now();
const model = await fitSetrec(
  { train: split.train, validation: split.validation, catalog: data.catalog },
  {
    seed,
    threads,
    sasrec,
    coldCfToken: coldCf,
    contentFields: data.contentFields,
    onProgress: (e) => e.type === 'epoch-end' && log(`setrec epoch ${e.epoch} loss ${e.loss.toFixed(4)} val ${JSON.stringify(e.validation)} (${(e.elapsedMs / 1000).toFixed(0)} s)`),
    ...extra,
  },
);
const setrecSeconds = (performance.now() - started) / 1000;
const trainCounts = new Float64Array(data.dataset.itemCount + 1);
for (const id of split.train.items) trainCounts[id]!++;
const historyCounts = new Float64Array(data.dataset.itemCount + 1);
for (const id of split.test.historyItems) historyCounts[id]!++;
const popularityByTrain = rankingRecommender('popularity (training counts)', trainCounts, data.dataset.itemCount);
const popularityByHistory = rankingRecommender('popularity (test-history counts)', historyCounts, data.dataset.itemCount);
const report = {
  data: data.name,
  seed,
  cold_cf_token: coldCf,
  cold_items: split.coldItems.length,
  split_report: split.report,
  sasrec_pretraining_s: +sasrecSeconds.toFixed(1),
  setrec_train_wall_s: +setrecSeconds.toFixed(1),
  beta: model.beta,
  validation: model.training.validation,
  setrec: {
    warm_full: await metrics(model, split.testWarm),
    cold_full: await metrics(model, split.testCold),
    warm_restricted_to_warm: await metrics(restricted(model, isWarm, 'setrec (warm items)'), split.testWarm),
    cold_restricted_to_cold: await metrics(restricted(model, isCold, 'setrec (cold items)'), split.testCold),
  },
  sasrec: {
    warm_full: await metrics(sasrec, split.testWarm),
    cold_full: await metrics(sasrec, split.testCold),
    cold_restricted_to_cold: await metrics(restricted(sasrec, isCold, 'sasrec (cold items)'), split.testCold),
  },
  popularity_restricted_to_cold: {
    by_training_count: await metrics(restricted(popularityByTrain, isCold, 'popularity (cold, train)'), split.testCold),
    by_test_history_count: await metrics(restricted(popularityByHistory, isCold, 'popularity (cold, history)'), split.testCold),
  },
  peak_rss_mib: peakRssMiB(),
};
await model.dispose();
await sasrec.dispose();
console.log(JSON.stringify(report));
