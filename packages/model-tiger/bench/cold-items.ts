/**
 * New items without retraining: `@genrec/data`'s `coldItemSplit` (share 0.1, seed 0: a seeded
 * 10% of the items removed from every training sequence), TIGER fitted on the rest
 * (`indexItems: 'trained'`: cold items get no id at fit time), then the cold items inserted with
 * `addItems` (their text vectors: TF-IDF + SVD of the titles, fitted on the whole catalogue) and
 * Recall@10 / NDCG@10 measured on the test users whose target is cold (`testCold`) and on the
 * others (`testWarm`), history excluded, through `evaluateRecommender`. The baseline is
 * cold-item popularity as `@genrec/data`'s bench/cold-items.ts defines it: cold items ranked by how
 * often they occur in the test histories (the only interactions with them observable at
 * recommendation time), the user's history excluded, ties to the lower id; the model is measured
 * on the whole catalogue and, like the baseline, among the cold items only (warm items retired
 * for that measurement).
 *
 *   flock /tmp/genrec-bench.lock npx tsx --conditions=@genrec/source bench/cold-items.ts [--data synthetic|toys] [--config '{...}'] [--budget-min 15]
 */
import { loadavg } from 'node:os';
import { sharedPath, type EvaluationSet, type ItemCatalog } from '@genrec/core';
import { coldItemSplit, generateSyntheticDataset, readItemCatalog, readSequenceFile, type ColdItemSplit, type InteractionDataset } from '@genrec/data';
import { evaluateRecommender } from '@genrec/eval';
import { fitTiger, type FitTigerOptions } from '../src/index.js';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const log = (line: string): void => void process.stderr.write(`${line}\n`);
const which = option('data', 'synthetic');
const extra = JSON.parse(option('config', '{}')) as FitTigerOptions;
const budgetMinutes = Number(option('budget-min', '15'));

let dataset: InteractionDataset;
let catalog: ItemCatalog;
if (which === 'toys') {
  const sequences = sharedPath('data', 'amazon2014-toys', 'Toys_and_Games.txt');
  const items = sharedPath('data', 'amazon2014-toys', 'items.jsonl');
  if (!sequences || !items) {
    log('skipped: ../shared/data has no amazon2014-toys');
    process.exit(0);
  }
  dataset = await readSequenceFile(sequences);
  catalog = await readItemCatalog(items);
} else {
  const synthetic = generateSyntheticDataset();
  dataset = synthetic.dataset;
  catalog = synthetic.catalog;
}
const split = coldItemSplit(dataset, { share: 0.1, seed: 0 });

/** Recall@k on `set` of the cold items ranked by their count in the test histories (history excluded). */
function coldPopularity(s: ColdItemSplit, set: EvaluationSet, k: number): number {
  const counts = new Float64Array(s.train.itemCount + 1);
  for (const item of s.test.historyItems) if (s.isCold[item]) counts[item]!++;
  const ranked = Array.from(s.coldItems).sort((a, b) => counts[b]! - counts[a]! || a - b);
  let hits = 0;
  for (let u = 0; u < set.size; u++) {
    const history = new Set(set.historyItems.subarray(set.historyOffsets[u]!, set.historyOffsets[u + 1]!));
    const top: number[] = [];
    for (const item of ranked) {
      if (top.length === k) break;
      if (!history.has(item)) top.push(item);
    }
    if (top.includes(set.targetItems[set.targetOffsets[u]!]!)) hits++;
  }
  return hits / set.size;
}

const controller = new AbortController();
const timer = setTimeout(() => controller.abort(), budgetMinutes * 60_000);
const started = performance.now();
const model = await fitTiger({ train: split.train, validation: split.validationWarm, catalog }, {
  itemVectors: 'text',
  indexItems: 'trained',
  seed: 42,
  threads: 2,
  earlyStopping: { sampleUsers: 2000, patience: 3 },
  signal: controller.signal,
  ...extra,
  onProgress: (event) => {
    if (event.type === 'epoch-end') log(`epoch ${event.epoch} loss ${event.loss.toFixed(4)} val ${JSON.stringify(event.validation ?? {})} (${((performance.now() - started) / 1000).toFixed(0)} s, load ${loadavg()[0]!.toFixed(1)})`);
  },
});
clearTimeout(timer);
const fitSeconds = (performance.now() - started) / 1000;
const metrics = async (set: EvaluationSet): Promise<Record<string, number>> => {
  const result = await evaluateRecommender(model, set, { ks: [10], keepPerUser: false });
  return { 'recall@10': +result.metrics['recall@10']!.toFixed(4), 'ndcg@10': +result.metrics['ndcg@10']!.toFixed(4) };
};
const before = { cold: await metrics(split.testCold), warm: await metrics(split.testWarm) };
await model.addItems(split.coldItems);
const after = { cold: await metrics(split.testCold), warm: await metrics(split.testWarm) };
// ranked among the cold items only, as the baseline is: the warm items retired for the measurement
const warm = Array.from({ length: model.itemCount }, (_, j) => j + 1).filter((id) => !split.isCold[id]);
model.retireItems(warm);
const coldOnly = await metrics(split.testCold);
model.restoreItems(warm);
const baseline = coldPopularity(split, split.testCold, 10);
log(`cold R@10 before ${before.cold['recall@10']} after ${after.cold['recall@10']}, among cold items only ${coldOnly['recall@10']} (cold popularity ${baseline.toFixed(4)}); warm R@10 before ${before.warm['recall@10']} after ${after.warm['recall@10']}`);
console.log(
  JSON.stringify({
    data: which,
    cold_items: split.coldItems.length,
    test_cold_users: split.testCold.size,
    test_warm_users: split.testWarm.size,
    config: model.describe().hyperParameters,
    kept_epoch: model.training.epoch,
    fit_wall_s: +fitSeconds.toFixed(1),
    before_adding: before,
    after_adding: after,
    cold_users_ranked_among_cold_items: coldOnly,
    cold_popularity_recall_at_10: +baseline.toFixed(4),
    load: loadavg()[0]!.toFixed(1),
  }),
);
await model.dispose();
