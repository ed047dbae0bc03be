import {
  GenrecError,
  checkBooleanOption,
  checkEnumOption,
  checkIntegerOption,
  checkKnownOptions,
  checkNumberOption,
  resolveEarlyStopping as resolveCoreEarlyStopping,
  type CommonFitOptions,
  type EarlyStoppingOptions,
  type ResolvedEarlyStopping,
  type Matrix,
} from '@genrec/core';
import type { FitSasrecOptions, SasrecModel } from '@genrec/model-sasrec';
import { LEARNING_RATE_SCHEDULES, type LearningRateSchedule } from '@genrec/nn';

/** The resolved early-stopping rule (core's, `undefined` = none). */
export type { ResolvedEarlyStopping };

/**
 * How the n+1 queries read the history (both encode every history item as its n+1 tokens sharing
 * one position id under the sparse sibling mask):
 * - `'query-decoder'` (SETRec's T5 variant): an encoder over the history tokens, then a decoder
 *   whose n+1 learnable queries see only themselves in self-attention and every history token in
 *   cross-attention;
 * - `'causal'` (SETRec's Qwen variant): one causal stack over the history tokens followed by the
 *   n+1 queries, each query seeing every history token and itself, never another query.
 */
export type SetrecBackbone = 'query-decoder' | 'causal';

/** The backbones, for validation and documentation. */
export const SETREC_BACKBONES: readonly SetrecBackbone[] = ['query-decoder', 'causal'];

/**
 * The CF token of an item without training interactions (a cold item): `'zero'` feeds a zero
 * vector to the CF projection (the token is the projection's bias, the same for every cold item);
 * `'imputed'` feeds the mean frozen CF vector of the `imputationNeighbors` warm items whose
 * content vectors are closest (cosine) to the cold item's.
 */
export type ColdCfToken = 'zero' | 'imputed';

/**
 * SETRec's hyper-parameters. Defaults: n = 4 semantic tokens, the SETRec autoencoder's MLP
 * 512/256/128 (the latent of `semanticTokens x hiddenSize` = 128 values split into 4 tokens of
 * 32), α = 0.7 (the paper's), Adam (betas 0.9/0.98) at 1e-3, histories of 50 items.
 */
export interface SetrecOptions {
  /**
   * Semantic tokens n per item (the set has n + 1 tokens: CF first). Each one is another
   * full-catalogue cross-entropy per training step: at Toys' and Sports' sizes (11,924 and 18,357
   * items, 20-minute budget) 1 was chosen on validation among 1, 2 and 4, and trains in a third of
   * the memory of 4 (README "Semantic tokens on Toys" and "… on Sports"). @defaultValue 4
   */
  semanticTokens?: number;
  /** Width of every token, query and hidden state. @defaultValue 32 */
  hiddenSize?: number;
  /**
   * Encoder widths of the SETRec autoencoder; the last is the latent size and must equal
   * `semanticTokens x hiddenSize` (the decoder mirrors them). @defaultValue [512, 256, semanticTokens x hiddenSize]
   */
  autoencoderHidden?: readonly number[];
  /** How the queries read the history (see {@link SetrecBackbone}). @defaultValue 'query-decoder' */
  backbone?: SetrecBackbone;
  /** Encoder layers (`'query-decoder'`) or layers of the causal stack (`'causal'`). @defaultValue 2 */
  layers?: number;
  /** Query-decoder layers (`'query-decoder'` only). @defaultValue 1 */
  decoderLayers?: number;
  /**
   * Add the most recent item's tokens (with their position) to the n+1 query inputs, slot by slot
   * (query `s` starts from the last item's token `s`), as SASRec's hidden state starts from the
   * last item. `false`: the queries carry only the learnable query vectors and the last position,
   * as in the paper. Measured in the README (a large gain on small models). @defaultValue true
   */
  lastItemResidual?: boolean;
  /** Attention heads (must divide `hiddenSize`). @defaultValue 2 */
  heads?: number;
  /** Hidden width of the feed-forward blocks. @defaultValue 4 x hiddenSize */
  feedForwardSize?: number;
  /** Longest history read (its most recent items). @defaultValue 50 */
  maxLength?: number;
  /**
   * History lengths (in items) of the compiled shapes: a batch of rows is padded to the smallest
   * bucket that holds its longest row. Ascending, the last equal to `maxLength`. Each bucket is one
   * compiled training session. @defaultValue powers of two from 4 below maxLength, then maxLength
   */
  lengthBuckets?: readonly number[];
  /** Dropout on token inputs, attention weights, residual branches and the feed-forward layers. @defaultValue 0.2 */
  dropout?: number;
  /** Epoch budget (early stopping may stop sooner). @defaultValue 20 */
  epochs?: number;
  /**
   * Scored positions (history prefixes) per training step: rows of a length bucket `ℓ` are batched
   * `floor(batchPositions / ℓ)` at a time. Memory grows with `batchPositions x (n + 1) x itemCount`.
   * @defaultValue 2048
   */
  batchPositions?: number;
  /** Adam's learning rate (the peak of `schedule`); 0.003 was chosen on validation at Sports' size with 4 semantic tokens (README). @defaultValue 0.001 */
  learningRate?: number;
  /**
   * What the learning rate does after `warmupSteps`: stays at `learningRate` (`'constant'`), decays
   * as `1/sqrt(step)` (`'inverse-sqrt'`) or follows a half cosine to 0 at the end of the `epochs`
   * budget (`'cosine'`: set `epochs` to the epochs the run will train, e.g. what a wall-time budget
   * allows). `@genrec/nn`'s `learningRateAt`. @defaultValue 'constant'
   */
  schedule?: LearningRateSchedule;
  /** Steps of linear warm-up to `learningRate` (0 = none). @defaultValue 0 */
  warmupSteps?: number;
  /** Weight α of the autoencoder's reconstruction MSE in `loss = CE + α · MSE`. @defaultValue 0.7 */
  alpha?: number;
  /**
   * Weight β of the score `Σ_s w_s <q_s, v_s>`, `w = [1 − β, β, …, β]`: a number in [0, 1], or
   * `'validation'` to pick it from `betaGrid` on the validation data after every epoch (never on
   * test). Without validation data `'validation'` falls back to {@link SETREC_FALLBACK_BETA}.
   * @defaultValue 'validation'
   */
  beta?: number | 'validation';
  /** Candidate values of β for `beta: 'validation'`. @defaultValue [0, 0.1, …, 1] */
  betaGrid?: readonly number[];
  /** The CF token of items without training interactions. @defaultValue 'imputed' */
  coldCfToken?: ColdCfToken;
  /** Content neighbours averaged by `coldCfToken: 'imputed'`. @defaultValue 10 */
  imputationNeighbors?: number;
  /**
   * Catalogue fields embedded as item content (TF-IDF + SVD of `@genrec/semantic-id`'s
   * `textEmbeddings`) when `data.itemVectors` is not given. @defaultValue ['title', 'categories']
   */
  contentFields?: readonly string[];
  /** Dimension of those text embeddings (capped by the catalogue size). @defaultValue 128 */
  contentDimension?: number;
  /** Users per inference run (`recommend`, `score`, validation). @defaultValue 256 */
  inferenceBatchSize?: number;
  /** onnxruntime threads per operator (0 = one per physical core). @defaultValue 0 */
  threads?: number;
}

/**
 * Where the frozen CF vectors come from (not stored in the spec: the vectors themselves are saved):
 * `cfVectors` (`itemCount x d`, row `j` = item `j + 1`), a fitted `sasrec` model (its
 * `itemEmbeddings()`), or neither, and then a SASRec is pre-trained on `data.train` with
 * `sasrecOptions` (reported by `task-*` events `'sasrec-pretraining'`).
 */
export interface SetrecCfSource {
  /** Frozen CF vectors, row `j` = item `j + 1`. */
  cfVectors?: Matrix;
  /** A fitted SASRec whose item embeddings are the CF vectors. */
  sasrec?: SasrecModel;
  /** Options of the SASRec pre-trained when neither `cfVectors` nor `sasrec` is given. @defaultValue SASRec's defaults (its peer's settings), same seed */
  sasrecOptions?: FitSasrecOptions;
}

/** Options of {@link fitSetrec}: hyper-parameters, the CF source and the fitting options every model takes. */
export type FitSetrecOptions = SetrecOptions & SetrecCfSource & CommonFitOptions;

/** The resolved hyper-parameters (every default filled in), as stored in the model folder. */
export interface SetrecSpec {
  semanticTokens: number;
  hiddenSize: number;
  autoencoderHidden: number[];
  backbone: SetrecBackbone;
  layers: number;
  decoderLayers: number;
  lastItemResidual: boolean;
  heads: number;
  feedForwardSize: number;
  maxLength: number;
  lengthBuckets: number[];
  dropout: number;
  epochs: number;
  batchPositions: number;
  learningRate: number;
  schedule: LearningRateSchedule;
  warmupSteps: number;
  alpha: number;
  beta: number | 'validation';
  betaGrid: number[];
  coldCfToken: ColdCfToken;
  imputationNeighbors: number;
  contentFields: string[];
  contentDimension: number;
  inferenceBatchSize: number;
  threads: number;
  seed: number;
}

/** β used by `beta: 'validation'` when `fit` gets no validation data (measured on Toys: see README). */
export const SETREC_FALLBACK_BETA = 0.5;

/** The default β grid: 0, 0.1, …, 1. */
export const SETREC_BETA_GRID: readonly number[] = Array.from({ length: 11 }, (_, i) => i / 10);

/** Defaults of the scalar hyper-parameters. */
export const SETREC_DEFAULTS = {
  semanticTokens: 4,
  hiddenSize: 32,
  backbone: 'query-decoder' as SetrecBackbone,
  layers: 2,
  decoderLayers: 1,
  heads: 2,
  maxLength: 50,
  dropout: 0.2,
  epochs: 20,
  batchPositions: 2048,
  learningRate: 1e-3,
  schedule: 'constant' as LearningRateSchedule,
  warmupSteps: 0,
  alpha: 0.7,
  coldCfToken: 'imputed' as ColdCfToken,
  imputationNeighbors: 10,
  contentFields: ['title', 'categories'] as readonly string[],
  contentDimension: 128,
  inferenceBatchSize: 256,
  threads: 0,
} as const;

const HYPER_PARAMETERS = [
  'semanticTokens',
  'hiddenSize',
  'autoencoderHidden',
  'backbone',
  'layers',
  'decoderLayers',
  'lastItemResidual',
  'heads',
  'feedForwardSize',
  'maxLength',
  'lengthBuckets',
  'dropout',
  'epochs',
  'batchPositions',
  'learningRate',
  'schedule',
  'warmupSteps',
  'alpha',
  'beta',
  'betaGrid',
  'coldCfToken',
  'imputationNeighbors',
  'contentFields',
  'contentDimension',
  'inferenceBatchSize',
  'threads',
];
const CF_SOURCE = ['cfVectors', 'sasrec', 'sasrecOptions'];
const COMMON = ['seed', 'onProgress', 'signal', 'earlyStopping', 'checkpointDirectory', 'resumeFrom'];

/** The names `fitSetrec` accepts. */
export const FIT_SETREC_OPTION_NAMES: readonly string[] = [...HYPER_PARAMETERS, ...CF_SOURCE, ...COMMON];

function integerList(value: unknown, field: string, minimum: number, maximum: number, minLength: number): number[] {
  if (!Array.isArray(value) || value.length < minLength) {
    throw new GenrecError('INVALID_OPTION', `${field} must be an array of at least ${minLength} integer(s), got ${JSON.stringify(value)}`, { details: { field } });
  }
  return value.map((entry, i) => checkIntegerOption(entry, `${field}[${i}]`, minimum, maximum));
}

/** Powers of two from 4 below `maxLength`, then `maxLength`. */
export function defaultLengthBuckets(maxLength: number): number[] {
  const buckets: number[] = [];
  for (let b = 4; b < maxLength; b *= 2) buckets.push(b);
  buckets.push(maxLength);
  return buckets;
}

/**
 * Checks every option and fills in the defaults, before anything is allocated.
 *
 * @param options - the options given to `fitSetrec` (the CF source and fitting options are accepted and ignored here).
 * @returns the hyper-parameters with every default filled in.
 * @throws GenrecError `INVALID_OPTION` naming the option: unknown names, NaN, out-of-range values,
 * an unknown backbone or cold CF token, heads that do not divide `hiddenSize`, an autoencoder latent
 * other than `semanticTokens x hiddenSize`, length buckets that are not ascending or do not end at
 * `maxLength`, a β outside [0, 1].
 * @example
 * ```ts
 * resolveSetrecSpec({ hiddenSize: 64 }).autoencoderHidden; // [512, 256, 256]
 * resolveSetrecSpec({ alpha: NaN }); // throws INVALID_OPTION (field 'alpha')
 * ```
 */
export function resolveSetrecSpec(options: FitSetrecOptions = {}): SetrecSpec {
  if (typeof options !== 'object' || options === null) throw new GenrecError('INVALID_OPTION', `fitSetrec options must be an object, got ${String(options)}`, { details: { field: 'options' } });
  checkKnownOptions(options, FIT_SETREC_OPTION_NAMES, 'fitSetrec');
  const o = options;
  const d = SETREC_DEFAULTS;
  const semanticTokens = checkIntegerOption(o.semanticTokens ?? d.semanticTokens, 'semanticTokens', 1, 64);
  const hiddenSize = checkIntegerOption(o.hiddenSize ?? d.hiddenSize, 'hiddenSize', 1, 4096);
  const heads = checkIntegerOption(o.heads ?? d.heads, 'heads', 1, hiddenSize);
  if (hiddenSize % heads !== 0) throw new GenrecError('INVALID_OPTION', `heads (${heads}) must divide hiddenSize (${hiddenSize})`, { details: { field: 'heads' } });
  const autoencoderHidden = integerList(o.autoencoderHidden ?? [512, 256, semanticTokens * hiddenSize], 'autoencoderHidden', 1, 65_536, 1);
  if (autoencoderHidden[autoencoderHidden.length - 1] !== semanticTokens * hiddenSize) {
    throw new GenrecError(
      'INVALID_OPTION',
      `the autoencoder's latent (last of autoencoderHidden, ${autoencoderHidden[autoencoderHidden.length - 1]}) must be semanticTokens x hiddenSize = ${semanticTokens * hiddenSize}: it is split into the semantic tokens`,
      { details: { field: 'autoencoderHidden' } },
    );
  }
  const maxLength = checkIntegerOption(o.maxLength ?? d.maxLength, 'maxLength', 1, 1024);
  const lengthBuckets = o.lengthBuckets === undefined ? defaultLengthBuckets(maxLength) : integerList(o.lengthBuckets, 'lengthBuckets', 1, maxLength, 1);
  for (let i = 1; i < lengthBuckets.length; i++) {
    if (lengthBuckets[i]! <= lengthBuckets[i - 1]!) throw new GenrecError('INVALID_OPTION', `lengthBuckets must be strictly ascending, got [${lengthBuckets.join(', ')}]`, { details: { field: 'lengthBuckets' } });
  }
  if (lengthBuckets[lengthBuckets.length - 1] !== maxLength) {
    throw new GenrecError('INVALID_OPTION', `the last of lengthBuckets must be maxLength (${maxLength}), got [${lengthBuckets.join(', ')}]`, { details: { field: 'lengthBuckets' } });
  }
  let beta: number | 'validation';
  if (o.beta === undefined || o.beta === 'validation') beta = 'validation';
  else beta = checkNumberOption(o.beta, 'beta', 0, 1);
  const betaGrid = (() => {
    const grid = o.betaGrid ?? SETREC_BETA_GRID;
    if (!Array.isArray(grid) || grid.length < 1) throw new GenrecError('INVALID_OPTION', `betaGrid must be a non-empty array of numbers in [0, 1], got ${JSON.stringify(grid)}`, { details: { field: 'betaGrid' } });
    return grid.map((value, i) => checkNumberOption(value, `betaGrid[${i}]`, 0, 1));
  })();
  const contentFields = o.contentFields ?? d.contentFields;
  if (!Array.isArray(contentFields) || contentFields.length < 1 || contentFields.some((field) => typeof field !== 'string' || field.length === 0)) {
    throw new GenrecError('INVALID_OPTION', `contentFields must be a non-empty array of field names, got ${JSON.stringify(contentFields)}`, { details: { field: 'contentFields' } });
  }
  return {
    semanticTokens,
    hiddenSize,
    autoencoderHidden,
    backbone: checkEnumOption(o.backbone ?? d.backbone, 'backbone', SETREC_BACKBONES),
    layers: checkIntegerOption(o.layers ?? d.layers, 'layers', 1, 64),
    decoderLayers: checkIntegerOption(o.decoderLayers ?? d.decoderLayers, 'decoderLayers', 1, 64),
    lastItemResidual: checkBooleanOption(o.lastItemResidual ?? true, 'lastItemResidual'),
    heads,
    feedForwardSize: checkIntegerOption(o.feedForwardSize ?? 4 * hiddenSize, 'feedForwardSize', 1, 65_536),
    maxLength,
    lengthBuckets,
    dropout: checkNumberOption(o.dropout ?? d.dropout, 'dropout', 0, 1, { maximumExclusive: true }),
    epochs: checkIntegerOption(o.epochs ?? d.epochs, 'epochs', 1, 1_000_000),
    batchPositions: checkIntegerOption(o.batchPositions ?? d.batchPositions, 'batchPositions', maxLength, 1_000_000),
    learningRate: checkNumberOption(o.learningRate ?? d.learningRate, 'learningRate', 0, 10, { minimumExclusive: true }),
    schedule: checkEnumOption(o.schedule ?? d.schedule, 'schedule', LEARNING_RATE_SCHEDULES),
    warmupSteps: checkIntegerOption(o.warmupSteps ?? d.warmupSteps, 'warmupSteps', 0, 100_000_000),
    alpha: checkNumberOption(o.alpha ?? d.alpha, 'alpha', 0, 1e6),
    beta,
    betaGrid,
    coldCfToken: checkEnumOption(o.coldCfToken ?? d.coldCfToken, 'coldCfToken', ['zero', 'imputed'] as const),
    imputationNeighbors: checkIntegerOption(o.imputationNeighbors ?? d.imputationNeighbors, 'imputationNeighbors', 1, 10_000),
    contentFields: [...contentFields],
    contentDimension: checkIntegerOption(o.contentDimension ?? d.contentDimension, 'contentDimension', 1, 65_536),
    inferenceBatchSize: checkIntegerOption(o.inferenceBatchSize ?? d.inferenceBatchSize, 'inferenceBatchSize', 1, 65_536),
    threads: checkIntegerOption(o.threads ?? d.threads, 'threads', 0, 1024),
    seed: checkIntegerOption(o.seed ?? 0, 'seed', 0),
  };
}

/**
 * Resolves the early-stopping rule: none without validation data or with `earlyStopping: false`,
 * otherwise `{ metric: 'ndcg@10', patience: 3 }` unless given.
 *
 * @param value - the `earlyStopping` option.
 * @param hasValidation - whether `fit` was given validation data.
 * @param itemCount - the catalogue size (bounds the metric's K).
 * @returns the rule, or undefined for none.
 * @throws GenrecError `INVALID_OPTION` for an unknown metric, a bad patience or sample size.
 * @example
 * ```ts
 * resolveEarlyStopping(undefined, true, 2000); // { metric: 'ndcg', k: 10, name: 'ndcg@10', patience: 3, sampleUsers: undefined }
 * ```
 */
export function resolveEarlyStopping(value: EarlyStoppingOptions | false | undefined, hasValidation: boolean, itemCount: number): ResolvedEarlyStopping | undefined {
  if (value === false) return undefined;
  // the model's own wording for a value that is not an object; the rule itself is core's
  if (value !== undefined && (typeof value !== 'object' || value === null)) {
    throw new GenrecError('INVALID_OPTION', `earlyStopping must be false or { metric, patience, sampleUsers }, got ${String(value)}`, { details: { field: 'earlyStopping' } });
  }
  return resolveCoreEarlyStopping(value, hasValidation, itemCount);
}
