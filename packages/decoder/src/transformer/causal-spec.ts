import { GenrecError } from '@genrec/core';
import { nn } from '@genrec/nn';
import { checkCommonFields, checkPositive, checkWeights, resolveHeadDimension, toWeightShapes, type TransformerWeights, type WeightShape } from './spec.js';

/**
 * The architecture of a decoder-only (causal) Transformer over token sequences: the
 * `nn.causalTransformer` of `@genrec/nn` (pre-LayerNorm blocks, attention scaled by
 * `1/sqrt(headDimension)`, a two-layer feed-forward block, learned absolute positions, a final
 * LayerNorm, logits through `output.weight` or the tied embedding). Field for field
 * `nn.CausalTransformerConfig` (whose `dropout`, `bias`, `tieOutput` the step model ignores: the
 * weights show them).
 */
export interface CausalTransformerSpec {
  /** Tokens (rows of the embedding, width of the logits). */
  vocabularySize: number;
  /** Model width `d`. */
  modelDimension: number;
  /** Attention heads. */
  heads: number;
  /** Width of one head. @defaultValue modelDimension / heads (which must then divide it) */
  headDimension?: number;
  /** Inner width of the feed-forward block. */
  feedForwardDimension: number;
  /** Transformer layers. */
  layers: number;
  /** Rows of `position.weight`: the most positions of a context plus the generated tokens but the last. */
  maxLength: number;
  /** Padding token: skipped in contexts (never attended to). @defaultValue 0 */
  padToken?: number;
  /** Feed-forward activation. @defaultValue 'relu' */
  activation?: 'relu' | 'gelu';
  /** LayerNorm epsilon. @defaultValue 1e-5 */
  layerNormEpsilon?: number;
  /**
   * `'column'`: a context token's position is its column in the input (generated tokens continue
   * after the last column); `'sequence'`: its index among the user's real tokens (generated tokens
   * continue after the last real one). Must be what the model was trained with.
   * @defaultValue 'column'
   */
  positions?: 'column' | 'sequence';
}

/** A spec with every default filled in. */
export type ResolvedCausalTransformerSpec = Required<CausalTransformerSpec>;

/**
 * Fills the defaults and checks every field.
 *
 * @param spec - the architecture
 * @returns the spec with every default filled in
 * @throws GenrecError `INVALID_OPTION` naming the bad field.
 * @example
 * ```ts
 * resolveCausalTransformerSpec({ vocabularySize: 1027, modelDimension: 128, heads: 4, feedForwardDimension: 512, layers: 4, maxLength: 84 }).headDimension; // 32
 * ```
 */
export function resolveCausalTransformerSpec(spec: CausalTransformerSpec): ResolvedCausalTransformerSpec {
  checkPositive(spec, ['vocabularySize', 'modelDimension', 'heads', 'feedForwardDimension', 'layers', 'maxLength']);
  const resolved: ResolvedCausalTransformerSpec = { padToken: 0, activation: 'relu', layerNormEpsilon: 1e-5, positions: 'column', ...spec, headDimension: resolveHeadDimension(spec) };
  checkCommonFields(resolved);
  if (resolved.positions !== 'column' && resolved.positions !== 'sequence') {
    throw new GenrecError('INVALID_OPTION', `spec.positions must be 'column' or 'sequence', got ${String(resolved.positions)}`, { details: { field: 'spec.positions' } });
  }
  return resolved;
}

/**
 * Every weight the spec takes, with its shape (`@genrec/nn`'s `causalParameterShapes` with every
 * optional parameter): `embedding.weight` `[V, d]`, `position.weight` `[maxLength, d]`,
 * `layers.{i}.norm1`/`norm2` `[d]`, `layers.{i}.self_attn.{q,k,v}.weight` `[heads x headDimension, d]`,
 * `layers.{i}.self_attn.out.weight` `[d, heads x headDimension]`, `layers.{i}.ffn.fc1.weight`
 * `[f, d]`, `layers.{i}.ffn.fc2.weight` `[d, f]`, `norm` `[d]`, optional `output.weight` `[V, d]`
 * and every projection's optional `.bias` `[out]`.
 *
 * @param spec - the resolved architecture
 * @returns the weights in declaration order
 * @example
 * ```ts
 * causalTransformerWeightShapes(resolveCausalTransformerSpec(spec)).filter((w) => !w.optional).length;
 * ```
 */
export function causalTransformerWeightShapes(spec: ResolvedCausalTransformerSpec): WeightShape[] {
  return toWeightShapes(nn.causalParameterShapes({ ...spec, bias: true, tieOutput: false, dropout: 0 }, { everyOptional: true }));
}

/**
 * Checks decoder-only weights: every required one present with the right size, none unknown, all
 * finite.
 *
 * @param spec - the resolved architecture
 * @param weights - the weights by name (`@genrec/nn`'s layout)
 * @throws GenrecError `INVALID_INPUT` for a missing, unknown or non-finite weight; `DTYPE_MISMATCH`
 *   for a weight that is not a Float32Array or Float64Array; `SHAPE_MISMATCH` for a wrong size.
 * @example
 * ```ts
 * checkCausalTransformerWeights(resolveCausalTransformerSpec(spec), trainer.parameterValues());
 * ```
 */
export function checkCausalTransformerWeights(spec: ResolvedCausalTransformerSpec, weights: TransformerWeights): void {
  checkWeights(causalTransformerWeightShapes(spec), weights);
}
