/**
 * Layers built from graph ops: dense, embedding, layer norm, attention with masks, pre-LN
 * Transformer encoder/decoder layers, positions, and the canonical Transformer models (an
 * encoder-decoder and a decoder-only one) whose parameter names `@genrec/decoder` reads.
 */
export { linear, type LinearOptions } from './linear.js';
export { embedding, type EmbeddingLayer, type EmbeddingOptions } from './embedding.js';
export { layerNormLayer as layerNorm } from './layer-norm.js';
export { learnedPositions, sinusoidalPositions } from './positions.js';
export { multiHeadAttention, attentionWithCache, type CachedAttention, type CachedAttentionOptions, causalMask, blockMask, keyPaddingMask, combineMasks, type AttentionOptions } from './attention.js';
export { transformerEncoderLayer, transformerDecoderLayer, transformerDecoderLayerStep, type DecoderStepOptions, feedForward, type TransformerLayerOptions, type DecoderLayerOptions } from './transformer.js';
export {
  resolveEncoderDecoderConfig,
  resolveCausalConfig,
  encoderDecoderParameterShapes,
  causalParameterShapes,
  type TransformerModelConfig,
  type EncoderDecoderTransformerConfig,
  type CausalTransformerConfig,
  type ResolvedEncoderDecoderConfig,
  type ResolvedCausalConfig,
  type PositionMode,
  type TransformerParameterShape,
  type ParameterShapeOptions,
} from './transformer-config.js';
export { encoderDecoderTransformer, causalTransformer, type TransformerModelOutput, type EncoderDecoderOutput } from './transformer-models.js';
