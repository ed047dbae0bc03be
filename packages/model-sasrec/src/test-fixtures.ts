/**
 * Shared helpers of this package's tests (not exported): small synthetic data, cheap fitting
 * configurations, a naive reference forward pass and popularity's hit rate.
 *
 * @module
 */
import { Rng, type EvaluationSet } from '@genrec/core';
import { generateSyntheticDataset, leaveOneOutSplit, type DatasetSplit } from '@genrec/data';
import type { FitSasrecOptions } from './options.js';
import { LAYER_NORM_EPSILON, sasrecParameterShapes, type SasrecArchitecture } from './sasrec-graph.js';

/** A small synthetic split (fast to fit) and the default one. */
export function syntheticSplit(size: 'small' | 'default' = 'small'): DatasetSplit & { itemCount: number } {
  const options = size === 'small' ? { userCount: 800, itemCount: 200, seed: 7 } : {};
  const synthetic = generateSyntheticDataset(options);
  const split = leaveOneOutSplit(synthetic.dataset, { maxHistoryLength: 50 });
  return { ...split, itemCount: synthetic.dataset.itemCount };
}

/** A cheap configuration that still learns the synthetic data's transitions. */
export const CHEAP: FitSasrecOptions = {
  hiddenSize: 16,
  blocks: 1,
  maxLength: 12,
  dropout: 0.1,
  learningRate: 0.01,
  batchSize: 128,
  epochs: 2,
  threads: 1,
  positionBucket: 128,
  inferenceBatchSize: 64,
  seed: 3,
};

/** The histories of an evaluation set as a `HistoryBatch`. */
export function historiesOf(set: EvaluationSet): { offsets: Int32Array; items: Int32Array } {
  return { offsets: set.historyOffsets, items: set.historyItems };
}

/** HitRate@k of ranked lists (`users x k`) against one target per user. */
export function hitRate(items: Int32Array, k: number, set: EvaluationSet): number {
  let hits = 0;
  for (let u = 0; u < set.size; u++) {
    const target = set.targetItems[set.targetOffsets[u]!]!;
    for (let r = 0; r < k; r++) if (items[u * k + r] === target) hits++;
  }
  return hits / set.size;
}

/** Popularity's HitRate@k (training counts, history excluded, ties to the lower id), computed naively. */
export function popularityHitRate(train: { items: Int32Array }, itemCount: number, set: EvaluationSet, k: number): number {
  const counts = new Float64Array(itemCount + 1);
  for (const item of train.items) counts[item]!++;
  const order = Array.from({ length: itemCount }, (_, j) => j + 1).sort((a, b) => counts[b]! - counts[a]! || a - b);
  let hits = 0;
  for (let u = 0; u < set.size; u++) {
    const history = new Set(set.historyItems.subarray(set.historyOffsets[u]!, set.historyOffsets[u + 1]!));
    const top: number[] = [];
    for (const item of order) {
      if (!history.has(item)) top.push(item);
      if (top.length === k) break;
    }
    if (top.includes(set.targetItems[set.targetOffsets[u]!]!)) hits++;
  }
  return hits / set.size;
}

/** Random parameters of an architecture (every value ~ N(0, 0.5), so biases and gains matter). */
export function randomParameters(a: SasrecArchitecture, seed: number): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const values = new Map<string, Float32Array>();
  for (const [name, shape] of sasrecParameterShapes(a)) {
    const data = rng.fillNormal(new Float32Array(shape.reduce((x, y) => x * y, 1)), 0, 0.5);
    if (name.endsWith('ln.weight') || /ln\.\d+\.weight$/.test(name)) for (let i = 0; i < data.length; i++) data[i] = 1 + data[i]! * 0.2;
    values.set(name, data);
  }
  return values;
}

function layerNorm(x: Float64Array, weight: Float32Array, bias: Float32Array): Float64Array {
  const d = x.length;
  let mean = 0;
  for (const v of x) mean += v / d;
  let variance = 0;
  for (const v of x) variance += ((v - mean) * (v - mean)) / d;
  const inv = 1 / Math.sqrt(variance + LAYER_NORM_EPSILON);
  return Float64Array.from(x, (v, i) => (v - mean) * inv * weight[i]! + bias[i]!);
}

/** `W x + b` with a PyTorch-layout weight `[out, in]`. */
function linear(x: Float64Array, weight: Float32Array, bias: Float32Array): Float64Array {
  const out = new Float64Array(bias.length);
  for (let o = 0; o < bias.length; o++) {
    let s = bias[o]!;
    for (let i = 0; i < x.length; i++) s += weight[o * x.length + i]! * x[i]!;
    out[o] = s;
  }
  return out;
}

/**
 * The SASRec forward pass written out naively in float64 from the peer's definition (no dropout):
 * the hidden state of every position of one left-padded row of length `maxLength`.
 */
export function referenceHidden(a: SasrecArchitecture, p: ReadonlyMap<string, Float32Array>, seq: ArrayLike<number>): Float64Array[] {
  const { hiddenSize: d, maxLength: L, heads } = a;
  const dh = d / heads;
  const P = (name: string) => p.get(name)!;
  const keep = Array.from({ length: L }, (_, t) => (seq[t] !== 0 ? 1 : 0));
  let x = Array.from({ length: L }, (_, t) => Float64Array.from({ length: d }, (_, c) => (P('item_emb.weight')[seq[t]! * d + c]! * Math.sqrt(d) + P('pos_emb.weight')[t * d + c]!) * keep[t]!));
  for (let b = 0; b < a.blocks; b++) {
    const q = x.map((row) => layerNorm(row, P(`attn_ln.${b}.weight`), P(`attn_ln.${b}.bias`)));
    const Q = q.map((row) => linear(row, P(`attn.${b}.q_proj_weight`), P(`attn.${b}.q_proj_bias`)));
    const K = x.map((row) => linear(row, P(`attn.${b}.k_proj_weight`), P(`attn.${b}.k_proj_bias`)));
    const V = x.map((row) => linear(row, P(`attn.${b}.v_proj_weight`), P(`attn.${b}.v_proj_bias`)));
    const context = Array.from({ length: L }, () => new Float64Array(d));
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < L; i++) {
        const scores: number[] = [];
        for (let j = 0; j <= i; j++) {
          let s = 0;
          for (let c = h * dh; c < (h + 1) * dh; c++) s += Q[i]![c]! * K[j]![c]!;
          scores.push(s / Math.sqrt(dh));
        }
        const top = Math.max(...scores);
        const weights = scores.map((s) => Math.exp(s - top));
        const total = weights.reduce((u, v) => u + v, 0);
        for (let j = 0; j <= i; j++) for (let c = h * dh; c < (h + 1) * dh; c++) context[i]![c]! += (weights[j]! / total) * V[j]![c]!;
      }
    }
    const attended = context.map((row) => linear(row, P(`attn.${b}.out_proj.weight`), P(`attn.${b}.out_proj.bias`)));
    const y = q.map((row, t) => layerNorm(Float64Array.from(row, (v, c) => v + attended[t]![c]!), P(`ffn_ln.${b}.weight`), P(`ffn_ln.${b}.bias`)));
    x = y.map((row, t) => {
      const hidden = linear(row, P(`ffn.${b}.fc1.weight`), P(`ffn.${b}.fc1.bias`)).map((v) => Math.max(0, v));
      const f = linear(hidden, P(`ffn.${b}.fc2.weight`), P(`ffn.${b}.fc2.bias`));
      return Float64Array.from(row, (v, c) => (v + f[c]!) * keep[t]!);
    });
  }
  return x.map((row) => layerNorm(row, P('last_ln.weight'), P('last_ln.bias')));
}

/** Logits of every item (`j` = item `j + 1`) for one hidden state, float64. */
export function referenceLogits(a: SasrecArchitecture, p: ReadonlyMap<string, Float32Array>, hidden: Float64Array): Float64Array {
  const d = a.hiddenSize;
  const embedding = p.get('item_emb.weight')!;
  return Float64Array.from({ length: a.itemCount }, (_, j) => {
    let s = 0;
    for (let c = 0; c < d; c++) s += hidden[c]! * embedding[(j + 1) * d + c]!;
    return s;
  });
}

/** log Σ exp(values), stable, float64. */
export function logSumExp(values: ArrayLike<number>): number {
  let top = -Infinity;
  for (let i = 0; i < values.length; i++) top = Math.max(top, values[i]!);
  let s = 0;
  for (let i = 0; i < values.length; i++) s += Math.exp(values[i]! - top);
  return top + Math.log(s);
}
