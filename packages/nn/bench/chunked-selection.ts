/**
 * `prepareMatMulTopK`'s two selections on the `ann_hnsw` peer's vectors (random 100,000 x 64 or the
 * Toys titles 11,924 x 128), 1,000 queries, k 10 (`--k`), one thread: queries per second for each selection
 * at several query rows per call (default: the rows a `FlatIndex` uses at its default blocks,
 * 2^20 scores for the whole-row form and 2^21 for the chunked one, `/ scoreColumns`); median of 3
 * passes after a warm-up; both must give the same top k.
 *
 *   flock /tmp/genrec-bench.lock npx tsx --conditions=@genrec/source bench/chunked-selection.ts [random|titles] [rows,...] [--k 10] [--dumps /tmp/peer-dumps/ann_hnsw]
 */
import { createMatrix } from '@genrec/core';
import { prepareMatMulTopK, type PreparedMatMulTopK } from '../src/index.js';
import { readPeerVectors } from './peer-vectors.js';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const dumps = flag('--dumps') ?? '/tmp/peer-dumps/ann_hnsw';
const positional = args.filter((arg, i) => !arg.startsWith('--') && !args[i - 1]?.startsWith('--'));
const which = positional[0] ?? 'random';
const vectors = readPeerVectors(dumps, which);
if (vectors === undefined) {
  console.error(`skipped: no peer dumps in ${dumps} (run ../shared/peers/ann_hnsw.py with --dump-dir first)`);
  process.exit(0);
}
const { base, queries } = vectors;
const d = base.cols;
const k = Number(flag('--k') ?? 10);

const products: [string, PreparedMatMulTopK][] = [];
for (const selection of ['whole', 'chunked'] as const) {
  const t = performance.now();
  const product = await prepareMatMulTopK(base, { transposeB: true, selection, intraOpNumThreads: 1 });
  console.log(`${which} ${base.rows} x ${d} ${selection}: compiled in ${(performance.now() - t).toFixed(0)} ms, ${product.scoreColumns} scores per row at once`);
  products.push([selection, product]);
}
const runs: [string, PreparedMatMulTopK, number][] = [];
for (const [selection, product] of products) {
  const rowsList = positional[1] ? positional[1].split(',').map(Number) : [Math.max(1, Math.floor((selection === 'chunked' ? 1 << 21 : 1 << 20) / product.scoreColumns))];
  for (const rows of rowsList) runs.push([`${selection} ${rows} rows/call`, product, rows]);
}
let reference: string | undefined;
const times = new Map<string, number[]>(runs.map(([name]) => [name, []]));
for (let rep = 0; rep < 4; rep++) {
  for (const [name, product, rows] of runs) {
    const t = performance.now();
    const ids: number[] = [];
    for (let start = 0; start < queries.rows; start += rows) {
      const r = Math.min(rows, queries.rows - start);
      const top = await product.topK(createMatrix(r, d, queries.data.subarray(start * d, (start + r) * d)), k);
      if (rep === 0) ids.push(...top.indices);
    }
    const ms = performance.now() - t;
    if (rep === 0) {
      const all = ids.join(',');
      reference ??= all;
      if (all !== reference) throw new Error(`${name}: results differ from the first form's`);
    } else times.get(name)!.push(ms);
  }
}
for (const [name, ms] of times) {
  const sorted = ms.sort((a, b) => a - b);
  console.log(`${which} ${name}: ${((queries.rows / sorted[1]!) * 1000).toFixed(0)} queries/s`);
}
for (const [, product] of products) await product.release();
