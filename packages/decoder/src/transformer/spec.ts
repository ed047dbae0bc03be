import { GenrecError } from '@genrec/core';
import { nn } from '@genrec/nn';

/**
 * The architecture of an encoder-decoder Transformer as TIGER uses it: pre-LayerNorm blocks,
 * multi-head attention scaled by `1/sqrt(headDimension)`, a two-layer feed-forward block, learned
 * absolute positions, a final LayerNorm on each side, and an output projection (by default the
 * transposed input embedding). Keys at the `padToken` are masked in the encoder and in the
 * decoder's cross-attention. Field for field the `nn.EncoderDecoderTransformerConfig` of
 * `@genrec/nn` (whose `dropout`, `bias` and `tieOutput` the step model ignores: the weights show
 * them), so one object describes the model for training and for decoding.
 */
export interface TransformerSpec {
  /** Tokens (rows of the embedding, width of the logits). */
  vocabularySize: number;
  /** Model width `d`. */
  modelDimension: number;
  /** Attention heads. */
  heads: number;
  /**
   * Width of one head (heads x headDimension need not equal `d`).
   * @defaultValue modelDimension / heads (which must then divide it)
   */
  headDimension?: number;
  /** Inner width of the feed-forward block. */
  feedForwardDimension: number;
  encoderLayers: number;
  decoderLayers: number;
  /** Rows of `encoder.position.weight`: the longest encoder input. */
  maxSourceLength: number;
  /** Rows of `decoder.position.weight`: the most decoder positions (start token included). */
  maxTargetLength: number;
  /** Encoder padding token (masked as a key, skipped entirely by {@link TransformerStepModel}). @defaultValue 0 */
  padToken?: number;
  /** Feed-forward activation. @defaultValue 'relu' */
  activation?: 'relu' | 'gelu';
  /** LayerNorm epsilon. @defaultValue 1e-5 */
  layerNormEpsilon?: number;
}

/** A spec with every default filled in. */
export type ResolvedTransformerSpec = Required<TransformerSpec>;

/**
 * Weights by name in `@genrec/nn`'s canonical layout: the parameter names of
 * `nn.encoderDecoderTransformer` and PyTorch's `[out, in]` projections, so the values of a model
 * trained with `@genrec/nn` (`Trainer.parameterValues()`) load unchanged. `d` = modelDimension,
 * `a` = heads x headDimension, `f` = feedForwardDimension, `V` = vocabularySize; every projection
 * may have a `.bias` `[out]` (all or some: absent ones are zero):
 *
 * | name | shape |
 * |---|---|
 * | `embedding.weight` | `[V, d]` (encoder and decoder input; the output projection unless `output.weight` is given) |
 * | `encoder.position.weight`, `decoder.position.weight` | `[maxSourceLength, d]`, `[maxTargetLength, d]` |
 * | `encoder.layers.{i}.norm1.weight`/`.bias`, `norm2` | `[d]` (before self-attention, feed-forward) |
 * | `encoder.layers.{i}.self_attn.{q,k,v}.weight` | `[a, d]` |
 * | `encoder.layers.{i}.self_attn.out.weight` | `[d, a]` |
 * | `encoder.layers.{i}.ffn.fc1.weight`, `ffn.fc2.weight` | `[f, d]`, `[d, f]` |
 * | `encoder.norm.weight`/`.bias` | `[d]` |
 * | `decoder.layers.{i}.norm1`, `norm2`, `norm3` | `[d]` (before self-attention, cross-attention, feed-forward) |
 * | `decoder.layers.{i}.self_attn.*`, `cross_attn.*`, `ffn.*` | as the encoder's |
 * | `decoder.norm.weight`/`.bias` | `[d]` |
 * | `output.weight`, `output.bias` (optional) | `[V, d]`, `[V]` |
 *
 * Float64 values are accepted (converted once to float32).
 */
export type TransformerWeights = ReadonlyMap<string, Float32Array | Float64Array>;

/** One weight of a step model: its name, shape, and whether it may be absent. */
export interface WeightShape {
  name: string;
  /** Row-major; projections `[out, in]`. */
  shape: number[];
  /** Projection biases and `output.weight` may be absent. */
  optional: boolean;
  /** A projection weight `[out, in]` (transposed once when the model loads). */
  projection: boolean;
}

/**
 * Fills the defaults and checks every size.
 *
 * @param spec - the architecture
 * @returns the spec with every default filled in
 * @throws GenrecError `INVALID_OPTION` naming the bad field.
 * @example
 * ```ts
 * resolveTransformerSpec({ vocabularySize: 787, modelDimension: 128, heads: 6, headDimension: 64, feedForwardDimension: 1024,
 *   encoderLayers: 4, decoderLayers: 4, maxSourceLength: 80, maxTargetLength: 5 }).activation; // 'relu'
 * ```
 */
export function resolveTransformerSpec(spec: TransformerSpec): ResolvedTransformerSpec {
  const positive = ['vocabularySize', 'modelDimension', 'heads', 'feedForwardDimension', 'encoderLayers', 'decoderLayers', 'maxSourceLength', 'maxTargetLength'] as const;
  checkPositive(spec, positive);
  const resolved: ResolvedTransformerSpec = { padToken: 0, activation: 'relu', layerNormEpsilon: 1e-5, ...spec, headDimension: resolveHeadDimension(spec) };
  checkCommonFields(resolved);
  return resolved;
}

/** @internal Checks that the named fields are positive integers. */
export function checkPositive<T extends object>(spec: T, fields: ReadonlyArray<keyof T & string>): void {
  for (const field of fields) {
    const value = spec[field] as unknown;
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) throw new GenrecError('INVALID_OPTION', `spec.${field} must be a positive integer, got ${String(value)}`, { details: { field: `spec.${field}` } });
  }
}

/** @internal `headDimension`, or `modelDimension / heads` when it divides. */
export function resolveHeadDimension(spec: { modelDimension: number; heads: number; headDimension?: number }): number {
  if (spec.headDimension === undefined) {
    if (spec.modelDimension % spec.heads !== 0) {
      throw new GenrecError('INVALID_OPTION', `spec.heads (${spec.heads}) does not divide spec.modelDimension (${spec.modelDimension}); give spec.headDimension`, { details: { field: 'spec.headDimension' } });
    }
    return spec.modelDimension / spec.heads;
  }
  if (!Number.isInteger(spec.headDimension) || spec.headDimension <= 0) throw new GenrecError('INVALID_OPTION', `spec.headDimension must be a positive integer, got ${spec.headDimension}`, { details: { field: 'spec.headDimension' } });
  return spec.headDimension;
}

/** @internal Checks padToken, activation and layerNormEpsilon of a resolved spec. */
export function checkCommonFields(resolved: { vocabularySize: number; padToken: number; activation: string; layerNormEpsilon: number }): void {
  if (!Number.isInteger(resolved.padToken) || resolved.padToken < 0 || resolved.padToken >= resolved.vocabularySize) {
    throw new GenrecError('INVALID_OPTION', `spec.padToken must be a token id in 0..${resolved.vocabularySize - 1}, got ${resolved.padToken}`, { details: { field: 'spec.padToken' } });
  }
  if (resolved.activation !== 'relu' && resolved.activation !== 'gelu') {
    throw new GenrecError('INVALID_OPTION', `spec.activation must be 'relu' or 'gelu', got ${String(resolved.activation)}`, { details: { field: 'spec.activation' } });
  }
  if (!(resolved.layerNormEpsilon > 0)) throw new GenrecError('INVALID_OPTION', `spec.layerNormEpsilon must be positive, got ${resolved.layerNormEpsilon}`, { details: { field: 'spec.layerNormEpsilon' } });
}

/** @internal Marks nn's listing with what may be absent and what is a projection. */
export function toWeightShapes(list: readonly nn.TransformerParameterShape[]): WeightShape[] {
  return list.map(({ name, shape, layer }) => ({
    name,
    shape,
    optional: layer === 'linear' && (name.endsWith('.bias') || name === 'output.weight'),
    projection: layer === 'linear' && name.endsWith('.weight'),
  }));
}

/**
 * Every weight the spec takes, with its shape (`@genrec/nn`'s `encoderDecoderParameterShapes` with
 * every optional parameter); `optional` ones may be absent.
 *
 * @param spec - the resolved architecture
 * @returns the weights in declaration order
 * @example
 * ```ts
 * transformerWeightShapes(resolveTransformerSpec(spec)).find((w) => w.name === 'encoder.layers.0.self_attn.q.weight')!.shape; // [heads x headDimension, d]
 * ```
 */
export function transformerWeightShapes(spec: ResolvedTransformerSpec): WeightShape[] {
  return toWeightShapes(nn.encoderDecoderParameterShapes({ ...spec, bias: true, tieOutput: false, dropout: 0 }, { everyOptional: true }));
}

/**
 * Checks that every required weight is present with the right size, that every given weight is
 * known, and that all values are finite.
 *
 * @param spec - the resolved architecture
 * @param weights - the weights by name
 * @throws GenrecError `INVALID_INPUT` for a missing, unknown or non-finite weight; `DTYPE_MISMATCH`
 *   for a weight that is not a Float32Array or Float64Array; `SHAPE_MISMATCH` for a wrong size.
 * @example
 * ```ts
 * checkTransformerWeights(resolveTransformerSpec(spec), trainer.parameterValues());
 * ```
 */
export function checkTransformerWeights(spec: ResolvedTransformerSpec, weights: TransformerWeights): void {
  checkWeights(transformerWeightShapes(spec), weights);
}

/** @internal Checks weights against a listing (see {@link checkTransformerWeights}). */
export function checkWeights(shapes: readonly WeightShape[], weights: ReadonlyMap<string, Float32Array | Float64Array>): void {
  const known = new Set(shapes.map((entry) => entry.name));
  for (const name of weights.keys()) {
    if (!known.has(name)) throw new GenrecError('INVALID_INPUT', `unknown weight "${name}" for this spec`, { details: { field: 'weights' } });
  }
  for (const { name, shape, optional } of shapes) {
    const value = weights.get(name);
    if (value === undefined) {
      if (optional) continue;
      throw new GenrecError('INVALID_INPUT', `weight "${name}" [${shape.join(', ')}] is missing`, { details: { field: 'weights' } });
    }
    if (!(value instanceof Float32Array) && !(value instanceof Float64Array)) throw new GenrecError('DTYPE_MISMATCH', `weight "${name}" must be a Float32Array or Float64Array`, { details: { field: 'weights' } });
    const size = shape.reduce((a, b) => a * b, 1);
    if (value.length !== size) {
      throw new GenrecError('SHAPE_MISMATCH', `weight "${name}" has ${value.length} values, expected [${shape.join(', ')}] = ${size}`, { details: { field: 'weights' } });
    }
    for (let i = 0; i < value.length; i++) {
      if (!Number.isFinite(value[i]!)) throw new GenrecError('INVALID_INPUT', `weight "${name}" has a non-finite value at ${i}`, { details: { field: 'weights' } });
    }
  }
}

/**
 * @internal The weights as the graphs want them, copied once (later changes to the given arrays do
 * not reach the model): float32, projections transposed from `[out, in]` to `[in, out]` (the graphs
 * compute `x W`).
 */
export function graphWeights(shapes: readonly WeightShape[], weights: ReadonlyMap<string, Float32Array | Float64Array>): Map<string, Float32Array> {
  const prepared = new Map<string, Float32Array>();
  for (const { name, shape, projection } of shapes) {
    const value = weights.get(name);
    if (value === undefined) continue;
    if (!projection) {
      prepared.set(name, Float32Array.from(value));
      continue;
    }
    const [rows, columns] = shape as [number, number];
    const transposed = new Float32Array(rows * columns);
    for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) transposed[c * rows + r] = value[r * columns + c]!;
    prepared.set(name, transposed);
  }
  return prepared;
}
