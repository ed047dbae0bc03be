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
  /** Number of heads. */
  heads: number;
  /**
   * Width of one head: the query/key/value projections map `width -> heads x headDimension`, the
   * output projection `heads x headDimension -> width`, and scores are scaled by
   * `1/sqrt(headDimension)`. `heads x headDimension` need not equal the width (TIGER's 6 x 64
   * heads on d_model 128).
   * @defaultValue width / heads (which must then divide the width)
   */
  headDimension?: number;
  /** Biases on the four projections (`<name>.q.bias`…). @defaultValue true */
  bias?: boolean;
  /**
   * Boolean "allowed" mask broadcastable to `[batch, heads, queries, keys]` (true = may attend):
   * {@link causalMask}, {@link blockMask}, {@link keyPaddingMask} or their {@link combineMasks}.
   */
  mask?: SymbolicTensor;
  /** Dropout on the attention weights. @defaultValue 0 */
  dropout?: number;
}

/**
 * Multi-head scaled dot-product attention with input projections `<name>.q/k/v` (weights
 * `[heads x headDimension, width]`) and output projection `<name>.out` (`[width, heads x
 * headDimension]`), PyTorch's `[out, in]` layout. `query` is `[batch, queries, width]`, `keyValue`
 * `[batch, keys, width]` (the same tensor for self-attention). Disallowed positions get a score of
 * -1e9 (a row with no allowed key attends uniformly instead of producing NaN).
 *
 * @param query - `[batch, queries, width]`
 * @param keyValue - `[batch, keys, width]`
 * @param name - scope of the parameters
 * @param options - heads, head width, mask, dropout, biases
 * @returns `[batch, queries, width]`
 * @throws GenrecError `SHAPE_MISMATCH` for inputs of different batch or width; `INVALID_OPTION`
 *   for bad `heads` / `headDimension` (or heads not dividing the width without `headDimension`).
 * @example
 * ```ts
 * const y = nn.multiHeadAttention(x, x, 'self_attn', { heads: 6, headDimension: 64, mask: nn.causalMask(g, 20) }); // x: [b, 20, 128]
 * ```
 */
export function multiHeadAttention(query: SymbolicTensor, keyValue: SymbolicTensor, name: string, options: AttentionOptions): SymbolicTensor {
  return attentionWithCache(query, keyValue, name, options).output;
}

/** Options of {@link attentionWithCache}. */
export interface CachedAttentionOptions extends AttentionOptions {
  /** Keys of earlier positions `[batch, heads, past, headDimension]` (from a previous step's `key`). */
  pastKey?: SymbolicTensor;
  /** Values of earlier positions `[batch, heads, past, headDimension]`. */
  pastValue?: SymbolicTensor;
}

/** Output of {@link attentionWithCache}: the attention output and the keys/values to cache. */
export interface CachedAttention {
  /** `[batch, queries, width]`. */
  output: SymbolicTensor;
  /** `[batch, heads, past + keys, headDimension]`: past keys followed by this call's. */
  key: SymbolicTensor;
  /** `[batch, heads, past + keys, headDimension]`. */
  value: SymbolicTensor;
}

/**
 * {@link multiHeadAttention} with a key/value cache for step-wise decoding: this call's keys and
 * values are appended to `pastKey`/`pastValue` and returned, so an exported decoder step takes
 * the cache as inputs and returns the grown cache as outputs. A `mask` then covers
 * `[queries, past + keys]`.
 *
 * @param query - `[batch, queries, width]`
 * @param keyValue - `[batch, keys, width]`
 * @param name - scope of the parameters (the same names as {@link multiHeadAttention})
 * @param options - as {@link multiHeadAttention}, plus the cache
 * @returns the output and the grown cache
 * @throws GenrecError as {@link multiHeadAttention}; `SHAPE_MISMATCH` for a cache of the wrong shape.
 * @example
 * ```ts
 * const { output, key, value } = nn.attentionWithCache(x, x, 'self_attn', { heads: 4, pastKey, pastValue });
 * ```
 */
export function attentionWithCache(query: SymbolicTensor, keyValue: SymbolicTensor, name: string, options: CachedAttentionOptions): CachedAttention {
  const g = query.graph;
  const [batch, queries, width] = query.shape as [number, number, number];
  const keys = keyValue.shape[1]!;
  const heads = options.heads;
  if (query.rank !== 3 || keyValue.rank !== 3 || keyValue.shape[2] !== width || keyValue.shape[0] !== batch) {
    throw new GenrecError('SHAPE_MISMATCH', `multiHeadAttention ${name}: query ${query.describe()} and keyValue ${keyValue.describe()} must be [batch, length, width] with equal batch and width`);
  }
  if (!Number.isInteger(heads) || heads <= 0) throw new GenrecError('INVALID_OPTION', `multiHeadAttention ${name}: heads must be a positive integer, got ${heads}`, { details: { field: 'heads' } });
  let headWidth: number;
  if (options.headDimension === undefined) {
    if (width % heads !== 0) throw new GenrecError('INVALID_OPTION', `multiHeadAttention ${name}: ${heads} heads do not divide width ${width} (give headDimension)`, { details: { field: 'heads' } });
    headWidth = width / heads;
  } else {
    headWidth = options.headDimension;
    if (!Number.isInteger(headWidth) || headWidth <= 0) throw new GenrecError('INVALID_OPTION', `multiHeadAttention ${name}: headDimension must be a positive integer, got ${headWidth}`, { details: { field: 'headDimension' } });
  }
  const inner = heads * headWidth;
  for (const [label, past] of [['pastKey', options.pastKey], ['pastValue', options.pastValue]] as const) {
    if (past && (past.rank !== 4 || past.shape[0] !== batch || past.shape[1] !== heads || past.shape[3] !== headWidth)) {
      throw new GenrecError('SHAPE_MISMATCH', `multiHeadAttention ${name}: ${label} ${past.describe()} must be [${batch}, ${heads}, past, ${headWidth}]`);
    }
  }
  const bias = { bias: options.bias ?? true };
  return g.scope(name, () => {
    const split = (t: SymbolicTensor, length: number) => transpose(reshape(t, [batch, length, heads, headWidth]), [0, 2, 1, 3]);
    const q = split(linear(query, 'q', inner, bias), queries);
    let k = split(linear(keyValue, 'k', inner, bias), keys);
    let v = split(linear(keyValue, 'v', inner, bias), keys);
    if (options.pastKey) k = concat([options.pastKey, k], 2);
    if (options.pastValue) v = concat([options.pastValue, v], 2);
    let scores = mul(matMul(q, transpose(k, [0, 1, 3, 2])), 1 / Math.sqrt(headWidth)); // [b, h, q, past + k]
    if (options.mask) {
      if (options.mask.dtype !== 'bool') throw new GenrecError('DTYPE_MISMATCH', `multiHeadAttention ${name}: mask must be bool, got ${options.mask.describe()}`);
      scores = add(scores, where(options.mask, g.scalar(0, scores.dtype), g.scalar(-1e9, scores.dtype)));
    }
    const weights = dropout(softmax(scores, -1), options.dropout ?? 0);
    const context = reshape(transpose(matMul(weights, v), [0, 2, 1, 3]), [batch, queries, inner]);
    return { output: linear(context, 'out', width, bias), key: k, value: v };
  });
}
