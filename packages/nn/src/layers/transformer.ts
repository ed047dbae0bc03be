import type { SymbolicTensor } from '../graph/graph.js';
import { add, dropout, gelu, relu } from '../graph/ops.js';
import { attentionWithCache, multiHeadAttention } from './attention.js';
import { layerNormLayer } from './layer-norm.js';
import { linear } from './linear.js';

/** Options of the Transformer layers. */
export interface TransformerLayerOptions {
  /** Attention heads. */
  heads: number;
  /** Hidden width of the feed-forward block. */
  ffnWidth: number;
  /** Dropout on attention weights and residual branches. @defaultValue 0 */
  dropout?: number;
  /** Feed-forward activation. @defaultValue 'gelu' */
  activation?: 'gelu' | 'relu';
  /** Self-attention "allowed" mask (causal, padding, block…). */
  mask?: SymbolicTensor;
}

/** Position-wise feed-forward block `<name>.fc1` → activation → dropout → `<name>.fc2`. */
export function feedForward(x: SymbolicTensor, name: string, ffnWidth: number, activation: 'gelu' | 'relu' = 'gelu', rate = 0): SymbolicTensor {
  const width = x.shape[x.rank - 1]!;
  return x.graph.scope(name, () => {
    const hidden = linear(x, 'fc1', ffnWidth);
    return linear(dropout(activation === 'gelu' ? gelu(hidden) : relu(hidden), rate), 'fc2', width);
  });
}

/** A pre-LN Transformer encoder layer: `x + Drop(SelfAttn(LN(x)))`, then `+ Drop(FFN(LN(x)))`. */
export function transformerEncoderLayer(x: SymbolicTensor, name: string, options: TransformerLayerOptions): SymbolicTensor {
  const rate = options.dropout ?? 0;
  return x.graph.scope(name, () => {
    const normed = layerNormLayer(x, 'norm1');
    const h = add(x, dropout(multiHeadAttention(normed, normed, 'self_attn', { heads: options.heads, dropout: rate, ...(options.mask ? { mask: options.mask } : {}) }), rate));
    return add(h, dropout(feedForward(layerNormLayer(h, 'norm2'), 'ffn', options.ffnWidth, options.activation ?? 'gelu', rate), rate));
  });
}

/** Options of {@link transformerDecoderLayer}. */
export interface DecoderLayerOptions extends TransformerLayerOptions {
  /** Cross-attention "allowed" mask (e.g. memory padding). */
  crossMask?: SymbolicTensor;
}

/** A pre-LN Transformer decoder layer: masked self-attention, cross-attention to `memory`, feed-forward. */
export function transformerDecoderLayer(x: SymbolicTensor, memory: SymbolicTensor, name: string, options: DecoderLayerOptions): SymbolicTensor {
  const rate = options.dropout ?? 0;
  return x.graph.scope(name, () => {
    const n1 = layerNormLayer(x, 'norm1');
    let h = add(x, dropout(multiHeadAttention(n1, n1, 'self_attn', { heads: options.heads, dropout: rate, ...(options.mask ? { mask: options.mask } : {}) }), rate));
    const n2 = layerNormLayer(h, 'norm2');
    h = add(h, dropout(multiHeadAttention(n2, memory, 'cross_attn', { heads: options.heads, dropout: rate, ...(options.crossMask ? { mask: options.crossMask } : {}) }), rate));
    return add(h, dropout(feedForward(layerNormLayer(h, 'norm3'), 'ffn', options.ffnWidth, options.activation ?? 'gelu', rate), rate));
  });
}

/** Options of {@link transformerDecoderLayerStep}. */
export interface DecoderStepOptions extends DecoderLayerOptions {
  /** Self-attention keys of earlier positions `[batch, heads, past, headWidth]`. */
  pastKey?: SymbolicTensor;
  /** Self-attention values of earlier positions. */
  pastValue?: SymbolicTensor;
}

/**
 * The decoder layer of {@link transformerDecoderLayer} (same parameter names) for incremental
 * decoding: self-attention reads and extends a key/value cache. `options.mask`, when given, covers
 * `[queries, past + queries]` (a prefill uses a causal mask; a one-token step needs none).
 *
 * @returns the layer output and the grown cache.
 */
export function transformerDecoderLayerStep(x: SymbolicTensor, memory: SymbolicTensor, name: string, options: DecoderStepOptions): { output: SymbolicTensor; key: SymbolicTensor; value: SymbolicTensor } {
  const rate = options.dropout ?? 0;
  return x.graph.scope(name, () => {
    const n1 = layerNormLayer(x, 'norm1');
    const self = attentionWithCache(n1, n1, 'self_attn', {
      heads: options.heads,
      dropout: rate,
      ...(options.mask ? { mask: options.mask } : {}),
      ...(options.pastKey ? { pastKey: options.pastKey } : {}),
      ...(options.pastValue ? { pastValue: options.pastValue } : {}),
    });
    let h = add(x, dropout(self.output, rate));
    const n2 = layerNormLayer(h, 'norm2');
    h = add(h, dropout(multiHeadAttention(n2, memory, 'cross_attn', { heads: options.heads, dropout: rate, ...(options.crossMask ? { mask: options.crossMask } : {}) }), rate));
    const output = add(h, dropout(feedForward(layerNormLayer(h, 'norm3'), 'ffn', options.ffnWidth, options.activation ?? 'gelu', rate), rate));
    return { output, key: self.key, value: self.value };
  });
}
