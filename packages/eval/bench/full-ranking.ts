/**
 * Full-ranking evaluation from score matrices streamed in user blocks: SASRec-on-Toys-sized scores
 * (19,412 users x 11,924 items, random float32, 2% of scores duplicated to create ties), one relevant
 * item per user, history of 8 items masked. Times evaluateScores (exact tie-aware ranks + AUC, one
 * pass per row), with top-50 rankings from the partial heap selection, and, for reference, the same
 * ranks obtained by sorting every row (what a naive implementation does).
 *
 *   pnpm --filter @genrec/eval bench:ranking
 */
import { Rng, createMatrix } from '@genrec/core';
import { evaluateScores, itemSetsFromArrays, scoreBlocks } from '../src/index.js';

const users = 19_412;
const items = 11_924;
const blockSize = 1024;
const rng = new Rng(1);
// One block of scores reused for every block of users (generation is not what is measured).
const block = createMatrix(blockSize, items);
for (let i = 0; i < block.data.length; i++) block.data[i] = rng.uniform() < 0.02 ? 0.5 : rng.normal();
const relevant: number[][] = [];
const history: number[][] = [];
for (let u = 0; u < users; u++) {
  const permutation = rng.permutation(items); // column indices 0..items-1; item id = column + 1
  relevant.push([permutation[0]! + 1]);
  history.push(Array.from(permutation.subarray(1, 9), (column) => column + 1));
}
const relevance = itemSetsFromArrays(relevant);
const historySets = itemSetsFromArrays(history);
const blocks = () => scoreBlocks(users, blockSize, (start, end) => (end - start === blockSize ? block : createMatrix(end - start, items, block.data.subarray(0, (end - start) * items))));

async function time(label: string, run: () => Promise<unknown>): Promise<number> {
  await run();
  const times: number[] = [];
  for (let r = 0; r < 3; r++) {
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const median = times[1]!;
  console.log(`| ${label} | ${median.toFixed(0)} | ${((users / median) * 1000).toFixed(0)} |`);
  return median;
}

console.log(`${users} users x ${items} items, blocks of ${blockSize}, history masked, ks [10, 20, 50]`);
console.log('| variant | median ms (3 runs after 1 warm-up) | users/s |');
console.log('|---|---:|---:|');
const options = { itemCount: items, ks: [10, 20, 50], history: historySets, maskHistory: true };
const ranksOnly = await time('exact ranks (expected ties) + AUC, no top-K lists', () => evaluateScores(blocks(), relevance, options));
const withLists = await time('+ top-50 lists (heap) + beyond-accuracy', () =>
  evaluateScores(blocks(), relevance, { ...options, keepRankings: true, beyondAccuracy: {} }),
);
// Reference: rank of the relevant item by sorting each row (argsort), as a naive implementation
// would; timed on one block of users and scaled to all users (it is two orders of magnitude slower).
const order = new Int32Array(items);
const referenceStart = performance.now();
let checksum = 0;
for (let u = 0; u < blockSize; u++) {
  const row = block.data.subarray(u * items, (u + 1) * items);
  for (let i = 0; i < items; i++) order[i] = i;
  order.sort((a, b) => row[b]! - row[a]!);
  checksum += order.indexOf(relevant[u]![0]! - 1); // the relevant item's column
}
const sortAll = ((performance.now() - referenceStart) / blockSize) * users;
console.log(`| reference: argsort of every row (ranks only; ${blockSize} users timed, scaled) | ${sortAll.toFixed(0)} | ${((users / sortAll) * 1000).toFixed(0)} |`);
if (checksum < 0) console.log(checksum);
console.log(JSON.stringify({ workload: 'full-ranking', users, items, ranksOnlyMs: Math.round(ranksOnly), withTopKListsMs: Math.round(withLists), argsortReferenceMs: Math.round(sortAll), node: process.version }));
