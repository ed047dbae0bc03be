import { createMatrix, Rng } from '@genrec/core';
import { matMul, matMulTopK } from '@genrec/nn';
const rng = new Rng(1);
const mk = (r, c) => { const m = createMatrix(r, c); for (let i = 0; i < m.data.length; i++) m.data[i] = rng.normal(); return m; };
async function time(name, f, reps = 100) { for (let i = 0; i < 10; i++) await f(); const s = performance.now(); for (let i = 0; i < reps; i++) await f(); console.log(name, ((performance.now() - s) / reps * 1000).toFixed(0), 'us'); }
const big = mk(2048, 128), cen = mk(256, 128), big2 = mk(2048,129), cen2 = mk(256,129);
const cn = new Float64Array(256).fill(1);
function argmin(dots) { let ch=0; for (let r=0;r<2048;r++){ let best=Infinity, second=Infinity, bi=0; const base=r*256; for (let j=0;j<256;j++){ const v=cn[j]-2*dots[base+j]; if (v<second){ if(v<best){second=best;best=v;bi=j;} else second=v; } } ch+=bi+second; } return ch; }
function argmin2(dots) { let ch=0; for (let r=0;r<2048;r++){ let best=Infinity, bi=0; const base=r*256; for (let j=0;j<256;j++){ const v=cn[j]+dots[base+j]; if (v<best){best=v;bi=j;} } let second=Infinity; for (let j=0;j<256;j++){ const v=cn[j]+dots[base+j]; if (v<second && j!==bi) second=v; } ch+=bi+second; } return ch; }
for (let round = 0; round < 2; round++) {
  await time('matMul', () => matMul(big, cen, { transposeB: true }));
  const d = (await matMul(big, cen, { transposeB: true })).data;
  await time('argmin js', () => argmin(d));
  await time('argmin2 js', () => argmin2(d));
  await time('matMul+argmin', async () => argmin((await matMul(big, cen, { transposeB: true })).data));
  await time('topk2', () => matMulTopK(big2, cen2, 2, { transposeB: true }));
  await time('topk2 1thr', () => matMulTopK(big2, cen2, 2, { transposeB: true, intraOpNumThreads: 1 }));
}
