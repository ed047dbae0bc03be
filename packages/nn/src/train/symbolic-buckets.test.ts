import { describe, expect, it } from 'vitest';
import { Rng } from '@genrec/core';
import { init, type Graph } from '../graph/graph.js';
import * as ops from '../graph/ops.js';
import { rowSparseParameter } from '../graph/row-sparse.js';
import { optimizers } from './optimizers.js';
import { Trainer, type TrainerOptions } from './trainer.js';

const ITEMS = 7;
const WIDTH = 4;

/**
 * `rows` scored positions of 3 sequences x 5 slots: hidden states from a row-sparse embedding,
 * dropout on the selected rows (a mask whose size follows the bucket), a tied softmax over items
 * (gemm against a dense output table), reshapes, an expand (reduceSum's gradient), concat and slices.
 */
function build(sparse: boolean) {
  return (g: Graph, rows: number) => {
    const seq = g.input('seq', 'int64', [15]);
    const positions = g.input('positions', 'int64', [rows]);
    const labels = g.input('labels', 'int64', [rows]);
    const weights = g.input('weights', 'float32', [rows]);
    let hidden;
    if (sparse) hidden = rowSparseParameter(g, 'emb', [ITEMS + 1, WIDTH], init.normal(0.5), { maxRows: 15 }).gather(seq);
    else hidden = ops.gather(g.parameter('emb', [ITEMS + 1, WIDTH], init.normal(0.5)), seq);
    const w = g.parameter('w', [WIDTH, WIDTH], init.xavier());
    const out = g.parameter('out', [ITEMS, WIDTH], init.normal(0.5));
    const h = ops.dropout(ops.tanh(ops.matMul(ops.gather(hidden, positions), w)), 0.25); // [rows, WIDTH]
    const norm = ops.reduceSum(ops.mul(h, h), [1], true); // [rows, 1]
    const scaled = ops.mul(h, ops.reshape(ops.reshape(ops.add(norm, 1), [rows]), [rows, 1]));
    const scores = ops.gemm(scaled, out, { transB: true });
    const logits = ops.slice(ops.concat([scores, ops.slice(scores, [0], [1], [1])], 1), [0], [ITEMS], [1]);
    const loss = ops.add(ops.softmaxCrossEntropy(logits, labels), ops.mul(ops.reduceSum(ops.mul(ops.reduceSum(scaled, [1]), weights)), 1e-3));
    return { loss, outputs: { logits } };
  };
}

function batch(rng: Rng, count: number, bucket: number) {
  return {
    seq: BigInt64Array.from({ length: 15 }, () => BigInt(rng.int(ITEMS + 1))),
    positions: BigInt64Array.from({ length: bucket }, (_, i) => BigInt(i < count ? rng.int(15) : 0)),
    labels: BigInt64Array.from({ length: bucket }, (_, i) => (i < count ? BigInt(rng.int(ITEMS)) : -100n)),
    weights: Float32Array.from({ length: bucket }, (_, i) => (i < count ? rng.normal() : 0)),
  };
}

async function run(options: Partial<TrainerOptions> & { sparse?: boolean }, counts: readonly number[]) {
  const trainer = await Trainer.create({ build: build(options.sparse ?? false), buckets: [4, 8, 12], optimizer: optimizers.adam(), seed: 3, intraOpNumThreads: 1, ...options });
  const rng = new Rng(11);
  const losses: number[] = [];
  for (const count of counts) {
    const bucket = trainer.bucketFor(count);
    losses.push((await trainer.step(batch(rng, count, bucket), { learningRate: 0.05, bucket })).loss);
  }
  return { trainer, losses };
}

describe('symbolic shape buckets', () => {
  const counts = [3, 9, 5, 12, 1, 7, 11, 4];

  it('serve every bucket from one session with the same run as one session per bucket', async () => {
    for (const sparse of [false, true]) {
      const symbolic = await run({ bucketShapes: 'symbolic', sparse }, counts);
      const fixed = await run({ bucketShapes: 'static', sparse }, counts);
      const auto = await run({ sparse }, counts.slice(0, 2));
      expect(symbolic.trainer.bucketShapes).toBe('symbolic');
      expect(fixed.trainer.bucketShapes).toBe('static');
      expect(auto.trainer.bucketShapes).toBe('symbolic');
      expect(symbolic.trainer.staticReason).toBeUndefined();
      for (let i = 0; i < counts.length; i++) expect(symbolic.losses[i]).toBeCloseTo(fixed.losses[i]!, 6);
      for (const name of ['emb', 'w', 'out']) {
        const a = symbolic.trainer.parameter(name);
        const b = fixed.trainer.parameter(name);
        for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i]!, 6);
      }
      for (const t of [symbolic, fixed, auto]) await t.trainer.release();
    }
  });

  it('check feeds against the bucket given to step', async () => {
    const { trainer } = await run({ bucketShapes: 'symbolic' }, [3]);
    const rng = new Rng(1);
    await expect(trainer.step(batch(rng, 3, 4), { learningRate: 0.01, bucket: 8 })).rejects.toThrow(/needs 8 values, got 4/);
    await expect(trainer.step(batch(rng, 3, 5), { learningRate: 0.01, bucket: 5 })).rejects.toThrow(/bucket 5 is not one of \[4, 8, 12\]/);
    await trainer.release();
  });

  it('fall back to static sessions (auto) or refuse (symbolic) when the graph bakes the bucket into a constant', async () => {
    const baked = (g: Graph, rows: number) => {
      const x = g.input('x', 'float32', [rows, 2]);
      const p = g.parameter('p', [2], init.ones());
      const ramp = g.constant(Float32Array.from({ length: rows }, (_, i) => i), [rows, 1], 'float32');
      return { loss: ops.reduceSum(ops.mul(ops.mul(x, p), ramp)) };
    };
    const auto = await Trainer.create({ build: baked, buckets: [2, 4], optimizer: optimizers.sgd() });
    expect(auto.bucketShapes).toBe('static');
    expect(auto.staticReason).toMatch(/constant const_\d+, input of Mul -> mul_\d+ differs between buckets 2 and 4/);
    const r = await auto.step({ x: new Float32Array(8).fill(1) }, { learningRate: 0.1, bucket: 4 });
    expect(r.loss).toBeCloseTo(12, 6); // sum of (0 + 1 + 2 + 3) * 2
    await auto.release();
    await expect(Trainer.create({ build: baked, buckets: [2, 4], optimizer: optimizers.sgd(), bucketShapes: 'symbolic' })).rejects.toThrow(/bucketShapes 'symbolic' needs a graph that depends on the bucket only through input\/output sizes: constant/);
    await expect(Trainer.create({ build: baked, buckets: [2, 4], optimizer: optimizers.sgd(), bucketShapes: 'sometimes' as never })).rejects.toThrow(/bucketShapes/);
  });
});
