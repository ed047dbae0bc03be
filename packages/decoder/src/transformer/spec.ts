import { GenrecError } from '@genrec/core';

/**
 * The architecture of an encoder-decoder Transformer as TIGER uses it: pre-LayerNorm blocks,
 * multi-head attention scaled by `1/sqrt(headDimension)`, a two-layer feed-forward block, learned
 * absolute positions, a final LayerNorm on each side, and an output projection (by default the
 * transposed input embedding). Keys at the `padToken` are masked in the encoder and in the
 * decoder's cross-attention.
 */
export interface TransformerSpec {
  /** Tokens (rows of the embedding, width of the logits). */
  vocabularySize: number;
  /** Model width `d`. */
  modelDimension: number;
  /** Attention heads. */
  heads: number;
  /** Width of one head (heads x headDimension need not equal `d`). */
  headDimension: number;
  /** Inner width of the feed-forward block. */
  feedForwardDimension: number;
  encoderLayers: number;
  decoderLayers: number;
  /** Rows of `encoder.position`: the longest encoder input. */
  maxSourceLength: number;
  /** Rows of `decoder.position`: the most decoder positions (start token included). */
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
 * Weights by name, float32, row-major. Projections are `x W` (shape `[in, out]`, the transpose of
 * PyTorch's `nn.Linear.weight`), each with an optional `.bias` of `[out]`:
 *
 * | name | shape |
 * |---|---|
 * | `embedding` | `[vocabularySize, d]` (encoder and decoder input; the output projection unless `output.weight` is given) |
 * | `output.weight` (optional) | `[d, vocabularySize]` |
 * | `encoder.position`, `decoder.position` | `[maxSourceLength, d]`, `[maxTargetLength, d]` |
 * | `encoder.layers.{i}.norm1.weight`/`.bias`, `norm2` | `[d]` |
 * | `encoder.layers.{i}.attention.{query,key,value}.weight` | `[d, heads x headDimension]` |
 * | `encoder.layers.{i}.attention.output.weight` | `[heads x headDimension, d]` |
 * | `encoder.layers.{i}.feedForward.in.weight`, `.out.weight` | `[d, f]`, `[f, d]` |
 * | `encoder.norm.weight`/`.bias` | `[d]` |
 * | `decoder.layers.{i}.norm1`, `norm2`, `norm3` | `[d]` (before self-attention, cross-attention, feed-forward) |
 * | `decoder.layers.{i}.selfAttention.*`, `crossAttention.*` | as the encoder's `attention.*` |
 * | `decoder.layers.{i}.feedForward.*` | as the encoder's |
 * | `decoder.norm.weight`/`.bias` | `[d]` |
 */
export type TransformerWeights = ReadonlyMap<string, Float32Array>;

/** Fills the defaults and checks every size. @throws GenrecError `INVALID_OPTION` naming the bad field. */
export function resolveTransformerSpec(spec: TransformerSpec): ResolvedTransformerSpec {
  const resolved: ResolvedTransformerSpec = { padToken: 0, activation: 'relu', layerNormEpsilon: 1e-5, ...spec };
  const positive = ['vocabularySize', 'modelDimension', 'heads', 'headDimension', 'feedForwardDimension', 'encoderLayers', 'decoderLayers', 'maxSourceLength', 'maxTargetLength'] as const;
  for (const field of positive) {
    const value = resolved[field];
    if (!Number.isInteger(value) || value <= 0) throw new GenrecError('INVALID_OPTION', `spec.${field} must be a positive integer, got ${value}`, { details: { field: `spec.${field}` } });
  }
  if (!Number.isInteger(resolved.padToken) || resolved.padToken < 0 || resolved.padToken >= resolved.vocabularySize) {
    throw new GenrecError('INVALID_OPTION', `spec.padToken must be a token id in 0..${resolved.vocabularySize - 1}, got ${resolved.padToken}`, { details: { field: 'spec.padToken' } });
  }
  if (resolved.activation !== 'relu' && resolved.activation !== 'gelu') {
    throw new GenrecError('INVALID_OPTION', `spec.activation must be 'relu' or 'gelu', got ${String(resolved.activation)}`, { details: { field: 'spec.activation' } });
  }
  if (!(resolved.layerNormEpsilon > 0)) throw new GenrecError('INVALID_OPTION', `spec.layerNormEpsilon must be positive, got ${resolved.layerNormEpsilon}`, { details: { field: 'spec.layerNormEpsilon' } });
  return resolved;
}

/** Every weight the spec needs, with its shape; `optional` ones may be absent. */
export function transformerWeightShapes(spec: ResolvedTransformerSpec): Array<{ name: string; shape: number[]; optional: boolean }> {
  const d = spec.modelDimension;
  const inner = spec.heads * spec.headDimension;
  const f = spec.feedForwardDimension;
  const list: Array<{ name: string; shape: number[]; optional: boolean }> = [];
  const add = (name: string, shape: number[], optional = false): void => {
    list.push({ name, shape, optional });
  };
  const linear = (name: string, input: number, output: number): void => {
    add(`${name}.weight`, [input, output]);
    add(`${name}.bias`, [output], true);
  };
  const norm = (name: string): void => {
    add(`${name}.weight`, [d]);
    add(`${name}.bias`, [d]);
  };
  const attention = (name: string): void => {
    linear(`${name}.query`, d, inner);
    linear(`${name}.key`, d, inner);
    linear(`${name}.value`, d, inner);
    linear(`${name}.output`, inner, d);
  };
  const feedForward = (name: string): void => {
    linear(`${name}.in`, d, f);
    linear(`${name}.out`, f, d);
  };
  add('embedding', [spec.vocabularySize, d]);
  add('output.weight', [d, spec.vocabularySize], true);
  add('output.bias', [spec.vocabularySize], true);
  add('encoder.position', [spec.maxSourceLength, d]);
  add('decoder.position', [spec.maxTargetLength, d]);
  for (let i = 0; i < spec.encoderLayers; i++) {
    const p = `encoder.layers.${i}`;
    norm(`${p}.norm1`);
    attention(`${p}.attention`);
    norm(`${p}.norm2`);
    feedForward(`${p}.feedForward`);
  }
  norm('encoder.norm');
  for (let i = 0; i < spec.decoderLayers; i++) {
    const p = `decoder.layers.${i}`;
    norm(`${p}.norm1`);
    attention(`${p}.selfAttention`);
    norm(`${p}.norm2`);
    attention(`${p}.crossAttention`);
    norm(`${p}.norm3`);
    feedForward(`${p}.feedForward`);
  }
  norm('decoder.norm');
  return list;
}

/**
 * Checks that every required weight is present with the right size, that every given weight is
 * known, and that all values are finite.
 *
 * @throws GenrecError `INVALID_INPUT` for a missing, unknown or non-finite weight; `SHAPE_MISMATCH`
 *   for a wrong size.
 */
export function checkTransformerWeights(spec: ResolvedTransformerSpec, weights: TransformerWeights): void {
  const shapes = transformerWeightShapes(spec);
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
    if (!(value instanceof Float32Array)) throw new GenrecError('DTYPE_MISMATCH', `weight "${name}" must be a Float32Array`, { details: { field: 'weights' } });
    const size = shape.reduce((a, b) => a * b, 1);
    if (value.length !== size) {
      throw new GenrecError('SHAPE_MISMATCH', `weight "${name}" has ${value.length} values, expected [${shape.join(', ')}] = ${size}`, { details: { field: 'weights' } });
    }
    for (let i = 0; i < value.length; i++) {
      if (!Number.isFinite(value[i]!)) throw new GenrecError('INVALID_INPUT', `weight "${name}" has a non-finite value at ${i}`, { details: { field: 'weights' } });
    }
  }
}
