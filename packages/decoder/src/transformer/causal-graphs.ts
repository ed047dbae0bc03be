import { attr } from '@genrec/nn';
import type { ResolvedCausalTransformerSpec } from './causal-spec.js';
import { TransformerGraph, weightOf, type GraphWeights } from './graphs.js';

/*
 * The inference graphs of {@link CausalTransformerStepModel}.
 *
 * Prefill (the context, once): only the real tokens of the batch are computed, packed, with their
 * positions passed explicitly; attention reads them in a `[users, heads, slots, headDim]` layout
 * through index gathers (as the encoder-decoder's encoder does) with a causal bias over the slots.
 * It returns every layer's keys and values in that slot layout (kept where they were produced,
 * the "history" cache) and the logits after each user's last real token. The last layer computes
 * its attention output and feed-forward block for those last tokens only.
 *
 * Step `t >= 1` (one graph per generated position): every hypothesis row carries its new token and
 * position. A row attends to its user's history (the W hypotheses of a user are the query rows
 * against the user's cached keys, never copied per beam) and to the keys of its own earlier
 * generated tokens, gathered per row through `ancestors_j` (the row of step j the current row
 * descends from) from the raw outputs of earlier steps; one softmax covers both parts.
 */

type Output = { value: string; name: string; dtype: 'float32'; shape: (string | number)[] };

/** The prefill graph (see the comment at the top of this file). */
export function buildCausalPrefillGraph(spec: ResolvedCausalTransformerSpec, weights: GraphWeights): Uint8Array {
  const t = new TransformerGraph(spec, weights);
  const { g, inner } = t;
  const { modelDimension: d, headDimension: k, heads: H, vocabularySize: V } = spec;
  const embedding = g.weight('embedding.weight', weightOf(weights, 'embedding.weight'), [V, d]);
  const position = g.weight('position.weight', weightOf(weights, 'position.weight'), [spec.maxLength, d]);
  let x = g.op('Add', [g.op('Gather', [embedding, 'tokens']), g.op('Gather', [position, 'positions'])]);
  // key bias [users, 1, 1, slots] plus the causal bias [slots, slots] over each user's slots
  const keyBias = t.keyBias();
  const selfBias = g.op('Add', [keyBias, 'causal_bias']);
  const toSlots = (packed: string): string => g.op('Gather', [g.reshape(packed, [-1, k]), 'attention_index']);
  const users = g.op('Shape', ['key_bias'], { start: attr.int(0), end: attr.int(1) });
  const outputs: Output[] = [];
  const last = spec.layers - 1;
  let lastHidden = '';
  for (let i = 0; i < spec.layers; i++) {
    const p = `layers.${i}`;
    const h = t.norm(x, `${p}.norm1`);
    const key = toSlots(t.linear(h, `${p}.self_attn.k`, d, inner));
    const value = toSlots(t.linear(h, `${p}.self_attn.v`, d, inner));
    outputs.push({ value: key, name: `key_${i}`, dtype: 'float32', shape: ['users', H, 'slots', k] });
    outputs.push({ value: value, name: `value_${i}`, dtype: 'float32', shape: ['users', H, 'slots', k] });
    if (i < last) {
      const q = toSlots(t.linear(h, `${p}.self_attn.q`, d, inner));
      const attended = t.attend(q, key, value, selfBias);
      const back = g.reshape(g.op('Gather', [g.reshape(attended, [-1, k]), 'output_index']), [-1, inner]);
      x = g.op('Add', [x, t.linear(back, `${p}.self_attn.out`, inner, d)]);
      x = g.op('Add', [x, t.feedForward(t.norm(x, `${p}.norm2`), `${p}.ffn`)]);
    } else {
      // last layer: only each user's last real token goes on (it sees every real token of its user)
      const lastRows = g.op('Gather', [h, 'last_index']);
      const perUser = g.op('Concat', [users, g.int64s([H, 1, k])], { axis: attr.int(0) });
      const q = g.op('Reshape', [t.linear(lastRows, `${p}.self_attn.q`, d, inner), perUser]); // [users, H, 1, k]
      const attended = g.reshape(t.attend(q, key, value, keyBias), [-1, inner]);
      let y = g.op('Add', [g.op('Gather', [x, 'last_index']), t.linear(attended, `${p}.self_attn.out`, inner, d)]);
      y = g.op('Add', [y, t.feedForward(t.norm(y, `${p}.norm2`), `${p}.ffn`)]);
      lastHidden = y;
    }
  }
  const logits = t.logits(t.norm(lastHidden, 'norm'), V);
  outputs.unshift({ value: logits, name: 'logits', dtype: 'float32', shape: ['users', V] });
  return g.encode(
    'genrec_causal_transformer_prefill',
    [
      { name: 'tokens', dtype: 'int64', shape: ['tokens'] },
      { name: 'positions', dtype: 'int64', shape: ['tokens'] },
      { name: 'attention_index', dtype: 'int64', shape: ['users', H, 'slots'] },
      { name: 'output_index', dtype: 'int64', shape: ['tokens', H] },
      { name: 'key_bias', dtype: 'float32', shape: ['users', 'slots'] },
      { name: 'causal_bias', dtype: 'float32', shape: ['slots', 'slots'] },
      { name: 'last_index', dtype: 'int64', shape: ['users'] },
    ],
    outputs,
  );
}

/**
 * The graph of generated position `step >= 1` (see the comment at the top of this file). Besides
 * the logits it returns this position's keys and values (`key_i`, `value_i`, `[rows, heads,
 * headDim]`) for the later positions.
 */
export function buildCausalStepGraph(spec: ResolvedCausalTransformerSpec, weights: GraphWeights, step: number): Uint8Array {
  const t = new TransformerGraph(spec, weights);
  const { g, inner } = t;
  const { modelDimension: d, headDimension: k, heads: H, vocabularySize: V } = spec;
  const embedding = g.weight('embedding.weight', weightOf(weights, 'embedding.weight'), [V, d]);
  const position = g.weight('position.weight', weightOf(weights, 'position.weight'), [spec.maxLength, d]);
  let x = g.op('Add', [g.op('Gather', [embedding, 'tokens']), g.op('Gather', [position, 'positions'])]);
  const keyBias = t.keyBias();
  const users = g.op('Shape', ['key_bias'], { start: attr.int(0), end: attr.int(1) });
  const perUser = (...rest: number[]): string => g.op('Concat', [users, g.int64s([-1, ...rest])], { axis: attr.int(0) });
  const queryShape = perUser(H, k); // [users, W, H, k]
  const generatedShape = perUser(H, step); // [users, W, H, step]
  const scale = g.scalar(1 / Math.sqrt(k));
  const outputs: Output[] = [];
  const inputs: Array<{ name: string; dtype: 'float32' | 'int64'; shape: (string | number)[] }> = [
    { name: 'tokens', dtype: 'int64', shape: ['rows'] },
    { name: 'positions', dtype: 'int64', shape: ['rows'] },
    { name: 'key_bias', dtype: 'float32', shape: ['users', 'slots'] },
  ];
  // earlier generated positions 1..step-1 (position 0's token is the context's last one)
  const earlier = Array.from({ length: step - 1 }, (_, n) => n + 1);
  for (let i = 0; i < spec.layers; i++) {
    const p = `layers.${i}`;
    const h = t.norm(x, `${p}.norm1`);
    const q = t.linear(h, `${p}.self_attn.q`, d, inner);
    const keyHeads = g.reshape(t.linear(h, `${p}.self_attn.k`, d, inner), [-1, H, k]);
    const valueHeads = g.reshape(t.linear(h, `${p}.self_attn.v`, d, inner), [-1, H, k]);
    outputs.push({ value: keyHeads, name: `key_${i}`, dtype: 'float32', shape: ['rows', H, k] });
    outputs.push({ value: valueHeads, name: `value_${i}`, dtype: 'float32', shape: ['rows', H, k] });
    const historyKey = `history_key_${i}`;
    const historyValue = `history_value_${i}`;
    inputs.push({ name: historyKey, dtype: 'float32', shape: ['users', H, 'slots', k] }, { name: historyValue, dtype: 'float32', shape: ['users', H, 'slots', k] });
    // history scores: the user's hypotheses as query rows, [users, H, W, slots]
    const queryByUser = g.transpose(g.op('Reshape', [q, queryShape]), [0, 2, 1, 3]);
    const historyScores = g.op('Add', [g.op('Mul', [g.op('MatMul', [queryByUser, g.transpose(historyKey, [0, 1, 3, 2])]), scale]), keyBias]);
    // generated scores, elementwise per position: [rows, H, step] -> [users, H, W, step]
    const keys: string[] = [];
    const values: string[] = [];
    for (const j of earlier) {
      inputs.push({ name: `past_key_${j}_${i}`, dtype: 'float32', shape: [`rows_${j}`, H, k] });
      inputs.push({ name: `past_value_${j}_${i}`, dtype: 'float32', shape: [`rows_${j}`, H, k] });
      keys.push(g.op('Gather', [`past_key_${j}_${i}`, `ancestors_${j}`]));
      values.push(g.op('Gather', [`past_value_${j}_${i}`, `ancestors_${j}`]));
    }
    keys.push(keyHeads);
    values.push(valueHeads);
    const queryHeads = g.reshape(q, [-1, H, k]);
    const scores = keys.map((key) => g.op('ReduceSum', [g.op('Mul', [key, queryHeads]), g.int64s([2])], { keepdims: attr.int(1) }));
    const generated = g.op('Mul', [keys.length === 1 ? scores[0]! : g.op('Concat', scores, { axis: attr.int(2) }), scale]);
    const generatedByUser = g.transpose(g.op('Reshape', [generated, generatedShape]), [0, 2, 1, 3]);
    // one softmax over history and generated keys
    const probabilities = g.op('Softmax', [g.op('Concat', [historyScores, generatedByUser], { axis: attr.int(3) })], { axis: attr.int(-1) });
    const historyWeights = g.op('Slice', [probabilities, g.int64s([0]), g.int64s([-step]), g.int64s([3])]);
    const generatedWeights = g.op('Slice', [probabilities, g.int64s([-step]), g.int64s([Number.MAX_SAFE_INTEGER]), g.int64s([3])]);
    const historyContext = g.reshape(g.transpose(g.op('MatMul', [historyWeights, historyValue]), [0, 2, 1, 3]), [-1, H, k]); // [rows, H, k]
    const perPosition = g.reshape(g.transpose(generatedWeights, [0, 2, 1, 3]), [-1, H, step]); // [rows, H, step]
    const pieces = step === 1 ? [perPosition] : g.ops('Split', [perPosition], step, { axis: attr.int(2), num_outputs: attr.int(step) });
    const attended = g.op('Sum', [historyContext, ...values.map((value, n) => g.op('Mul', [pieces[n]!, value]))]);
    x = g.op('Add', [x, t.linear(g.reshape(attended, [-1, inner]), `${p}.self_attn.out`, inner, d)]);
    x = g.op('Add', [x, t.feedForward(t.norm(x, `${p}.norm2`), `${p}.ffn`)]);
  }
  const logits = t.logits(t.norm(x, 'norm'), V);
  outputs.unshift({ value: logits, name: 'logits', dtype: 'float32', shape: ['rows', V] });
  for (const j of earlier) inputs.push({ name: `ancestors_${j}`, dtype: 'int64', shape: ['rows'] });
  return g.encode(`genrec_causal_transformer_step_${step}`, inputs, outputs);
}
