import { describe, expect, it } from 'vitest';
import { compileGraph } from '../runtime/compiled-graph.js';
import { attr } from '../onnx/proto.js';
import { gradients } from './autodiff.js';
import { Graph } from './graph.js';
import * as ops from './ops.js';

/** A gather gradient with many repeated indices (the shape of an embedding table's gradient). */
async function gatherGradient(threads: number, rows: number, width: number, indices: BigInt64Array, weights: Float32Array): Promise<Float32Array> {
  const g = new Graph();
  const table = g.input('table', 'float32', [rows, width]);
  const ids = g.input('ids', 'int64', [indices.length]);
  const w = g.input('w', 'float32', [indices.length, width]);
  const loss = ops.reduceSum(ops.mul(ops.gather(table, ids), w));
  const [grad] = gradients(loss, [table]);
  const compiled = await compileGraph(g, { outputs: [grad!], intraOpNumThreads: threads });
  const result = await compiled.run({ table: new Float32Array(rows * width), ids: indices, w: weights });
  await compiled.release();
  return Float32Array.from(Object.values(result)[0] as Float32Array);
}

describe('scatterAdd (the gather gradient) with repeated indices', () => {
  it('adds every update on two threads (onnxruntime ScatterND add lost updates there) and gives the same bits each run', async () => {
    const rows = 400;
    const width = 32;
    const count = 10_240;
    // a fifth of the updates hit row 0 (padding), the rest 300 rows: thousands of repeats
    const indices = BigInt64Array.from({ length: count }, (_, i) => BigInt(i % 5 === 0 ? 0 : 1 + ((i * 7919) % 300)));
    const weights = Float32Array.from({ length: count * width }, (_, i) => Math.sin(i * 1.3));
    const reference = new Float64Array(rows * width);
    for (let p = 0; p < count; p++) for (let k = 0; k < width; k++) reference[Number(indices[p]) * width + k]! += weights[p * width + k]!;
    const first = await gatherGradient(2, rows, width, indices, weights);
    let worst = 0;
    for (let j = 0; j < reference.length; j++) worst = Math.max(worst, Math.abs(first[j]! - reference[j]!));
    expect(worst).toBeLessThan(1e-3);
    const again = await gatherGradient(2, rows, width, indices, weights);
    expect(again).toEqual(first);
    expect(await gatherGradient(1, rows, width, indices, weights)).toEqual(first);
  });

  it('gives, on one or two threads, the bits of the ScatterND add it replaced run on one thread', async () => {
    const rows = 400;
    const width = 16;
    const count = 4_096;
    const indices = BigInt64Array.from({ length: count }, (_, i) => BigInt(i % 3 === 0 ? 0 : (i * 7919) % rows));
    const updates = Float32Array.from({ length: count * width }, (_, i) => Math.sin(i * 0.7) * 1e3);
    const run = async (legacy: boolean, threads: number): Promise<Float32Array> => {
      const g = new Graph();
      const data = g.input('data', 'float32', [rows, width]);
      const ids = ops.unsqueeze(g.input('ids', 'int64', [count]), [1]);
      const u = g.input('u', 'float32', [count, width]);
      const out = legacy
        ? g.addNode({ opType: 'ScatterND', inputs: [data, ids, u], outputs: [{ dtype: 'float32', shape: [rows, width] }], attributes: { reduction: attr.string('add') } })[0]!
        : ops.scatterAdd(data, ids, u);
      const compiled = await compileGraph(g, { outputs: [out], intraOpNumThreads: threads });
      const result = Object.values(await compiled.run({ data: new Float32Array(rows * width), ids: indices, u: updates }))[0] as Float32Array;
      await compiled.release();
      return Float32Array.from(result);
    };
    const legacyOneThread = await run(true, 1);
    expect(await run(false, 1)).toEqual(legacyOneThread);
    expect(await run(false, 2)).toEqual(legacyOneThread);
  });

  it('scatters index tuples into the leading axes, negative coordinates from the end', async () => {
    const g = new Graph();
    const data = g.input('data', 'float32', [3, 4, 2]);
    const indices = g.constant(BigInt64Array.of(0n, 1n, -1n, -1n, 0n, 1n, 2n, 3n), [4, 2], 'int64');
    const updates = g.input('updates', 'float32', [4, 2]);
    const out = ops.scatterAdd(data, indices, updates);
    const compiled = await compileGraph(g, { outputs: [out], intraOpNumThreads: 2 });
    const base = Float32Array.from({ length: 24 }, (_, i) => i);
    const u = Float32Array.of(1, 2, 10, 20, 100, 200, 1000, 2000);
    const result = Object.values(await compiled.run({ data: base, updates: u }))[0] as Float32Array;
    await compiled.release();
    const expected = Float32Array.from(base);
    const at = (r: number, c: number) => (r * 4 + c) * 2;
    // (0,1) += [1,2]; (-1,-1) = (2,3) += [10,20] and again [1000,2000]; (0,1) += [100,200]
    for (const [r, c, a, b] of [[0, 1, 1, 2], [2, 3, 10, 20], [0, 1, 100, 200], [2, 3, 1000, 2000]] as const) {
      expected[at(r, c)]! += a;
      expected[at(r, c) + 1]! += b;
    }
    expect(Array.from(result)).toEqual(Array.from(expected));
  });

  it('refuses indices that do not fit the data', () => {
    const g = new Graph();
    const data = g.input('data', 'float32', [3, 4]);
    expect(() => ops.scatterAdd(data, g.constant(BigInt64Array.of(0n, 1n, 2n), [1, 3], 'int64'), g.input('u', 'float32', [1]))).toThrow(/indices must be \[\.\.\., q\]/);
    expect(() => ops.scatterAdd(data, g.constant(BigInt64Array.of(0n, 1n), [2, 1], 'int64'), g.input('v', 'float32', [2, 3]))).toThrow(/updates must be \[2, 4\]/);
  });
});
