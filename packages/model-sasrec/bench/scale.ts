/**
 * SASRec training steps on synthetic catalogues of growing size (12k, 100k, 1M items): step time
 * and peak RSS of full softmax ('ce') and sampled softmax, with dense or row-sparse item
 * embeddings. One configuration per process, so that the peak RSS is that configuration's own.
 *
 *   flock /tmp/genrec-bench.lock npx tsx --conditions=@genrec/source bench/scale.ts --items 1000000 --loss sampled-softmax [--sparse true|false] [--steps 20] [--warmup 3] [--users 20000] [--threads 2] [--seed 1] [--force]
 *
 * Data: `--users` users with Toys-like sequence lengths (5 + a Lomax tail fitted to Toys: 34% of
 * length 5, mean 8.6, capped at 550; the last two items left out as a leave-one-out split would,
 * so a batch scores ~1,400 positions as on Toys) over `--items` items drawn with Zipf(1) popularity. The steps
 * are exactly `fitSasrec`'s (the same batch builder, graph builder and trainer, the peer's
 * settings: d 64, L 50, batch 256, 256 negatives); the first `--warmup` steps (compiling the
 * session, growing its arena) are not timed. Full softmax at a size whose logits alone would take
 * more than half the free memory is refused with the estimate (`--force` runs it anyway).
 *
 * Prints one JSON line: step time (mean / median ms, and the process's median CPU time per step),
 * RSS before the trainer and after creating it (with the item table and Adam's moments resident: the
 * bench writes the zero moments once), peak RSS, the bytes of the item table and its moments, and
 * what the steps added ("step memory": peak − RSS after creating the trainer: the session's arena,
 * the feeds and the copies onnxruntime returns), with the load average.
 */
import { freemem, loadavg } from 'node:os';
import { Rng, WeightedSampler, itemCounts, type SequenceDataset } from '@genrec/core';
import { paddedTrainingSequences } from '@genrec/data';
import { Trainer, optimizers } from '@genrec/nn';
import { trainGraphBuilder } from '../src/fit-sasrec.js';
import { resolveSasrecSpec, type SasrecLoss } from '../src/options.js';
import { architectureOf } from '../src/sasrec-model.js';
import { BatchBuilder, positionBuckets } from '../src/training-batches.js';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const itemCount = Number(option('items', '12000'));
const loss = option('loss', 'sampled-softmax') as SasrecLoss;
const sparseOption = option('sparse', 'default');
const steps = Number(option('steps', '20'));
const warmup = Number(option('warmup', '3'));
const users = Number(option('users', '20000'));
const threads = Number(option('threads', '2'));
const seed = Number(option('seed', '1'));
const mib = (bytes: number) => +(bytes / 2 ** 20).toFixed(1);
const log = (line: string) => process.stderr.write(`${line}\n`);

/** Toys-like histories over a Zipf(1) catalogue (ids 1..itemCount, popularity by a random rank). */
function syntheticDataset(): SequenceDataset {
  const rng = new Rng(seed);
  const rank = rng.permutation(itemCount);
  const weights = new Float64Array(itemCount);
  for (let i = 0; i < itemCount; i++) weights[i] = 1 / (rank[i]! + 1);
  const sampler = new WeightedSampler(weights);
  const offsets = new Int32Array(users + 1);
  const lengths = new Int32Array(users);
  for (let u = 0; u < users; u++) {
    // Lomax(shape 2.6, scale 5.8): P(tail < 1) = 0.34, mean 3.6 -> lengths 5.., mean 8.6 (Toys)
    const tail = 5.8 * (Math.pow(1 - rng.uniform(), -1 / 2.6) - 1);
    // the training part of a leave-one-out split: the last two items are validation and test
    lengths[u] = Math.min(550, 5 + Math.floor(tail)) - 2;
    offsets[u + 1] = offsets[u]! + lengths[u]!;
  }
  const items = new Int32Array(offsets[users]!);
  for (let i = 0; i < items.length; i++) items[i] = sampler.sample(rng) + 1;
  const userIds = Int32Array.from({ length: users }, (_, u) => u + 1);
  return { name: `synthetic-zipf-${itemCount}`, userCount: users, itemCount, offsets, items, userIds };
}

const dataset = syntheticDataset();
const spec = resolveSasrecSpec({ loss, seed, threads, ...(sparseOption === 'default' ? {} : { sparseEmbeddings: sparseOption === 'true' }) });
const rows = paddedTrainingSequences(dataset, { maxLength: spec.maxLength });
const architecture = architectureOf(spec, itemCount);
const buckets = positionBuckets(spec.batchSize, spec.maxLength, spec.positionBucket);
const popularity = itemCounts(dataset);
const sampleWeights = new Float64Array(itemCount + 1);
for (let j = 0; j < itemCount; j++) sampleWeights[j + 1] = popularity[j]! + 1;
const builder = new BatchBuilder({ rows, train: dataset, itemCount, batchSize: spec.batchSize, loss: spec.loss, negatives: spec.negatives, buckets, seed, sampleWeights });
const order = new Rng(seed + 1).permutation(rows.rowCount);
const batches = Array.from({ length: warmup + steps }, (_, s) => builder.build(order, (s * spec.batchSize) % Math.max(1, rows.rowCount - spec.batchSize)));
const distinct = batches.map((b) => new Set([...b.feeds.seq!, ...(b.feeds.targets ?? []), ...(b.feeds.samples ?? []), ...(b.feeds.negatives ?? [])].map(Number)).size);
const d = spec.hiddenSize;
const tableBytes = (itemCount + 1) * d * 4 * 3; // embedding + Adam's two moments
const rssBefore = process.memoryUsage().rss;
const result: Record<string, unknown> = {
  workload: 'sasrec-scale',
  items: itemCount,
  loss: spec.loss,
  sparse_embeddings: spec.sparseEmbeddings,
  config: { users, interactions: dataset.items.length, train_rows: rows.rowCount, batch: spec.batchSize, maxlen: spec.maxLength, hidden: d, negatives: spec.negatives, threads, seed, warmup, steps },
  mean_scored_positions: +(batches.reduce((a, b) => a + b.count, 0) / batches.length).toFixed(1),
  mean_distinct_items_per_step: +(distinct.reduce((a, b) => a + b, 0) / distinct.length).toFixed(1),
  rss_before_trainer_mib: mib(rssBefore),
  table_and_moments_mib: mib(tableBytes),
  load_before: loadavg().map((v) => +v.toFixed(2)),
};
const largest = Math.max(...batches.map((b) => b.bucket));
const logitsBytes = largest * itemCount * 4;
if (spec.loss === 'ce' && logitsBytes * 4 > freemem() / 2 && !process.argv.includes('--force')) {
  // logits, their log-softmax, the gradient and a product of the same size live together
  result.refused = `full softmax needs ~4 x ${mib(logitsBytes)} MiB for the ${largest} x ${itemCount} logits and their gradient; free memory is ${mib(freemem())} MiB (--force runs it)`;
  console.log(JSON.stringify(result));
  process.exit(0);
}
log(`${itemCount} items, ${spec.loss}${spec.sparseEmbeddings ? ' (row-sparse embedding)' : ''}: ${rows.rowCount} rows, rss ${mib(rssBefore)} MiB, table + moments ${mib(tableBytes)} MiB`);
const created = performance.now();
const trainer = await Trainer.create({ build: trainGraphBuilder(architecture, spec), buckets, bucketShapes: 'symbolic', optimizer: optimizers.adam({ beta1: 0.9, beta2: 0.98, epsilon: 1e-8 }), seed, intraOpNumThreads: threads });
result.create_ms = +(performance.now() - created).toFixed(0);
// the table holds its values now; Adam's moments are zero pages that would become resident only
// as steps touch their rows: write them once, so that "step memory" below is the steps' own
for (const state of trainer.optimizerState().values()) state.fill(0);
const rssCreated = process.memoryUsage().rss;
result.rss_after_create_mib = mib(rssCreated);
const times: number[] = [];
const cpuTimes: number[] = [];
let lastLoss = 0;
for (const [s, batch] of batches.entries()) {
  const t = performance.now();
  const cpu = process.cpuUsage();
  lastLoss = (await trainer.step(batch.feeds, { learningRate: spec.learningRate, bucket: batch.bucket })).loss;
  const ms = performance.now() - t;
  const used = process.cpuUsage(cpu);
  if (s >= warmup) {
    times.push(ms);
    cpuTimes.push((used.user + used.system) / 1000);
  }
  log(`step ${s + 1}: ${ms.toFixed(0)} ms (cpu ${((used.user + used.system) / 1000).toFixed(0)} ms), loss ${lastLoss.toFixed(4)}, rss ${mib(process.memoryUsage().rss)} MiB`);
}
await trainer.release();
const sorted = [...times].sort((a, b) => a - b);
const peak = process.resourceUsage().maxRSS * 1024;
Object.assign(result, {
  step_ms: { mean: +(times.reduce((a, b) => a + b, 0) / times.length).toFixed(1), median: +sorted[Math.floor(sorted.length / 2)]!.toFixed(1), min: +sorted[0]!.toFixed(1), max: +sorted[sorted.length - 1]!.toFixed(1) },
  // CPU time of the process per step (all threads): less sensitive than wall time to other jobs on the machine
  step_cpu_ms_median: +[...cpuTimes].sort((a, b) => a - b)[Math.floor(cpuTimes.length / 2)]!.toFixed(1),
  last_loss: +lastLoss.toFixed(4),
  peak_rss_mib: mib(peak),
  // what the steps added on top of the created trainer: the session's arena, the step's feeds and
  // returned copies, and the pages of Adam's moments the steps touched (all of them when dense)
  step_memory_mib: mib(peak - rssCreated),
  load_after: loadavg().map((v) => +v.toFixed(2)),
});
console.log(JSON.stringify(result));
