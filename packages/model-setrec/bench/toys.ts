/**
 * SETRec on Amazon 2014 Toys (or Sports) under the `sasrec_ce` peer's protocol: leave-one-out, full
 * ranking over the whole catalogue, every test user, whole history excluded, through
 * `@genrec/eval`'s `evaluateRecommender`. The CF vectors come from a SASRec trained apart by
 * `bench/pretrain-sasrec.ts` (its folder: `--sasrec`), so `train_wall_s` is SETRec's alone.
 *
 * Prints one progress line per epoch on stderr and one JSON line on stdout: continuous SETRec
 * (test Recall/NDCG@10 and @20, training wall time, β and its validation search), inference
 * throughput in one window (SETRec exact, SETRec through HNSW with its recall@10 against exact,
 * SASRec's full ranking), discrete SETRec (PQ/OPQ codes: the same metrics, table memory,
 * throughput), and the peak RSS.
 *
 *   flock /tmp/genrec-bench.lock npx tsx --conditions=@genrec/source bench/toys.ts --data toys --seed 42 --sasrec /tmp/genrec-setrec-bench/sasrec-toys-42 [--options '{"backbone":"causal"}'] [--threads 2] [--stages continuous,throughput,discrete]
 *
 * `--rotations opq,none` chooses the discrete stage's code rotations. `--save FOLDER` keeps the continuous model. Training stops after `--budget-min` minutes (default 20; the best epoch so far is kept).
 * `--smoke`: a 1-minute budget and 2,000 test users (a check that the pipeline runs).
 */
import { HnswIndex, recallAtK } from '@genrec/ann';
import type { EvaluationSet, Recommender } from '@genrec/core';
import { evaluateRecommender } from '@genrec/eval';
import { loadSasrec } from '@genrec/model-sasrec';
import { discretizeSetrec, fitSetrec, loadSetrec, type FitSetrecOptions, type SetrecModel } from '../src/index.js';
import { log, option, peakRssMiB, peerSplit, readBenchData } from './data.js';

const name = option('data', 'toys');
const seed = Number(option('seed', '42'));
const threads = Number(option('threads', '2'));
const sasrecFolder = option('sasrec', `/tmp/genrec-setrec-bench/sasrec-${name}-${seed}`);
const extra = JSON.parse(option('options', '{}')) as FitSetrecOptions;
const stages = new Set(option('stages', 'continuous,throughput,discrete').split(','));
const smoke = process.argv.includes('--smoke');

const data = await readBenchData(name);
const split = peerSplit(data);
const test: EvaluationSet = smoke ? firstUsers(split.test, 2000) : split.test;
log(`${name}: users ${data.dataset.userCount}, items ${data.dataset.itemCount}, test users ${test.size}`);
const sasrec = await loadSasrec(sasrecFolder, { threads });
const report: Record<string, unknown> = { data: name, seed, threads, smoke, sasrec_folder: sasrecFolder };

function firstUsers(set: EvaluationSet, count: number): EvaluationSet {
  const size = Math.min(count, set.size);
  return {
    size,
    rows: set.rows.slice(0, size),
    userIds: set.userIds.slice(0, size),
    historyOffsets: set.historyOffsets.slice(0, size + 1),
    historyItems: set.historyItems.slice(0, set.historyOffsets[size]!),
    targetOffsets: set.targetOffsets.slice(0, size + 1),
    targetItems: set.targetItems.slice(0, set.targetOffsets[size]!),
  };
}

async function testMetrics(model: Recommender): Promise<Record<string, number>> {
  const started = performance.now();
  const result = await evaluateRecommender(model, test, { ks: [10, 20], keepPerUser: false });
  const seconds = (performance.now() - started) / 1000;
  return { ...Object.fromEntries(['recall@10', 'ndcg@10', 'recall@20', 'ndcg@20'].map((m) => [m, +result.metrics[m]!.toFixed(4)])), eval_s: +seconds.toFixed(1) };
}

/** Users per second of `recommend(k = 10)` over the test users, batches of 256, and the lists. */
async function throughput(model: Recommender): Promise<{ usersPerSecond: number; lists: Int32Array }> {
  const lists = new Int32Array(test.size * 10);
  const started = performance.now();
  for (let from = 0; from < test.size; from += 256) {
    const to = Math.min(test.size, from + 256);
    const base = test.historyOffsets[from]!;
    const offsets = test.historyOffsets.slice(from, to + 1).map((o) => o - base);
    const result = await model.recommend({ offsets, items: test.historyItems.subarray(base, test.historyOffsets[to]!) }, { k: 10 });
    lists.set(result.items, from * 10);
  }
  return { usersPerSecond: Math.round(test.size / ((performance.now() - started) / 1000)), lists };
}

/** Recall@10 of the approximate lists against the exact ones (ann's `recallAtK`; the lists' 0 padding as its -1). */
function recallAgainst(approximate: Int32Array, exact: Int32Array): number {
  const padded = (lists: Int32Array) => Int32Array.from(lists, (id) => (id === 0 ? -1 : id));
  return recallAtK(padded(approximate), padded(exact), exact.length / 10, 10);
}

const fitStarted = performance.now();
const controller = new AbortController();
// the training budget: 20 minutes of wall time (the best epoch so far is kept when it runs out)
const budgetMinutes = Number(option('budget-min', smoke ? '1' : '20'));
setTimeout(() => controller.abort(), budgetMinutes * 60_000).unref();
const options: FitSetrecOptions = {
  seed,
  threads,
  sasrec,
  contentFields: data.contentFields,
  signal: controller.signal,
  onProgress: (event) => {
    if (event.type === 'epoch-end') {
      const v = event.validation ?? {};
      log(
        `epoch ${event.epoch}/${event.epochs} loss ${event.loss.toFixed(4)} val NDCG@10 ${v['ndcg@10']?.toFixed(4)} R@10 ${v['recall@10']?.toFixed(4)} β ${v.beta} lr ${event.learningRate?.toPrecision(3)}` +
          ` (${(event.elapsedMs / 1000).toFixed(0)} s, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB)${event.best ? ' best' : ''}`,
      );
    } else if (event.type === 'task-end') log(`${event.task}: ${(event.elapsedMs / 1000).toFixed(1)} s`);
  },
  ...extra,
};
// `--model FOLDER`: a model saved by an earlier run (its training is reported from its summary)
const savedModel = option('model', '');
const model = savedModel !== '' ? await loadSetrec(savedModel, { threads }) : await fitSetrec({ train: split.train, validation: split.validation, catalog: data.catalog }, options);
const trainSeconds = savedModel !== '' ? Number.NaN : (performance.now() - fitStarted) / 1000;
if (savedModel !== '') report.loaded_model = savedModel;
const { onProgress: _p, signal: _s, sasrec: _m, ...recorded } = options;
report.config = { ...model.describe().hyperParameters, ...recorded };
report.continuous = {
  train_wall_s: +trainSeconds.toFixed(1),
  budget_min: budgetMinutes,
  epochs_trained: model.training.epochsTrained,
  kept_epoch: model.training.epoch,
  stopped_by: model.training.stoppedBy,
  beta: model.beta,
  beta_search: model.training.betaSearch?.map((e) => [e.beta, +e.value.toFixed(4)]),
  validation: model.training.validation,
  epoch_loss: model.training.losses.map((v) => +v.toFixed(4)),
  test: stages.has('continuous') ? await testMetrics(model) : undefined,
  peak_rss_mib_after_fit: peakRssMiB(),
};
log(`continuous: ${JSON.stringify(report.continuous)}`);
const saveTo = option('save', '');
if (saveTo !== '') await model.save(saveTo);
const width = (model.architecture.semanticTokens + 1) * model.architecture.hiddenSize;
const itemCount = model.itemCount;
report.table_bytes = { continuous: itemCount * width * 4 };

if (stages.has('throughput')) {
  // one window: SASRec, SETRec exact, SETRec through HNSW
  const sasrecRun = await throughput(sasrec);
  const exact = await throughput(model);
  const hnswStarted = performance.now();
  const index = new HnswIndex({ dimension: width, metric: 'ip', m: 16, efConstruction: 200, ef: 128, seed: 1 });
  await model.useIndex(index);
  const buildSeconds = (performance.now() - hnswStarted) / 1000;
  const hnsw = await throughput(model);
  const hnswTest = stages.has('continuous') ? await testMetrics(model) : undefined;
  await model.useIndex(undefined);
  report.throughput = {
    users: test.size,
    sasrec_full_ranking_users_per_s: sasrecRun.usersPerSecond,
    setrec_exact_users_per_s: exact.usersPerSecond,
    setrec_hnsw_users_per_s: hnsw.usersPerSecond,
    hnsw: { m: 16, efConstruction: 200, ef: 128, build_s: +buildSeconds.toFixed(1), recall_at_10_vs_exact: +recallAgainst(hnsw.lists, exact.lists).toFixed(4), test: hnswTest },
  };
  log(`throughput: ${JSON.stringify(report.throughput)}`);
}

if (stages.has('discrete')) {
  const discreteOptions = JSON.parse(option('discrete', '{}')) as Record<string, unknown>;
  for (const rotation of option('rotations', 'opq,none').split(',') as ('opq' | 'none')[]) {
    const started = performance.now();
    const discrete: SetrecModel = await discretizeSetrec(model, { codebookSize: 256, rotation, validation: split.validation, train: split.train, ...(smoke ? { sampleUsers: 1000 } : {}), ...discreteOptions });
    const seconds = (performance.now() - started) / 1000;
    const run = await throughput(discrete);
    const slots = model.architecture.semanticTokens + 1;
    report[`discrete_${rotation}`] = {
      quantise_s: +seconds.toFixed(1),
      beta: discrete.beta,
      beta_search: discrete.training.betaSearch?.map((e) => [e.beta, +e.value.toFixed(4)]),
      validation: discrete.training.validation,
      test: await testMetrics(discrete),
      users_per_s: run.usersPerSecond,
      code_training: discrete.training.codeTraining,
      table_bytes: (() => {
        const sizes = discrete.describe().codebookSizes as number[];
        const codeBytes = sizes.every((size) => size <= 256) ? 1 : 2;
        return itemCount * slots * codeBytes + sizes.reduce((sum, size) => sum + size * model.architecture.hiddenSize * 4, 0) + (rotation === 'opq' ? (width - model.architecture.hiddenSize) ** 2 * 4 : 0);
      })(),
    };
    log(`discrete ${rotation}: ${JSON.stringify(report[`discrete_${rotation}`])}`);
    await discrete.dispose();
  }
}
let parameters = 0;
for (const value of model.parameterValues().values()) parameters += value.length;
report.model_parameters = parameters;
report.peak_rss_mib = peakRssMiB();
await model.dispose();
await sasrec.dispose();
console.log(JSON.stringify(report));
