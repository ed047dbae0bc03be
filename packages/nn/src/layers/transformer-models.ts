import { GenrecError } from '@genrec/core';
import { init, type Graph, type SymbolicTensor } from '../graph/graph.js';
import { add, cast, dropout, equal, gemm, matMul, maximum, reshape, slice, sub, gather, not } from '../graph/ops.js';
import { causalMask, combineMasks, keyPaddingMask } from './attention.js';
import { embedding } from './embedding.js';
import { layerNormLayer } from './layer-norm.js';
import { learnedPositions } from './positions.js';
import { transformerDecoderLayer, transformerEncoderLayer, type TransformerLayerOptions } from './transformer.js';
import {
  resolveCausalConfig,
  resolveEncoderDecoderConfig,
  type CausalTransformerConfig,
  type EncoderDecoderTransformerConfig,
  type TransformerModelConfig,
} from './transformer-config.js';

/** What the canonical Transformer builders return. */
export interface TransformerModelOutput {
  /** `[batch, length, vocabularySize]`: logits at every input position. */
  logits: SymbolicTensor;
  /** `[batch, length, d]`: the final LayerNorm's output, before the output projection. */
  hidden: SymbolicTensor;
  /**
   * The output layer (tied or untied, with its bias) applied to any `[..., d]` tensor, e.g. the
   * rows of `hidden` that carry a loss, gathered first. Declares no parameter.
   */
  outputLogits(h: SymbolicTensor): SymbolicTensor;
}

/** Output of {@link encoderDecoderTransformer}. */
export interface EncoderDecoderOutput extends TransformerModelOutput {
  /** `[batch, sourceLength, d]`: the encoder's output (after `encoder.norm`). */
  memory: SymbolicTensor;
}

function checkTokens(tokens: SymbolicTensor, what: string, maxLength: number, lengthField: string): void {
  if (tokens.dtype !== 'int64' || tokens.rank !== 2) throw new GenrecError('SHAPE_MISMATCH', `${what} must be int64 [batch, length], got ${tokens.describe()}`, { details: { field: what } });
  if (tokens.shape[1]! > maxLength) {
    throw new GenrecError('SHAPE_MISMATCH', `${what} has ${tokens.shape[1]} columns, more than config.${lengthField} = ${maxLength}`, { details: { field: what } });
  }
}

function layerOptions(config: Required<TransformerModelConfig>): TransformerLayerOptions {
  return {
    heads: config.heads,
    headDimension: config.headDimension,
    ffnWidth: config.feedForwardDimension,
    dropout: config.dropout,
    activation: config.activation,
    bias: config.bias,
    layerNormEpsilon: config.layerNormEpsilon,
  };
}

/** Declares the output layer's parameters (`output.weight` when untied, `output.bias` with biases) and returns the projection. */
function outputLayer(graph: Graph, config: Required<TransformerModelConfig>, table: SymbolicTensor): (h: SymbolicTensor) => SymbolicTensor {
  const { vocabularySize: v, modelDimension: d } = config;
  const { weight, bias } = graph.scope('output', () => ({
    weight: config.tieOutput ? table : graph.parameter('weight', [v, d], init.xavier()),
    bias: config.bias ? graph.parameter('bias', [v], init.zeros()) : undefined,
  }));
  return (h) => {
    if (h.shape[h.rank - 1] !== d) throw new GenrecError('SHAPE_MISMATCH', `outputLogits: needs [..., ${d}], got ${h.describe()}`);
    const flat = h.rank === 2 ? h : reshape(h, [-1, d]);
    const logits = gemm(flat, weight, { transB: true }, bias);
    return h.rank === 2 ? logits : reshape(logits, [...h.shape.slice(0, -1), v]);
  };
}

/** The first `length` rows of a position table. */
function firstRows(table: SymbolicTensor, length: number): SymbolicTensor {
  return slice(table, [0], [length], [0]);
}

/**
 * TIGER's pre-LN encoder-decoder Transformer over token sequences, with the canonical parameter
 * names (README "Canonical Transformer models"): `embedding.weight` (encoder input, decoder input
 * and, tied, the output), `encoder.position.weight` indexed by the source column,
 * `encoder.layers.{i}.{norm1,self_attn,norm2,ffn}`, `encoder.norm`, `decoder.position.weight`
 * indexed by the target column, `decoder.layers.{i}.{norm1,self_attn,norm2,cross_attn,norm3,ffn}`,
 * `decoder.norm`, and `output.weight` when untied. Source tokens equal to `padToken` are masked as
 * keys in the encoder and in cross-attention; the target is causal (no padding mask: every target
 * token is real, ignore padded labels in the loss). `@genrec/decoder`'s `TransformerStepModel`
 * runs the resulting parameter values unchanged.
 *
 * @param graph - the graph (training or inference)
 * @param config - the architecture
 * @param inputs - `source` int64 `[batch, S]` (S <= maxSourceLength, left-padded like the decoder's
 *   inputs), `target` int64 `[batch, T]` (T <= maxTargetLength: start token, then the item's codes)
 * @returns logits `[batch, T, V]`, the hidden states, the encoder memory and the output projection
 * @throws GenrecError `INVALID_OPTION` for a bad config; `SHAPE_MISMATCH` for bad inputs.
 * @example
 * ```ts
 * const build = (g: Graph) => {
 *   const source = g.input('source', 'int64', [256, 80]);
 *   const target = g.input('target', 'int64', [256, 4]); // BOS c1 c2 c3
 *   const labels = g.input('labels', 'int64', [256 * 4]); // c1 c2 c3 c4
 *   const { logits } = nn.encoderDecoderTransformer(g, { ...tigerConfig, dropout: 0.1 }, { source, target });
 *   return { loss: ops.softmaxCrossEntropy(ops.reshape(logits, [256 * 4, tigerConfig.vocabularySize]), labels) };
 * };
 * ```
 */
export function encoderDecoderTransformer(graph: Graph, config: EncoderDecoderTransformerConfig, inputs: { source: SymbolicTensor; target: SymbolicTensor }): EncoderDecoderOutput {
  const c = resolveEncoderDecoderConfig(config);
  const { source, target } = inputs;
  checkTokens(source, 'source', c.maxSourceLength, 'maxSourceLength');
  checkTokens(target, 'target', c.maxTargetLength, 'maxTargetLength');
  if (source.shape[0] !== target.shape[0]) throw new GenrecError('SHAPE_MISMATCH', `source ${source.describe()} and target ${target.describe()} have different batch sizes`, { details: { field: 'target' } });
  const d = c.modelDimension;
  const layer = layerOptions(c);
  const table = embedding(graph, 'embedding', c.vocabularySize, d);
  // encoder
  const memoryMask = keyPaddingMask(equal(source, c.padToken));
  let x = dropout(add(table.lookup(source), firstRows(learnedPositions(graph, 'encoder.position', c.maxSourceLength, d), source.shape[1]!)), c.dropout);
  for (let i = 0; i < c.encoderLayers; i++) x = transformerEncoderLayer(x, `encoder.layers.${i}`, { ...layer, mask: memoryMask });
  const memory = layerNormLayer(x, 'encoder.norm', c.layerNormEpsilon);
  // decoder
  const length = target.shape[1]!;
  let y = dropout(add(table.lookup(target), firstRows(learnedPositions(graph, 'decoder.position', c.maxTargetLength, d), length)), c.dropout);
  const causal = causalMask(graph, length);
  for (let i = 0; i < c.decoderLayers; i++) y = transformerDecoderLayer(y, memory, `decoder.layers.${i}`, { ...layer, mask: causal, crossMask: memoryMask });
  const hidden = layerNormLayer(y, 'decoder.norm', c.layerNormEpsilon);
  const outputLogits = outputLayer(graph, c, table.table);
  return { logits: outputLogits(hidden), hidden, memory, outputLogits };
}

/** Positions `[batch, length]` (int64) of the non-padding tokens counted from each row's first one. */
function sequencePositions(graph: Graph, tokens: SymbolicTensor, padToken: number): SymbolicTensor {
  const length = tokens.shape[1]!;
  return graph.noGrad(() => {
    const real = cast(not(equal(tokens, padToken)), 'float32');
    const upper = new Float32Array(length * length);
    for (let j = 0; j < length; j++) for (let i = j; i < length; i++) upper[j * length + i] = 1;
    const counts = matMul(real, graph.constant(upper, [length, length], 'float32')); // real tokens up to and including column i
    return cast(maximum(sub(counts, 1), 0), 'int64');
  });
}

/**
 * A decoder-only (causal, pre-LN) Transformer over token sequences, e.g. the concatenated code
 * tokens of a user's history, with the canonical parameter names (README "Canonical Transformer
 * models"): `embedding.weight`, `position.weight`, `layers.{i}.{norm1,self_attn,norm2,ffn}`,
 * `norm`, and `output.weight` when untied. A token attends to itself and the earlier non-padding
 * tokens of its row; logits at position `t` predict token `t + 1`, so one pass trains every
 * next-token target. Positions follow `config.positions`. `@genrec/decoder`'s
 * `CausalTransformerStepModel` runs the resulting parameter values unchanged.
 *
 * @param graph - the graph (training or inference)
 * @param config - the architecture
 * @param tokens - int64 `[batch, length]`, `length <= maxLength`
 * @returns logits `[batch, length, V]`, the hidden states and the output projection
 * @throws GenrecError `INVALID_OPTION` for a bad config; `SHAPE_MISMATCH` for bad tokens.
 * @example
 * ```ts
 * const build = (g: Graph) => {
 *   const tokens = g.input('tokens', 'int64', [256, 80]);
 *   const labels = g.input('labels', 'int64', [256 * 80]); // the next token, or -100
 *   const { logits } = nn.causalTransformer(g, { vocabularySize: 1027, modelDimension: 128, heads: 4, feedForwardDimension: 512, layers: 4, maxLength: 84, dropout: 0.1 }, tokens);
 *   return { loss: ops.softmaxCrossEntropy(ops.reshape(logits, [256 * 80, 1027]), labels) };
 * };
 * ```
 */
export function causalTransformer(graph: Graph, config: CausalTransformerConfig, tokens: SymbolicTensor): TransformerModelOutput {
  const c = resolveCausalConfig(config);
  checkTokens(tokens, 'tokens', c.maxLength, 'maxLength');
  const d = c.modelDimension;
  const length = tokens.shape[1]!;
  const table = embedding(graph, 'embedding', c.vocabularySize, d);
  const positionTable = learnedPositions(graph, 'position', c.maxLength, d);
  const positions = c.positions === 'column' ? firstRows(positionTable, length) : gather(positionTable, sequencePositions(graph, tokens, c.padToken));
  let x = dropout(add(table.lookup(tokens), positions), c.dropout);
  const mask = combineMasks(causalMask(graph, length), keyPaddingMask(equal(tokens, c.padToken)));
  const layer = { ...layerOptions(c), ...(mask ? { mask } : {}) };
  for (let i = 0; i < c.layers; i++) x = transformerEncoderLayer(x, `layers.${i}`, layer);
  const hidden = layerNormLayer(x, 'norm', c.layerNormEpsilon);
  const outputLogits = outputLayer(graph, c, table.table);
  return { logits: outputLogits(hidden), hidden, outputLogits };
}
