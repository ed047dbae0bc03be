import { GenrecError, type FitData, type ProgressCallback, type Recommender, type RecommenderLoader } from '@genrec/core';
import {
  MODEL_LOADERS,
  fitItemKnn,
  fitMarkov,
  fitPopularity,
  fitSasrec,
  fitSetrec,
  fitTiger,
  loadSasrec,
  loadTiger,
  resolveSasrecSpec,
  resolveSetrecSpec,
  resolveTigerSpec,
  tigerPreferenceModel,
} from '@genrec/models';
import { modelFolders } from '../run/model-folders.js';
import type { FieldSpec } from '../config/schema.js';
import type { PreparedIds } from '../ids/build-ids.js';
import type { PreferenceHookFactory } from './preference-hooks.js';
import { tigerEntry } from './tiger-entry.js';

/** What a registry entry's `fit` receives. */
export interface ModelFitInput {
  /** Training sequences, validation users, the catalogue. */
  data: FitData;
  /** The model's options: the preset, then the config's `model.options` (unchecked beyond their types). */
  options: Record<string, unknown>;
  /** The seed of this training. */
  seed: number;
  /** onnxruntime threads (the config's `threads`), for models that take them. */
  threads: number;
  /** Progress events, to pass on to the package's fit. */
  onProgress: ProgressCallback;
  /** Ctrl-C: fit stops at the next step and returns the best model so far. */
  signal: AbortSignal;
  /** A folder for per-epoch checkpoints (models trained by epochs). */
  checkpointDirectory: string;
  /** The item ids of a generative model (`requires: 'semantic-ids'` or `'set-ids'`), built or loaded by the CLI. */
  ids?: PreparedIds;
}

/**
 * One model kind the command line knows: how to check its options, named configurations, how to
 * fit it and how to load a saved one. Adding a model package to the CLI is one entry in
 * {@link MODEL_REGISTRY} (or in the `models` option of `runCli`).
 */
export interface ModelEntry {
  /** The kind (`sasrec`), as in `genrec train <kind>` and in saved model folders. */
  kind: string;
  /** One line for `genrec models`. */
  summary: string;
  /** The npm package implementing it. */
  packageName: string;
  /** Item ids the model needs: the CLI builds them (`ids` config) and passes them to `fit`. */
  requires?: 'semantic-ids' | 'set-ids';
  /** Whether the model trains by epochs (fit events, checkpoints, Ctrl-C keeps the best epoch). */
  trainsByEpochs: boolean;
  /** The types of its options, checked before any data is read (ranges are checked by `check` or the fit). */
  options: Readonly<Record<string, FieldSpec>>;
  /** Options holding file or folder paths: resolved against the working directory (or the config file's folder) and stored absolute. */
  pathOptions?: readonly string[];
  /** Named configurations (`quickstart`: small enough for the quickstart's time budget). */
  presets: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** Option-range checks that need no data (e.g. SASRec's `resolveSasrecSpec`); throws `INVALID_OPTION`. */
  check?(options: Record<string, unknown>): void;
  /** Trains the model. */
  fit(input: ModelFitInput): Promise<Recommender>;
  /** Loads a saved folder of this kind; defaults to `@genrec/models`' loader of the kind. */
  load?: RecommenderLoader;
  /** The preference hook of a fitted model of this kind (`genrec align`); defaults to `@genrec/models`' hook of the kind, when it has one. */
  preferenceModel?: PreferenceHookFactory;
}

const integer = (min = 0): FieldSpec => ({ type: 'integer', min });
const number: FieldSpec = { type: 'number' };

/** Popularity, Markov and item-kNN: one counting pass, no epochs. */
const BASELINES: ModelEntry[] = [
  {
    kind: 'popularity',
    summary: 'most interacted items first (the baseline of every table)',
    packageName: '@genrec/model-baselines',
    trainsByEpochs: false,
    options: {},
    presets: {},
    fit: ({ data, seed, onProgress, signal }) => fitPopularity(data, { seed, onProgress, signal }),
  },
  {
    kind: 'markov',
    summary: 'item-to-item transitions of order 1-3, smoothed toward popularity',
    packageName: '@genrec/model-baselines',
    trainsByEpochs: false,
    options: { order: integer(1), smoothing: number },
    presets: { order2: { order: 2 } },
    fit: ({ data, options, seed, onProgress, signal }) => fitMarkov(data, { ...options, seed, onProgress, signal }),
  },
  {
    kind: 'item-knn',
    summary: 'co-occurrence item-kNN with recency-weighted histories',
    packageName: '@genrec/model-baselines',
    trainsByEpochs: false,
    options: { neighbours: integer(1), window: integer(1), recencyDecay: number },
    presets: {},
    fit: ({ data, options, seed, onProgress, signal }) => fitItemKnn(data, { ...options, seed, onProgress, signal }),
  },
];

const SASREC: ModelEntry = {
  kind: 'sasrec',
  summary: 'SASRec: self-attentive sequential recommender (full-softmax CE, BCE or sampled softmax)',
  packageName: '@genrec/model-sasrec',
  trainsByEpochs: true,
  options: {
    hiddenSize: integer(1),
    blocks: integer(1),
    heads: integer(1),
    maxLength: integer(1),
    dropout: number,
    epochs: integer(1),
    batchSize: integer(1),
    learningRate: number,
    loss: { type: 'string', enum: ['ce', 'bce', 'sampled-softmax'] },
    negatives: integer(1),
    positionBucket: integer(1),
    inferenceBatchSize: integer(1),
    threads: integer(0),
    earlyStopping: {
      type: 'either',
      options: [
        { type: 'boolean' },
        { type: 'object', fields: { metric: { type: 'string' }, patience: integer(1), sampleUsers: integer(1) } },
      ],
    },
  },
  presets: {
    // about 4 s an epoch on the synthetic default (2 cores): the quickstart's SASRec
    quickstart: { hiddenSize: 32, blocks: 1, heads: 1, maxLength: 20, dropout: 0.1, learningRate: 0.005, batchSize: 128, epochs: 6 },
    // the conformance suite's cheap configuration
    small: { hiddenSize: 32, blocks: 1, heads: 1, maxLength: 20, dropout: 0.1, learningRate: 0.005, batchSize: 128, epochs: 10 },
    // the sasrec_ce peer's settings (the package defaults)
    paper: {},
  },
  check(options) {
    const { earlyStopping, ...rest } = options;
    if (earlyStopping === true) throw new GenrecError('INVALID_OPTION', 'model.options.earlyStopping: expected false or { metric, patience, sampleUsers }, found true', { details: { field: 'model.options.earlyStopping' } });
    resolveSasrecSpec(rest);
  },
  fit: ({ data, options, seed, threads, onProgress, signal, checkpointDirectory }) =>
    fitSasrec(data, { threads, ...options, seed, onProgress, signal, checkpointDirectory } as Parameters<typeof fitSasrec>[1]),
};

const integers: FieldSpec = { type: 'array', items: { type: 'integer', min: 1 }, minItems: 1 };

const SETREC: ModelEntry = {
  kind: 'setrec',
  summary: 'SETRec: order-agnostic set ids (a CF token + semantic tokens of the content) generated at once by learnable queries',
  packageName: '@genrec/model-setrec',
  trainsByEpochs: true,
  options: {
    semanticTokens: integer(1),
    hiddenSize: integer(1),
    autoencoderHidden: integers,
    backbone: { type: 'string', enum: ['query-decoder', 'causal'] },
    layers: integer(1),
    decoderLayers: integer(1),
    lastItemResidual: { type: 'boolean' },
    heads: integer(1),
    feedForwardSize: integer(1),
    maxLength: integer(1),
    lengthBuckets: integers,
    dropout: number,
    epochs: integer(1),
    batchPositions: integer(1),
    learningRate: number,
    alpha: number,
    beta: { type: 'either', options: [number, { type: 'string', enum: ['validation'] }] },
    betaGrid: { type: 'array', items: number, minItems: 1 },
    coldCfToken: { type: 'string', enum: ['zero', 'imputed'] },
    imputationNeighbors: integer(1),
    contentFields: { type: 'array', items: { type: 'string' }, minItems: 1 },
    contentDimension: integer(1),
    inferenceBatchSize: integer(1),
    threads: integer(0),
    // options of the SASRec pre-trained for the CF tokens (fitSasrec's)
    sasrecOptions: { type: 'object', values: { type: 'any' } },
    // or a trained SASRec to take the CF tokens from: a model folder, or a run folder (its first seed's model)
    sasrecModel: { type: 'string', nonEmpty: true },
    earlyStopping: SASREC.options['earlyStopping']!,
  },
  presets: {
    // about 50 s on the synthetic default (2 cores): a short SASRec for the CF tokens, 2 semantic tokens, 3 epochs
    quickstart: {
      semanticTokens: 2,
      hiddenSize: 16,
      layers: 1,
      maxLength: 20,
      epochs: 3,
      beta: 0.5,
      contentDimension: 32,
      sasrecOptions: { hiddenSize: 32, blocks: 1, heads: 1, maxLength: 20, dropout: 0.1, learningRate: 0.005, batchSize: 128, epochs: 3 },
    },
    // the package defaults (the paper's settings as the package documents them)
    paper: {},
  },
  pathOptions: ['sasrecModel'],
  check(options) {
    const { earlyStopping, sasrecModel, ...rest } = options;
    if (typeof sasrecModel === 'string') modelFolders(sasrecModel); // exists, and holds a model
    if (earlyStopping === true) throw new GenrecError('INVALID_OPTION', 'model.options.earlyStopping: expected false or { metric, patience, sampleUsers }, found true', { details: { field: 'model.options.earlyStopping' } });
    resolveSetrecSpec(rest);
  },
  async fit({ data, options, seed, threads, onProgress, signal, checkpointDirectory }) {
    const { sasrecModel, ...rest } = options;
    const sasrec = typeof sasrecModel === 'string' ? await loadSasrec(modelFolders(sasrecModel).folders[0]!.path) : undefined;
    try {
      return await fitSetrec(data, { threads, ...rest, ...(sasrec === undefined ? {} : { sasrec }), seed, onProgress, signal, checkpointDirectory } as Parameters<typeof fitSetrec>[1]);
    } finally {
      await sasrec?.dispose(); // SETRec copies the item embeddings it needs
    }
  },
};

const TIGER: ModelEntry = tigerEntry({ fitTiger, loadTiger, resolveTigerSpec, tigerPreferenceModel });

/**
 * Every model kind `genrec` trains out of the box, by kind: the baselines, SASRec, SETRec and TIGER
 * (all from `@genrec/models`).
 */
export const MODEL_REGISTRY: Readonly<Record<string, ModelEntry>> = Object.freeze(Object.fromEntries([...BASELINES, SASREC, SETREC, TIGER].map((entry) => [entry.kind, entry])));

/** A registry: the built-in entries plus further ones (a model package of your own). */
export type ModelRegistry = Readonly<Record<string, ModelEntry>>;

/**
 * The built-in registry with `extra` entries added (an extra entry of an existing kind replaces it).
 *
 * @param extra - further entries
 * @returns the registry
 * @example
 * ```ts
 * const registry = createModelRegistry([myModelEntry]);
 * ```
 */
export function createModelRegistry(extra: readonly ModelEntry[] = []): ModelRegistry {
  return Object.freeze({ ...MODEL_REGISTRY, ...Object.fromEntries(extra.map((entry) => [entry.kind, entry])) });
}

/**
 * The entry of a kind.
 *
 * @throws GenrecError `INVALID_OPTION` naming the known kinds
 * @example
 * ```ts
 * modelEntry(MODEL_REGISTRY, 'sasrec').presets['quickstart']; // { hiddenSize: 32, … }
 * ```
 */
export function modelEntry(registry: ModelRegistry, kind: string, field = 'model.kind'): ModelEntry {
  const entry = Object.hasOwn(registry, kind) ? registry[kind] : undefined;
  if (entry === undefined) {
    throw new GenrecError('INVALID_OPTION', `unknown model kind "${kind}" (known: ${Object.keys(registry).join(', ')})`, { details: { field } });
  }
  return entry;
}

/**
 * The loaders of every kind in the registry (for `loadRecommender`).
 *
 * @example
 * ```ts
 * const model = await loadRecommender('runs/x/seeds/42/model', { loaders: registryLoaders(createModelRegistry()) });
 * ```
 */
export function registryLoaders(registry: ModelRegistry): Record<string, RecommenderLoader> {
  const loaders: Record<string, RecommenderLoader> = { ...MODEL_LOADERS };
  for (const entry of Object.values(registry)) if (entry.load !== undefined) loaders[entry.kind] = entry.load;
  return loaders;
}
