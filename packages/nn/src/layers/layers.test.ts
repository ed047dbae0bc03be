import { describe, expect, it } from 'vitest';
import { Rng } from '@genrec/core';
import { Graph, type SymbolicTensor } from '../graph/graph.js';
import * as ops from '../graph/ops.js';
import { checkGradients } from '../graph/gradient-check.js';
import { CompiledGraph } from '../runtime/compiled-graph.js';
import { optimizers } from '../train/optimizers.js';
import { Trainer } from '../train/trainer.js';
import { blockMask, causalMask, combineMasks, embedding, keyPaddingMask, learnedPositions, linear, multiHeadAttention, sinusoidalPositions, transformerDecoderLayer, transformerEncoderLayer, layerNorm } from './index.js';

const B = 2;
const T = 5;
const D = 8;

async function attentionOutputs(mask: (g: Graph) => SymbolicTensor | undefined, x: Float32Array, pad?: Uint8Array): Promise<Float32Array> {
  const g = new Graph({ seed: 4, training: false });
  const input = g.input('x', 'float32', [B, T, D]);
  const padding = pad ? g.input('pad', 'bool', [B, T]) : undefined;
  const m = combineMasks(mask(g), padding ? keyPaddingMask(padding) : undefined);
  const y = multiHeadAttention(input, input, 'attn', { heads: 2, ...(m ? { mask: m } : {}) });
  const model = await CompiledGraph.create(g, { outputs: [y], outputNames: ['y'] });
  return (await model.run(pad ? { x, pad } : { x })).y as Float32Array;
}

function randomInput(seed: number): Float32Array {
  const rng = new Rng(seed);
  return new Float32Array(B * T * D).map(() => rng.normal());
}

describe('multi-head attention masks', () => {
  it('causal: changing a later token leaves earlier outputs unchanged', async () => {
    const x = randomInput(1);
    const before = await attentionOutputs((g) => causalMask(g, T), x);
    const changed = x.slice();
    for (let d = 0; d < D; d++) changed[3 * D + d]! += 1; // batch 0, position 3
    const after = await attentionOutputs((g) => causalMask(g, T), changed);
    for (let t = 0; t < T; t++) {
      const diff = Math.max(...Array.from({ length: D }, (_, d) => Math.abs(after[t * D + d]! - before[t * D + d]!)));
      if (t < 3) expect(diff).toBeLessThan(1e-6);
      else expect(diff).toBeGreaterThan(1e-4);
    }
    // without a mask, earlier positions do change
    const free = await attentionOutputs(() => undefined, x);
    const freeChanged = await attentionOutputs(() => undefined, changed);
    expect(Math.abs(free[0]! - freeChanged[0]!)).toBeGreaterThan(1e-5);
  });

  it('block mask: a token does not see its sibling (same group) tokens', async () => {
    // groups of positions {0}, {1,2}, {3,4}: see earlier groups and itself, not siblings
    const group = [0, 1, 1, 2, 2];
    const allowed = (i: number, j: number) => group[j]! < group[i]! || i === j;
    const x = randomInput(2);
    const before = await attentionOutputs((g) => blockMask(g, T, T, allowed), x);
    const changed = x.slice();
    for (let d = 0; d < D; d++) changed[2 * D + d]! += 1; // position 2 (sibling of 1)
    const after = await attentionOutputs((g) => blockMask(g, T, T, allowed), changed);
    const delta = (t: number) => Math.max(...Array.from({ length: D }, (_, d) => Math.abs(after[t * D + d]! - before[t * D + d]!)));
    expect(delta(0)).toBeLessThan(1e-6);
    expect(delta(1)).toBeLessThan(1e-6); // sibling: unchanged
    expect(delta(2)).toBeGreaterThan(1e-4); // itself
    expect(delta(3)).toBeGreaterThan(1e-4); // later group sees it
  });

  it('key padding: changing padded keys leaves outputs unchanged', async () => {
    const pad = Uint8Array.of(0, 0, 0, 1, 1, 0, 0, 0, 0, 0);
    const x = randomInput(3);
    const before = await attentionOutputs(() => undefined, x, pad);
    const changed = x.slice();
    for (let d = 0; d < D; d++) changed[4 * D + d]! -= 2; // batch 0, padded position 4
    const after = await attentionOutputs(() => undefined, changed, pad);
    for (let t = 0; t < 4; t++) for (let d = 0; d < D; d++) expect(Math.abs(after[t * D + d]! - before[t * D + d]!)).toBeLessThan(1e-6);
  });

  it('attention and a decoder layer with cross-attention have correct gradients (float64)', async () => {
    const r = await checkGradients(
      (g, [x, mem]) => {
        const h = transformerDecoderLayer(x!, mem!, 'dec', { heads: 2, ffnWidth: 6, activation: 'relu', mask: causalMask(g, 3) });
        return layerNorm(h, 'final');
      },
      [{ shape: [1, 3, 4] }, { shape: [1, 2, 4] }],
    );
    expect(r.maxError).toBeLessThan(1e-6);
  });
});

describe('attention with a head dimension (heads x headDimension != width)', () => {
  /** Naive float64 multi-head attention from the graph's parameter values (PyTorch [out, in] layout). */
  function naiveAttention(params: Map<string, Float64Array>, x: Float64Array, mem: Float64Array, dims: { batch: number; queries: number; keys: number; width: number; heads: number; headDim: number }, allowed: (q: number, k: number) => boolean): Float64Array {
    const { batch, queries, keys, width, heads, headDim } = dims;
    const inner = heads * headDim;
    const project = (input: Float64Array, rows: number, name: string, outFeatures: number, inFeatures: number): Float64Array => {
      const w = params.get(`${name}.weight`)!;
      const b = params.get(`${name}.bias`)!;
      const out = new Float64Array(rows * outFeatures);
      for (let r = 0; r < rows; r++) {
        for (let o = 0; o < outFeatures; o++) {
          let sum = b[o]!;
          for (let i = 0; i < inFeatures; i++) sum += input[r * inFeatures + i]! * w[o * inFeatures + i]!;
          out[r * outFeatures + o] = sum;
        }
      }
      return out;
    };
    const q = project(x, batch * queries, 'attn.q', inner, width);
    const k = project(mem, batch * keys, 'attn.k', inner, width);
    const v = project(mem, batch * keys, 'attn.v', inner, width);
    const context = new Float64Array(batch * queries * inner);
    for (let b = 0; b < batch; b++) {
      for (let h = 0; h < heads; h++) {
        for (let i = 0; i < queries; i++) {
          const scores = Array.from({ length: keys }, (_, j) => {
            if (!allowed(i, j)) return Number.NEGATIVE_INFINITY;
            let s = 0;
            for (let c = 0; c < headDim; c++) s += q[(b * queries + i) * inner + h * headDim + c]! * k[(b * keys + j) * inner + h * headDim + c]!;
            return s / Math.sqrt(headDim);
          });
          const max = Math.max(...scores);
          const e = scores.map((s) => Math.exp(s - max));
          const total = e.reduce((a, c) => a + c, 0);
          for (let j = 0; j < keys; j++) for (let c = 0; c < headDim; c++) context[(b * queries + i) * inner + h * headDim + c]! += (e[j]! / total) * v[(b * keys + j) * inner + h * headDim + c]!;
        }
      }
    }
    return project(context, batch * queries, 'attn.out', width, inner);
  }

  it('projects width -> heads x headDimension -> width and matches a naive float64 implementation', async () => {
    const dims = { batch: 2, queries: 3, keys: 4, width: 4, heads: 3, headDim: 5 };
    const g = new Graph({ seed: 9, training: false });
    const x = g.input('x', 'float64', [dims.batch, dims.queries, dims.width]);
    const mem = g.input('mem', 'float64', [dims.batch, dims.keys, dims.width]);
    const allowed = (i: number, j: number) => j !== 1 && j <= i + 1;
    const mask = blockMask(g, dims.queries, dims.keys, allowed);
    const y = multiHeadAttention(x, mem, 'attn', { heads: 3, headDimension: 5, mask });
    expect(g.parameters.map((p) => [p.tensor.name, [...p.tensor.shape]])).toEqual([
      ['attn.q.weight', [15, 4]],
      ['attn.q.bias', [15]],
      ['attn.k.weight', [15, 4]],
      ['attn.k.bias', [15]],
      ['attn.v.weight', [15, 4]],
      ['attn.v.bias', [15]],
      ['attn.out.weight', [4, 15]],
      ['attn.out.bias', [4]],
    ]);
    // non-zero biases so that they are checked too
    const rng = new Rng(3);
    const params = new Map<string, Float64Array>();
    for (const p of g.parameters) {
      if (p.tensor.name.endsWith('.bias')) for (let i = 0; i < p.initial.length; i++) p.initial[i] = rng.normal(0, 0.5);
      params.set(p.tensor.name, Float64Array.from(p.initial));
    }
    const xv = new Float64Array(dims.batch * dims.queries * dims.width).map(() => rng.normal());
    const mv = new Float64Array(dims.batch * dims.keys * dims.width).map(() => rng.normal());
    const model = await CompiledGraph.create(g, { outputs: [y], outputNames: ['y'] });
    const got = (await model.run({ x: xv, mem: mv })).y as Float64Array;
    const expected = naiveAttention(params, xv, mv, dims, allowed);
    expect(got.length).toBe(expected.length);
    let worst = 0;
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - expected[i]!));
    // 1e-7, not 1e-15: onnxruntime fuses MatMul + Mul(1/sqrt(5)) into FusedMatMul whose alpha is a
    // float32 attribute (with headDimension 4, an exact 0.5, the difference is 3e-16)
    expect(worst).toBeLessThan(1e-7);
    // without headDimension the old rule holds: heads must divide the width
    const h = new Graph();
    const z = h.input('z', 'float32', [1, 2, 4]);
    expect(() => multiHeadAttention(z, z, 'a', { heads: 3 })).toThrow(/do not divide width 4/);
    expect(() => multiHeadAttention(z, z, 'b', { heads: 3, headDimension: 0 })).toThrow(/headDimension/);
  });

  it('keeps exact gradients with a head dimension and without biases (float64)', async () => {
    const attention = await checkGradients((g, [x, mem]) => multiHeadAttention(x!, mem!, 'attn', { heads: 3, headDimension: 2, mask: causalMask(g, 3), bias: false }), [{ shape: [2, 3, 4] }, { shape: [2, 3, 4] }]);
    expect(attention.maxError).toBeLessThan(1e-6);
    const layer = await checkGradients(
      (g, [x, mem]) => layerNorm(transformerDecoderLayer(x!, mem!, 'dec', { heads: 3, headDimension: 2, ffnWidth: 5, activation: 'relu', mask: causalMask(g, 3), bias: false, layerNormEpsilon: 1e-3 }), 'final'),
      [{ shape: [1, 3, 4] }, { shape: [1, 2, 4] }],
    );
    expect(layer.maxError).toBeLessThan(1e-6);
  });
});

describe('positions', () => {
  it('sinusoidal values follow the formula', async () => {
    const g = new Graph();
    const pe = sinusoidalPositions(g, 4, 6);
    const model = await CompiledGraph.create(g, { outputs: [ops.identity(pe)], outputNames: ['pe'] });
    const v = (await model.run({})).pe as Float32Array;
    expect(v[0]).toBeCloseTo(0, 6);
    expect(v[1]).toBeCloseTo(1, 6);
    expect(v[3 * 6 + 2]).toBeCloseTo(Math.sin(3 / Math.pow(10000, 2 / 6)), 6);
    expect(v[3 * 6 + 5]).toBeCloseTo(Math.cos(3 / Math.pow(10000, 4 / 6)), 6);
  });
});

describe('2-layer causal Transformer language model', () => {
  it('overfits a tiny corpus (mean next-token loss < 0.05 within 400 seeded AdamW steps)', async () => {
    const vocab = 11;
    const length = 8;
    const batch = 6;
    // deterministic sequences: each starts at a different token and counts up modulo vocab-1 (0 is padding)
    const tokens = new BigInt64Array(batch * length);
    const targets = new BigInt64Array(batch * length);
    for (let b = 0; b < batch; b++) {
      for (let t = 0; t < length; t++) {
        tokens[b * length + t] = BigInt(1 + ((b * 3 + t * (b % 2 === 0 ? 1 : 2)) % 10));
      }
      for (let t = 0; t < length; t++) targets[b * length + t] = t + 1 < length ? tokens[b * length + t + 1]! : -100n;
    }
    const build = (g: Graph) => {
      const ids = g.input('tokens', 'int64', [batch, length]);
      const labels = g.input('targets', 'int64', [batch * length]);
      const emb = embedding(g, 'tok', vocab, 32);
      let h = ops.add(ops.add(emb.lookup(ids), learnedPositions(g, 'pos', length, 32)), sinusoidalPositions(g, length, 32));
      const mask = causalMask(g, length);
      for (let l = 0; l < 2; l++) h = transformerEncoderLayer(h, `layer${l}`, { heads: 4, ffnWidth: 64, dropout: 0.1, mask });
      const logits = linear(layerNorm(h, 'final_norm'), 'head', vocab);
      return { loss: ops.softmaxCrossEntropy(ops.reshape(logits, [batch * length, vocab]), labels) };
    };
    const trainer = await Trainer.create({ build, optimizer: optimizers.adamw({ weightDecay: 0.01 }), seed: 42, clipNorm: 1, intraOpNumThreads: 1 });
    const losses: number[] = [];
    for (let s = 0; s < 400; s++) losses.push((await trainer.step({ tokens, targets }, { learningRate: 3e-3 })).loss);
    expect(losses[0]).toBeGreaterThan(2);
    const tail = losses.slice(-10).reduce((a, b) => a + b, 0) / 10;
    expect(tail).toBeLessThan(0.05);
    await trainer.release();
  });
});

describe('decoder step with a key/value cache', () => {
  it('prefill + one cached step reproduce the full causal decoder layer, and export with cache inputs/outputs', async () => {
    const { transformerDecoderLayerStep } = await import('./transformer.js');
    const ort = await import('onnxruntime-node');
    const Tn = 4;
    const heads = 2;
    const rng = new Rng(8);
    const x = new Float32Array(1 * Tn * D).map(() => rng.normal());
    const mem = new Float32Array(1 * 3 * D).map(() => rng.normal());
    const opts = { heads, ffnWidth: 16 };
    // full layer over all positions
    const full = new Graph({ seed: 5, training: false });
    const fx = full.input('x', 'float32', [1, Tn, D]);
    const fm = full.input('memory', 'float32', [1, 3, D]);
    const fy = transformerDecoderLayer(fx, fm, 'dec', { ...opts, mask: causalMask(full, Tn) });
    const fullOut = (await (await CompiledGraph.create(full, { outputs: [fy], outputNames: ['y'] })).run({ x, memory: mem })).y as Float32Array;
    // prefill positions 0..Tn-2 (same seed => same parameters)
    const pre = new Graph({ seed: 5, training: false });
    const px = pre.input('x', 'float32', [1, Tn - 1, D]);
    const pm = pre.input('memory', 'float32', [1, 3, D]);
    const p = transformerDecoderLayerStep(px, pm, 'dec', { ...opts, mask: causalMask(pre, Tn - 1) });
    const preOut = await (await CompiledGraph.create(pre, { outputs: [p.output, p.key, p.value], outputNames: ['y', 'key', 'value'] })).run({ x: x.slice(0, (Tn - 1) * D), memory: mem });
    // one step for the last position with the cache as inputs; exported as a standalone model
    const step = new Graph({ seed: 5, training: false });
    const sx = step.input('x', 'float32', [1, 1, D]);
    const sm = step.input('memory', 'float32', [1, 3, D]);
    const pastKey = step.input('past_key', 'float32', [1, heads, Tn - 1, D / heads]);
    const pastValue = step.input('past_value', 'float32', [1, heads, Tn - 1, D / heads]);
    const s = transformerDecoderLayerStep(sx, sm, 'dec', { ...opts, pastKey, pastValue });
    const bytes = step.toModel({ outputs: [s.output, s.key, s.value], outputNames: ['y', 'present_key', 'present_value'] }).bytes;
    const session = await ort.InferenceSession.create(bytes);
    const out = await session.run({
      x: new ort.Tensor('float32', x.slice((Tn - 1) * D), [1, 1, D]),
      memory: new ort.Tensor('float32', mem, [1, 3, D]),
      past_key: new ort.Tensor('float32', preOut.key as Float32Array, [1, heads, Tn - 1, D / heads]),
      past_value: new ort.Tensor('float32', preOut.value as Float32Array, [1, heads, Tn - 1, D / heads]),
    });
    const y = out.y!.data as Float32Array;
    for (let d = 0; d < D; d++) expect(Math.abs(y[d]! - fullOut[(Tn - 1) * D + d]!)).toBeLessThan(1e-5);
    for (let i = 0; i < (Tn - 1) * D; i++) expect(Math.abs((preOut.y as Float32Array)[i]! - fullOut[i]!)).toBeLessThan(1e-5);
    expect(out.present_key!.dims).toEqual([1, heads, Tn, D / heads]);
  });
});
