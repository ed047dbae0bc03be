import { init, ops, type Graph, type Initializer, type SymbolicTensor } from '@genrec/nn';

/**
 * Parameter values to start from (by graph name), or undefined to draw the initialisers. A builder
 * that finds a parameter already declared in the graph reuses it, so several builders (the
 * preference hook's log-probability and supervised loss) can share one graph.
 */
export type ParameterValues = ReadonlyMap<string, Float32Array> | undefined;

/** LayerNorm epsilon of every SETRec layer (PyTorch's default). */
export const LAYER_NORM_EPSILON = 1e-5;

/**
 * Declares a parameter, or returns the graph's parameter of that name when it exists.
 *
 * @returns the parameter tensor
 */
export function parameter(g: Graph, name: string, shape: readonly number[], initializer: Initializer, values: ParameterValues): SymbolicTensor {
  const existing = g.parameters.find((p) => p.tensor.name === name);
  if (existing) return existing.tensor;
  const value = values?.get(name);
  return g.parameter(name, shape, value === undefined ? initializer : init.fromData(value));
}

/** `x W^T + b` over the last axis with `name.weight` `[out, in]` (PyTorch layout) and `name.bias`. */
export function dense(x: SymbolicTensor, name: string, outFeatures: number, values: ParameterValues): SymbolicTensor {
  const g = x.graph;
  const inFeatures = x.shape[x.rank - 1]!;
  const weight = parameter(g, `${name}.weight`, [outFeatures, inFeatures], init.xavier(), values);
  const bias = parameter(g, `${name}.bias`, [outFeatures], init.zeros(), values);
  const flat = x.rank === 2 ? x : ops.reshape(x, [-1, inFeatures]);
  const out = ops.gemm(flat, weight, { transB: true }, bias);
  return x.rank === 2 ? out : ops.reshape(out, [...x.shape.slice(0, -1), outFeatures]);
}

/** LayerNorm over the last axis with `name.weight` and `name.bias`. */
export function norm(x: SymbolicTensor, name: string, values: ParameterValues): SymbolicTensor {
  const g = x.graph;
  const d = x.shape[x.rank - 1]!;
  return ops.layerNorm(x, parameter(g, `${name}.weight`, [d], init.ones(), values), parameter(g, `${name}.bias`, [d], init.zeros(), values), LAYER_NORM_EPSILON);
}

/** Attention settings shared by every layer of a model. */
export interface AttentionSettings {
  heads: number;
  dropout: number;
  feedForwardSize: number;
}

/**
 * Multi-head scaled dot-product attention (the math and parameter names of `@genrec/nn`'s
 * `multiHeadAttention`: `name.q/k/v/out`): `query` `[b, q, d]`, `keyValue` `[b, k, d]`, `mask` a
 * bool "allowed" tensor broadcastable to `[b, heads, q, k]`; disallowed scores get −1e9.
 */
export function attention(query: SymbolicTensor, keyValue: SymbolicTensor, name: string, mask: SymbolicTensor, settings: AttentionSettings, values: ParameterValues): SymbolicTensor {
  const g = query.graph;
  const [batch, queries, width] = query.shape as [number, number, number];
  const keys = keyValue.shape[1]!;
  const heads = settings.heads;
  const headWidth = width / heads;
  const split = (t: SymbolicTensor, length: number) => ops.transpose(ops.reshape(t, [batch, length, heads, headWidth]), [0, 2, 1, 3]);
  const q = split(dense(query, `${name}.q`, width, values), queries);
  const k = split(dense(keyValue, `${name}.k`, width, values), keys);
  const v = split(dense(keyValue, `${name}.v`, width, values), keys);
  let scores = ops.mul(ops.matMul(q, ops.transpose(k, [0, 1, 3, 2])), 1 / Math.sqrt(headWidth));
  scores = ops.add(scores, ops.where(mask, g.scalar(0, 'float32'), g.scalar(-1e9, 'float32')));
  const weights = ops.dropout(ops.softmax(scores, -1), settings.dropout);
  const context = ops.reshape(ops.transpose(ops.matMul(weights, v), [0, 2, 1, 3]), [batch, queries, width]);
  return dense(context, `${name}.out`, width, values);
}

/** `x + Drop(FFN(LN(x)))` with `name.norm`, `name.ffn.fc1/fc2` (GELU). */
function feedForwardBlock(x: SymbolicTensor, normName: string, name: string, settings: AttentionSettings, values: ParameterValues): SymbolicTensor {
  const d = x.shape[x.rank - 1]!;
  const hidden = ops.gelu(dense(norm(x, normName, values), `${name}.ffn.fc1`, settings.feedForwardSize, values));
  return ops.add(x, ops.dropout(dense(ops.dropout(hidden, settings.dropout), `${name}.ffn.fc2`, d, values), settings.dropout));
}

/**
 * A pre-LN Transformer encoder layer (the parameter names of `@genrec/nn`'s
 * `transformerEncoderLayer`): `x + Drop(SelfAttn(LN1(x)))`, then `+ Drop(FFN(LN2(x)))`.
 */
export function encoderLayer(x: SymbolicTensor, name: string, mask: SymbolicTensor, settings: AttentionSettings, values: ParameterValues): SymbolicTensor {
  const normed = norm(x, `${name}.norm1`, values);
  const h = ops.add(x, ops.dropout(attention(normed, normed, `${name}.self_attn`, mask, settings, values), settings.dropout));
  return feedForwardBlock(h, `${name}.norm2`, name, settings, values);
}

/**
 * A query-decoder layer: the queries' self-attention lets each query see only itself, where
 * softmax over one key is 1, so it reduces exactly to `out(v(LN1(x)))` (`name.self_attn.v/out`;
 * no query/key projections exist); then cross-attention to `memory` under `crossMask`
 * (`name.cross_attn.*`) and the feed-forward block.
 */
export function queryDecoderLayer(x: SymbolicTensor, memory: SymbolicTensor, name: string, crossMask: SymbolicTensor, settings: AttentionSettings, values: ParameterValues): SymbolicTensor {
  const d = x.shape[x.rank - 1]!;
  const self = dense(dense(norm(x, `${name}.norm1`, values), `${name}.self_attn.v`, d, values), `${name}.self_attn.out`, d, values);
  let h = ops.add(x, ops.dropout(self, settings.dropout));
  h = ops.add(h, ops.dropout(attention(norm(h, `${name}.norm2`, values), memory, `${name}.cross_attn`, crossMask, settings, values), settings.dropout));
  return feedForwardBlock(h, `${name}.norm3`, name, settings, values);
}
