import { GenrecError } from '@genrec/core';
import { nn, ops, type Graph, type SymbolicTensor, type TrainGraphSpec } from '@genrec/nn';
import type { TigerSpec } from './options.js';

/** The shape facts a model's graphs need besides the spec. */
export interface TigerShape {
  /** Token vocabulary (special tokens + every level's codes). */
  vocabularySize: number;
  /** Tokens per item (quantiser levels + the collision level). */
  tokensPerItem: number;
  /** Tokens per history item in an input (`tokensPerItem`, plus 1 with item tokens). */
  contextWidth: number;
}

/**
 * The decoder-only model's `nn.causalTransformer` config: positions are each token's index among
 * the row's real tokens (`'sequence'`), so a context reads the same however it is padded;
 * `maxLength` = `maxHistory x contextWidth + tokensPerItem - 1` (a context of `maxHistory` items
 * plus the generated tokens but the last, or a full training window's input).
 *
 * @param spec - the resolved hyper-parameters
 * @param shape - vocabulary and tokens per item
 * @returns the config (also a valid `CausalTransformerStepModel` spec)
 * @example
 * ```ts
 * const config = causalConfig(model.spec, model.shape); // nn.causalTransformer(g, config, tokens)
 * ```
 */
export function causalConfig(spec: TigerSpec, shape: TigerShape): nn.CausalTransformerConfig {
  return {
    vocabularySize: shape.vocabularySize,
    modelDimension: spec.modelDimension,
    heads: spec.heads,
    headDimension: spec.headDimension,
    feedForwardDimension: spec.feedForwardDimension,
    layers: spec.layers,
    maxLength: spec.maxHistory * shape.contextWidth + shape.tokensPerItem - 1,
    dropout: spec.dropout,
    activation: spec.activation,
    positions: 'sequence',
  };
}

/**
 * The encoder-decoder model's `nn.encoderDecoderTransformer` config: sources of at most
 * `maxHistory` items (right-padded: positions are columns from 0), targets of `tokensPerItem`
 * positions (BOS, then the codes but the last).
 *
 * @param spec - the resolved hyper-parameters
 * @param shape - vocabulary and tokens per item
 * @returns the config (also a valid `TransformerStepModel` spec)
 * @example
 * ```ts
 * const config = encoderDecoderConfig(model.spec, model.shape);
 * ```
 */
export function encoderDecoderConfig(spec: TigerSpec, shape: TigerShape): nn.EncoderDecoderTransformerConfig {
  return {
    vocabularySize: shape.vocabularySize,
    modelDimension: spec.modelDimension,
    heads: spec.heads,
    headDimension: spec.headDimension,
    feedForwardDimension: spec.feedForwardDimension,
    encoderLayers: spec.encoderLayers,
    decoderLayers: spec.decoderLayers,
    maxSourceLength: spec.maxHistory * shape.contextWidth,
    maxTargetLength: shape.tokensPerItem,
    dropout: spec.dropout,
    activation: spec.activation,
  };
}

/**
 * Parameter names and shapes of the model, in declaration order (the safetensors layout).
 *
 * @param spec - the resolved hyper-parameters
 * @param shape - vocabulary and tokens per item
 * @returns `{ name, shape }` per parameter
 * @example
 * ```ts
 * tigerParameterShapes(model.spec, model.shape)[0]; // { name: 'embedding.weight', shape: [V, d], … }
 * ```
 */
export function tigerParameterShapes(spec: TigerSpec, shape: TigerShape): { name: string; shape: number[] }[] {
  return spec.architecture === 'decoder-only' ? nn.causalParameterShapes(causalConfig(spec, shape)) : nn.encoderDecoderParameterShapes(encoderDecoderConfig(spec, shape));
}

/**
 * The training graph builder of one bucket (token length): teacher forcing, token cross-entropy
 * (mean over labelled positions, optional label smoothing).
 *
 * @param spec - the resolved hyper-parameters (architecture, batch size, label smoothing)
 * @param shape - vocabulary and tokens per item
 * @returns a `Trainer` graph builder
 * @example
 * ```ts
 * const trainer = await Trainer.create({ build: trainGraphBuilder(spec, shape), buckets: [83], optimizer: optimizers.adamw() });
 * ```
 */
export function trainGraphBuilder(spec: TigerSpec, shape: TigerShape): (g: Graph, bucket: number) => TrainGraphSpec {
  const rows = spec.batchSize;
  const v = shape.vocabularySize;
  const smoothing = { labelSmoothing: spec.labelSmoothing };
  if (spec.architecture === 'decoder-only') {
    const config = causalConfig(spec, shape);
    return (g, length) => {
      const tokens = g.input('tokens', 'int64', [rows, length]);
      const labels = g.input('labels', 'int64', [rows * length]);
      const { logits } = nn.causalTransformer(g, config, tokens);
      return { loss: ops.softmaxCrossEntropy(ops.reshape(logits, [rows * length, v]), labels, smoothing) };
    };
  }
  const config = encoderDecoderConfig(spec, shape);
  const width = shape.tokensPerItem;
  return (g, length) => {
    const source = g.input('source', 'int64', [rows, length]);
    const target = g.input('target', 'int64', [rows, width]);
    const labels = g.input('labels', 'int64', [rows * width]);
    const { logits } = nn.encoderDecoderTransformer(g, config, { source, target });
    return { loss: ops.softmaxCrossEntropy(ops.reshape(logits, [rows * width, v]), labels, smoothing) };
  };
}

/** Names of the inputs of {@link candidateLogProbGraph} for an input prefix `p`: `p.tokens`, `p.target`, `p.labels`. */
export function logProbInputNames(prefix: string): { tokens: string; target: string; labels: string } {
  return { tokens: `${prefix}.tokens`, target: `${prefix}.target`, labels: `${prefix}.labels` };
}

/** The graph's input `name` when it already has one (of this dtype and shape: one graph can hold several candidate graphs of one prefix), a new one otherwise. */
function sharedInput(g: Graph, name: string, dtype: 'int64', shape: number[]): SymbolicTensor {
  const found = g.inputs.find((t) => t.name === name);
  if (found === undefined) return g.input(name, dtype, shape);
  if (found.dtype !== dtype || found.shape.join(',') !== shape.join(',')) {
    throw new GenrecError('SHAPE_MISMATCH', `input ${name} is ${found.dtype} [${found.shape.join(', ')}] in the graph, ${dtype} [${shape.join(', ')}] here`, { details: { field: name } });
  }
  return found;
}

/**
 * The next-token logits at each of a candidate's `tokensPerItem` positions, teacher-forced on the
 * candidate's own prefix, as a float32 `[rows, tokensPerItem, vocabularySize]` tensor: position `l`
 * holds the logits that predict the candidate's token `l` after the context and its tokens
 * `0 .. l - 1`. Inputs as {@link candidateLogProbGraph} (names from {@link logProbInputNames})
 * but the labels: decoder-only `tokens` int64 `[rows, contextLength + tokensPerItem - 1]`;
 * encoder-decoder `tokens` `[rows, contextLength]` and `target` `[rows, tokensPerItem]`. Inputs
 * the graph already holds under those names are reused. Declares the model's parameters (the
 * canonical names); dropout follows `g.training`.
 *
 * @param g - the graph
 * @param spec - the resolved hyper-parameters
 * @param shape - vocabulary and tokens per item
 * @param rows - candidate rows
 * @param contextLength - context tokens per row (`maxHistory x contextWidth`)
 * @param prefix - the input names' prefix
 * @returns the logits, `[rows, tokensPerItem, vocabularySize]`
 * @throws GenrecError `SHAPE_MISMATCH` when the graph holds an input of that name with another shape.
 * @example
 * ```ts
 * const logits = candidateTokenLogitsGraph(g, model.spec, model.shape, 8, model.spec.maxHistory * model.shape.contextWidth, 'preference');
 * ```
 */
export function candidateTokenLogitsGraph(g: Graph, spec: TigerSpec, shape: TigerShape, rows: number, contextLength: number, prefix: string): SymbolicTensor {
  const names = logProbInputNames(prefix);
  const width = shape.tokensPerItem;
  if (spec.architecture === 'decoder-only') {
    const length = contextLength + width - 1;
    const tokens = sharedInput(g, names.tokens, 'int64', [rows, length]);
    const out = nn.causalTransformer(g, causalConfig(spec, shape), tokens);
    // the positions that predict the candidate's tokens: the context's last one and the candidate's own
    return ops.slice(out.logits, [length - width], [length], [1]);
  }
  const source = sharedInput(g, names.tokens, 'int64', [rows, contextLength]);
  const target = sharedInput(g, names.target, 'int64', [rows, width]);
  return nn.encoderDecoderTransformer(g, encoderDecoderConfig(spec, shape), { source, target }).logits;
}

/**
 * log π(candidate | context) per row: the sum over the candidate's tokens of each token's
 * log-softmax over the full vocabulary (teacher forcing on the candidate's own prefix), as a
 * float32 `[rows]` tensor. Inputs (names from {@link logProbInputNames}): decoder-only `tokens`
 * int64 `[rows, contextLength + tokensPerItem - 1]` = the left-padded context then the candidate's
 * tokens but the last; encoder-decoder `tokens` = the right-padded source `[rows, contextLength]`
 * and `target` `[rows, tokensPerItem]` = BOS then the candidate's tokens but the last; `labels`
 * int64 `[rows * tokensPerItem]` = the candidate's tokens. The logits are
 * {@link candidateTokenLogitsGraph}'s; inputs the graph already holds under those names are
 * reused. Declares the model's parameters (the canonical names); dropout follows `g.training`.
 */
export function candidateLogProbGraph(g: Graph, spec: TigerSpec, shape: TigerShape, rows: number, contextLength: number, prefix: string): SymbolicTensor {
  const names = logProbInputNames(prefix);
  const width = shape.tokensPerItem;
  const v = shape.vocabularySize;
  const labels = sharedInput(g, names.labels, 'int64', [rows * width]);
  const logits = candidateTokenLogitsGraph(g, spec, shape, rows, contextLength, prefix);
  const logProbs = ops.logSoftmax(ops.reshape(logits, [rows * width, v]), -1);
  const picked = ops.reduceSum(ops.mul(logProbs, ops.oneHot(labels, v)), [1]);
  return ops.reduceSum(ops.reshape(picked, [rows, width]), [1]);
}
