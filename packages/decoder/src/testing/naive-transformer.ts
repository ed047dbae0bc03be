import { Rng } from '@genrec/core';
import { transformerWeightShapes, type ResolvedTransformerSpec, type TransformerWeights } from '../transformer/spec.js';

/*
 * A direct float64 implementation of the TransformerSpec architecture for tests: the whole prefix
 * is recomputed at every position (no cache, no packing, no tables), padding positions included
 * and masked as keys, as the TIGER peer's PyTorch code does.
 */

type Vector = Float64Array;

function row(weights: TransformerWeights, name: string, r: number, width: number): Vector {
  return Float64Array.from(weights.get(name)!.subarray(r * width, (r + 1) * width));
}

function linear(x: Vector, weights: TransformerWeights, name: string, output: number): Vector {
  const w = weights.get(`${name}.weight`)!;
  const bias = weights.get(`${name}.bias`);
  const y = new Float64Array(output);
  for (let o = 0; o < output; o++) {
    let sum = bias ? bias[o]! : 0;
    for (let i = 0; i < x.length; i++) sum += x[i]! * w[i * output + o]!;
    y[o] = sum;
  }
  return y;
}

function norm(x: Vector, weights: TransformerWeights, name: string, epsilon: number): Vector {
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

function attention(queries: Vector[], keys: Vector[], values: Vector[], masked: boolean[], causal: boolean, spec: ResolvedTransformerSpec): Vector[] {
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

function feedForward(x: Vector, weights: TransformerWeights, name: string, spec: ResolvedTransformerSpec): Vector {
  const hidden = linear(x, weights, `${name}.in`, spec.feedForwardDimension).map((v) => (spec.activation === 'relu' ? Math.max(0, v) : 0.5 * v * (1 + erf(v / Math.SQRT2))));
  return linear(hidden, weights, `${name}.out`, spec.modelDimension);
}

/** The encoder's output for one context (every position, padding included). */
export function naiveEncode(spec: ResolvedTransformerSpec, weights: TransformerWeights, tokens: ArrayLike<number>): { memory: Vector[]; masked: boolean[] } {
  const d = spec.modelDimension;
  const inner = spec.heads * spec.headDimension;
  const masked = Array.from(tokens, (t) => t === spec.padToken);
  let x = Array.from(tokens, (t, c) => add(row(weights, 'embedding', t, d), row(weights, 'encoder.position', c, d)));
  for (let i = 0; i < spec.encoderLayers; i++) {
    const p = `encoder.layers.${i}`;
    const h = x.map((v) => norm(v, weights, `${p}.norm1`, spec.layerNormEpsilon));
    const attended = attention(
      h.map((v) => linear(v, weights, `${p}.attention.query`, inner)),
      h.map((v) => linear(v, weights, `${p}.attention.key`, inner)),
      h.map((v) => linear(v, weights, `${p}.attention.value`, inner)),
      masked,
      false,
      spec,
    );
    x = x.map((v, j) => add(v, linear(attended[j]!, weights, `${p}.attention.output`, d)));
    x = x.map((v) => add(v, feedForward(norm(v, weights, `${p}.norm2`, spec.layerNormEpsilon), weights, `${p}.feedForward`, spec)));
  }
  return { memory: x.map((v) => norm(v, weights, 'encoder.norm', spec.layerNormEpsilon)), masked };
}

/** The logits after the last token of `prefix` (start token first), recomputing the whole prefix. */
export function naiveNextLogits(spec: ResolvedTransformerSpec, weights: TransformerWeights, encoded: { memory: Vector[]; masked: boolean[] }, prefix: readonly number[]): Vector {
  const d = spec.modelDimension;
  const inner = spec.heads * spec.headDimension;
  let x = prefix.map((t, j) => add(row(weights, 'embedding', t, d), row(weights, 'decoder.position', j, d)));
  const none = prefix.map(() => false);
  for (let i = 0; i < spec.decoderLayers; i++) {
    const p = `decoder.layers.${i}`;
    const h = x.map((v) => norm(v, weights, `${p}.norm1`, spec.layerNormEpsilon));
    const self = attention(
      h.map((v) => linear(v, weights, `${p}.selfAttention.query`, inner)),
      h.map((v) => linear(v, weights, `${p}.selfAttention.key`, inner)),
      h.map((v) => linear(v, weights, `${p}.selfAttention.value`, inner)),
      none,
      true,
      spec,
    );
    x = x.map((v, j) => add(v, linear(self[j]!, weights, `${p}.selfAttention.output`, d)));
    const h2 = x.map((v) => norm(v, weights, `${p}.norm2`, spec.layerNormEpsilon));
    const cross = attention(
      h2.map((v) => linear(v, weights, `${p}.crossAttention.query`, inner)),
      encoded.memory.map((v) => linear(v, weights, `${p}.crossAttention.key`, inner)),
      encoded.memory.map((v) => linear(v, weights, `${p}.crossAttention.value`, inner)),
      encoded.masked,
      false,
      spec,
    );
    x = x.map((v, j) => add(v, linear(cross[j]!, weights, `${p}.crossAttention.output`, d)));
    x = x.map((v) => add(v, feedForward(norm(v, weights, `${p}.norm3`, spec.layerNormEpsilon), weights, `${p}.feedForward`, spec)));
  }
  const last = norm(x[x.length - 1]!, weights, 'decoder.norm', spec.layerNormEpsilon);
  if (weights.has('output.weight')) return linear(last, weights, 'output', spec.vocabularySize);
  const embedding = weights.get('embedding')!;
  const bias = weights.get('output.bias');
  const logits = new Float64Array(spec.vocabularySize);
  for (let t = 0; t < spec.vocabularySize; t++) {
    let sum = bias ? bias[t]! : 0;
    for (let c = 0; c < d; c++) sum += last[c]! * embedding[t * d + c]!;
    logits[t] = sum;
  }
  return logits;
}

/**
 * Random weights for `spec` (normal, std 0.3; norm gains around 1), seeded. `biases` adds every
 * optional projection bias; `untiedOutput` adds `output.weight`.
 */
export function randomTransformerWeights(spec: ResolvedTransformerSpec, seed: number, options: { biases?: boolean; untiedOutput?: boolean } = {}): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const weights = new Map<string, Float32Array>();
  for (const { name, shape, optional } of transformerWeightShapes(spec)) {
    if (optional && !(name === 'output.weight' ? options.untiedOutput : options.biases)) continue;
    const size = shape.reduce((a, b) => a * b, 1);
    const isGain = /norm\d?\.weight$|\.norm\.weight$/.test(name);
    weights.set(name, Float32Array.from({ length: size }, () => (isGain ? 1 : 0) + rng.normal(0, 0.3)));
  }
  return weights;
}
