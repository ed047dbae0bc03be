/**
 * FlatIndex block size and compiled vectors, on the `ann_hnsw` peer's two data sets (the vectors it
 * dumps): for each score block size, `prepare: 'never'` and `'always'` side by side in one process,
 * 1,000 queries, k 10, 1 thread, median of 6 timed passes after a warm-up, interleaved; and the
 * compilation alone (`@genrec/nn`'s prepareMatMulTopK over the stored vectors), 5 times.
 *
 *   flock /tmp/genrec-bench.lock npx tsx --conditions=@genrec/source bench/flat-blocks.ts [--blocks 262144,524288,1048576,2097152] [--dumps /tmp/peer-dumps/ann_hnsw]
 *
 * The dumps come from `../shared/peers/ann_hnsw.py ... --dump-dir DIR` (README "Commands").
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { RawDump, createMatrix, selectRows, type Matrix } from '@genrec/core';
import { prepareMatMulTopK } from '@genrec/nn';
import { FlatIndex } from '../src/index.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
};
const dumps = option('dumps', '/tmp/peer-dumps/ann_hnsw');
if (!existsSync(join(dumps, 'manifest.json'))) {
  console.error(`skipped: no peer dumps in ${dumps} (run ann_hnsw.py with --dump-dir first)`);
  process.exit(0);
}
const blocks = option('blocks', '262144,524288,1048576,2097152').split(',').map(Number);
const dump = new RawDump(dumps);
const matrix = (name: string): Matrix => {
  const tensor = dump.read(name);
  return createMatrix(tensor.shape[0]!, tensor.shape[1]!, tensor.data as Float32Array);
};

for (const name of ['titles', 'random']) {
  const baseMatrix = matrix(`ann_${name}_base`);
  const queryMatrix = name === 'titles' ? selectRows(baseMatrix, dump.read('ann_titles_query_rows').data as Int32Array) : matrix('ann_random_query');
  const base = baseMatrix.data;
  const queries = queryMatrix.data;
  const d = baseMatrix.cols;
  const n = base.length / d;
  const queryCount = queries.length / d;
  const compileMs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const product = await prepareMatMulTopK(createMatrix(n, d, base), { transposeB: true, intraOpNumThreads: 1 });
    compileMs.push(performance.now() - t);
    await product.release();
  }
  console.log(`${name} ${n} x ${d}: compilation ${compileMs.map((ms) => ms.toFixed(1)).join(' / ')} ms`);
  const indexes: [string, FlatIndex][] = [];
  for (const block of blocks) {
    for (const prepare of ['never', 'always'] as const) {
      const index = new FlatIndex({ dimension: d, metric: 'ip', backend: 'onnxruntime', intraOpNumThreads: 1, initialCapacity: n, scoreBlockSize: block, prepare });
      await index.add(Int32Array.from({ length: n }, (_, i) => i), base);
      await index.search(queries, 10); // warm-up (compiles 'always')
      indexes.push([`block ${block} ${prepare}`, index]);
    }
  }
  const times = new Map<string, number[]>(indexes.map(([label]) => [label, []]));
  for (let rep = 0; rep < 6; rep++) {
    for (const [label, index] of indexes) {
      const t = performance.now();
      await index.search(queries, 10);
      times.get(label)!.push(performance.now() - t);
    }
  }
  for (const [label, index] of indexes) {
    const sorted = times.get(label)!.sort((a, b) => a - b);
    console.log(`${name} ${label}: ${((queryCount / ((sorted[2]! + sorted[3]!) / 2)) * 1000).toFixed(0)} queries/s`);
    await index.dispose();
  }
}
