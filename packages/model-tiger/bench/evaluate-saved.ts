/**
 * Evaluates a saved TIGER folder on Toys' validation and test sets (all users, history excluded)
 * at one or more beam widths, with or without the trie renormalisation: how much a wider beam or
 * `renormalize` buys, and the validation/test gap.
 *
 *   npx tsx --conditions=@genrec/source bench/evaluate-saved.ts DIR [--beams 20,50] [--renormalize false,true] [--sets validation,test]
 */
import { sharedPath } from '@genrec/core';
import { leaveOneOutSplit, readSequenceFile } from '@genrec/data';
import { evaluateRecommender } from '@genrec/eval';
import { loadTiger } from '../src/index.js';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const directory = process.argv[2];
const file = sharedPath('data', 'amazon2014-toys', 'Toys_and_Games.txt');
if (!file || !directory) {
  console.error(file ? 'usage: evaluate-saved.ts DIR [--beams 20,50] [--renormalize false,true] [--sets validation,test]' : 'skipped: ../shared/data has no amazon2014-toys');
  process.exit(file ? 2 : 0);
}
const split = leaveOneOutSplit(await readSequenceFile(file));
const rows = [];
const settings = option('beams', '20')
  .split(',')
  .flatMap((beam) => option('renormalize', 'false').split(',').map((value) => ({ beamWidth: Number(beam), renormalize: value === 'true' })));
for (const { beamWidth, renormalize } of settings) {
  const model = await loadTiger(directory, { beamWidth, renormalize });
  for (const name of option('sets', 'validation,test').split(',') as ('validation' | 'test')[]) {
    const started = performance.now();
    const result = await evaluateRecommender(model, split[name], { ks: [10, 20], excludeHistory: true, keepPerUser: false });
    const row = { beamWidth, renormalize, set: name, users: split[name].size, seconds: +((performance.now() - started) / 1000).toFixed(1), ...Object.fromEntries(['recall@10', 'ndcg@10', 'recall@20', 'ndcg@20'].map((m) => [m, +result.metrics[m]!.toFixed(4)])) };
    rows.push(row);
    process.stderr.write(`${JSON.stringify(row)}\n`);
  }
  await model.dispose();
}
console.log(JSON.stringify(rows));
