/**
 * Kernel sessions: symbolic vs static row dimension for a Gemm (why the kernels use symbolic dims),
 * and matMul / matMulTopK / squaredDistances timings.
 *   flock /tmp/genrec-bench.lock npx tsx --conditions=@genrec/source bench/kernels.ts
 */
import * as ort from 'onnxruntime-node';
import { Rng, createMatrix } from '@genrec/core';
import { attr, encodeModel, matMul, matMulTopK, squaredDistances } from '../src/index.js';

const rng = new Rng(1);
const random = (rows: number, cols: number) => createMatrix(rows, cols, new Float32Array(rows * cols).map(() => rng.normal()));

async function gemmSession(m: number | string, n: number | string, k: number) {
  const bytes = encodeModel({
    nodes: [{ opType: 'Gemm', inputs: ['a', 'b'], outputs: ['c'], attributes: { transB: attr.int(1) } }],
    inputs: [
      { name: 'a', dtype: 'float32', shape: [m, k] },
      { name: 'b', dtype: 'float32', shape: [n, k] },
    ],
    outputs: [{ name: 'c', dtype: 'float32', shape: [m, n] }],
  });
  return ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
}

async function time(repeats: number, body: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 3; i++) await body();
  const t = performance.now();
  for (let i = 0; i < repeats; i++) await body();
  return (performance.now() - t) / repeats;
}

const rows: Record<string, string | number>[] = [];
for (const [m, n, k, repeats] of [[256, 12000, 64, 20], [37, 12000, 64, 20], [4, 8, 64, 2000]] as const) {
  const a = random(m, k);
  const b = random(n, k);
  const feeds = { a: new ort.Tensor('float32', a.data, [m, k]), b: new ort.Tensor('float32', b.data, [n, k]) };
  const staticSession = await gemmSession(m, n, k);
  const symbolicSession = await gemmSession('m', 'n', k);
  const staticMs = await time(repeats, () => staticSession.run(feeds));
  const symbolicMs = await time(repeats, () => symbolicSession.run(feeds));
  rows.push({ case: `gemm ${m}x${k} by ${n}x${k}^T`, static_ms: +staticMs.toFixed(3), symbolic_ms: +symbolicMs.toFixed(3) });
}
const queries = random(1024, 64);
const items = random(11924, 64);
rows.push({ case: 'matMul 1024x64 by 11924x64^T (1 thread)', ms: +(await time(10, () => matMul(queries, items, { transposeB: true, intraOpNumThreads: 1 }))).toFixed(2) });
const reused = createMatrix(1024, 11924);
rows.push({ case: 'matMul same, into a reused out matrix', ms: +(await time(10, () => matMul(queries, items, { transposeB: true, intraOpNumThreads: 1, out: reused }))).toFixed(2) });
rows.push({ case: 'matMulTopK k=10 1024 x 11924 (1 thread)', ms: +(await time(10, () => matMulTopK(queries, items, 10, { transposeB: true, intraOpNumThreads: 1 }))).toFixed(2) });
rows.push({ case: 'squaredDistances 1024 x 256 centroids (1 thread)', ms: +(await time(20, () => squaredDistances(queries, random(256, 64), { intraOpNumThreads: 1 }))).toFixed(2) });
console.table(rows);
console.log(JSON.stringify({ benchmark: 'nn-kernels', rows }));
