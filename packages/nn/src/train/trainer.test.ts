import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '@genrec/core';
import { init, type Graph } from '../graph/graph.js';
import * as ops from '../graph/ops.js';
import { optimizers, type OptimizerConfig } from './optimizers.js';
import { Trainer } from './trainer.js';

const dir = mkdtempSync(join(tmpdir(), 'genrec-nn-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const start = Float64Array.of(0.5, -1.5, 2);
const target = Float64Array.of(1, 2, -3);

/** loss = 0.5 * sum((p - t)^2)  =>  grad = p - t */
function quadratic(graph: Graph) {
  const p = graph.parameter('p', [3], init.fromData(start), 'float64');
  const t = graph.input('t', 'float64', [3]);
  const d = ops.sub(p, t);
  return { loss: ops.mul(ops.reduceSum(ops.mul(d, d)), 0.5) };
}

function handAdam(steps: number, lr: number, config: { beta1: number; beta2: number; eps: number; wd: number; decoupled: boolean }): Float64Array {
  const p = start.slice();
  const m = new Float64Array(3);
  const v = new Float64Array(3);
  for (let t = 1; t <= steps; t++) {
    for (let i = 0; i < 3; i++) {
      let g = p[i]! - target[i]!;
      if (!config.decoupled) g += config.wd * p[i]!;
      else p[i] = p[i]! * (1 - lr * config.wd);
      m[i] = config.beta1 * m[i]! + (1 - config.beta1) * g;
      v[i] = config.beta2 * v[i]! + (1 - config.beta2) * g * g;
      const mhat = m[i]! / (1 - config.beta1 ** t);
      const vhat = v[i]! / (1 - config.beta2 ** t);
      p[i] = p[i]! - (lr * mhat) / (Math.sqrt(vhat) + config.eps);
    }
  }
  return p;
}

async function run(config: OptimizerConfig, steps: number, lr: number, clipNorm?: number): Promise<Float64Array> {
  const trainer = await Trainer.create({ build: quadratic, optimizer: config, intraOpNumThreads: 1, ...(clipNorm ? { clipNorm } : {}) });
  for (let s = 0; s < steps; s++) await trainer.step({ t: target }, { learningRate: lr });
  const out = trainer.parameter('p') as Float64Array;
  await trainer.release();
  return out;
}

describe('optimizers inside the graph', () => {
  it('Adam matches a hand computation over 4 steps', async () => {
    const got = await run(optimizers.adam({ beta1: 0.8, beta2: 0.95, epsilon: 1e-6, weightDecay: 0.1 }), 4, 0.05);
    const want = handAdam(4, 0.05, { beta1: 0.8, beta2: 0.95, eps: 1e-6, wd: 0.1, decoupled: false });
    for (let i = 0; i < 3; i++) expect(got[i]).toBeCloseTo(want[i]!, 12);
  });

  it('AdamW matches a hand computation over 4 steps', async () => {
    const got = await run(optimizers.adamw({ weightDecay: 0.2 }), 4, 0.1);
    const want = handAdam(4, 0.1, { beta1: 0.9, beta2: 0.999, eps: 1e-8, wd: 0.2, decoupled: true });
    for (let i = 0; i < 3; i++) expect(got[i]).toBeCloseTo(want[i]!, 12);
  });

  it('SGD with momentum matches a hand computation, and clipping scales the gradient', async () => {
    const got = await run(optimizers.sgd({ momentum: 0.9 }), 3, 0.1);
    const p = start.slice();
    const v = new Float64Array(3);
    for (let s = 0; s < 3; s++) for (let i = 0; i < 3; i++) {
      v[i] = 0.9 * v[i]! + (p[i]! - target[i]!);
      p[i] = p[i]! - 0.1 * v[i]!;
    }
    for (let i = 0; i < 3; i++) expect(got[i]).toBeCloseTo(p[i]!, 12);
    const clipped = await run(optimizers.sgd(), 1, 1, 0.5);
    const g = start.map((x, i) => x - target[i]!);
    const norm = Math.hypot(...g);
    for (let i = 0; i < 3; i++) expect(clipped[i]).toBeCloseTo(start[i]! - (g[i]! * 0.5) / (norm + 1e-6), 9);
  });
});

function mlp(graph: Graph, training = true) {
  const x = graph.input('x', 'float32', [16, 4]);
  const w1 = graph.parameter('w1', [4, 32], init.xavier());
  const b1 = graph.parameter('b1', [32], init.zeros());
  const w2 = graph.parameter('w2', [32, 3], init.xavier());
  const b2 = graph.parameter('b2', [3], init.zeros());
  const hidden = ops.dropout(ops.relu(ops.add(ops.matMul(x, w1), b1)), training ? 0.1 : 0);
  return ops.add(ops.matMul(hidden, w2), b2);
}

describe('Trainer', () => {
  const rng = new Rng(5);
  const x = new Float32Array(16 * 4).map(() => rng.normal());
  const labels = BigInt64Array.from({ length: 16 }, (_, i) => BigInt(i % 3));
  const build = (graph: Graph) => {
    const logits = mlp(graph);
    return { loss: ops.softmaxCrossEntropy(logits, graph.input('y', 'int64', [16])), outputs: { logits } };
  };

  it('overfits a tiny classification set with a seeded MLP (loss < 0.05 after 800 Adam steps)', async () => {
    const trainer = await Trainer.create({ build, optimizer: optimizers.adam(), seed: 3, intraOpNumThreads: 1 });
    let first = 0;
    let last = 0;
    for (let s = 0; s < 800; s++) {
      const r = await trainer.step({ x, y: labels }, { learningRate: 0.02 });
      if (s === 0) first = r.loss;
      last = r.loss;
    }
    expect(first).toBeGreaterThan(0.8);
    expect(last).toBeLessThan(0.05);
    // inference (no dropout) classifies every training row correctly
    const model = await trainer.compileInference((g) => ({ logits: mlp(g, false) }));
    const logits = (await model.run({ x })).logits as Float32Array;
    for (let r = 0; r < 16; r++) {
      const row = Array.from(logits.subarray(r * 3, r * 3 + 3));
      expect(row.indexOf(Math.max(...row))).toBe(r % 3);
    }
    // the exported standalone model reproduces the outputs to 1e-5
    const bytes = model.exportOnnx();
    const session = await ort.InferenceSession.create(bytes);
    const exported = (await session.run({ x: new ort.Tensor('float32', x, [16, 4]) })).logits!.data as Float32Array;
    for (let i = 0; i < logits.length; i++) expect(Math.abs(exported[i]! - logits[i]!)).toBeLessThan(1e-5);
    await trainer.release();
  });

  it('dropout: false builds the training graphs without dropout: the loss equals the dropout-free graph’s for any seed', async () => {
    const plain = (graph: Graph) => {
      const logits = mlp(graph, false);
      return { loss: ops.softmaxCrossEntropy(logits, graph.input('y', 'int64', [16])), outputs: { logits } };
    };
    const losses: number[] = [];
    let initial = new Map<string, Float32Array>();
    for (const [builder, seed, dropout] of [
      [plain, 3, true],
      [build, 3, false],
      [build, 4, false],
      [build, 3, true],
    ] as const) {
      // the parameters are initialised from `initial` so every run starts from the same weights
      const trainer = await Trainer.create({ build: builder, optimizer: optimizers.sgd(), seed, dropout, intraOpNumThreads: 1 });
      if (losses.length > 0) for (const [name, value] of initial) trainer.setParameter(name, value);
      else initial = new Map(['w1', 'b1', 'w2', 'b2'].map((name) => [name, Float32Array.from(trainer.parameter(name))]));
      losses.push((await trainer.step({ x, y: labels }, { learningRate: 0 })).loss);
      await trainer.release();
    }
    expect(losses[1]).toBe(losses[0]);
    expect(losses[2]).toBe(losses[0]);
    // with dropout the same weights give another loss (the masks are drawn)
    expect(losses[3]).not.toBe(losses[0]);
  });
  it('an exported inference model reproduces the training graph forward outputs to 1e-5', async () => {
    const plain = (graph: Graph) => {
      const logits = mlp(graph, false);
      return { loss: ops.softmaxCrossEntropy(logits, graph.input('y', 'int64', [16])), outputs: { logits } };
    };
    const trainer = await Trainer.create({ build: plain, optimizer: optimizers.adam(), seed: 6, intraOpNumThreads: 1 });
    await trainer.step({ x, y: labels }, { learningRate: 0.01 });
    const model = await trainer.compileInference((g) => ({ logits: mlp(g, false) }));
    const session = await ort.InferenceSession.create(model.exportOnnx());
    const exported = (await session.run({ x: new ort.Tensor('float32', x, [16, 4]) })).logits!.data as Float32Array;
    // the training step reports the logits of the parameters it started from (= the exported ones)
    const training = (await trainer.step({ x, y: labels }, { learningRate: 0.01 })).outputs.logits as Float32Array;
    expect(training.length).toBe(48);
    for (let i = 0; i < training.length; i++) expect(Math.abs(exported[i]! - training[i]!)).toBeLessThan(1e-5);
    await trainer.release();
  });

  it('is reproducible with a seed and resumes the same run from a checkpoint', async () => {
    const steps = async (trainer: Trainer, n: number) => {
      const losses: number[] = [];
      for (let s = 0; s < n; s++) losses.push((await trainer.step({ x, y: labels }, { learningRate: 0.01 })).loss);
      return losses;
    };
    const a = await Trainer.create({ build, optimizer: optimizers.adamw(), seed: 9, intraOpNumThreads: 1 });
    const straight = await steps(a, 10);
    const b = await Trainer.create({ build, optimizer: optimizers.adamw(), seed: 9, intraOpNumThreads: 1 });
    const firstHalf = await steps(b, 5);
    expect(firstHalf).toEqual(straight.slice(0, 5));
    const path = join(dir, 'mlp.safetensors');
    b.saveCheckpoint(path);
    const c = await Trainer.create({ build, optimizer: optimizers.adamw(), seed: 123, intraOpNumThreads: 1 });
    c.loadCheckpoint(path);
    expect(c.stepCount).toBe(5);
    expect(await steps(c, 5)).toEqual(straight.slice(5));
    // a different seed gives a different run
    const d = await Trainer.create({ build, optimizer: optimizers.adamw(), seed: 10, intraOpNumThreads: 1 });
    expect((await steps(d, 1))[0]).not.toBe(straight[0]);
    // the checkpoint is a plain safetensors file with the parameter names
    const header = JSON.parse(readFileSync(path).subarray(8, 8 + Number(readFileSync(path).readBigUInt64LE(0))).toString()) as Record<string, { shape: number[] }>;
    expect(header.w1!.shape).toEqual([4, 32]);
    expect(header['optimizer.m.w1']!.shape).toEqual([4, 32]);
    for (const t of [a, b, c, d]) await t.release();
  });

  it('gives identical runs with onnxruntime-allocated and preallocated (ping-pong) output buffers', async () => {
    const losses = async (outputBuffers: 'onnxruntime' | 'preallocated') => {
      const t = await Trainer.create({ build, optimizer: optimizers.adam(), seed: 4, intraOpNumThreads: 1, outputBuffers });
      const out: number[] = [];
      for (let s = 0; s < 6; s++) out.push((await t.step({ x, y: labels }, { learningRate: 0.01 })).loss);
      const w = Array.from(t.parameter('w2'));
      await t.release();
      return { out, w };
    };
    const a = await losses('onnxruntime');
    const b = await losses('preallocated');
    expect(b.out).toEqual(a.out);
    expect(b.w).toEqual(a.w);
  });

  it('shares parameters across shape buckets: a padded bucket gives the same update as an exact one', async () => {
    const bucketBuild = (g: Graph, rows: number) => {
      const input = g.input('x', 'float32', [rows, 4]);
      const w = g.parameter('w', [4, 3], init.xavier());
      return { loss: ops.softmaxCrossEntropy(ops.matMul(input, w), g.input('y', 'int64', [rows]), { ignoreIndex: -1 }) };
    };
    const exact = await Trainer.create({ build: bucketBuild, buckets: [4, 8], optimizer: optimizers.sgd({ momentum: 0.5 }), seed: 2, intraOpNumThreads: 1 });
    const padded = await Trainer.create({ build: bucketBuild, buckets: [4, 8], optimizer: optimizers.sgd({ momentum: 0.5 }), seed: 2, intraOpNumThreads: 1 });
    expect(padded.bucketFor(3)).toBe(4);
    expect(padded.bucketFor(5)).toBe(8);
    expect(() => padded.bucketFor(9)).toThrow(/no bucket holds 9/);
    const x4 = x.slice(0, 16);
    const y4 = labels.slice(0, 4);
    const x8 = new Float32Array(32);
    x8.set(x4);
    const y8 = BigInt64Array.from([...y4, -1n, -1n, -1n, -1n]);
    for (let s = 0; s < 3; s++) {
      const a = await exact.step({ x: x4, y: y4 }, { learningRate: 0.1, bucket: 4 });
      const b = await padded.step({ x: x8, y: y8 }, { learningRate: 0.1, bucket: 8 });
      expect(b.loss).toBeCloseTo(a.loss, 6);
    }
    const wa = exact.parameter('w');
    const wb = padded.parameter('w');
    for (let i = 0; i < wa.length; i++) expect(wb[i]).toBeCloseTo(wa[i]!, 6);
    // switching buckets keeps one set of parameters
    await padded.step({ x: x4, y: y4 }, { learningRate: 0.1, bucket: 4 });
    expect(padded.stepCount).toBe(4);
    await exact.release();
    await padded.release();
  });

  it('rejects a checkpoint with a wrong shape, naming the tensor', async () => {
    const small = await Trainer.create({ build: quadratic, optimizer: optimizers.sgd() });
    const path = join(dir, 'q.safetensors');
    small.saveCheckpoint(path, { includeOptimizer: false });
    const other = await Trainer.create({ build, optimizer: optimizers.sgd() });
    expect(() => other.loadCheckpoint(path)).toThrow(/no tensor "w1"/);
  });
});
