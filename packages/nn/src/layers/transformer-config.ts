import { checkBooleanOption, checkEnumOption, checkIntegerOption, checkNumberOption, GenrecError } from '@genrec/core';

/**
 * The parts shared by the canonical Transformer models ({@link encoderDecoderTransformer} and
 * {@link causalTransformer}): pre-LayerNorm blocks, multi-head attention scaled by
 * `1/sqrt(headDimension)`, a two-layer feed-forward block, learned absolute positions, a final
 * LayerNorm, and an output projection (by default the input embedding, tied).
 *
 * The same object (without `dropout`, `bias`, `tieOutput`, which the weights themselves show) is
 * a valid spec of `@genrec/decoder`'s step models, which run these weights unchanged.
 */
export interface TransformerModelConfig {
  /** Tokens: rows of the embedding, width of the logits. */
  vocabularySize: number;
  /** Model width `d`. */
  modelDimension: number;
  /** Attention heads. */
  heads: number;
  /**
   * Width of one head; `heads x headDimension` need not equal `d` (TIGER: 6 x 64 on d 128).
   * @defaultValue modelDimension / heads (which must then divide it)
   */
  headDimension?: number;
  /** Inner width `f` of the feed-forward block. */
  feedForwardDimension: number;
  /** Feed-forward activation (`'gelu'`: the exact, erf form). @defaultValue 'relu' */
  activation?: 'relu' | 'gelu';
  /** LayerNorm epsilon. @defaultValue 1e-5 */
  layerNormEpsilon?: number;
  /** Padding token: masked wherever it is a key (never attended to). @defaultValue 0 */
  padToken?: number;
  /** Biases on every projection, the output one included (LayerNorms always have one). @defaultValue false */
  bias?: boolean;
  /** Logits = `h embedding^T` (no `output.weight`); `false` adds an untied `output.weight` `[V, d]`. @defaultValue true */
  tieOutput?: boolean;
  /** Dropout on the embedded inputs, attention weights, feed-forward hidden layer and residual branches (training graphs only). @defaultValue 0 */
  dropout?: number;
}

/** Configuration of {@link encoderDecoderTransformer} (TIGER's architecture). */
export interface EncoderDecoderTransformerConfig extends TransformerModelConfig {
  encoderLayers: number;
  decoderLayers: number;
  /** Rows of `encoder.position.weight`: the longest encoder input (positions are the input's columns). */
  maxSourceLength: number;
  /** Rows of `decoder.position.weight`: the most decoder positions (start token included). */
  maxTargetLength: number;
}

/** How a {@link causalTransformer} numbers positions. */
export type PositionMode = 'column' | 'sequence';

/** Configuration of {@link causalTransformer} (a decoder-only model over token sequences). */
export interface CausalTransformerConfig extends TransformerModelConfig {
  layers: number;
  /** Rows of `position.weight`: the longest sequence (context plus generated tokens). */
  maxLength: number;
  /**
   * `'column'`: a token's position is its column in the (padded) input; `'sequence'`: its index
   * among the row's non-padding tokens (so the same sequence gets the same positions however it is
   * padded).
   * @defaultValue 'column'
   */
  positions?: PositionMode;
}

/** A config with every default filled in. */
export type ResolvedEncoderDecoderConfig = Required<EncoderDecoderTransformerConfig>;
/** A config with every default filled in. */
export type ResolvedCausalConfig = Required<CausalTransformerConfig>;

/** One parameter of a canonical Transformer: its name, shape, and the layer that owns it. */
export interface TransformerParameterShape {
  name: string;
  /** Row-major shape; projections are PyTorch's `[out, in]`. */
  shape: number[];
  /** `'linear'`: a projection weight `[out, in]` or its bias `[out]` (`output.weight` included). */
  layer: 'embedding' | 'positions' | 'layerNorm' | 'linear';
}

function resolveShared<T extends TransformerModelConfig>(config: T, where: string): T & Required<TransformerModelConfig> {
  if (typeof config !== 'object' || config === null) throw new GenrecError('INVALID_OPTION', `${where}: the config must be an object`, { details: { field: 'config' } });
  const field = (name: string): string => `${where}.${name}`;
  checkIntegerOption(config.vocabularySize, field('vocabularySize'), 1);
  const d = checkIntegerOption(config.modelDimension, field('modelDimension'), 1);
  const heads = checkIntegerOption(config.heads, field('heads'), 1);
  let headDimension: number;
  if (config.headDimension === undefined) {
    if (d % heads !== 0) {
      throw new GenrecError('INVALID_OPTION', `${field('heads')}: ${heads} heads do not divide modelDimension ${d}; give headDimension`, { details: { field: field('headDimension') } });
    }
    headDimension = d / heads;
  } else headDimension = checkIntegerOption(config.headDimension, field('headDimension'), 1);
  checkIntegerOption(config.feedForwardDimension, field('feedForwardDimension'), 1);
  const resolved = {
    ...config,
    headDimension,
    activation: checkEnumOption(config.activation ?? 'relu', field('activation'), ['relu', 'gelu'] as const),
    layerNormEpsilon: checkNumberOption(config.layerNormEpsilon ?? 1e-5, field('layerNormEpsilon'), 0, 1, { minimumExclusive: true }),
    padToken: checkIntegerOption(config.padToken ?? 0, field('padToken'), 0, config.vocabularySize - 1),
    bias: checkBooleanOption(config.bias ?? false, field('bias')),
    tieOutput: checkBooleanOption(config.tieOutput ?? true, field('tieOutput')),
    dropout: checkNumberOption(config.dropout ?? 0, field('dropout'), 0, 1, { maximumExclusive: true }),
  };
  return resolved;
}

/**
 * Fills the defaults of an encoder-decoder config and checks every field.
 *
 * @param config - the configuration
 * @returns the config with every default filled in
 * @throws GenrecError `INVALID_OPTION` naming the bad field.
 * @example
 * ```ts
 * const tiger = nn.resolveEncoderDecoderConfig({ vocabularySize: 1027, modelDimension: 128, heads: 6, headDimension: 64,
 *   feedForwardDimension: 1024, encoderLayers: 4, decoderLayers: 4, maxSourceLength: 80, maxTargetLength: 5 });
 * ```
 */
export function resolveEncoderDecoderConfig(config: EncoderDecoderTransformerConfig): ResolvedEncoderDecoderConfig {
  const resolved = resolveShared(config, 'config');
  for (const name of ['encoderLayers', 'decoderLayers', 'maxSourceLength', 'maxTargetLength'] as const) checkIntegerOption(resolved[name], `config.${name}`, 1);
  return resolved;
}

/**
 * Fills the defaults of a decoder-only config and checks every field.
 *
 * @param config - the configuration
 * @returns the config with every default filled in
 * @throws GenrecError `INVALID_OPTION` naming the bad field.
 * @example
 * ```ts
 * const config = nn.resolveCausalConfig({ vocabularySize: 1027, modelDimension: 128, heads: 4, feedForwardDimension: 512, layers: 4, maxLength: 84 });
 * ```
 */
export function resolveCausalConfig(config: CausalTransformerConfig): ResolvedCausalConfig {
  const resolved = resolveShared(config, 'config');
  checkIntegerOption(resolved.layers, 'config.layers', 1);
  checkIntegerOption(resolved.maxLength, 'config.maxLength', 1);
  return { ...resolved, positions: checkEnumOption(config.positions ?? 'column', 'config.positions', ['column', 'sequence'] as const) };
}

/** Collects parameter entries in declaration order. */
class ShapeList {
  readonly list: TransformerParameterShape[] = [];
  constructor(
    readonly config: Required<TransformerModelConfig>,
    /** Which biases to list: the config's choice, or every optional one. */
    readonly biases: boolean,
  ) {}

  add(name: string, shape: number[], layer: TransformerParameterShape['layer']): void {
    this.list.push({ name, shape, layer });
  }

  linear(name: string, input: number, output: number): void {
    this.add(`${name}.weight`, [output, input], 'linear');
    if (this.biases) this.add(`${name}.bias`, [output], 'linear');
  }

  norm(name: string): void {
    const d = this.config.modelDimension;
    this.add(`${name}.weight`, [d], 'layerNorm');
    this.add(`${name}.bias`, [d], 'layerNorm');
  }

  attention(name: string): void {
    const { modelDimension: d, heads, headDimension } = this.config;
    const inner = heads * headDimension;
    for (const projection of ['q', 'k', 'v']) this.linear(`${name}.${projection}`, d, inner);
    this.linear(`${name}.out`, inner, d);
  }

  feedForward(name: string): void {
    const { modelDimension: d, feedForwardDimension: f } = this.config;
    this.linear(`${name}.fc1`, d, f);
    this.linear(`${name}.fc2`, f, d);
  }

  output(untied: boolean): void {
    const { vocabularySize: v, modelDimension: d } = this.config;
    if (untied) this.add('output.weight', [v, d], 'linear');
    if (this.biases) this.add('output.bias', [v], 'linear');
  }
}

/** Options of the parameter-shape listings. */
export interface ParameterShapeOptions {
  /**
   * `true` lists every optional parameter (every projection bias, `output.weight` and
   * `output.bias`) whatever the config says: the full set a loader may accept.
   * @defaultValue false (exactly the parameters the config's builder declares)
   */
  everyOptional?: boolean;
}

/**
 * Every parameter of {@link encoderDecoderTransformer} for `config`, in declaration order (the
 * name table of the README).
 *
 * @param config - the configuration
 * @param options - `everyOptional` to list the optional parameters too
 * @returns names, shapes (`[out, in]` for projections) and owning layers
 * @throws GenrecError `INVALID_OPTION` for a bad config.
 * @example
 * ```ts
 * nn.encoderDecoderParameterShapes(config).find((p) => p.name === 'encoder.layers.0.self_attn.q.weight')!.shape; // [384, 128]
 * ```
 */
export function encoderDecoderParameterShapes(config: EncoderDecoderTransformerConfig, options: ParameterShapeOptions = {}): TransformerParameterShape[] {
  const c = resolveEncoderDecoderConfig(config);
  const every = options.everyOptional ?? false;
  const s = new ShapeList(c, every || c.bias);
  s.add('embedding.weight', [c.vocabularySize, c.modelDimension], 'embedding');
  s.add('encoder.position.weight', [c.maxSourceLength, c.modelDimension], 'positions');
  for (let i = 0; i < c.encoderLayers; i++) {
    const p = `encoder.layers.${i}`;
    s.norm(`${p}.norm1`);
    s.attention(`${p}.self_attn`);
    s.norm(`${p}.norm2`);
    s.feedForward(`${p}.ffn`);
  }
  s.norm('encoder.norm');
  s.add('decoder.position.weight', [c.maxTargetLength, c.modelDimension], 'positions');
  for (let i = 0; i < c.decoderLayers; i++) {
    const p = `decoder.layers.${i}`;
    s.norm(`${p}.norm1`);
    s.attention(`${p}.self_attn`);
    s.norm(`${p}.norm2`);
    s.attention(`${p}.cross_attn`);
    s.norm(`${p}.norm3`);
    s.feedForward(`${p}.ffn`);
  }
  s.norm('decoder.norm');
  s.output(every || !c.tieOutput);
  return s.list;
}

/**
 * Every parameter of {@link causalTransformer} for `config`, in declaration order (the name table
 * of the README).
 *
 * @param config - the configuration
 * @param options - `everyOptional` to list the optional parameters too
 * @returns names, shapes (`[out, in]` for projections) and owning layers
 * @throws GenrecError `INVALID_OPTION` for a bad config.
 * @example
 * ```ts
 * nn.causalParameterShapes(config).map((p) => p.name); // ['embedding.weight', 'position.weight', 'layers.0.norm1.weight', …]
 * ```
 */
export function causalParameterShapes(config: CausalTransformerConfig, options: ParameterShapeOptions = {}): TransformerParameterShape[] {
  const c = resolveCausalConfig(config);
  const every = options.everyOptional ?? false;
  const s = new ShapeList(c, every || c.bias);
  s.add('embedding.weight', [c.vocabularySize, c.modelDimension], 'embedding');
  s.add('position.weight', [c.maxLength, c.modelDimension], 'positions');
  for (let i = 0; i < c.layers; i++) {
    const p = `layers.${i}`;
    s.norm(`${p}.norm1`);
    s.attention(`${p}.self_attn`);
    s.norm(`${p}.norm2`);
    s.feedForward(`${p}.ffn`);
  }
  s.norm('norm');
  s.output(every || !c.tieOutput);
  return s.list;
}
