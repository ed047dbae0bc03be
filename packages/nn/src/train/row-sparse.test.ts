import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '@genrec/core';
import { init, type Graph } from '../graph/graph.js';
import * as ops from '../graph/ops.js';
import { rowSparseParameter } from '../graph/row-sparse.js';
import { embedding } from '../layers/embedding.js';
import { optimizers } from './optimizers.js';
import { Trainer } from './trainer.js';

const dir = mkdtempSync(join(tmpdir(), 'genrec-nn-sparse-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ROWS = 10;
const WIDTH = 3;
const LOOKUPS = 4;
const start = Float64Array.from({ length: ROWS * WIDTH }, (_, i) => Math.sin(i + 1));

/** loss = 0.5 * sum over lookups k of |E[ids_k] - y_k|^2 (+ the same for a second index input) */
function quadratic(sparse: boolean) {
  return (graph: Graph) => {
    const ids = graph.input('ids', 'int64', [LOOKUPS]);
    const more = graph.input('more', 'int64', [2]);
    const y = graph.input('y', 'float64', [LOOKUPS, WIDTH]);
    const z = graph.input('z', 'float64', [2, WIDTH]);
    let lookup: (t: typeof ids) => typeof ids;
    if (sparse) {
      const table = rowSparseParameter(graph, 'table', [ROWS, WIDTH], init.fromData(start), { maxRows: LOOKUPS + 2, dtype: 'float64' });
      lookup = (t) => table.gather(t);
    } else {
      const table = graph.parameter('table', [ROWS, WIDTH], init.fromData(start), 'float64');
      lookup = (t) => ops.gather(table, t);
    }
    const d = ops.sub(lookup(ids), y);
    const e = ops.sub(lookup(more), z);
    return { loss: ops.mul(ops.add(ops.reduceSum(ops.mul(d, d)), ops.reduceSum(ops.mul(e, e))), 0.5) };
  };
}

interface Batch {
  ids: BigInt64Array;
  more: BigInt64Array;
  y: Float64Array;
  z: Float64Array;
}

function batches(count: number, pick: (rng: Rng) => number, seed = 7): Batch[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => ({
    ids: BigInt64Array.from({ length: LOOKUPS }, () => BigInt(pick(rng))),
    more: BigInt64Array.from({ length: 2 }, () => BigInt(pick(rng))),
    y: Float64Array.from({ length: LOOKUPS * WIDTH }, () => rng.normal()),
    z: Float64Array.from({ length: 2 * WIDTH }, () => rng.normal()),
  }));
}

/** Lazy Adam in float64: only rows some index of the step points at move, with the global step's bias correction. */
function lazyAdamReference(steps: readonly Batch[], lr: number, beta1: number, beta2: number, eps: number) {
  const p = start.slice();
  const m = new Float64Array(p.length);
  const v = new Float64Array(p.length);
  steps.forEach((batch, s) => {
    const t = s + 1;
    const grad = new Float64Array(p.length);
    const touched = new Set<number>();
    const add = (ids: BigInt64Array, target: Float64Array) => ids.forEach((id, k) => {
      const row = Number(id);
      touched.add(row);
      for (let j = 0; j < WIDTH; j++) grad[row * WIDTH + j]! += p[row * WIDTH + j]! - target[k * WIDTH + j]!;
    });
    add(batch.ids, batch.y);
    add(batch.more, batch.z);
    for (const row of touched) for (let j = 0; j < WIDTH; j++) {
      const i = row * WIDTH + j;
      m[i] = beta1 * m[i]! + (1 - beta1) * grad[i]!;
      v[i] = beta2 * v[i]! + (1 - beta2) * grad[i]! ** 2;
      p[i] = p[i]! - (lr * (m[i]! / (1 - beta1 ** t))) / (Math.sqrt(v[i]! / (1 - beta2 ** t)) + eps);
    }
  });
  return { p, m, v };
}

async function train(sparse: boolean, steps: readonly Batch[], optimizer = optimizers.adam({ beta1: 0.8, beta2: 0.9, epsilon: 1e-6 })) {
  const trainer = await Trainer.create({ build: quadratic(sparse), optimizer, intraOpNumThreads: 1 });
  const losses: number[] = [];
  for (const b of steps) losses.push((await trainer.step({ ids: b.ids, more: b.more, y: b.y, z: b.z }, { learningRate: 0.05 })).loss);
  return { trainer, losses };
}

describe('row-sparse parameters (lazy optimizer updates)', () => {
  it('equal dense Adam when every row is touched at every step', async () => {
    // 6 lookups over rows {0..5}: each step touches all of them (ROWS 10 > 6: rows 6..9 are never touched by either)
    const steps = batches(6, () => 0).map((b, s) => ({ ...b, ids: BigInt64Array.of(0n, 1n, 2n, BigInt(3 + (s % 2))), more: BigInt64Array.of(5n, BigInt(4 - (s % 2))) }));
    const dense = await train(false, steps);
    const sparse = await train(true, steps);
    expect(sparse.trainer.rowSparseParameters).toEqual(['table']);
    expect(sparse.losses).toEqual(dense.losses);
    const pd = dense.trainer.parameter('table');
    const ps = sparse.trainer.parameter('table');
    // rows 0..5: the same update bit for bit; rows 6..9 have zero gradient, so dense Adam leaves them too
    expect(Array.from(ps)).toEqual(Array.from(pd));
    expect(Array.from(sparse.trainer.optimizerState().get('optimizer.m.table')!)).toEqual(Array.from(dense.trainer.optimizerState().get('optimizer.m.table')!));
    await dense.trainer.release();
    await sparse.trainer.release();
  });

  it('match a float64 lazy-Adam reference when rows are touched now and then, and leave untouched rows and their moments exactly', async () => {
    const steps = batches(8, (rng) => rng.int(ROWS - 2)); // rows 8 and 9 are never looked up
    const { trainer } = await train(true, steps);
    const want = lazyAdamReference(steps, 0.05, 0.8, 0.9, 1e-6);
    const got = trainer.parameter('table');
    const state = trainer.optimizerState();
    for (let i = 0; i < got.length; i++) {
      expect(got[i]).toBeCloseTo(want.p[i]!, 12);
      expect(state.get('optimizer.m.table')![i]).toBeCloseTo(want.m[i]!, 12);
      expect(state.get('optimizer.v.table')![i]).toBeCloseTo(want.v[i]!, 12);
    }
    // a row no step touched keeps its initial value bit for bit; dense Adam would not (decayed moments keep moving it)
    const touched = new Set(steps.flatMap((b) => [...b.ids, ...b.more].map(Number)));
    const untouched = [...Array(ROWS).keys()].filter((r) => !touched.has(r));
    expect(untouched.length).toBeGreaterThan(0);
    for (const r of untouched) for (let j = 0; j < WIDTH; j++) expect(got[r * WIDTH + j]).toBe(start[r * WIDTH + j]);
    // rows touched at some steps and not at others: dense Adam keeps moving them by their momentum at the others
    const dense = await train(false, steps);
    const differs = [...touched].some((r) => Array.from({ length: WIDTH }, (_, j) => dense.trainer.parameter('table')[r * WIDTH + j] !== got[r * WIDTH + j]).some(Boolean));
    expect(differs).toBe(true);
    await trainer.release();
    await dense.trainer.release();
  });

  it('refuses out-of-range ids and more than maxRows distinct rows, then keeps training normally', async () => {
    const steps = batches(3, (rng) => rng.int(ROWS));
    const { trainer } = await train(true, steps.slice(0, 1));
    const before = Array.from(trainer.parameter('table'));
    const b = steps[1]!;
    await expect(trainer.step({ ...b, ids: BigInt64Array.of(1n, 2n, 10n, 3n) }, { learningRate: 0.05 })).rejects.toThrow(/index 2 is 10, outside the 10 rows/);
    await expect(trainer.step({ ...b, ids: BigInt64Array.of(1n, 2n, -1n, 3n) }, { learningRate: 0.05 })).rejects.toThrow(/outside the 10 rows/);
    await expect(trainer.step({ ...b, ids: BigInt64Array.of(0n, 1n, 2n, 3n), more: BigInt64Array.of(4n, 5n) }, { learningRate: 0.05 })).resolves.toBeDefined();
    const afterGood = Array.from(trainer.parameter('table'));
    const maxRows = await Trainer.create({
      build: (g) => {
        const ids = g.input('ids', 'int64', [4]);
        const t = rowSparseParameter(g, 'table', [ROWS, WIDTH], init.normal(1), { maxRows: 3 });
        return { loss: ops.reduceSum(t.gather(ids)) };
      },
      optimizer: optimizers.adam(),
    });
    await expect(maxRows.step({ ids: BigInt64Array.of(1n, 2n, 3n, 4n) }, { learningRate: 0.1 })).rejects.toThrow(/more than maxRows = 3 distinct rows/);
    await expect(maxRows.step({ ids: BigInt64Array.of(1n, 2n, 3n, 1n) }, { learningRate: 0.1 })).resolves.toBeDefined();
    expect(before).not.toEqual(afterGood);
    expect(trainer.stepCount).toBe(2);
    await trainer.release();
    await maxRows.release();
  });

  it('keeps the caller\'s ids for other uses, and checkpoints load between dense and row-sparse trainers', async () => {
    // rows looked up by `ids` and masked where ids == 0 (padding): the mask must see the global ids
    const build = (sparse: boolean) => (g: Graph) => {
      const ids = g.input('ids', 'int64', [6]);
      const layer = embedding(g, 'emb', 8, 4, { zeroRow: 0, ...(sparse ? { sparseRows: 6 } : {}) });
      const keep = ops.cast(ops.not(ops.equal(ids, g.scalar(0, 'int64'))), 'float32');
      const vectors = ops.mul(layer.lookup(ids), ops.unsqueeze(keep, [1]));
      return { loss: ops.reduceSum(ops.mul(vectors, vectors)) };
    };
    const ids = BigInt64Array.of(0n, 7n, 3n, 0n, 3n, 5n);
    const dense = await Trainer.create({ build: build(false), optimizer: optimizers.adamw({ weightDecay: 0 }), seed: 2 });
    const sparse = await Trainer.create({ build: build(true), optimizer: optimizers.adamw({ weightDecay: 0 }), seed: 2 });
    for (let s = 0; s < 3; s++) {
      const a = await dense.step({ ids }, { learningRate: 0.01 });
      const b = await sparse.step({ ids }, { learningRate: 0.01 });
      expect(b.loss).toBe(a.loss);
    }
    expect(Array.from(sparse.parameter('emb.weight'))).toEqual(Array.from(dense.parameter('emb.weight')));
    const path = join(dir, 'sparse.safetensors');
    sparse.saveCheckpoint(path);
    const reloaded = await Trainer.create({ build: build(false), optimizer: optimizers.adamw({ weightDecay: 0 }), seed: 99 });
    reloaded.loadCheckpoint(path);
    expect(reloaded.stepCount).toBe(3);
    expect(Array.from(reloaded.parameter('emb.weight'))).toEqual(Array.from(sparse.parameter('emb.weight')));
    expect(Array.from(reloaded.optimizerState().get('optimizer.v.emb.weight')!)).toEqual(Array.from(sparse.optimizerState().get('optimizer.v.emb.weight')!));
    const back = await Trainer.create({ build: build(true), optimizer: optimizers.adamw({ weightDecay: 0 }), seed: 98 });
    back.loadCheckpoint(path);
    const c = await back.step({ ids }, { learningRate: 0.01 });
    const d = await dense.step({ ids }, { learningRate: 0.01 });
    expect(c.loss).toBe(d.loss);
    for (const t of [dense, sparse, reloaded, back]) await t.release();
  });

  it('refuses the full tensor in an op and lookups by anything but an index input', async () => {
    await expect(
      Trainer.create({
        build: (g) => {
          const t = rowSparseParameter(g, 'table', [ROWS, WIDTH], init.zeros(), { maxRows: 4 });
          return { loss: ops.reduceSum(t.tensor) };
        },
        optimizer: optimizers.sgd(),
      }),
    ).rejects.toThrow(/can only be read through its gather/);
    const g = new (await import('../graph/graph.js')).Graph();
    const t = rowSparseParameter(g, 'table', [ROWS, WIDTH], init.zeros(), { maxRows: 4 });
    const ids = g.input('ids', 'int64', [2]);
    expect(() => t.gather(ops.add(ids, g.scalar(1, 'int64')))).toThrow(/int64\/int32 graph inputs/);
    expect(() => rowSparseParameter(g, 'other', [ROWS, WIDTH], init.zeros(), { maxRows: 0 })).toThrow(/maxRows/);
    expect(t.gather(ids).shape).toEqual([2, WIDTH]);
    expect(t.rows.shape).toEqual([4, WIDTH]);
  });
});
