/**
 * Benchmark of the baselines on a sequence file or the synthetic default: leave-one-out split
 * (histories cut to the 50 most recent items, as the SASRec peer), full ranking over the catalogue,
 * Recall@10 / NDCG@10 with the history excluded and not, fit wall time, recommend throughput and
 * the process's peak RSS. One model per process, so the peak RSS is that model's.
 *
 *   npx tsx --conditions=@genrec/source bench/baselines.ts <toys|sports|synthetic> <popularity|markov|item-knn> ['{"option":value}'] [validation|test]
 *
 * The fourth argument picks the evaluated users (default test). Hyper-parameters are chosen on
 * `validation` (the training part of the split is the same), never on test.
 *
 * Baselines are deterministic: the seed changes nothing, so one run stands for every seed.
 */
import { GenrecError, sharedPath, type Recommender } from '@genrec/core';
import { generateSyntheticDataset, leaveOneOutSplit, readSequenceFile, type InteractionDataset } from '@genrec/data';
import { fitItemKnn, fitMarkov, fitPopularity } from '../src/index.js';

const [datasetName = 'synthetic', modelName = 'markov', optionsJson = '{}', evaluatedPart = 'test'] = process.argv.slice(2);
if (evaluatedPart !== 'test' && evaluatedPart !== 'validation') throw new GenrecError('INVALID_OPTION', `the evaluated part must be test or validation, got ${evaluatedPart}`);

async function readDataset(name: string): Promise<InteractionDataset> {
  if (name === 'synthetic') return generateSyntheticDataset().dataset;
  const file = name === 'toys' ? sharedPath('data', 'amazon2014-toys', 'Toys_and_Games.txt') : name === 'sports' ? sharedPath('data', 'amazon2014-sports', 'Sports_and_Outdoors.txt') : undefined;
  if (file === undefined) throw new GenrecError('NOT_FOUND', `no data for "${name}" (toys and sports need ../shared/data; set GENREC_SHARED_DIR)`);
  return readSequenceFile(file);
}

const dataset = await readDataset(datasetName);
const split = leaveOneOutSplit(dataset, { maxHistoryLength: 50 });
const options = JSON.parse(optionsJson) as Record<string, unknown>;
const fits: Record<string, () => Promise<Recommender>> = {
  popularity: () => fitPopularity(split, options),
  markov: () => fitMarkov(split, options),
  'item-knn': () => fitItemKnn(split, options),
};
const fit = fits[modelName];
if (fit === undefined) throw new GenrecError('INVALID_OPTION', `model must be one of ${Object.keys(fits).join(', ')}`);

const fitStart = performance.now();
const model = await fit();
const fitMs = performance.now() - fitStart;

const test = evaluatedPart === 'validation' ? split.validation : split.test;
const k = 10;
const batch = 1024;
const results: Record<string, { recall: number; ndcg: number; usersPerSecond: number }> = {};
for (const excludeHistory of [true, false]) {
  let hits = 0;
  let gain = 0;
  const start = performance.now();
  for (let from = 0; from < test.size; from += batch) {
    const to = Math.min(test.size, from + batch);
    const base = test.historyOffsets[from]!;
    const offsets = test.historyOffsets.slice(from, to + 1).map((offset) => offset - base);
    const items = test.historyItems.subarray(base, test.historyOffsets[to]!);
    const recommendations = await model.recommend({ offsets, items }, { k, excludeHistory });
    for (let u = from; u < to; u++) {
      const target = test.targetItems[u]!;
      for (let rank = 0; rank < k; rank++) {
        if (recommendations.items[(u - from) * k + rank] === target) {
          hits++;
          gain += 1 / Math.log2(rank + 2);
          break;
        }
      }
    }
  }
  const seconds = (performance.now() - start) / 1000;
  results[excludeHistory ? 'history excluded' : 'history kept'] = { recall: hits / test.size, ndcg: gain / test.size, usersPerSecond: test.size / seconds };
}
const peakRssMiB = process.resourceUsage().maxRSS / 1024;
console.log(
  JSON.stringify({
    dataset: datasetName,
    evaluated: evaluatedPart,
    model: modelName,
    hyperParameters: model.describe().hyperParameters,
    users: test.size,
    items: dataset.itemCount,
    fitSeconds: Number((fitMs / 1000).toFixed(3)),
    peakRssMiB: Number(peakRssMiB.toFixed(0)),
    ...Object.fromEntries(
      Object.entries(results).map(([protocol, r]) => [protocol, { 'recall@10': Number(r.recall.toFixed(4)), 'ndcg@10': Number(r.ndcg.toFixed(4)), usersPerSecond: Math.round(r.usersPerSecond) }]),
    ),
  }),
);
