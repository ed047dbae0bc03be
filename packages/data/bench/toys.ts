/**
 * Benchmark: read the Amazon 2014 Toys sequences and items.jsonl, then produce the leave-one-out
 * split (histories capped at 50) and the sasrec_ce-style padded training rows (L = 50).
 * Prints a table and one JSON line. Run: `pnpm bench` in packages/data.
 */
import { cpus } from 'node:os';
import { sharedPath } from '@genrec/core';
import { catalogCoverage, leaveOneOutSplit, paddedTrainingSequences, readItemCatalog, readSequenceFile, summarizeSplit } from '../src/index.js';

const sequencesPath = sharedPath('data', 'amazon2014-toys', 'Toys_and_Games.txt');
const itemsPath = sharedPath('data', 'amazon2014-toys', 'items.jsonl');
if (!sequencesPath || !itemsPath) {
  console.log('skipping: shared/data/amazon2014-toys not found (set GENREC_SHARED_DIR)');
  process.exit(0);
}

const repetitions = Number(process.env.BENCH_REPETITIONS ?? 5);
const rssBeforeMiB = process.memoryUsage().rss / 2 ** 20;
const phases = ['read sequences', 'read items.jsonl', 'leave-one-out split', 'padded rows (L=50)', 'total'] as const;
const times: Record<(typeof phases)[number], number[]> = Object.fromEntries(phases.map((phase) => [phase, [] as number[]])) as never;
let summary: ReturnType<typeof summarizeSplit> | undefined;
let rowCount = 0;
let targetCount = 0;
let missing = -1;
for (let repetition = 0; repetition < repetitions; repetition++) {
  const t0 = performance.now();
  const toys = await readSequenceFile(sequencesPath);
  const t1 = performance.now();
  const catalog = await readItemCatalog(itemsPath);
  const t2 = performance.now();
  const split = leaveOneOutSplit(toys, { maxHistoryLength: 50 });
  const t3 = performance.now();
  const rows = paddedTrainingSequences(split.train, { maxLength: 50 });
  const t4 = performance.now();
  times['read sequences'].push(t1 - t0);
  times['read items.jsonl'].push(t2 - t1);
  times['leave-one-out split'].push(t3 - t2);
  times['padded rows (L=50)'].push(t4 - t3);
  times.total.push(t4 - t0);
  summary = summarizeSplit(split);
  rowCount = rows.rowCount;
  targetCount = rows.targetCount;
  missing = catalogCoverage(toys, catalog).missing.length;
}
const peakRssMiB = process.resourceUsage().maxRSS / 1024;
const median = (values: number[]): number => {
  const sorted = values.slice().sort((a, b) => a - b);
  return sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
};

console.log(`Toys: ${summary!.trainUsers} users; split train ${summary!.trainInteractions} / validation ${summary!.validationUsers} / test ${summary!.testUsers}; ${rowCount} padded rows, ${targetCount} targets; items without metadata: ${missing}`);
console.log(`node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), ${repetitions} repetitions`);
console.log('');
console.log(`${'phase'.padEnd(22)} ${'first ms'.padStart(9)} ${'median ms'.padStart(10)}`);
for (const phase of phases) console.log(`${phase.padEnd(22)} ${times[phase][0]!.toFixed(1).padStart(9)} ${median(times[phase]).toFixed(1).padStart(10)}`);
console.log(`${'peak RSS'.padEnd(22)} ${peakRssMiB.toFixed(1).padStart(9)} MiB (process start: ${rssBeforeMiB.toFixed(1)} MiB)`);
console.log(
  JSON.stringify({
    benchmark: 'data/toys-read-split',
    node: process.version,
    repetitions,
    firstMs: Object.fromEntries(phases.map((phase) => [phase, Number(times[phase][0]!.toFixed(2))])),
    medianMs: Object.fromEntries(phases.map((phase) => [phase, Number(median(times[phase]).toFixed(2))])),
    peakRssMiB: Number(peakRssMiB.toFixed(1)),
    startRssMiB: Number(rssBeforeMiB.toFixed(1)),
    users: summary!.trainUsers,
    trainInteractions: summary!.trainInteractions,
    paddedRows: rowCount,
    paddedTargets: targetCount,
  }),
);
