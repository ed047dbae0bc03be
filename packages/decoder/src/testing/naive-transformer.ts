import { Rng } from '@genrec/core';
import type { WeightShape } from '../transformer/spec.js';
import { transformerWeightShapes, type ResolvedTransformerSpec } from '../transformer/spec.js';

/*
 * A direct float64 implementation of the TransformerSpec architecture for tests, reading the
 * canonical layout (nn's names, projections [out, in]) directly: the whole prefix is recomputed at
 * every position (no cache, no packing, no tables), padding positions included and masked as keys,
 * as the TIGER peer's PyTorch code does.
 */

type Weights = ReadonlyMap<string, Float32Array | Float64Array>;

/** The dimensions the naive pieces read. */
interface NaiveDimensions {
  modelDimension: number;
  heads: number;
  headDimension: number;
  feedForwardDimension: number;
  activation: 'relu' | 'gelu';
  layerNormEpsilon: number;
  vocabularySize: number;
}

type Vector = Float64Array;

function row(weights: Weights, name: string, r: number, width: number): Vector {
  return Float64Array.from(weights.get(name)!.subarray(r * width, (r + 1) * width));
}

/** `W x + b` with `W` `[output, input]` (PyTorch's layout). */
function linear(x: Vector, weights: Weights, name: string, output: number): Vector {
  const w = weights.get(`${name}.weight`)!;
  const bias = weights.get(`${name}.bias`);
  const input = x.length;
  const y = new Float64Array(output);
  for (let o = 0; o < output; o++) {
    let sum = bias ? bias[o]! : 0;
    for (let i = 0; i < input; i++) sum += x[i]! * w[o * input + i]!;
    y[o] = sum;
  }
  return y;
}

function norm(x: Vector, weights: Weights, name: string, epsilon: number): Vector {
  let mean = 0;
  for (const v of x) mean += v;
  mean /= x.length;
  let variance = 0;
  for (const v of x) variance += (v - mean) ** 2;
  variance /= x.length;
  const gain = weights.get(`${name}.weight`)!;
  const bias = weights.get(`${name}.bias`)!;
  return x.map((v, i) => ((v - mean) / Math.sqrt(variance + epsilon)) * gain[i]! + bias[i]!);
}

/** erf to ~1e-9 (series for small |x|, continued fraction otherwise). */
export function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const z = Math.abs(x);
  if (z < 2.5) {
    let term = z;
    let sum = z;
    for (let n = 1; n < 60; n++) {
      term *= (-z * z) / n;
      sum += term / (2 * n + 1);
    }
    return (sign * 2 * sum) / Math.sqrt(Math.PI);
  }
  // erfc continued fraction (Lentz)
  let f = z;
  let c = z;
  let d = 0;
  for (let n = 1; n < 100; n++) {
    const a = n / 2;
    d = z + a * d;
    d = 1 / d;
    c = z + a / c;
    f *= c * d;
  }
  const erfc = Math.exp(-z * z) / Math.sqrt(Math.PI) / f;
  return sign * (1 - erfc);
}

function add(a: Vector, b: Vector): Vector {
  return a.map((v, i) => v + b[i]!);
}

function attention(queries: Vector[], keys: Vector[], values: Vector[], masked: boolean[], causal: boolean, spec: NaiveDimensions): Vector[] {
  const { heads: H, headDimension: k } = spec;
  return queries.map((q, i) => {
    const out = new Float64Array(H * k);
    for (let h = 0; h < H; h++) {
      const scores: number[] = [];
      for (let j = 0; j < keys.length; j++) {
        if (masked[j] || (causal && j > i)) {
          scores.push(Number.NEGATIVE_INFINITY);
          continue;
        }
        let s = 0;
        for (let c = 0; c < k; c++) s += q[h * k + c]! * keys[j]![h * k + c]!;
        scores.push(s / Math.sqrt(k));
      }
      const max = Math.max(...scores);
      const weights = scores.map((s) => Math.exp(s - max));
      const total = weights.reduce((a, b) => a + b, 0);
      for (let j = 0; j < keys.length; j++) {
        if (weights[j] === 0) continue;
        for (let c = 0; c < k; c++) out[h * k + c]! += (weights[j]! / total) * values[j]![h * k + c]!;
      }
    }
    return out;
  });
}

function feedForward(x: Vector, weights: Weights, name: string, spec: NaiveDimensions): Vector {
  const hidden = linear(x, weights, `${name}.fc1`, spec.feedForwardDimension).map((v) => (spec.activation === 'relu' ? Math.max(0, v) : 0.5 * v * (1 + erf(v / Math.SQRT2))));
  return linear(hidden, weights, `${name}.fc2`, spec.modelDimension);
}

/** Self- or cross-attention block `<name>.{q,k,v,out}` of queries `x` over `memory`. */
function attentionBlock(x: Vector[], memory: Vector[], masked: boolean[], causal: boolean, weights: Weights, name: string, spec: NaiveDimensions): Vector[] {
  const inner = spec.heads * spec.headDimension;
  const attended = attention(
    x.map((v) => linear(v, weights, `${name}.q`, inner)),
    memory.map((v) => linear(v, weights, `${name}.k`, inner)),
    memory.map((v) => linear(v, weights, `${name}.v`, inner)),
    masked,
    causal,
    spec,
  );
  return attended.map((v) => linear(v, weights, `${name}.out`, spec.modelDimension));
}

/** Logits of a final hidden state: `output.weight` `[V, d]` or the tied embedding, plus `output.bias`. */
function outputLogits(last: Vector, weights: Weights, spec: NaiveDimensions): Vector {
  const d = spec.modelDimension;
  const table = weights.get('output.weight') ?? weights.get('embedding.weight')!;
  const bias = weights.get('output.bias');
  const logits = new Float64Array(spec.vocabularySize);
  for (let t = 0; t < spec.vocabularySize; t++) {
    let sum = bias ? bias[t]! : 0;
    for (let c = 0; c < d; c++) sum += last[c]! * table[t * d + c]!;
    logits[t] = sum;
  }
  return logits;
}

/** The encoder's output for one context (every position, padding included). */
export function naiveEncode(spec: ResolvedTransformerSpec, weights: Weights, tokens: ArrayLike<number>): { memory: Vector[]; masked: boolean[] } {
  const d = spec.modelDimension;
  const masked = Array.from(tokens, (t) => t === spec.padToken);
  let x = Array.from(tokens, (t, c) => add(row(weights, 'embedding.weight', t, d), row(weights, 'encoder.position.weight', c, d)));
  for (let i = 0; i < spec.encoderLayers; i++) {
    const p = `encoder.layers.${i}`;
    const h = x.map((v) => norm(v, weights, `${p}.norm1`, spec.layerNormEpsilon));
    const attended = attentionBlock(h, h, masked, false, weights, `${p}.self_attn`, spec);
    x = x.map((v, j) => add(v, attended[j]!));
    x = x.map((v) => add(v, feedForward(norm(v, weights, `${p}.norm2`, spec.layerNormEpsilon), weights, `${p}.ffn`, spec)));
  }
  return { memory: x.map((v) => norm(v, weights, 'encoder.norm', spec.layerNormEpsilon)), masked };
}

/** The logits after the last token of `prefix` (start token first), recomputing the whole prefix. */
export function naiveNextLogits(spec: ResolvedTransformerSpec, weights: Weights, encoded: { memory: Vector[]; masked: boolean[] }, prefix: readonly number[]): Vector {
  const d = spec.modelDimension;
  let x = prefix.map((t, j) => add(row(weights, 'embedding.weight', t, d), row(weights, 'decoder.position.weight', j, d)));
  const none = prefix.map(() => false);
  for (let i = 0; i < spec.decoderLayers; i++) {
    const p = `decoder.layers.${i}`;
    const h = x.map((v) => norm(v, weights, `${p}.norm1`, spec.layerNormEpsilon));
    const self = attentionBlock(h, h, none, true, weights, `${p}.self_attn`, spec);
    x = x.map((v, j) => add(v, self[j]!));
    const h2 = x.map((v) => norm(v, weights, `${p}.norm2`, spec.layerNormEpsilon));
    const cross = attentionBlock(h2, encoded.memory, encoded.masked, false, weights, `${p}.cross_attn`, spec);
    x = x.map((v, j) => add(v, cross[j]!));
    x = x.map((v) => add(v, feedForward(norm(v, weights, `${p}.norm3`, spec.layerNormEpsilon), weights, `${p}.ffn`, spec)));
  }
  return outputLogits(norm(x[x.length - 1]!, weights, 'decoder.norm', spec.layerNormEpsilon), weights, spec);
}

/** What the naive decoder-only model reads of a causal spec. */
export interface NaiveCausalSpec extends NaiveDimensions {
  layers: number;
  padToken: number;
  positions: 'column' | 'sequence';
}

/**
 * The decoder-only model's logits after the last token of `context ++ generated`, recomputing the
 * whole sequence: padding tokens of the context are masked as keys; a token's position is its
 * column (`'column'`; generated tokens continue after the context's last column) or its index
 * among the real tokens (`'sequence'`).
 */
export function naiveCausalNextLogits(spec: NaiveCausalSpec, weights: Weights, context: readonly number[], generated: readonly number[]): Vector {
  const d = spec.modelDimension;
  const tokens = [...context, ...generated];
  const masked = tokens.map((t, c) => c < context.length && t === spec.padToken);
  let real = 0;
  const positions = tokens.map((_, c) => (spec.positions === 'column' ? c : masked[c] ? 0 : real++));
  let x = tokens.map((t, c) => add(row(weights, 'embedding.weight', t, d), row(weights, 'position.weight', positions[c]!, d)));
  for (let i = 0; i < spec.layers; i++) {
    const p = `layers.${i}`;
    const h = x.map((v) => norm(v, weights, `${p}.norm1`, spec.layerNormEpsilon));
    const self = attentionBlock(h, h, masked, true, weights, `${p}.self_attn`, spec);
    x = x.map((v, j) => add(v, self[j]!));
    x = x.map((v) => add(v, feedForward(norm(v, weights, `${p}.norm2`, spec.layerNormEpsilon), weights, `${p}.ffn`, spec)));
  }
  return outputLogits(norm(x[x.length - 1]!, weights, 'norm', spec.layerNormEpsilon), weights, spec);
}

/**
 * Random weights for a listing (normal, std 0.3; norm gains around 1), seeded. `biases` adds every
 * optional projection bias; `untiedOutput` adds `output.weight`.
 */
export function randomWeights(shapes: readonly WeightShape[], seed: number, options: { biases?: boolean; untiedOutput?: boolean } = {}): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const weights = new Map<string, Float32Array>();
  for (const { name, shape, optional } of shapes) {
    if (optional && !(name === 'output.weight' ? options.untiedOutput : options.biases)) continue;
    const size = shape.reduce((a, b) => a * b, 1);
    const isGain = /(^|\.)norm\d?\.weight$/.test(name);
    weights.set(name, Float32Array.from({ length: size }, () => (isGain ? 1 : 0) + rng.normal(0, 0.3)));
  }
  return weights;
}

/** {@link randomWeights} for an encoder-decoder spec. */
export function randomTransformerWeights(spec: ResolvedTransformerSpec, seed: number, options: { biases?: boolean; untiedOutput?: boolean } = {}): Map<string, Float32Array> {
  return randomWeights(transformerWeightShapes(spec), seed, options);
}
