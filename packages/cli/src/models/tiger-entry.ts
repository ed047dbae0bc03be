import type { FitData, Recommender } from '@genrec/core';
import type { FieldSpec } from '../config/schema.js';
import type { PreferenceHook } from './preference-hooks.js';
import type { ModelEntry } from './registry.js';

const integer = (min = 0): FieldSpec => ({ type: 'integer', min });
const number: FieldSpec = { type: 'number' };
const strings: FieldSpec = { type: 'array', items: { type: 'string' }, minItems: 1 };

/** The functions of `@genrec/model-tiger` the entry calls (the package's module, or `@genrec/models`, satisfies it). */
export interface TigerApi {
  fitTiger(data: FitData, options: Record<string, unknown>): Promise<Recommender>;
  loadTiger(directory: string): Promise<Recommender>;
  resolveTigerSpec(options: Record<string, unknown>, data: { hasItemVectors: boolean; hasCatalog: boolean }): unknown;
  /** The preference hook (`genrec align`); without it, `@genrec/models`' `tigerPreferenceModel`. */
  tigerPreferenceModel?(model: never): PreferenceHook;
}

/**
 * The `genrec` registry entry of TIGER, built from `@genrec/model-tiger`'s functions
 * (`MODEL_REGISTRY` carries the one built from `@genrec/models`; a program can build its own, e.g.
 * over a patched TIGER, and pass it to `runCli(argv, { models })`). It requires semantic ids: the CLI builds them (or loads `ids.path`) and
 * TIGER receives their item vectors (`data.itemVectors`, its `'given'` source), so its codes come
 * from the vectors whose health `genrec ids` printed.
 *
 * @param tiger - `@genrec/model-tiger`'s exports (or `@genrec/models`')
 * @returns the entry (kind `tiger`)
 * @example
 * ```ts
 * import * as tiger from '@genrec/model-tiger';
 * await runCli(['train', 'tiger', '--preset', 'quickstart'], { models: [tigerEntry(tiger)] });
 * ```
 */
export function tigerEntry(tiger: TigerApi): ModelEntry {
  return {
    kind: 'tiger',
    summary: 'TIGER: ordered semantic ids generated token by token by a Transformer, trie-constrained beam search',
    packageName: '@genrec/model-tiger',
    requires: 'semantic-ids',
    trainsByEpochs: true,
    options: {
      architecture: { type: 'string', enum: ['decoder-only', 'encoder-decoder'] },
      itemVectors: { type: 'either', options: [{ type: 'string', enum: ['text', 'collaborative', 'sasrec', 'given'] }, strings] },
      itemVectorWeights: { type: 'array', items: number, minItems: 1 },
      textFields: strings,
      vectorDimension: integer(1),
      collaborativeWindow: integer(1),
      // model-sasrec's options of the 'sasrec' source, checked by model-tiger (`check`)
      sasrecOptions: { type: 'object', values: { type: 'any' } },
      quantizer: { type: 'string', enum: ['residual-kmeans', 'balanced-kmeans', 'rq-vae'] },
      levels: integer(1),
      codebookSize: integer(2),
      collisionCodes: integer(0),
      lastLevel: { type: 'string', enum: ['collision', 'item'] },
      itemTokens: integer(0),
      indexItems: { type: 'string', enum: ['all', 'trained'] },
      maxHistory: integer(1),
      modelDimension: integer(1),
      heads: integer(1),
      headDimension: integer(1),
      feedForwardDimension: integer(1),
      layers: integer(1),
      encoderLayers: integer(1),
      decoderLayers: integer(1),
      dropout: number,
      activation: { type: 'string', enum: ['relu', 'gelu'] },
      epochs: integer(1),
      batchSize: integer(1),
      learningRate: number,
      warmupSteps: integer(0),
      schedule: { type: 'string', enum: ['constant', 'inverse-sqrt', 'cosine'] },
      weightDecay: number,
      labelSmoothing: number,
      clipNorm: number,
      beamWidth: integer(1),
      renormalize: { type: 'boolean' },
      inferenceBatchSize: integer(1),
      workers: integer(0),
      threads: integer(0),
      earlyStopping: { type: 'either', options: [{ type: 'boolean' }, { type: 'object', fields: { metric: { type: 'string' }, patience: integer(1), sampleUsers: integer(1) } }] },
    },
    presets: {
      // the quickstart's: a small decoder-only Transformer over 3 x 32 codes, a few epochs
      quickstart: { modelDimension: 64, heads: 2, feedForwardDimension: 128, layers: 2, maxHistory: 20, levels: 3, codebookSize: 32, epochs: 4, batchSize: 256, warmupSteps: 20, learningRate: 0.003, beamWidth: 20 },
      paper: {},
    },
    check(options) {
      tiger.resolveTigerSpec(options, { hasItemVectors: true, hasCatalog: true });
    },
    fit: ({ data, options, seed, threads, onProgress, signal, checkpointDirectory }) => tiger.fitTiger(data, { threads, ...options, seed, onProgress, signal, checkpointDirectory }),
    load: (directory) => tiger.loadTiger(directory),
    ...(tiger.tigerPreferenceModel === undefined ? {} : { preferenceModel: (model: Recommender) => tiger.tigerPreferenceModel!(model as never) }),
  };
}
