/**
 * The cost of one model call by batch size, in process (no HTTP): what micro-batching trades
 * against, and the "one batch-64 call" of the latency bound. Toys test histories when the model
 * has Toys' items, else seeded random ones.
 *
 *   flock /tmp/genrec-bench.lock npx tsx --conditions=@genrec/source bench/batch-call.ts --model DIR [--calls 50] [--threads 0]
 */
import { sharedPath } from '@genrec/core';
import { leaveOneOutSplit, readSequenceFile } from '@genrec/data';
import { loadSasrec, loadRecommender, SASREC_KIND } from '@genrec/models';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const modelDir = option('model', '/tmp/genrec-serve-bench/sasrec-toys');
const calls = Number(option('calls', '50'));
const threads = Number(option('threads', '0'));
const sizes = [1, 8, 16, 32, 64];
const model = await loadRecommender(modelDir, { loaders: { [SASREC_KIND]: (d) => loadSasrec(d, { inferenceBatchSize: 64, ...(threads > 0 ? { threads } : {}) }) } });
let histories: number[][];
const file = sharedPath('data', 'amazon2014-toys', 'Toys_and_Games.txt');
if (model.itemCount === 11_924 && file !== undefined) {
  const split = leaveOneOutSplit(await readSequenceFile(file));
  histories = Array.from({ length: 1024 }, (_, u) => Array.from(split.test.historyItems.subarray(Math.max(split.test.historyOffsets[u]!, split.test.historyOffsets[u + 1]! - 50), split.test.historyOffsets[u + 1]!)));
} else {
  histories = Array.from({ length: 1024 }, (_, u) => Array.from({ length: 10 }, (_, i) => 1 + ((u * 31 + i * 7) % model.itemCount)));
}
const rows: { batch: number; msPerCall: number; usersPerSecond: number; p99Ms: number }[] = [];
for (const size of sizes) {
  for (let w = 0; w < 5; w++) await model.recommend(histories.slice(0, size), { k: 10 });
  const times: number[] = [];
  for (let c = 0; c < calls; c++) {
    const from = (c * size) % (histories.length - size);
    const started = performance.now();
    await model.recommend(histories.slice(from, from + size), { k: 10 });
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  rows.push({ batch: size, msPerCall: Number(mean.toFixed(2)), usersPerSecond: Math.round((1000 * size) / mean), p99Ms: Number(times[Math.floor(0.99 * (times.length - 1))]!.toFixed(2)) });
}
await model.dispose();
console.log('| batch | ms per call | users/s | p99 ms |\n|---|---|---|---|');
for (const r of rows) console.log(`| ${r.batch} | ${r.msPerCall} | ${r.usersPerSecond} | ${r.p99Ms} |`);
console.log(JSON.stringify({ model: modelDir, kind: model.kind, threads, rows }));
