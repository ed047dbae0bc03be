/**
 * Recommendation throughput (users/s) of saved models at batch 1 and batch 64, top-10 with the
 * whole history excluded, on Toys test histories: a TIGER folder beside a SASRec folder (or any
 * models `@genrec/models`' loader knows), each warmed up first, in one window.
 *
 *   flock /tmp/genrec-bench.lock npx tsx --conditions=@genrec/source bench/throughput.ts --tiger DIR [--sasrec DIR] [--users-b1 200] [--users-b64 2048]
 */
import { loadavg } from 'node:os';
import { sharedPath, type Recommender } from '@genrec/core';
import { leaveOneOutSplit, readSequenceFile } from '@genrec/data';
import { loadSasrec } from '@genrec/model-sasrec';
import { loadTiger } from '../src/index.js';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const file = sharedPath('data', 'amazon2014-toys', 'Toys_and_Games.txt');
if (!file) {
  console.error('skipped: ../shared/data has no amazon2014-toys');
  process.exit(0);
}
const split = leaveOneOutSplit(await readSequenceFile(file));
const set = split.test;
const usersB1 = Number(option('users-b1', '200'));
const usersB64 = Number(option('users-b64', '2048'));
const slice = (from: number, to: number) => {
  const base = set.historyOffsets[from]!;
  return { offsets: Int32Array.from(set.historyOffsets.subarray(from, to + 1), (o) => o - base), items: set.historyItems.slice(base, set.historyOffsets[to]!) };
};

async function measure(name: string, model: Recommender): Promise<Record<string, number | string>> {
  await model.recommend(slice(0, 64), { k: 10 }); // warm-up (sessions, workers)
  let started = performance.now();
  for (let u = 0; u < usersB1; u++) await model.recommend(slice(1000 + u, 1001 + u), { k: 10 });
  const b1 = usersB1 / ((performance.now() - started) / 1000);
  started = performance.now();
  for (let from = 2000; from < 2000 + usersB64; from += 64) await model.recommend(slice(from, from + 64), { k: 10 });
  const b64 = usersB64 / ((performance.now() - started) / 1000);
  const row = { model: name, users_per_s_batch1: +b1.toFixed(1), users_per_s_batch64: +b64.toFixed(1), load: loadavg()[0]!.toFixed(1) };
  console.error(JSON.stringify(row));
  return row;
}

const rows = [];
const tigerDir = option('tiger', '');
if (tigerDir) {
  const tiger = await loadTiger(tigerDir);
  rows.push(await measure(`tiger (${tiger.spec.architecture}, beam ${tiger.spec.beamWidth}, ${tiger.spec.workers} workers)`, tiger));
  await tiger.dispose();
}
const sasrecDir = option('sasrec', '');
if (sasrecDir) {
  const sasrec = await loadSasrec(sasrecDir, { threads: 2 });
  rows.push(await measure('sasrec (exact full ranking, 2 threads)', sasrec));
  await sasrec.dispose();
}
console.log(JSON.stringify({ data: 'toys test histories', k: 10, excludeHistory: true, rows }));
