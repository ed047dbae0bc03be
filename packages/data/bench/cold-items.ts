/**
 * Numbers of the cold-item split, the attribute readers and the synthetic ratings, for the README:
 *
 * - `coldItemSplit(share 0.1, seed 0)` on Amazon 2014 Toys and Sports (shared/data) and on the
 *   synthetic default: sizes, report, time (median of 5), and the Recall@10 on `testCold` of the
 *   cold-item popularity baseline (cold items ranked by how often they occur in the test
 *   histories, the only interactions with cold items observable at recommendation time; the
 *   user's history excluded; ties by lower id);
 * - `readItemAttributes` on the Sports TSV / JSON and Toys JSON files (first run, median of 5);
 * - the rating distribution of `generateSyntheticDataset({ ratings: true })`.
 *
 * Run: `cd packages/data && npx tsx --conditions=@genrec/source bench/cold-items.ts` (under
 * `flock /tmp/genrec-bench.lock` on the shared machine). Datasets absent from shared/data are skipped.
 */
import type { EvaluationSet } from '@genrec/core';
import { sharedPath } from '@genrec/core';
import { coldItemSplit, generateSyntheticDataset, readItemAttributes, readSequenceFile, type ColdItemSplit, type InteractionDataset } from '../src/index.js';

const repetitions = Number(process.env.BENCH_REPETITIONS ?? 5);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Recall@k on `set` of the cold items ranked by their count in the test histories (history excluded). */
function coldPopularityRecall(split: ColdItemSplit, set: EvaluationSet, k: number): number {
  const counts = new Float64Array(split.train.itemCount + 1);
  for (const item of split.test.historyItems) if (split.isCold[item]) counts[item]!++;
  const ranked = Array.from(split.coldItems).sort((a, b) => counts[b]! - counts[a]! || a - b);
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

const datasets: [string, () => Promise<InteractionDataset | undefined>][] = [
  ['Toys', async () => {
    const path = sharedPath('data', 'amazon2014-toys', 'Toys_and_Games.txt');
    return path ? readSequenceFile(path) : undefined;
  }],
  ['Sports', async () => {
    const path = sharedPath('data', 'amazon2014-sports', 'Sports_and_Outdoors.txt');
    return path ? readSequenceFile(path) : undefined;
  }],
  ['synthetic', async () => generateSyntheticDataset().dataset],
];

console.log('| data | cold items | removed train interactions | emptied / shortened rows | test cold / warm | validation cold / warm | cold-popularity R@10 on testCold | ms (median) |');
console.log('|---|---|---|---|---|---|---|---|');
for (const [name, load] of datasets) {
  const dataset = await load();
  if (!dataset) {
    console.log(`| ${name} | skipped: not in shared/data |`);
    continue;
  }
  const times: number[] = [];
  let split: ColdItemSplit | undefined;
  for (let r = 0; r < repetitions; r++) {
    const started = performance.now();
    split = coldItemSplit(dataset, { share: 0.1, seed: 0 });
    times.push(performance.now() - started);
  }
  const s = split!;
  const { report } = s;
  console.log(
    `| ${name} | ${report.coldItems} of ${report.interactedItems} | ${report.removedInteractions} of ${report.removedInteractions + s.train.items.length} | ` +
      `${report.emptiedTrainingRows} / ${report.shortenedTrainingRows} | ${s.testCold.size} / ${s.testWarm.size} | ${s.validationCold.size} / ${s.validationWarm.size} | ` +
      `${coldPopularityRecall(s, s.testCold, 10).toFixed(4)} | ${median(times).toFixed(1)} |`,
  );
}

const attributeFiles = [
  sharedPath('data', 'amazon2014-sports', 'items.tsv'),
  sharedPath('data', 'amazon2014-sports', 'Sports_and_Outdoors_item2attributes.json'),
  sharedPath('data', 'amazon2014-toys', 'Toys_and_Games_item2attributes.json'),
];
console.log('\n| file | items | attributes | values | first ms | median ms |');
console.log('|---|---|---|---|---|---|');
for (const path of attributeFiles) {
  if (!path) continue;
  const times: number[] = [];
  let result: Awaited<ReturnType<typeof readItemAttributes>> | undefined;
  for (let r = 0; r < repetitions; r++) {
    const started = performance.now();
    result = await readItemAttributes(path);
    times.push(performance.now() - started);
  }
  console.log(`| ${path.split('/').slice(-2).join('/')} | ${result!.itemCount} | ${result!.attributeCount} | ${result!.values.length} | ${times[0]!.toFixed(1)} | ${median(times).toFixed(1)} |`);
}

const rated = generateSyntheticDataset({ ratings: true });
const counts = [0, 0, 0, 0, 0, 0];
let usersWithBoth = 0;
for (let row = 0; row < rated.dataset.userCount; row++) {
  let high = false;
  let low = false;
  for (let i = rated.dataset.offsets[row]!; i < rated.dataset.offsets[row + 1]!; i++) {
    const rating = rated.dataset.ratings![i]!;
    counts[rating]!++;
    if (rating >= 4) high = true;
    if (rating <= 2) low = true;
  }
  if (high && low) usersWithBoth++;
}
const total = rated.dataset.items.length;
const mean = counts.reduce((sum, count, rating) => sum + count * rating, 0) / total;
console.log(
  `\nsynthetic default with ratings: counts of 1..5 = ${counts.slice(1).join(' / ')}, mean ${mean.toFixed(3)}, ` +
    `users with a rating >= 4 and one <= 2: ${usersWithBoth} of ${rated.dataset.userCount}`,
);
