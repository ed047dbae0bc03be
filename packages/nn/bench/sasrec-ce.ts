/**
 * The `sasrec_ce` workload of ../shared/peers (README section 1) on @genrec/nn: step time and
 * bytes allocated per step (JS heap and external/ArrayBuffer memory, measured with v8.GCProfiler
 * over the timed steps) and, with `--epochs N`, the full training run and full-ranking test metrics.
 *
 *   flock /tmp/genrec-bench.lock pnpm --filter @genrec/nn bench -- [--epochs 20] [--threads 2] [--bucket-shapes symbolic|static] [--output-buffers onnxruntime|preallocated]
 */
import { Rng, sharedPath } from '@genrec/core';
import { leaveOneOutSplit, readSequenceFile, type EvaluationSet } from '@genrec/data';
import { Trainer, optimizers } from '../src/index.js';
import { startAllocationMeter, type AllocationMeter, type AllocationReport } from '../src/diagnostics/allocation-meter.js';
import { sasrecScoreGraph, sasrecTrainGraph, type SasrecShape } from './sasrec-model.js';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const epochs = option('epochs', 0);
const threads = option('threads', 2);
const warmupSteps = option('warmup-steps', 5);
const benchSteps = option('bench-steps', 50);
const bucketStep = option('bucket', 256);
const seed = option('seed', 42);
const evalBatch = 1024;
const outputBuffers = process.argv.includes('--output-buffers') ? (process.argv[process.argv.indexOf('--output-buffers') + 1] as 'onnxruntime' | 'preallocated') : 'onnxruntime';
const bucketShapes = process.argv.includes('--bucket-shapes') ? (process.argv[process.argv.indexOf('--bucket-shapes') + 1] as 'static' | 'symbolic') : 'symbolic';
const dataArg = process.argv.find((a) => a.endsWith('.txt'));
const dataPath = dataArg ?? sharedPath('data', 'amazon2014-toys', 'Toys_and_Games.txt');
if (!dataPath) {
  console.error('skipped: the shared data folder (../shared/data) is absent');
  process.exit(0);
}

const log = (message: string) => process.stderr.write(`${message}\n`);
const t0 = performance.now();
const dataset = await readSequenceFile(dataPath);
const split = leaveOneOutSplit(dataset);
const items = dataset.itemCount;
const L = 50;
const B = 256;
// training rows: train part tr = train[-51:], input tr[:-1], target tr[1:], left-padded to L
const trainRows: number[] = [];
for (let r = 0; r < split.train.userCount; r++) if (split.train.offsets[r + 1]! - split.train.offsets[r]! >= 2) trainRows.push(r);
const inputs = new BigInt64Array(trainRows.length * L);
const targets = new BigInt64Array(trainRows.length * L);
trainRows.forEach((row, k) => {
  const from = split.train.offsets[row]!;
  const to = split.train.offsets[row + 1]!;
  const start = Math.max(from, to - (L + 1));
  const n = to - start - 1;
  for (let j = 0; j < n; j++) {
    inputs[k * L + L - n + j] = BigInt(split.train.items[start + j]!);
    targets[k * L + L - n + j] = BigInt(split.train.items[start + j + 1]!);
  }
});
const stepsPerEpoch = Math.ceil(trainRows.length / B);
log(`users=${dataset.userCount} items=${items} train_rows=${trainRows.length} eval_users=${split.test.size} steps/epoch=${stepsPerEpoch} load=${((performance.now() - t0) / 1000).toFixed(2)}s`);

const shape: SasrecShape = { items, batch: B, length: L, hidden: 64, blocks: 2, dropout: 0.2 };
const buckets: number[] = [];
for (let p = bucketStep; p <= B * L + bucketStep - 1; p += bucketStep) buckets.push(p);

interface BatchFeed {
  seq: BigInt64Array;
  positions: BigInt64Array;
  labels: BigInt64Array;
  bucket: number;
  count: number;
}

/** Builds the feeds of one batch (rows of the permutation), padding rows and scored positions. */
function makeBatch(order: Int32Array, from: number): BatchFeed {
  const seq = new BigInt64Array(B * L);
  const to = Math.min(order.length, from + B);
  let count = 0;
  for (let i = from; i < to; i++) {
    const k = order[i]!;
    seq.set(inputs.subarray(k * L, k * L + L), (i - from) * L);
    for (let j = 0; j < L; j++) if (targets[k * L + j] !== 0n) count++;
  }
  const bucket = buckets.find((b) => b >= count)!;
  const positions = new BigInt64Array(bucket);
  const labels = new BigInt64Array(bucket).fill(-100n);
  let p = 0;
  for (let i = from; i < to; i++) {
    const k = order[i]!;
    for (let j = 0; j < L; j++) {
      const t = targets[k * L + j]!;
      if (t !== 0n) {
        positions[p] = BigInt((i - from) * L + j);
        labels[p] = t - 1n;
        p++;
      }
    }
  }
  return { seq, positions, labels, bucket, count };
}

async function newTrainer(): Promise<Trainer> {
  return Trainer.create({
    build: (g, bucket) => sasrecTrainGraph(g, shape, bucket),
    buckets,
    optimizer: optimizers.adam({ beta1: 0.9, beta2: 0.98, epsilon: 1e-8 }),
    seed,
    intraOpNumThreads: threads,
    outputBuffers,
    bucketShapes,
  });
}

const result: Record<string, unknown> = {
  workload: 'sasrec_ce',
  implementation: '@genrec/nn (onnxruntime-node 1.30.0)',
  config: { epochs, batch: B, maxlen: L, hidden: 64, blocks: 2, heads: 1, dropout: 0.2, lr: 1e-3, seed, threads, warmup_steps: warmupSteps, bench_steps: benchSteps, bucket_step: bucketStep, output_buffers: outputBuffers, bucket_shapes: bucketShapes },
  dataset: { users: dataset.userCount, items, train_rows: trainRows.length, eval_users: split.test.size, steps_per_epoch: stepsPerEpoch },
};

function stats(times: number[]) {
  const sorted = [...times].sort((a, b) => a - b);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  return { mean: +mean.toFixed(2), median: +sorted[Math.floor(sorted.length / 2)]!.toFixed(2), min: +sorted[0]!.toFixed(2), max: +sorted[sorted.length - 1]!.toFixed(2), n: times.length };
}

/** Bytes per step of a measured window of `steps` training steps, as they go into the JSON line. */
function allocationPerStep(report: AllocationReport, steps: number) {
  return {
    steps,
    output_buffers: outputBuffers,
    js_heap_bytes: Math.round(report.heapBytes / steps),
    external_bytes: Math.round(report.externalBytes / steps),
    array_buffers_net_bytes: Math.round(report.arrayBuffersDelta / steps),
    external_net_bytes: Math.round(report.externalDelta / steps),
    rss_net_bytes: Math.round(report.rssDelta / steps),
    gc: report.gcTypes,
    gc_ms_per_step: +(report.gcMs / steps).toFixed(2),
  };
}

/** The memory table of the step-time part (stderr). */
function printAllocationTable(report: AllocationReport, steps: number) {
  const row = (name: string, bytes: number) => log(`| ${name.padEnd(48)} | ${(bytes / 2 ** 20).toFixed(3).padStart(10)} MiB | ${Math.round(bytes / steps).toLocaleString('en-US').padStart(14)} B |`);
  log(`allocation over ${steps} timed steps, outputBuffers '${outputBuffers}' (v8.GCProfiler; GCs: ${JSON.stringify(report.gcTypes)}, ${(report.gcMs / steps).toFixed(2)} ms of GC per step)`);
  log(`| ${'measure'.padEnd(48)} | ${'total'.padStart(14)} | ${'per step'.padStart(16)} |`);
  log(`|${'-'.repeat(50)}|${'-'.repeat(16)}:|${'-'.repeat(18)}:|`);
  row('allocated: JS heap', report.heapBytes);
  row('allocated: external (ArrayBuffer backing stores)', report.externalBytes);
  row('net change: process.memoryUsage().arrayBuffers', report.arrayBuffersDelta);
  row('net change: process.memoryUsage().external', report.externalDelta);
  row('net change: RSS', report.rssDelta);
}

// ---- 1) step time: fresh seeded model, warm-up steps (which also compile the buckets) + timed steps
if (benchSteps > 0) {
  const trainer = await newTrainer();
  const rng = new Rng(seed);
  const batches: BatchFeed[] = [];
  while (batches.length < warmupSteps + benchSteps) {
    const order = rng.permutation(trainRows.length);
    for (let from = 0; from < order.length && batches.length < warmupSteps + benchSteps; from += B) batches.push(makeBatch(order, from));
  }
  // compile every bucket the timed steps use before timing (the peer has no compile step)
  const tCompile = performance.now();
  for (const b of new Set(batches.map((x) => x.bucket))) await trainer.prepare(b);
  const compileMs = performance.now() - tCompile;
  // preallocated, so that the measured window holds only what the training steps allocate
  const times = new Float64Array(benchSteps);
  const cpuTimes = new Float64Array(benchSteps);
  const counts = new Float64Array(benchSteps);
  const rssBefore = process.memoryUsage().rss;
  let meter: AllocationMeter | undefined;
  for (let i = 0; i < batches.length; i++) {
    if (i === warmupSteps) meter = startAllocationMeter();
    const batch = batches[i]!;
    const t = performance.now();
    const cpu = process.cpuUsage();
    await trainer.step({ seq: batch.seq, positions: batch.positions, labels: batch.labels }, { learningRate: 1e-3, bucket: batch.bucket });
    const dt = performance.now() - t;
    const used = process.cpuUsage(cpu);
    if (i >= warmupSteps) {
      times[i - warmupSteps] = dt;
      cpuTimes[i - warmupSteps] = (used.user + used.system) / 1000;
      counts[i - warmupSteps] = batch.count;
    }
  }
  const allocation = meter!.stop();
  const st = stats(Array.from(times));
  result.train_step_ms = st;
  // the process's CPU time per step (all threads): steadier than wall time when other jobs share the cores
  result.train_step_cpu_ms = stats(Array.from(cpuTimes));
  result.bench_mean_target_positions_per_batch = +(counts.reduce((a, b) => a + b, 0) / counts.length).toFixed(2);
  result.allocation_per_step = allocationPerStep(allocation, benchSteps);
  const parameterValues = [...trainer.parameterValues().values()];
  result.parameter_tensors = { count: parameterValues.length, bytes: parameterValues.reduce((a, v) => a + v.byteLength, 0), optimizer_state_tensors: trainer.optimizerState().size };
  result.buckets_compiled = new Set(batches.map((x) => x.bucket)).size;
  result.compile_ms = +compileMs.toFixed(0);
  result.rss_growth_over_timed_steps_mb = +((process.memoryUsage().rss - rssBefore) / 2 ** 20).toFixed(1);
  log(`train step: mean ${st.mean} ms, median ${st.median} ms over ${st.n} steps (after ${warmupSteps} warm-up); mean target positions/batch ${result.bench_mean_target_positions_per_batch}; ${result.buckets_compiled} buckets compiled in ${compileMs.toFixed(0)} ms`);
  printAllocationTable(allocation, benchSteps);
  await trainer.release();
}

/** Full-ranking evaluation: rank = #items scored strictly above the target; history masking as the peer does. */
async function evaluate(trainer: Trainer, set: EvaluationSet) {
  const model = await trainer.compileInference((g) => sasrecScoreGraph(g, { ...shape, batch: evalBatch }), 0, { intraOpNumThreads: threads });
  const seq = new BigInt64Array(evalBatch * L);
  const ranksRaw = new Int32Array(set.size);
  const ranksMasked = new Int32Array(set.size);
  const stamp = new Int32Array(items + 1).fill(-1);
  for (let b0 = 0; b0 < set.size; b0 += evalBatch) {
    const b1 = Math.min(set.size, b0 + evalBatch);
    seq.fill(0n);
    for (let u = b0; u < b1; u++) {
      const from = set.historyOffsets[u]!;
      const to = set.historyOffsets[u + 1]!;
      const start = Math.max(from, to - L);
      for (let j = start; j < to; j++) seq[(u - b0) * L + L - (to - start) + (j - start)] = BigInt(set.historyItems[j]!);
    }
    const scores = (await model.run({ seq })).scores as Float32Array;
    for (let u = b0; u < b1; u++) {
      const row = scores.subarray((u - b0) * items, (u - b0 + 1) * items);
      const target = set.targetItems[set.targetOffsets[u]!]!;
      const ts = row[target - 1]!;
      let rank = 0;
      for (let j = 0; j < items; j++) if (row[j]! > ts) rank++;
      let masked = rank;
      for (let j = set.historyOffsets[u]!; j < set.historyOffsets[u + 1]!; j++) {
        const item = set.historyItems[j]!;
        if (item === target || stamp[item] === u) continue;
        stamp[item] = u;
        if (row[item - 1]! > ts) masked--;
      }
      ranksRaw[u] = rank;
      ranksMasked[u] = masked;
    }
  }
  await model.release();
  const agg = (ranks: Int32Array) => {
    const out: Record<string, number> = {};
    for (const k of [10, 20]) {
      let hit = 0;
      let ndcg = 0;
      for (const r of ranks) if (r < k) {
        hit++;
        ndcg += 1 / Math.log2(r + 2);
      }
      out[`recall@${k}`] = +(hit / ranks.length).toFixed(6);
      out[`ndcg@${k}`] = +(ndcg / ranks.length).toFixed(6);
    }
    let mrr = 0;
    for (const r of ranks) mrr += 1 / (r + 1);
    out.mrr = +(mrr / ranks.length).toFixed(6);
    return out;
  };
  return { unmasked: agg(ranksRaw), history_masked: agg(ranksMasked) };
}

// ---- 2) full training for `epochs` epochs, then test metrics
if (epochs > 0) {
  const trainer = await newTrainer();
  const rng = new Rng(seed);
  const losses: number[] = [];
  const epochSeconds: number[] = [];
  const rss: number[] = [];
  const epochAllocation: { js_heap_bytes: number; external_bytes: number }[] = [];
  let stepTime = 0;
  const tTrain = performance.now();
  for (let epoch = 0; epoch < epochs; epoch++) {
    const te = performance.now();
    const epochMeter = startAllocationMeter();
    const order = rng.permutation(trainRows.length);
    let total = 0;
    let count = 0;
    for (let from = 0; from < order.length; from += B) {
      const batch = makeBatch(order, from);
      const ts = performance.now();
      const r = await trainer.step({ seq: batch.seq, positions: batch.positions, labels: batch.labels }, { learningRate: 1e-3, bucket: batch.bucket });
      stepTime += performance.now() - ts;
      total += r.loss;
      count++;
    }
    const epochReport = epochMeter.stop();
    // per step, including the benchmark's batch builder (fresh feeds for every batch)
    epochAllocation.push({ js_heap_bytes: Math.round(epochReport.heapBytes / count), external_bytes: Math.round(epochReport.externalBytes / count) });
    epochSeconds.push((performance.now() - te) / 1000);
    losses.push(total / count);
    rss.push(process.memoryUsage().rss / 2 ** 20);
    log(`epoch ${epoch + 1}/${epochs} loss ${(total / count).toFixed(4)} (${epochSeconds[epochSeconds.length - 1]!.toFixed(1)}s, rss ${rss[rss.length - 1]!.toFixed(0)} MiB, allocated per step: JS heap ${epochAllocation[epochAllocation.length - 1]!.js_heap_bytes} B, external ${epochAllocation[epochAllocation.length - 1]!.external_bytes} B)`);
  }
  result.epochs_trained = epochs;
  result.train_wall_s = +((performance.now() - tTrain) / 1000).toFixed(3);
  result.train_step_time_sum_s = +(stepTime / 1000).toFixed(3);
  result.epoch_s_mean = +(epochSeconds.reduce((a, b) => a + b, 0) / epochs).toFixed(3);
  result.epoch_loss = losses.map((v) => +v.toFixed(5));
  result.rss_mib_per_epoch = rss.map((v) => +v.toFixed(0));
  result.allocation_per_step_by_epoch = epochAllocation;
  const te = performance.now();
  result.test = await evaluate(trainer, split.test);
  result.valid = await evaluate(trainer, split.validation);
  result.eval_s = +((performance.now() - te) / 1000).toFixed(3);
  log(`test (history NOT masked): ${JSON.stringify((result.test as Record<string, unknown>).unmasked)}`);
  log(`test (history masked):     ${JSON.stringify((result.test as Record<string, unknown>).history_masked)}`);
  await trainer.release();
}
result.peak_rss_mib = +(process.resourceUsage().maxRSS / 1024).toFixed(0);
console.log(JSON.stringify(result));
