import type { SymbolicTensor } from '../graph/graph.js';
import { add, dropout, gelu, relu } from '../graph/ops.js';
import { attentionWithCache, multiHeadAttention, type AttentionOptions } from './attention.js';
import { layerNormLayer } from './layer-norm.js';
import { linear } from './linear.js';

/** Options of the Transformer layers. */
export interface TransformerLayerOptions {
  /** Attention heads. */
  heads: number;
  /**
   * Width of one attention head (see {@link AttentionOptions.headDimension}).
   * @defaultValue model width / heads
   */
  headDimension?: number;
  /** Hidden width of the feed-forward block. */
  ffnWidth: number;
  /** Dropout on attention weights, the feed-forward hidden layer and residual branches. @defaultValue 0 */
  dropout?: number;
  /** Feed-forward activation (`'gelu'` is the exact, erf form). @defaultValue 'gelu' */
  activation?: 'gelu' | 'relu';
  /** Biases on the attention and feed-forward projections (LayerNorms always have one). @defaultValue true */
  bias?: boolean;
  /** LayerNorm epsilon. @defaultValue 1e-5 */
  layerNormEpsilon?: number;
  /** Self-attention "allowed" mask (causal, padding, block…). */
  mask?: SymbolicTensor;
}

/**
 * Position-wise feed-forward block `<name>.fc1` → activation → dropout → `<name>.fc2`
 * (weights `[ffnWidth, width]` and `[width, ffnWidth]`).
 *
 * @param x - `[..., width]`
 * @param name - scope of the parameters
 * @param ffnWidth - hidden width
 * @param activation - `'gelu'` (exact) or `'relu'`
 * @param rate - dropout on the hidden layer
 * @param bias - biases on both projections
 * @returns `[..., width]`
 * @example
 * ```ts
 * const y = nn.feedForward(x, 'ffn', 512, 'relu', 0.1);
 * ```
 */
export function feedForward(x: SymbolicTensor, name: string, ffnWidth: number, activation: 'gelu' | 'relu' = 'gelu', rate = 0, bias = true): SymbolicTensor {
  const width = x.shape[x.rank - 1]!;
  return x.graph.scope(name, () => {
    const hidden = linear(x, 'fc1', ffnWidth, { bias });
    return linear(dropout(activation === 'gelu' ? gelu(hidden) : relu(hidden), rate), 'fc2', width, { bias });
  });
}

/** The attention options shared by a layer's attention blocks. */
function attentionOptions(options: TransformerLayerOptions, mask: SymbolicTensor | undefined): AttentionOptions {
  return {
    heads: options.heads,
    dropout: options.dropout ?? 0,
    ...(options.headDimension === undefined ? {} : { headDimension: options.headDimension }),
    ...(options.bias === undefined ? {} : { bias: options.bias }),
    ...(mask ? { mask } : {}),
  };
}

function ffnBlock(h: SymbolicTensor, norm: string, options: TransformerLayerOptions): SymbolicTensor {
  const rate = options.dropout ?? 0;
  const normed = layerNormLayer(h, norm, options.layerNormEpsilon ?? 1e-5);
  return add(h, dropout(feedForward(normed, 'ffn', options.ffnWidth, options.activation ?? 'gelu', rate, options.bias ?? true), rate));
}

/**
 * A pre-LN Transformer encoder layer: `x + Drop(SelfAttn(LN(x)))`, then `+ Drop(FFN(LN(x)))`.
 * Parameters: `<name>.norm1`, `<name>.self_attn.{q,k,v,out}`, `<name>.norm2`, `<name>.ffn.{fc1,fc2}`.
 *
 * @param x - `[batch, length, width]`
 * @param name - scope of the parameters
 * @param options - heads, widths, dropout, mask
 * @returns `[batch, length, width]`
 * @throws GenrecError as {@link multiHeadAttention}.
 * @example
 * ```ts
 * const h = nn.transformerEncoderLayer(x, 'layers.0', { heads: 4, ffnWidth: 512, mask: nn.causalMask(g, 80) });
 * ```
 */
export function transformerEncoderLayer(x: SymbolicTensor, name: string, options: TransformerLayerOptions): SymbolicTensor {
  const rate = options.dropout ?? 0;
  const epsilon = options.layerNormEpsilon ?? 1e-5;
  return x.graph.scope(name, () => {
    const normed = layerNormLayer(x, 'norm1', epsilon);
    const h = add(x, dropout(multiHeadAttention(normed, normed, 'self_attn', attentionOptions(options, options.mask)), rate));
    return ffnBlock(h, 'norm2', options);
  });
}

/** Options of {@link transformerDecoderLayer}. */
export interface DecoderLayerOptions extends TransformerLayerOptions {
  /** Cross-attention "allowed" mask (e.g. memory padding). */
  crossMask?: SymbolicTensor;
}

/**
 * A pre-LN Transformer decoder layer: masked self-attention, cross-attention to `memory`,
 * feed-forward. Parameters: `<name>.norm1`, `<name>.self_attn.*`, `<name>.norm2`,
 * `<name>.cross_attn.*`, `<name>.norm3`, `<name>.ffn.*`.
 *
 * @param x - `[batch, length, width]`
 * @param memory - `[batch, sourceLength, width]` (the encoder's output)
 * @param name - scope of the parameters
 * @param options - as {@link transformerEncoderLayer}, plus the cross-attention mask
 * @returns `[batch, length, width]`
 * @throws GenrecError as {@link multiHeadAttention}.
 * @example
 * ```ts
 * const h = nn.transformerDecoderLayer(y, memory, 'decoder.layers.0', { heads: 6, headDimension: 64, ffnWidth: 1024, mask: nn.causalMask(g, 5) });
 * ```
 */
export function transformerDecoderLayer(x: SymbolicTensor, memory: SymbolicTensor, name: string, options: DecoderLayerOptions): SymbolicTensor {
  const rate = options.dropout ?? 0;
  const epsilon = options.layerNormEpsilon ?? 1e-5;
  return x.graph.scope(name, () => {
    const n1 = layerNormLayer(x, 'norm1', epsilon);
    let h = add(x, dropout(multiHeadAttention(n1, n1, 'self_attn', attentionOptions(options, options.mask)), rate));
    const n2 = layerNormLayer(h, 'norm2', epsilon);
    h = add(h, dropout(multiHeadAttention(n2, memory, 'cross_attn', attentionOptions(options, options.crossMask)), rate));
    return ffnBlock(h, 'norm3', options);
  });
}

/** Options of {@link transformerDecoderLayerStep}. */
export interface DecoderStepOptions extends DecoderLayerOptions {
  /** Self-attention keys of earlier positions `[batch, heads, past, headDimension]`. */
  pastKey?: SymbolicTensor;
  /** Self-attention values of earlier positions. */
  pastValue?: SymbolicTensor;
}

/**
 * The decoder layer of {@link transformerDecoderLayer} (same parameter names) for incremental
 * decoding: self-attention reads and extends a key/value cache. `options.mask`, when given, covers
 * `[queries, past + queries]` (a prefill uses a causal mask; a one-token step needs none).
 *
 * @param x - `[batch, queries, width]`
 * @param memory - `[batch, sourceLength, width]`
 * @param name - scope of the parameters
 * @param options - as {@link transformerDecoderLayer}, plus the cache
 * @returns the layer output and the grown cache.
 * @throws GenrecError as {@link attentionWithCache}.
 * @example
 * ```ts
 * const { output, key, value } = nn.transformerDecoderLayerStep(x, memory, 'dec', { heads: 2, ffnWidth: 16, pastKey, pastValue });
 * ```
 */
export function transformerDecoderLayerStep(x: SymbolicTensor, memory: SymbolicTensor, name: string, options: DecoderStepOptions): { output: SymbolicTensor; key: SymbolicTensor; value: SymbolicTensor } {
  const rate = options.dropout ?? 0;
  const epsilon = options.layerNormEpsilon ?? 1e-5;
  return x.graph.scope(name, () => {
    const n1 = layerNormLayer(x, 'norm1', epsilon);
    const self = attentionWithCache(n1, n1, 'self_attn', {
      ...attentionOptions(options, options.mask),
      ...(options.pastKey ? { pastKey: options.pastKey } : {}),
      ...(options.pastValue ? { pastValue: options.pastValue } : {}),
    });
    let h = add(x, dropout(self.output, rate));
    const n2 = layerNormLayer(h, 'norm2', epsilon);
    h = add(h, dropout(multiHeadAttention(n2, memory, 'cross_attn', attentionOptions(options, options.crossMask)), rate));
    return { output: ffnBlock(h, 'norm3', options), key: self.key, value: self.value };
  });
}
