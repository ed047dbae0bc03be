/**
 * Where SETRec's training memory goes: one training step per length bucket, in order, at Toys'
 * shapes (11,924 items, CF vectors 64 wide, content 128 wide, random token ids and labels), with
 * the process's resident memory after each bucket's second step (the first compiles the session and
 * grows its arena; the second is timed). Each bucket is one compiled
 * onnxruntime session with its own arena, and every session's scored positions hold
 * `batchPositions x itemCount` logits per slot, kept for the backward pass.
 *
 *   npx tsx --conditions=@genrec/source bench/memory.ts [--options '{"hiddenSize":64}'] [--items 11924]
 */
import { optimizers, Trainer, type Graph } from '@genrec/nn';
import { resolveSetrecSpec, type SetrecOptions } from '../src/options.js';
import { architectureOf, buildTrainingGraph, ITEM_INPUTS } from '../src/setrec-graph.js';
import { rowsPerStep } from '../src/training-rows.js';
import { log, option, peakRssMiB } from './data.js';

const itemCount = Number(option('items', '11924'));
const spec = resolveSetrecSpec(JSON.parse(option('options', '{}')) as SetrecOptions);
const threads = Number(option('threads', '2'));
const cfDimension = 64;
const architecture = architectureOf(spec, itemCount, cfDimension, spec.contentDimension);
const rss = () => Math.round(process.memoryUsage().rss / 2 ** 20);
const report: { bucket: number; rows: number; rss_mib: number; step_ms: number }[] = [];
log(`items ${itemCount}, d ${spec.hiddenSize}, slots ${spec.semanticTokens + 1}, batchPositions ${spec.batchPositions}, buckets ${spec.lengthBuckets.join(',')}; rss before ${rss()} MiB`);
const trainer = await Trainer.create({
  build: (g: Graph, bucket: number) => buildTrainingGraph(g, architecture, rowsPerStep(bucket, spec.batchPositions), bucket, false),
  buckets: spec.lengthBuckets,
  optimizer: optimizers.adam({ beta1: 0.9, beta2: 0.98, epsilon: 1e-8 }),
  seed: 1,
  intraOpNumThreads: threads,
});
const feeds = {
  [ITEM_INPUTS.cf]: Float32Array.from({ length: itemCount * cfDimension }, (_, i) => Math.sin(i) * 0.1),
  [ITEM_INPUTS.content]: Float32Array.from({ length: itemCount * spec.contentDimension }, (_, i) => Math.cos(i * 0.7) * 0.1),
};
for (const bucket of spec.lengthBuckets) {
  const rows = rowsPerStep(bucket, spec.batchPositions);
  const seq = BigInt64Array.from({ length: rows * bucket }, (_, i) => BigInt(1 + ((i * 7919) % itemCount)));
  const labels = BigInt64Array.from({ length: rows * bucket }, (_, i) => BigInt((i * 104_729) % itemCount));
  await trainer.step({ seq, labels, ...feeds }, { learningRate: 1e-3, bucket }); // compiles, grows the arena
  const started = performance.now();
  await trainer.step({ seq, labels, ...feeds }, { learningRate: 1e-3, bucket });
  report.push({ bucket, rows, rss_mib: rss(), step_ms: Math.round(performance.now() - started) });
  log(`bucket ${bucket} (${rows} rows): rss ${rss()} MiB, step ${report.at(-1)!.step_ms} ms`);
}
await trainer.release();
console.log(JSON.stringify({ itemCount, hiddenSize: spec.hiddenSize, batchPositions: spec.batchPositions, buckets: report, peak_rss_mib: peakRssMiB() }));
