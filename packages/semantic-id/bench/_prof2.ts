import { createMatrix, RawDump, Rng } from '@genrec/core';
import { kMeansPlusPlusInit, assignNearest } from '../src/kmeans.js';
import { squaredRowNorms } from '../src/kernels.js';
const dump = new RawDump('/tmp/peer-dumps/rq_kmeans');
const t = dump.read('rq_titles');
const v = createMatrix(t.shape[0]!, t.shape[1]!, t.data as Float32Array);
const n = v.rows;
for (let r = 0; r < 4; r++) {
  let s = performance.now();
  const c = await kMeansPlusPlusInit(v, 256, 4096, new Rng(r), 'auto', 7);
  const ti = performance.now() - s;
  s = performance.now();
  const rows = Int32Array.from({ length: n }, (_, i) => i);
  const labels = new Int32Array(n).fill(-1);
  await assignNearest(v, squaredRowNorms(v), rows, n, c, labels, new Float64Array(n), new Float64Array(n), 'auto');
  const ta = performance.now() - s;
  console.log('init', ti.toFixed(1), 'assign', ta.toFixed(1));
}
