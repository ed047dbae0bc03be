import { GenrecError } from '@genrec/core';
import type { Graph, SymbolicTensor } from '../graph/graph.js';
import { add, and, concat, dropout, matMul, mul, reshape, softmax, transpose, where, not } from '../graph/ops.js';
import { linear } from './linear.js';

/** A boolean `[length, length]` constant: query i may attend to key j iff j <= i. */
export function causalMask(graph: Graph, length: number): SymbolicTensor {
  const data = new Uint8Array(length * length);
  for (let i = 0; i < length; i++) for (let j = 0; j <= i; j++) data[i * length + j] = 1;
  return graph.constant(data, [length, length], 'bool');
}

/**
 * A boolean `[queries, keys]` constant from a predicate `allowed(i, j)`: arbitrary block masks,
 * e.g. SETRec's "a token sees earlier items and itself but not its sibling tokens".
 */
export function blockMask(graph: Graph, queries: number, keys: number, allowed: (query: number, key: number) => boolean): SymbolicTensor {
  const data = new Uint8Array(queries * keys);
  for (let i = 0; i < queries; i++) for (let j = 0; j < keys; j++) data[i * keys + j] = allowed(i, j) ? 1 : 0;
  return graph.constant(data, [queries, keys], 'bool');
}

/** Turns a key-padding tensor `[batch, keys]` (true = padding) into an "allowed" mask `[batch, 1, 1, keys]`. */
export function keyPaddingMask(padding: SymbolicTensor): SymbolicTensor {
  if (padding.dtype !== 'bool' || padding.rank !== 2) throw new GenrecError('SHAPE_MISMATCH', `keyPaddingMask: needs bool [batch, keys], got ${padding.describe()}`);
  return reshape(not(padding), [padding.shape[0]!, 1, 1, padding.shape[1]!]);
}

/** Combines "allowed" masks (logical and, broadcasting). */
export function combineMasks(...masks: (SymbolicTensor | undefined)[]): SymbolicTensor | undefined {
  let out: SymbolicTensor | undefined;
  for (const m of masks) if (m) out = out ? and(out, m) : m;
  return out;
}

/** Options of {@link multiHeadAttention}. */
export interface AttentionOptions {
  /** Number of heads (must divide the model width). */
  heads: number;
  /**
   * Boolean "allowed" mask broadcastable to `[batch, heads, queries, keys]` (true = may attend):
   * {@link causalMask}, {@link blockMask}, {@link keyPaddingMask} or their {@link combineMasks}.
   */
  mask?: SymbolicTensor;
  /** Dropout on the attention weights. @defaultValue 0 */
  dropout?: number;
}

/**
 * Multi-head scaled dot-product attention with input projections `<name>.q/k/v` and output
 * projection `<name>.out`. `query` is `[batch, queries, width]`, `keyValue` `[batch, keys, width]`
 * (the same tensor for self-attention). Disallowed positions get a score of -1e9 (a row with no
 * allowed key attends uniformly instead of producing NaN).
 */
export function multiHeadAttention(query: SymbolicTensor, keyValue: SymbolicTensor, name: string, options: AttentionOptions): SymbolicTensor {
  return attentionWithCache(query, keyValue, name, options).output;
}

/** Options of {@link attentionWithCache}. */
export interface CachedAttentionOptions extends AttentionOptions {
  /** Keys of earlier positions `[batch, heads, past, headWidth]` (from a previous step's `key`). */
  pastKey?: SymbolicTensor;
  /** Values of earlier positions `[batch, heads, past, headWidth]`. */
  pastValue?: SymbolicTensor;
}

/** Output of {@link attentionWithCache}: the attention output and the keys/values to cache. */
export interface CachedAttention {
  /** `[batch, queries, width]`. */
  output: SymbolicTensor;
  /** `[batch, heads, past + keys, headWidth]`: past keys followed by this call's. */
  key: SymbolicTensor;
  /** `[batch, heads, past + keys, headWidth]`. */
  value: SymbolicTensor;
}

/**
 * {@link multiHeadAttention} with a key/value cache for step-wise decoding: this call's keys and
 * values are appended to `pastKey`/`pastValue` and returned, so an exported decoder step takes
 * the cache as inputs and returns the grown cache as outputs. A `mask` then covers
 * `[queries, past + keys]`.
 */
export function attentionWithCache(query: SymbolicTensor, keyValue: SymbolicTensor, name: string, options: CachedAttentionOptions): CachedAttention {
  const g = query.graph;
  const [batch, queries, width] = query.shape as [number, number, number];
  const keys = keyValue.shape[1]!;
  const heads = options.heads;
  if (query.rank !== 3 || keyValue.rank !== 3 || keyValue.shape[2] !== width || keyValue.shape[0] !== batch) {
    throw new GenrecError('SHAPE_MISMATCH', `multiHeadAttention ${name}: query ${query.describe()} and keyValue ${keyValue.describe()} must be [batch, length, width] with equal batch and width`);
  }
  if (width % heads !== 0) throw new GenrecError('INVALID_OPTION', `multiHeadAttention ${name}: ${heads} heads do not divide width ${width}`, { details: { field: 'heads' } });
  const headWidth = width / heads;
  return g.scope(name, () => {
    const split = (t: SymbolicTensor, length: number) => transpose(reshape(t, [batch, length, heads, headWidth]), [0, 2, 1, 3]);
    const q = split(linear(query, 'q', width), queries);
    let k = split(linear(keyValue, 'k', width), keys);
    let v = split(linear(keyValue, 'v', width), keys);
    if (options.pastKey) k = concat([options.pastKey, k], 2);
    if (options.pastValue) v = concat([options.pastValue, v], 2);
    let scores = mul(matMul(q, transpose(k, [0, 1, 3, 2])), 1 / Math.sqrt(headWidth)); // [b, h, q, past + k]
    if (options.mask) {
      if (options.mask.dtype !== 'bool') throw new GenrecError('DTYPE_MISMATCH', `multiHeadAttention ${name}: mask must be bool, got ${options.mask.describe()}`);
      scores = add(scores, where(options.mask, g.scalar(0, scores.dtype), g.scalar(-1e9, scores.dtype)));
    }
    const weights = dropout(softmax(scores, -1), options.dropout ?? 0);
    const context = reshape(transpose(matMul(weights, v), [0, 2, 1, 3]), [batch, queries, width]);
    return { output: linear(context, 'out', width), key: k, value: v };
  });
}
