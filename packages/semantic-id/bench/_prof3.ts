import { createMatrix, Rng } from '@genrec/core';
import { matMul } from '@genrec/nn';
import { matMulTransposedJs, transpose } from '../src/kernels.js';
const rng = new Rng(1);
const mk = (r: number, c: number) => { const m = createMatrix(r, c); for (let i = 0; i < m.data.length; i++) m.data[i] = rng.normal(); return m; };
const a = mk(7, 128), b = mk(4096, 128), bt = transpose(b);
const out = createMatrix(7, 4096);
async function time(name: string, f: () => Promise<unknown> | unknown, reps = 512) {
  for (let i = 0; i < 50; i++) await f();
  const s = performance.now();
  for (let i = 0; i < reps; i++) await f();
  console.log(name, ((performance.now() - s) / reps * 1000).toFixed(1), 'us');
}
for (let round = 0; round < 2; round++) {
await time('ort transB', () => matMul(a, b, { transposeB: true }));
await time('ort transB out', () => matMul(a, b, { transposeB: true, out }));
await time('ort pre-T', () => matMul(a, bt));
await time('ort pre-T out', () => matMul(a, bt, { out }));
await time('ort pre-T 1thr', () => matMul(a, bt, { intraOpNumThreads: 1 }));
await time('js', () => matMulTransposedJs(a, b, out), 50);
const big = mk(2048, 128), cen = mk(256, 128), cent = transpose(cen);
await time('assign chunk transB', () => matMul(big, cen, { transposeB: true }), 50);
await time('assign chunk preT', () => matMul(big, cent), 50);
const o2 = createMatrix(2048, 256);
await time('assign chunk preT out', () => matMul(big, cent, { out: o2 }), 50);
await time('assign chunk transB out', () => matMul(big, cen, { transposeB: true, out: o2 }), 50);
}
