import { attr } from '@genrec/nn';
import { GraphWriter } from './graph-writer.js';
import type { ResolvedTransformerSpec } from './spec.js';

/*
 * The inference graphs of {@link TransformerStepModel}. Both avoid work the generic export does:
 *
 * Encoder: only the real (non-pad) tokens of the batch are computed, packed into `tokens` rows
 * with their absolute `positions`; attention reads them in a `[users, heads, slots, headDim]`
 * layout through one Gather per operand (`attention_index`: the packed chunk of every slot and
 * head) and writes back through `output_index`. It returns the decoder's cross-attention keys and
 * values in the same slot layout (one user per row, `slots` = the longest context of the batch).
 *
 * Decoder step `t` (one graph per position): every hypothesis row carries its new token; the keys
 * and values of earlier positions are the raw outputs of earlier steps, gathered per row through
 * `ancestors_j` (the row of step j that the current row descends from), so no cache is ever
 * reordered or copied outside the graph. Self-attention over at most `maxTargetLength` positions
 * is elementwise (products and sums, as the TIGER peer does), the W hypotheses of a user share the
 * user's cross keys (never copied per beam), and the first layer's input projections of a
 * position are a table over the vocabulary (constant-folded by onnxruntime).
 */

/** Weights as the graphs read them (see `graphWeights`): canonical names, projections `[in, out]`. */
export type GraphWeights = ReadonlyMap<string, Float32Array>;

/** The dimensions the shared graph pieces need. */
export interface GraphDimensions {
  modelDimension: number;
  heads: number;
  headDimension: number;
  feedForwardDimension: number;
  activation: 'relu' | 'gelu';
  layerNormEpsilon: number;
}

/** @internal A weight that validation guarantees. */
export function weightOf(weights: GraphWeights, name: string): Float32Array {
  const value = weights.get(name);
  if (value === undefined) throw new Error(`internal: weight ${name} missing after validation`);
  return value;
}

/** @internal A graph under construction with the shared Transformer pieces. */
export class TransformerGraph {
  readonly g = new GraphWriter();
  readonly inner: number;

  constructor(
    readonly spec: GraphDimensions,
    readonly weights: GraphWeights,
  ) {
    this.inner = spec.heads * spec.headDimension;
  }

  /** `x W (+ b)`. */
  linear(x: string, name: string, input: number, output: number): string {
    const y = this.g.op('MatMul', [x, this.g.weight(`${name}.weight`, weightOf(this.weights, `${name}.weight`), [input, output])]);
    const bias = this.weights.get(`${name}.bias`);
    return bias ? this.g.op('Add', [y, this.g.weight(`${name}.bias`, bias, [output])]) : y;
  }

  norm(x: string, name: string): string {
    const d = this.spec.modelDimension;
    return this.g.op('LayerNormalization', [x, this.g.weight(`${name}.weight`, weightOf(this.weights, `${name}.weight`), [d]), this.g.weight(`${name}.bias`, weightOf(this.weights, `${name}.bias`), [d])], {
      axis: attr.int(-1),
      epsilon: attr.float(this.spec.layerNormEpsilon),
    });
  }

  feedForward(x: string, name: string): string {
    const { modelDimension: d, feedForwardDimension: f } = this.spec;
    const hidden = this.linear(x, `${name}.fc1`, d, f);
    let active: string;
    if (this.spec.activation === 'relu') active = this.g.op('Relu', [hidden]);
    else {
      // exact GELU, 0.5 x (1 + erf(x / sqrt 2)); onnxruntime fuses it
      const erf = this.g.op('Erf', [this.g.op('Mul', [hidden, this.g.scalar(Math.SQRT1_2)])]);
      active = this.g.op('Mul', [this.g.op('Mul', [hidden, this.g.scalar(0.5)]), this.g.op('Add', [erf, this.g.scalar(1)])]);
    }
    return this.linear(active, `${name}.fc2`, f, d);
  }

  /** Softmax attention of `q` `[.., Lq, k]` over keys `[.., L, k]` with an additive bias. */
  attend(q: string, k: string, v: string, bias: string): string {
    const scores = this.g.op('Mul', [this.g.op('MatMul', [q, this.g.transpose(k, [0, 1, 3, 2])]), this.g.scalar(1 / Math.sqrt(this.spec.headDimension))]);
    return this.g.op('MatMul', [this.g.op('Softmax', [this.g.op('Add', [scores, bias])], { axis: attr.int(-1) }), v]);
  }

  /** Logits of `x` `[rows, d]`: `output.weight` (stored `[d, V]`) or the tied embedding, plus `output.bias`. */
  logits(x: string, vocabularySize: number): string {
    const d = this.spec.modelDimension;
    if (this.weights.has('output.weight')) return this.linear(x, 'output', d, vocabularySize);
    const embedding = weightOf(this.weights, 'embedding.weight');
    const transposed = new Float32Array(d * vocabularySize);
    for (let token = 0; token < vocabularySize; token++) for (let c = 0; c < d; c++) transposed[c * vocabularySize + token] = embedding[token * d + c]!;
    const logits = this.g.op('MatMul', [x, this.g.weight('embedding.transposed', transposed, [d, vocabularySize])]);
    const bias = this.weights.get('output.bias');
    return bias ? this.g.op('Add', [logits, this.g.weight('output.bias', bias, [vocabularySize])]) : logits;
  }

  /** `key_bias [users, slots]` as `[users, 1, 1, slots]`. */
  keyBias(): string {
    return this.g.op('Unsqueeze', ['key_bias', this.g.int64s([1, 2])]);
  }
}

/** The packed encoder (see the comment at the top of this file). */
export function buildEncoderGraph(spec: ResolvedTransformerSpec, weights: GraphWeights): Uint8Array {
  const t = new TransformerGraph(spec, weights);
  const { g, inner } = t;
  const { modelDimension: d, headDimension: k, heads: H } = spec;
  const embedding = g.weight('embedding.weight', weightOf(weights, 'embedding.weight'), [spec.vocabularySize, d]);
  const position = g.weight('encoder.position.weight', weightOf(weights, 'encoder.position.weight'), [spec.maxSourceLength, d]);
  let x = g.op('Add', [g.op('Gather', [embedding, 'tokens']), g.op('Gather', [position, 'positions'])]);
  const bias = t.keyBias();
  const toSlots = (packed: string): string => g.op('Gather', [g.reshape(packed, [-1, k]), 'attention_index']);
  for (let i = 0; i < spec.encoderLayers; i++) {
    const p = `encoder.layers.${i}`;
    const h = t.norm(x, `${p}.norm1`);
    const q = toSlots(t.linear(h, `${p}.self_attn.q`, d, inner));
    const key = toSlots(t.linear(h, `${p}.self_attn.k`, d, inner));
    const value = toSlots(t.linear(h, `${p}.self_attn.v`, d, inner));
    const attended = t.attend(q, key, value, bias);
    const back = g.reshape(g.op('Gather', [g.reshape(attended, [-1, k]), 'output_index']), [-1, inner]);
    x = g.op('Add', [x, t.linear(back, `${p}.self_attn.out`, inner, d)]);
    x = g.op('Add', [x, t.feedForward(t.norm(x, `${p}.norm2`), `${p}.ffn`)]);
  }
  const memory = t.norm(x, 'encoder.norm');
  const outputs: Array<{ value: string; name: string; dtype: 'float32'; shape: (string | number)[] }> = [];
  for (let i = 0; i < spec.decoderLayers; i++) {
    const p = `decoder.layers.${i}.cross_attn`;
    const shape = ['users', H, 'slots', k];
    outputs.push({ value: toSlots(t.linear(memory, `${p}.k`, d, inner)), name: `cross_key_${i}`, dtype: 'float32', shape });
    outputs.push({ value: toSlots(t.linear(memory, `${p}.v`, d, inner)), name: `cross_value_${i}`, dtype: 'float32', shape });
  }
  return g.encode(
    'genrec_transformer_encoder',
    [
      { name: 'tokens', dtype: 'int64', shape: ['tokens'] },
      { name: 'positions', dtype: 'int64', shape: ['tokens'] },
      { name: 'attention_index', dtype: 'int64', shape: ['users', H, 'slots'] },
      { name: 'output_index', dtype: 'int64', shape: ['tokens', H] },
      { name: 'key_bias', dtype: 'float32', shape: ['users', 'slots'] },
    ],
    outputs,
  );
}

/**
 * The decoder graph of position `step` (see the comment at the top of this file). Besides the
 * logits it returns this position's self-attention keys and values (`key_i`, `value_i`,
 * `[rows, heads, headDim]`); the session keeps them for the later positions (or does not fetch them
 * at the final step).
 */
export function buildDecoderStepGraph(spec: ResolvedTransformerSpec, weights: GraphWeights, step: number): Uint8Array {
  const t = new TransformerGraph(spec, weights);
  const { g, inner } = t;
  const { modelDimension: d, headDimension: k, heads: H, vocabularySize: V } = spec;
  // input embedding + this position, and the first layer's projections of it, as tables over the vocabulary
  const embedding = weightOf(weights, 'embedding.weight');
  const position = weightOf(weights, 'decoder.position.weight').subarray(step * d, (step + 1) * d);
  const table = new Float32Array(V * d);
  for (let token = 0; token < V; token++) for (let c = 0; c < d; c++) table[token * d + c] = embedding[token * d + c]! + position[c]!;
  const inputTable = g.weight(`decoder.input.${step}`, table, [V, d]);
  let x = g.op('Gather', [inputTable, 'tokens']);
  const bias = t.keyBias();
  const users = g.op('Shape', ['key_bias'], { start: attr.int(0), end: attr.int(1) });
  const perUser = g.op('Concat', [users, g.int64s([-1, H, k])], { axis: attr.int(0) });
  const scale = g.scalar(1 / Math.sqrt(k));
  const outputs: Array<{ value: string; name: string; dtype: 'float32'; shape: (string | number)[] }> = [];
  const ancestors = Array.from({ length: step }, (_, j) => `ancestors_${j}`);
  const inputs: Array<{ name: string; dtype: 'float32' | 'int64'; shape: (string | number)[] }> = [
    { name: 'tokens', dtype: 'int64', shape: ['rows'] },
    { name: 'key_bias', dtype: 'float32', shape: ['users', 'slots'] },
  ];
  for (let i = 0; i < spec.decoderLayers; i++) {
    const p = `decoder.layers.${i}`;
    let q: string;
    let key: string;
    let value: string;
    if (i === 0) {
      const h0 = t.norm(inputTable, `${p}.norm1`);
      const project = (name: string): string => g.op('Gather', [t.linear(h0, `${p}.self_attn.${name}`, d, inner), 'tokens']);
      q = project('q');
      key = project('k');
      value = project('v');
    } else {
      const h = t.norm(x, `${p}.norm1`);
      q = t.linear(h, `${p}.self_attn.q`, d, inner);
      key = t.linear(h, `${p}.self_attn.k`, d, inner);
      value = t.linear(h, `${p}.self_attn.v`, d, inner);
    }
    // keys and values per head, [rows, heads, headDim]: kept by the runner for the later positions
    const keyHeads = g.reshape(key, [-1, H, k]);
    const valueHeads = g.reshape(value, [-1, H, k]);
    outputs.push({ value: keyHeads, name: `key_${i}`, dtype: 'float32', shape: ['rows', H, k] });
    outputs.push({ value: valueHeads, name: `value_${i}`, dtype: 'float32', shape: ['rows', H, k] });
    let attended: string;
    if (step === 0) {
      attended = valueHeads; // one position: its softmax weight is exactly 1
    } else {
      const keys: string[] = [];
      const values: string[] = [];
      for (let j = 0; j < step; j++) {
        inputs.push({ name: `past_key_${j}_${i}`, dtype: 'float32', shape: [`rows_${j}`, H, k] });
        inputs.push({ name: `past_value_${j}_${i}`, dtype: 'float32', shape: [`rows_${j}`, H, k] });
        keys.push(g.op('Gather', [`past_key_${j}_${i}`, ancestors[j]!]));
        values.push(g.op('Gather', [`past_value_${j}_${i}`, ancestors[j]!]));
      }
      keys.push(keyHeads);
      values.push(valueHeads);
      // per position: elementwise products summed over the head width (no stacked copy of the cache;
      // measured faster in onnxruntime than one batched MatMul of tiny [1 x positions] products)
      const queryHeads = g.reshape(q, [-1, H, k]);
      const scores = keys.map((value) => g.op('ReduceSum', [g.op('Mul', [value, queryHeads]), g.int64s([2])], { keepdims: attr.int(1) }));
      const probabilities = g.op('Softmax', [g.op('Mul', [g.op('Concat', scores, { axis: attr.int(2) }), scale])], { axis: attr.int(-1) });
      const perPosition = g.ops('Split', [probabilities], step + 1, { axis: attr.int(2), num_outputs: attr.int(step + 1) });
      attended = g.op('Sum', values.map((value, j) => g.op('Mul', [perPosition[j]!, value])));
    }
    x = g.op('Add', [x, t.linear(g.reshape(attended, [-1, inner]), `${p}.self_attn.out`, inner, d)]);
    // cross-attention: the hypotheses of a user are the query rows against that user's keys
    const cq = g.transpose(g.op('Reshape', [t.linear(t.norm(x, `${p}.norm2`), `${p}.cross_attn.q`, d, inner), perUser]), [0, 2, 1, 3]);
    const crossKey = `cross_key_${i}`;
    const crossValue = `cross_value_${i}`;
    inputs.push({ name: crossKey, dtype: 'float32', shape: ['users', H, 'slots', k] }, { name: crossValue, dtype: 'float32', shape: ['users', H, 'slots', k] });
    const crossAttended = g.reshape(g.transpose(t.attend(cq, crossKey, crossValue, bias), [0, 2, 1, 3]), [-1, inner]);
    x = g.op('Add', [x, t.linear(crossAttended, `${p}.cross_attn.out`, inner, d)]);
    x = g.op('Add', [x, t.feedForward(t.norm(x, `${p}.norm3`), `${p}.ffn`)]);
  }
  const final = t.norm(x, 'decoder.norm');
  const logits = t.logits(final, V);
  outputs.unshift({ value: logits, name: 'logits', dtype: 'float32', shape: ['rows', V] });
  for (const name of ancestors) inputs.push({ name, dtype: 'int64', shape: ['rows'] });
  return g.encode(`genrec_transformer_decoder_step_${step}`, inputs, outputs);
}
