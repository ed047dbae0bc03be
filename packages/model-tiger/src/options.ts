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
} from '@genrec/core';
import { resolveSasrecSpec, type SasrecOptions } from '@genrec/model-sasrec';
import { LEARNING_RATE_SCHEDULES, type LearningRateSchedule } from '@genrec/nn';

/** The resolved early-stopping rule (core's, `undefined` = none). */
export type { ResolvedEarlyStopping };

/** The two forms of the generative model (see the README). */
export type TigerArchitecture = 'decoder-only' | 'encoder-decoder';

/**
 * Where item vectors come from: `'text'` TF-IDF + SVD of the catalogue's text fields
 * (`data.catalog`), `'collaborative'` PPMI-SVD of co-occurrences in `data.train`, `'sasrec'` the
 * item embeddings of a SASRec trained on `data.train` first (`@genrec/model-sasrec`), `'given'`
 * `data.itemVectors`. Several sources are concatenated, each L2-normalised.
 */
export type ItemVectorSource = 'text' | 'collaborative' | 'sasrec' | 'given';

/** The quantiser that turns item vectors into codes. */
export type TigerQuantizer = 'residual-kmeans' | 'balanced-kmeans' | 'rq-vae';

/** Learning-rate schedules: linear warm-up, then constant, `1/sqrt(step)` or cosine decay to 0 (`@genrec/nn`'s {@link LearningRateSchedule}). */
export type TigerSchedule = LearningRateSchedule;

/** Which items get a semantic id at fit time. */
export type IndexedItems = 'all' | 'trained';

/** TIGER's hyper-parameters (every one has a default; see {@link TIGER_DEFAULTS}). */
export interface TigerOptions {
  /** The generative model's form. @defaultValue 'decoder-only' */
  architecture?: TigerArchitecture;
  /** Item vector source, or several (concatenated). @defaultValue 'given' when `data.itemVectors` is given, else 'text' with a catalogue, else 'collaborative' */
  itemVectors?: ItemVectorSource | readonly ItemVectorSource[];
  /**
   * Weight of each `itemVectors` source in the concatenation, in the same order: every source's
   * rows are L2-normalised, then multiplied by its weight. Weights are relative (one source alone
   * is only rescaled); a source's part of the squared distances the quantiser minimises scales
   * with its weight squared (e.g. `[0.5, 1]` for `['text', 'sasrec']` gives the titles a quarter of
   * their equal-weight share). One per source, each in (0, 10^6]. `addItems` vectors must be given
   * in this weighted space (`itemVectors()` returns it).
   *
   * @defaultValue 1 for every source
   */
  itemVectorWeights?: readonly number[];
  /**
   * Catalogue fields read by the `'text'` source. Not given, `fitTiger` resolves the default through
   * `@genrec/semantic-id`'s `defaultTextFields`: `['title']`, or `['attributes']` for a catalogue
   * whose records have no title but attribute ids (`@genrec/data`'s `attributeCatalog`, e.g.
   * Sports); the resolved fields are what `describe()`, the saved spec and checkpoints record.
   *
   * @defaultValue ['title'] (see above)
   */
  textFields?: readonly string[];
  /** Dimension of the built-in `'text'` and `'collaborative'` vectors. @defaultValue 64 */
  vectorDimension?: number;
  /** Co-occurrence window of the `'collaborative'` vectors (items at most this many positions apart). @defaultValue 5 */
  collaborativeWindow?: number;
  /**
   * Options of the SASRec trained for the `'sasrec'` source (`@genrec/model-sasrec`'s
   * `SasrecOptions`; its seed is the fit's). @defaultValue {} (model-sasrec's defaults: 20 epochs)
   */
  sasrecOptions?: Readonly<SasrecOptions>;
  /** How codes are fitted. @defaultValue 'residual-kmeans' */
  quantizer?: TigerQuantizer;
  /**
   * Quantiser levels (the id has one more token: the collision level). 4 by default: on Toys, with
   * the title + SASRec + collaborative vectors, 4 levels gave a higher validation NDCG@10 and
   * Recall@10 (means over three seeds, measured on all validation users) than the paper's 3, with
   * fewer colliding items (698–800 against 1,980–2,417), at about 1.2x the training time and 1.4x
   * the decoding time; 5 levels gave lower validation Recall@10 and NDCG@10 means than 4 (README
   * "Benchmark").
   * `TIGER_PAPER_OPTIONS` keeps 3. @defaultValue 4
   */
  levels?: number;
  /** Codes per quantiser level. @defaultValue 256 */
  codebookSize?: number;
  /**
   * Codes of the collision level (its token count in the vocabulary): items sharing all quantiser
   * codes get 0, 1, 2…; the spare ones let items added later (`addItems`) fit the trained
   * vocabulary. 0 = twice the largest collision group at fit time (at least 4).
   * @defaultValue 0
   */
  collisionCodes?: number;
  /**
   * The id's last token: `'collision'` (TIGER) disambiguates items that share every quantiser code
   * (0, 1, 2… among them); `'item'` is the item itself (a token per catalogue item: the model reads
   * each history item through its own embedding, at the price of a vocabulary of `itemCount` more
   * tokens; items added later have untrained tokens). @defaultValue 'collision'
   */
  lastLevel?: 'collision' | 'item';
  /**
   * Item tokens in the model's input: each history item is read as its id's tokens followed by one
   * item token (`itemTokens >= itemCount`: one per item; fewer: a hash of the id into that many
   * buckets), giving the model an embedding per item (or bucket) to remember item-to-item
   * transitions by; the vocabulary grows by this many tokens, which are never generated. 0 = none
   * (TIGER's input). @defaultValue 0
   */
  itemTokens?: number;
  /** `'all'` items `1..itemCount`, or only `'trained'` ones (with a training interaction; the others can be added later). @defaultValue 'all' */
  indexItems?: IndexedItems;
  /** History items the model reads (the most recent). @defaultValue 20 */
  maxHistory?: number;
  /** Model width. @defaultValue 128 */
  modelDimension?: number;
  /** Attention heads. @defaultValue 4 */
  heads?: number;
  /** Width of one head. @defaultValue modelDimension / heads */
  headDimension?: number;
  /** Feed-forward width. @defaultValue 512 */
  feedForwardDimension?: number;
  /** Layers of the decoder-only form. @defaultValue 4 */
  layers?: number;
  /** Encoder layers of the encoder-decoder form. @defaultValue 4 */
  encoderLayers?: number;
  /** Decoder layers of the encoder-decoder form. @defaultValue 4 */
  decoderLayers?: number;
  /**
   * Dropout (embeddings, attention weights, feed-forward, residual branches). 0 by default: on Toys
   * the decoder-only form underfits in a 30-minute budget (validation NDCG@10 after 10 epochs: 0.047
   * at 0, 0.037 at 0.1, 0.018 at 0.3; README "Benchmark"). The paper's configuration uses 0.1.
   * @defaultValue 0
   */
  dropout?: number;
  /** Feed-forward activation. @defaultValue 'relu' */
  activation?: 'relu' | 'gelu';
  /**
   * Epoch budget (the cosine schedule reaches 0 at its end). 15 by default: on Toys, with early
   * stopping on validation, 15 epochs gave a higher validation NDCG@10 and Recall@10 (measured on
   * all validation users) than 10 at each of three seeds, in about 10.5 minutes of training at 3
   * levels (12–13 minutes at the default 4; README "Benchmark"). @defaultValue 15
   */
  epochs?: number;
  /**
   * Training rows (decoder-only: sequence windows; encoder-decoder: next-item targets) per step. 64
   * by default: on Toys it reached a higher validation NDCG@10 per training minute than 256 or 32
   * (README "Benchmark"). @defaultValue 64
   */
  batchSize?: number;
  /** Peak learning rate of AdamW. @defaultValue 0.002 */
  learningRate?: number;
  /** Linear warm-up steps. @defaultValue 200 */
  warmupSteps?: number;
  /** Decay after the warm-up. @defaultValue 'cosine' */
  schedule?: TigerSchedule;
  /** AdamW decoupled weight decay. @defaultValue 0.01 */
  weightDecay?: number;
  /**
   * Label smoothing of the token cross-entropy (0.1 chosen on Toys validation over three seeds; the
   * paper's configuration keeps 0). @defaultValue 0.1
   */
  labelSmoothing?: number;
  /** Global gradient-norm clipping (0 = none). @defaultValue 1 */
  clipNorm?: number;
  /** Beam width of `recommend` (the beam is at least k). @defaultValue 20 */
  beamWidth?: number;
  /**
   * Score an id by the log-softmax of each token over the tokens the trie allows after its prefix
   * instead of over the full vocabulary, in `recommend`, `score` and validation: the scores are then
   * log-probabilities over the recommendable items (for a user with a history they sum to 1 over
   * them; retired items score `-Infinity`), and probability the model puts on token sequences that
   * name no item is not counted against any item.
   * @defaultValue false
   */
  renormalize?: boolean;
  /** Users per decoding call (recommend, score, validation). @defaultValue 256 */
  inferenceBatchSize?: number;
  /** Worker threads of the decoding step model (0 = in the calling thread). @defaultValue 2 */
  workers?: number;
  /** onnxruntime threads per operator of the training sessions (0 = one per physical core). @defaultValue 0 */
  threads?: number;
}

/** Options of {@link fitTiger}: the hyper-parameters plus the fitting options every model takes. */
export type FitTigerOptions = TigerOptions & CommonFitOptions;

/** The resolved hyper-parameters (every default filled in), as stored in the model folder. */
export interface TigerSpec {
  architecture: TigerArchitecture;
  itemVectors: ItemVectorSource[];
  itemVectorWeights: number[];
  textFields: string[];
  vectorDimension: number;
  collaborativeWindow: number;
  sasrecOptions: SasrecOptions;
  quantizer: TigerQuantizer;
  levels: number;
  codebookSize: number;
  collisionCodes: number;
  lastLevel: 'collision' | 'item';
  itemTokens: number;
  indexItems: IndexedItems;
  maxHistory: number;
  modelDimension: number;
  heads: number;
  headDimension: number;
  feedForwardDimension: number;
  layers: number;
  encoderLayers: number;
  decoderLayers: number;
  dropout: number;
  activation: 'relu' | 'gelu';
  epochs: number;
  batchSize: number;
  learningRate: number;
  warmupSteps: number;
  schedule: TigerSchedule;
  weightDecay: number;
  labelSmoothing: number;
  clipNorm: number;
  beamWidth: number;
  renormalize: boolean;
  inferenceBatchSize: number;
  workers: number;
  threads: number;
  seed: number;
}

/** Defaults of {@link TigerOptions} (`itemVectors` depends on the data; see there). */
export const TIGER_DEFAULTS: Readonly<Omit<TigerSpec, 'seed' | 'itemVectors' | 'itemVectorWeights' | 'headDimension'>> = {
  architecture: 'decoder-only',
  textFields: ['title'],
  vectorDimension: 64,
  collaborativeWindow: 5,
  sasrecOptions: {},
  quantizer: 'residual-kmeans',
  levels: 4,
  codebookSize: 256,
  collisionCodes: 0,
  lastLevel: 'collision',
  itemTokens: 0,
  indexItems: 'all',
  maxHistory: 20,
  modelDimension: 128,
  heads: 4,
  feedForwardDimension: 512,
  layers: 4,
  encoderLayers: 4,
  decoderLayers: 4,
  dropout: 0,
  activation: 'relu',
  epochs: 15,
  batchSize: 64,
  learningRate: 0.002,
  warmupSteps: 200,
  schedule: 'cosine',
  weightDecay: 0.01,
  labelSmoothing: 0.1,
  clipNorm: 1,
  beamWidth: 20,
  renormalize: false,
  inferenceBatchSize: 256,
  workers: 2,
  threads: 0,
};

/**
 * The TIGER paper's model (Rajput et al. 2023): an encoder-decoder with 4 + 4 layers, d_model 128,
 * 6 heads x 64, feed-forward 1024, dropout 0.1, no label smoothing, a history of 20 items, 3 x 256
 * codes plus the collision token. Spread it into `fitTiger`'s options.
 *
 * @example
 * ```ts
 * const model = await fitTiger(data, { ...TIGER_PAPER_OPTIONS, epochs: 2 });
 * ```
 */
export const TIGER_PAPER_OPTIONS: Readonly<TigerOptions> = {
  architecture: 'encoder-decoder',
  modelDimension: 128,
  heads: 6,
  headDimension: 64,
  feedForwardDimension: 1024,
  encoderLayers: 4,
  decoderLayers: 4,
  dropout: 0.1,
  labelSmoothing: 0,
  maxHistory: 20,
  levels: 3,
  codebookSize: 256,
};

/** Checks the SASRec options now (model-sasrec's own check), so a bad one fails before any work. */
function checkSasrecOptions(value: unknown): SasrecOptions {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new GenrecError('INVALID_OPTION', 'sasrecOptions must be an object of @genrec/model-sasrec options', { details: { field: 'sasrecOptions' } });
  }
  try {
    resolveSasrecSpec(value as SasrecOptions);
  } catch (error) {
    throw new GenrecError('INVALID_OPTION', `sasrecOptions: ${(error as Error).message}`, { cause: error, details: { field: 'sasrecOptions' } });
  }
  return { ...(value as SasrecOptions) };
}

const ITEM_VECTOR_SOURCES: readonly ItemVectorSource[] = ['text', 'collaborative', 'sasrec', 'given'];
const HYPER_PARAMETERS = [...Object.keys(TIGER_DEFAULTS), 'itemVectors', 'itemVectorWeights', 'headDimension'];
const COMMON = ['seed', 'onProgress', 'signal', 'earlyStopping', 'checkpointDirectory', 'resumeFrom'];

/** What the data offers, for the `itemVectors` default. */
export interface VectorDefaults {
  hasItemVectors: boolean;
  hasCatalog: boolean;
}

/**
 * Checks every option and fills in the defaults, before anything is allocated.
 *
 * @param options - the options given to `fitTiger` (fitting options such as `onProgress` are accepted and ignored here)
 * @param data - what the data offers (for the `itemVectors` default)
 * @returns the hyper-parameters with every default filled in
 * @throws GenrecError `INVALID_OPTION` naming the option (unknown names, NaN, out-of-range values,
 * unknown enums, a head width that does not divide the model width when not given).
 * @example
 * ```ts
 * resolveTigerSpec({ layers: 2 }).modelDimension; // 128
 * resolveTigerSpec({ dropout: NaN }); // throws INVALID_OPTION (field 'dropout')
 * ```
 */
export function resolveTigerSpec(options: FitTigerOptions = {}, data: VectorDefaults = { hasItemVectors: false, hasCatalog: true }): TigerSpec {
  if (typeof options !== 'object' || options === null) throw new GenrecError('INVALID_OPTION', 'fitTiger options must be an object', { details: { field: 'options' } });
  checkKnownOptions(options, [...HYPER_PARAMETERS, ...COMMON], 'fitTiger');
  const o = options as TigerOptions & { seed?: number };
  const d = TIGER_DEFAULTS;
  const sources = o.itemVectors ?? (data.hasItemVectors ? 'given' : data.hasCatalog ? 'text' : 'collaborative');
  const list = typeof sources === 'string' ? [sources] : sources;
  if (!Array.isArray(list) || list.length === 0) {
    throw new GenrecError('INVALID_OPTION', `itemVectors must be one of ${ITEM_VECTOR_SOURCES.join(', ')} or a non-empty list of them`, { details: { field: 'itemVectors' } });
  }
  const itemVectors = list.map((source) => checkEnumOption(source, 'itemVectors', ITEM_VECTOR_SOURCES));
  if (new Set(itemVectors).size !== itemVectors.length) throw new GenrecError('INVALID_OPTION', `itemVectors lists a source twice: ${itemVectors.join(', ')}`, { details: { field: 'itemVectors' } });
  const weights = o.itemVectorWeights ?? itemVectors.map(() => 1);
  if (!Array.isArray(weights) || weights.length !== itemVectors.length) {
    throw new GenrecError('INVALID_OPTION', `itemVectorWeights must list one weight per itemVectors source (${itemVectors.length}: ${itemVectors.join(', ')})`, { details: { field: 'itemVectorWeights' } });
  }
  const itemVectorWeights = weights.map((w, i) => checkNumberOption(w, `itemVectorWeights[${i}]`, 0, 1e6, { minimumExclusive: true }));
  const textFields = o.textFields ?? d.textFields;
  if (!Array.isArray(textFields) || textFields.length === 0 || textFields.some((field) => typeof field !== 'string' || field.length === 0)) {
    throw new GenrecError('INVALID_OPTION', 'textFields must be a non-empty list of field names', { details: { field: 'textFields' } });
  }
  const modelDimension = checkIntegerOption(o.modelDimension ?? d.modelDimension, 'modelDimension', 1, 8192);
  const heads = checkIntegerOption(o.heads ?? d.heads, 'heads', 1, 1024);
  if (o.headDimension === undefined && modelDimension % heads !== 0) {
    throw new GenrecError('INVALID_OPTION', `heads (${heads}) must divide modelDimension (${modelDimension}) unless headDimension is given`, { details: { field: 'heads' } });
  }
  const headDimension = checkIntegerOption(o.headDimension ?? modelDimension / heads, 'headDimension', 1, 8192);
  return {
    architecture: checkEnumOption(o.architecture ?? d.architecture, 'architecture', ['decoder-only', 'encoder-decoder']),
    itemVectors,
    itemVectorWeights,
    textFields: [...textFields],
    vectorDimension: checkIntegerOption(o.vectorDimension ?? d.vectorDimension, 'vectorDimension', 1, 4096),
    collaborativeWindow: checkIntegerOption(o.collaborativeWindow ?? d.collaborativeWindow, 'collaborativeWindow', 1, 1000),
    sasrecOptions: checkSasrecOptions(o.sasrecOptions ?? d.sasrecOptions),
    quantizer: checkEnumOption(o.quantizer ?? d.quantizer, 'quantizer', ['residual-kmeans', 'balanced-kmeans', 'rq-vae']),
    levels: checkIntegerOption(o.levels ?? d.levels, 'levels', 1, 8),
    codebookSize: checkIntegerOption(o.codebookSize ?? d.codebookSize, 'codebookSize', 2, 65_536),
    collisionCodes: checkIntegerOption(o.collisionCodes ?? d.collisionCodes, 'collisionCodes', 0, 65_536),
    lastLevel: checkEnumOption(o.lastLevel ?? d.lastLevel, 'lastLevel', ['collision', 'item']),
    itemTokens: checkIntegerOption(o.itemTokens ?? d.itemTokens, 'itemTokens', 0, 16_777_216),
    indexItems: checkEnumOption(o.indexItems ?? d.indexItems, 'indexItems', ['all', 'trained']),
    maxHistory: checkIntegerOption(o.maxHistory ?? d.maxHistory, 'maxHistory', 1, 1024),
    modelDimension,
    heads,
    headDimension,
    feedForwardDimension: checkIntegerOption(o.feedForwardDimension ?? d.feedForwardDimension, 'feedForwardDimension', 1, 65_536),
    layers: checkIntegerOption(o.layers ?? d.layers, 'layers', 1, 64),
    encoderLayers: checkIntegerOption(o.encoderLayers ?? d.encoderLayers, 'encoderLayers', 1, 64),
    decoderLayers: checkIntegerOption(o.decoderLayers ?? d.decoderLayers, 'decoderLayers', 1, 64),
    dropout: checkNumberOption(o.dropout ?? d.dropout, 'dropout', 0, 1, { maximumExclusive: true }),
    activation: checkEnumOption(o.activation ?? d.activation, 'activation', ['relu', 'gelu']),
    epochs: checkIntegerOption(o.epochs ?? d.epochs, 'epochs', 1, 1_000_000),
    batchSize: checkIntegerOption(o.batchSize ?? d.batchSize, 'batchSize', 1, 65_536),
    learningRate: checkNumberOption(o.learningRate ?? d.learningRate, 'learningRate', 0, 10, { minimumExclusive: true }),
    warmupSteps: checkIntegerOption(o.warmupSteps ?? d.warmupSteps, 'warmupSteps', 0, 100_000_000),
    schedule: checkEnumOption(o.schedule ?? d.schedule, 'schedule', LEARNING_RATE_SCHEDULES),
    weightDecay: checkNumberOption(o.weightDecay ?? d.weightDecay, 'weightDecay', 0, 1),
    labelSmoothing: checkNumberOption(o.labelSmoothing ?? d.labelSmoothing, 'labelSmoothing', 0, 1, { maximumExclusive: true }),
    clipNorm: checkNumberOption(o.clipNorm ?? d.clipNorm, 'clipNorm', 0, 1e9),
    beamWidth: checkIntegerOption(o.beamWidth ?? d.beamWidth, 'beamWidth', 1, 65_536),
    renormalize: checkBooleanOption(o.renormalize ?? d.renormalize, 'renormalize'),
    inferenceBatchSize: checkIntegerOption(o.inferenceBatchSize ?? d.inferenceBatchSize, 'inferenceBatchSize', 1, 65_536),
    workers: checkIntegerOption(o.workers ?? d.workers, 'workers', 0, 64),
    threads: checkIntegerOption(o.threads ?? d.threads, 'threads', 0, 1024),
    seed: checkIntegerOption(o.seed ?? 0, 'seed', 0),
  };
}

/**
 * Resolves the early-stopping rule: none without validation data or with `earlyStopping: false`,
 * otherwise `{ metric: 'ndcg@10', patience: 3 }` unless given (all validation users unless
 * `sampleUsers`).
 *
 * @param value - the `earlyStopping` option
 * @param hasValidation - whether `fit` was given validation data
 * @param itemCount - the catalogue size (bounds the metric's K)
 * @returns the rule, or undefined for none
 * @throws GenrecError `INVALID_OPTION` for an unknown metric, a bad patience or sample size.
 * @example
 * ```ts
 * resolveEarlyStopping({ patience: 2 }, true, 2000)?.name; // 'ndcg@10'
 * ```
 */
export function resolveEarlyStopping(value: EarlyStoppingOptions | false | undefined, hasValidation: boolean, itemCount: number): ResolvedEarlyStopping | undefined {
  if (value === false) return undefined;
  // the model's own wording for a value that is not an object; the rule itself is core's
  if (value !== undefined && (typeof value !== 'object' || value === null)) {
    throw new GenrecError('INVALID_OPTION', 'earlyStopping must be false or { metric, patience, sampleUsers }', { details: { field: 'earlyStopping' } });
  }
  return resolveCoreEarlyStopping(value, hasValidation, itemCount);
}
