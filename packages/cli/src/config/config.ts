import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { GenrecError } from '@genrec/core';
import { CliError, EXIT_CODES } from '../exit-codes.js';
import { jsonErrorPosition } from './json-error.js';
import { validateField, type FieldSpec } from './schema.js';

/** Where the data comes from and how it is split. */
export interface DataConfig {
  /**
   * `'synthetic'` (genrec's synthetic default dataset), a sequence file (`.txt`: `user item item …`),
   * an interaction log (`.csv`, `.tsv`, optionally `.gz`), MovieLens `ratings.dat`, or a folder
   * holding one sequence file (and optionally `items.jsonl`).
   */
  path: string;
  /** How to read `path`; `auto` goes by the file name. */
  format: 'auto' | 'sequences' | 'interactions' | 'movielens';
  /** Item metadata (JSON lines, `item_id` + `title`); in a data folder `items.jsonl` is found by itself. */
  catalog: string | null;
  /**
   * Item attribute ids (S3-Rec `*_item2attributes.json`, or a TSV with `item_id` and
   * `attribute_ids` columns such as Sports' `items.tsv`; `@genrec/data`'s `readItemAttributes`),
   * for sequence files whose item ids are the file's ids. Added to the catalogue as the text field
   * `attributes` (over the titles when there are some): the item content of data without titles.
   * In a data folder found by itself (`*_item2attributes.json`, else `items.tsv`).
   */
  attributes: string | null;
  /** Options of `generateSyntheticDataset` when `path` is `'synthetic'`. */
  synthetic: Record<string, unknown>;
  /** The split: leave-one-out (last item test, second-last validation) or global temporal. */
  split: { method: 'leave-one-out' | 'temporal'; maxHistoryLength: number; validationFraction: number; testFraction: number };
}

/** How item ids are built for generative models (`genrec ids`, and `train` of a generative model). */
export interface IdsConfig {
  /** `semantic` (ordered, residual k-means) or `set` (SETRec-style). */
  kind: 'semantic' | 'set';
  /** Item vectors: TF-IDF + SVD of the catalogue's text, co-occurrence PPMI-SVD, or text when there is a catalogue. */
  embeddings: 'auto' | 'text' | 'collaborative';
  /** Catalogue fields the text embeddings read; when the catalogue has none of them but has attribute ids (`data.attributes`), those are read instead. */
  textFields: string[];
  /** Embedding dimension. */
  dimension: number;
  /** Quantiser levels (semantic ids). */
  levels: number;
  /** Codes per level (semantic ids) or per slot (set ids). */
  codebookSize: number;
  /** The collision level of semantic ids. */
  collisionLevel: 'always' | 'auto' | 'never';
  /** Semantic slots of set ids. */
  semanticSlots: number;
  /** Seed of the embeddings and the quantiser. */
  seed: number;
  /** A folder written by `genrec ids` to use instead of fitting ids again. */
  path: string | null;
}

/** How models are evaluated. */
export interface EvaluationConfig {
  /** Cut-offs K. */
  ks: number[];
  /** Baseline model kinds evaluated beside the model; the first is the one significance refers to. */
  baselines: string[];
  /** The paired test of the significance marks. */
  test: 'paired-t' | 'wilcoxon' | 'bootstrap';
  /** Significance level after Holm's correction over the compared metrics. */
  alpha: number;
  /** Remove each user's history from the recommendations (the model does it). */
  excludeHistory: boolean;
  /** Users per `recommend` call. */
  batchSize: number;
  /** Share of the catalogue, least popular first, counted as the long tail. */
  longTailFraction: number;
}

/** The model to train. */
export interface ModelConfig {
  /** The model kind (`genrec models` lists them). */
  kind: string;
  /** A named configuration of the model's registry entry (`quickstart`, `small`…), merged under `options`. */
  preset: string | null;
  /** The model's options (its package's fit options), over the preset. */
  options: Record<string, unknown>;
}

/** A grid of model options for `genrec sweep`, chosen on validation. */
export interface SweepConfig {
  /** Option name → values to try (every combination is trained). */
  grid: Record<string, unknown[]>;
  /** Validation metric that chooses (`ndcg@10`, `recall@20`…). */
  metric: string;
}

/**
 * Preference alignment of a saved model (`genrec align`): the options of `@genrec/dpo`'s
 * `alignModel` (same names and defaults), and the reward model of `'reward-model'` pairs.
 */
export interface AlignConfig {
  /** Pair source: the model's own top items as rejected (SPRec), a reward model's best vs worst candidates (OneRec IPA), or high- vs low-rated items. */
  source: 'self-hard-negatives' | 'reward-model' | 'explicit-feedback';
  /** Rejected items per user; `null`: 3 for `sdpo`, else 1. */
  rejected: number | null;
  /** N: the model's candidates per user for `'reward-model'` pairs. */
  candidates: number;
  /** `'reward-model'`: the model kind (`genrec models`) fitted with its defaults on the training part and scoring the candidates. */
  rewardModel: string;
  /** `'reward-model'`: λ of the exposure-aware reward (relevance − λ · penalty); 0 = the relevance alone. */
  exposureWeight: number;
  /** The penalty of the exposure-aware reward: training popularity, or exposure in the round's candidate lists. */
  exposurePenalty: 'popularity' | 'exposure';
  /** Where a user's history is cut. */
  cut: 'random' | 'last';
  /** Explicit feedback thresholds. */
  highRating: number;
  lowRating: number;
  /** The preference loss. */
  loss: 'dpo' | 'cdpo' | 'ipo' | 'sdpo';
  /** β. */
  beta: number;
  /** ε of `cdpo`. */
  labelSmoothing: number;
  /** λ of the model's supervised loss mixed into each preference step (`--lambda`). */
  supervisedWeight: number;
  /** Rounds (round t trains M_{t+1} against the reference M_t). */
  rounds: number;
  /** Share of the training users sampled for pairs in each round. */
  userShare: number;
  /** Preference steps per round; `null`: one pass over the round's pairs. */
  steps: number | null;
  /** Supervised-only steps per round on the same users. */
  supervisedSteps: number;
  /** Pairs per step. */
  batchSize: number;
  /** Adam's constant learning rate. */
  learningRate: number;
  /** Global gradient-norm clipping (0 = none). */
  clipNorm: number;
  /** Train the policy without dropout. */
  disableDropout: boolean;
  /** Training users held out of pair sampling for the per-round diagnostics (0 = none). */
  diagnosticUsers: number;
  /** Of those, the users KL to the reference is measured on (0 = off). */
  klUsers: number;
  /** K of the per-round diagnostics. */
  diagnosticK: number;
  /** Users per `recommend` call and per log-probability graph run. */
  inferenceBatchSize: number;
  /** Seed of user sampling, cuts, batch order (and of the reward model's fit). */
  seed: number;
}

/** The whole configuration of a `genrec` command, defaults filled in (`config.json` of a run folder). */
export interface GenrecConfig {
  /** A name for run folders and reports. */
  name: string | null;
  data: DataConfig;
  model: ModelConfig;
  ids: IdsConfig;
  evaluation: EvaluationConfig;
  sweep: SweepConfig;
  /** `genrec align`: the preference alignment. */
  align: AlignConfig;
  /** One training per seed; tables show the mean and spread over them. */
  seeds: number[];
  /** onnxruntime threads per operator of the models that take `threads` (0 = one per physical core). */
  threads: number;
  /** The folder that receives run folders. */
  output: string;
}

/**
 * The defaults of every field.
 *
 * @example
 * ```ts
 * defaultConfig().evaluation.ks; // [5, 10, 20]
 * ```
 */
export function defaultConfig(): GenrecConfig {
  return {
    name: null,
    data: {
      path: 'synthetic',
      format: 'auto',
      catalog: null,
      attributes: null,
      synthetic: {},
      split: { method: 'leave-one-out', maxHistoryLength: 50, validationFraction: 0.1, testFraction: 0.1 },
    },
    model: { kind: 'sasrec', preset: null, options: {} },
    ids: { kind: 'semantic', embeddings: 'auto', textFields: ['title'], dimension: 64, levels: 3, codebookSize: 32, collisionLevel: 'always', semanticSlots: 4, seed: 0, path: null },
    evaluation: { ks: [5, 10, 20], baselines: ['popularity'], test: 'paired-t', alpha: 0.05, excludeHistory: true, batchSize: 256, longTailFraction: 0.8 },
    sweep: { grid: {}, metric: 'ndcg@10' },
    align: {
      source: 'self-hard-negatives',
      rejected: null,
      candidates: 20,
      rewardModel: 'item-knn',
      exposureWeight: 0,
      exposurePenalty: 'popularity',
      cut: 'random',
      highRating: 4,
      lowRating: 2,
      loss: 'dpo',
      beta: 0.1,
      labelSmoothing: 0.1,
      supervisedWeight: 0.1,
      rounds: 1,
      userShare: 0.05,
      steps: null,
      supervisedSteps: 0,
      batchSize: 64,
      learningRate: 5e-4,
      clipNorm: 1,
      disableDropout: true,
      diagnosticUsers: 256,
      klUsers: 64,
      diagnosticK: 10,
      inferenceBatchSize: 256,
      seed: 0,
    },
    seeds: [42],
    threads: 0,
    output: 'runs',
  };
}

const nullableString: FieldSpec = { type: 'either', options: [{ type: 'string', nonEmpty: true }, { type: 'null' }] };

/** The schema of the config file (every field optional in the file: defaults fill the rest). */
export const CONFIG_SCHEMA: FieldSpec = {
  type: 'object',
  fields: {
    $schema: { type: 'string' },
    name: nullableString,
    data: {
      type: 'object',
      fields: {
        path: { type: 'string', nonEmpty: true },
        format: { type: 'string', enum: ['auto', 'sequences', 'interactions', 'movielens'] },
        catalog: nullableString,
        attributes: nullableString,
        synthetic: { type: 'object', values: { type: 'any' } },
        split: {
          type: 'object',
          fields: {
            method: { type: 'string', enum: ['leave-one-out', 'temporal'] },
            maxHistoryLength: { type: 'integer', min: 1 },
            validationFraction: { type: 'number', min: 0, max: 1 },
            testFraction: { type: 'number', min: 0, max: 1 },
          },
        },
      },
    },
    model: {
      type: 'object',
      fields: {
        kind: { type: 'string', nonEmpty: true },
        preset: nullableString,
        options: { type: 'object', values: { type: 'any' } },
      },
    },
    ids: {
      type: 'object',
      fields: {
        kind: { type: 'string', enum: ['semantic', 'set'] },
        embeddings: { type: 'string', enum: ['auto', 'text', 'collaborative'] },
        textFields: { type: 'array', items: { type: 'string', nonEmpty: true }, minItems: 1 },
        dimension: { type: 'integer', min: 2, max: 4096 },
        levels: { type: 'integer', min: 1, max: 16 },
        codebookSize: { type: 'integer', min: 2, max: 65536 },
        collisionLevel: { type: 'string', enum: ['always', 'auto', 'never'] },
        semanticSlots: { type: 'integer', min: 1, max: 64 },
        seed: { type: 'integer', min: 0 },
        path: nullableString,
      },
    },
    evaluation: {
      type: 'object',
      fields: {
        ks: { type: 'array', items: { type: 'integer', min: 1 }, minItems: 1 },
        baselines: { type: 'array', items: { type: 'string', nonEmpty: true } },
        test: { type: 'string', enum: ['paired-t', 'wilcoxon', 'bootstrap'] },
        alpha: { type: 'number', min: 0, max: 1 },
        excludeHistory: { type: 'boolean' },
        batchSize: { type: 'integer', min: 1 },
        longTailFraction: { type: 'number', min: 0, max: 1 },
      },
    },
    sweep: {
      type: 'object',
      fields: {
        grid: { type: 'object', values: { type: 'array', items: { type: 'any' }, minItems: 1 } },
        metric: { type: 'string', nonEmpty: true },
      },
    },
    align: {
      type: 'object',
      fields: {
        source: { type: 'string', enum: ['self-hard-negatives', 'reward-model', 'explicit-feedback'] },
        rejected: { type: 'either', options: [{ type: 'integer', min: 1, max: 1024 }, { type: 'null' }] },
        candidates: { type: 'integer', min: 2, max: 100_000 },
        rewardModel: { type: 'string', nonEmpty: true },
        exposureWeight: { type: 'number', min: 0 },
        exposurePenalty: { type: 'string', enum: ['popularity', 'exposure'] },
        cut: { type: 'string', enum: ['random', 'last'] },
        highRating: { type: 'number' },
        lowRating: { type: 'number' },
        loss: { type: 'string', enum: ['dpo', 'cdpo', 'ipo', 'sdpo'] },
        beta: { type: 'number', min: 0, max: 1000, minExclusive: true },
        labelSmoothing: { type: 'number', min: 0, max: 0.5 },
        supervisedWeight: { type: 'number', min: 0, max: 1e6 },
        rounds: { type: 'integer', min: 1, max: 10_000 },
        userShare: { type: 'number', min: 0, max: 1, minExclusive: true },
        steps: { type: 'either', options: [{ type: 'integer', min: 0, max: 10_000_000 }, { type: 'null' }] },
        supervisedSteps: { type: 'integer', min: 0, max: 10_000_000 },
        batchSize: { type: 'integer', min: 1, max: 65_536 },
        learningRate: { type: 'number', min: 0, max: 10, minExclusive: true },
        clipNorm: { type: 'number', min: 0 },
        disableDropout: { type: 'boolean' },
        diagnosticUsers: { type: 'integer', min: 0, max: 10_000_000 },
        klUsers: { type: 'integer', min: 0, max: 10_000_000 },
        diagnosticK: { type: 'integer', min: 1 },
        inferenceBatchSize: { type: 'integer', min: 1, max: 1_000_000 },
        seed: { type: 'integer', min: Number.MIN_SAFE_INTEGER },
      },
    },
    seeds: { type: 'array', items: { type: 'integer', min: 0, max: 2 ** 32 - 1 }, minItems: 1 },
    threads: { type: 'integer', min: 0, max: 1024 },
    output: { type: 'string', nonEmpty: true },
  },
};

/** Paths of fields holding file or folder paths (resolved against the config file's folder or the working directory). */
const PATH_FIELDS = [
  ['data', 'path'],
  ['data', 'catalog'],
  ['data', 'attributes'],
  ['ids', 'path'],
  ['output'],
] as const;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Deep merge of plain objects: `over` wins; lists and other values are replaced, not merged.
 *
 * @example
 * ```ts
 * mergeConfig({ a: { b: 1, c: 2 } }, { a: { c: 3 } }); // { a: { b: 1, c: 3 } }
 * ```
 */
export function mergeConfig<T>(base: T, over: unknown): T {
  if (!isRecord(base) || !isRecord(over)) return (over === undefined ? base : over) as T;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    // model options and synthetic options are replaced key by key, not deep-merged, like any record
    merged[key] = isRecord(value) && isRecord(merged[key]) ? mergeConfig(merged[key], value) : value;
  }
  return merged as T;
}

/**
 * Reads a JSON config file: it must exist, be valid JSON and an object (its fields are checked by
 * {@link resolveConfig}).
 *
 * @param path - the file
 * @returns the parsed object
 * @throws CliError exit 2 with `NOT_FOUND` (missing file) or `PARSE_ERROR` (invalid JSON, with the line)
 * @example
 * ```ts
 * readConfigFile('genrec.json').model;
 * ```
 */
export function readConfigFile(path: string): Record<string, unknown> {
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw new CliError(EXIT_CODES.usage, 'NOT_FOUND', `config file ${path} does not exist`, { details: { file: path } });
  }
  const text = readFileSync(path, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const position = jsonErrorPosition(text);
    const where = position === undefined ? '' : ` at line ${position.line}, column ${position.column}`;
    throw new CliError(EXIT_CODES.usage, 'PARSE_ERROR', `config file is not valid JSON${where}: ${(error as Error).message.split('\n')[0]}`, {
      details: { file: path, ...(position === undefined ? {} : { line: position.line }) },
      cause: error,
    });
  }
  if (!isRecord(parsed)) throw new CliError(EXIT_CODES.usage, 'PARSE_ERROR', 'a config file must hold one JSON object', { details: { file: path } });
  return parsed;
}

/** The layers a command's configuration is resolved from. */
export interface ConfigLayers {
  /** Values already resolved (absolute paths) under the file and the flags: a run folder's sections. */
  base?: Record<string, unknown>;
  /** The config file (`--config`), when given. */
  file?: string;
  /** Values from flags, in the shape of the config (they override the file). */
  flags?: Record<string, unknown>;
  /** The folder relative paths in flags are resolved against. */
  cwd: string;
}

/**
 * Resolves a command's configuration: defaults, then the config file, then the flags; checks every
 * field's name and type; makes every path absolute (config-file paths relative to the file's
 * folder, flag paths relative to `cwd`).
 *
 * @param layers - the file and the flags
 * @returns the resolved configuration
 * @throws GenrecError `INVALID_OPTION` naming the field (unknown field, wrong type, out of range), `CliError` for an unreadable file
 * @example
 * ```ts
 * const config = resolveConfig({ file: 'genrec.json', flags: { model: { options: { epochs: 3 } } }, cwd: process.cwd() });
 * ```
 */
export function resolveConfig(layers: ConfigLayers): GenrecConfig {
  let config = defaultConfig();
  if (layers.base !== undefined) config = mergeConfig(config, structuredClone(layers.base));
  if (layers.file !== undefined) {
    const file = resolve(layers.cwd, layers.file);
    const raw = readConfigFile(file);
    validateField(raw, CONFIG_SCHEMA, '', { file });
    const { $schema: _ignored, ...content } = raw;
    config = mergeConfig(config, resolvePaths(content, dirname(file)));
  }
  if (layers.flags !== undefined) {
    validateFlags(layers.flags);
    config = mergeConfig(config, resolvePaths(layers.flags, layers.cwd));
  }
  validateField(config, CONFIG_SCHEMA, '', {});
  config = resolvePaths(config as unknown as Record<string, unknown>, layers.cwd) as unknown as GenrecConfig; // defaults (output: 'runs') are relative to cwd
  if (new Set(config.seeds).size !== config.seeds.length) {
    throw new GenrecError('INVALID_OPTION', `config field seeds: each seed once, found ${JSON.stringify(config.seeds)}`, { details: { field: 'seeds' } });
  }
  config.evaluation.ks = [...new Set(config.evaluation.ks)].sort((a, b) => a - b);
  return config;
}

function validateFlags(flags: Record<string, unknown>): void {
  validateField(flags, CONFIG_SCHEMA, '', { origin: 'set on the command line' });
}

function resolvePaths(content: Record<string, unknown>, base: string): Record<string, unknown> {
  const copy = structuredClone(content);
  for (const path of PATH_FIELDS) {
    let holder: Record<string, unknown> | undefined = copy;
    for (const key of path.slice(0, -1)) holder = isRecord(holder?.[key]) ? (holder[key] as Record<string, unknown>) : undefined;
    const last = path.at(-1)!;
    const value = holder?.[last];
    if (holder !== undefined && typeof value === 'string' && value !== '' && !(path[0] === 'data' && path[1] === 'path' && value === 'synthetic') && !isAbsolute(value)) {
      holder[last] = resolve(base, value);
    }
  }
  return copy;
}

/**
 * Sets `path` (dotted, e.g. `model.options.hiddenSize`) to `value` in a nested object, creating
 * the objects on the way. Used for `--set key=value` flags.
 *
 * @param target - the object to change
 * @param path - the dotted path
 * @param value - the value
 * @throws GenrecError `INVALID_OPTION` for an empty path segment
 * @example
 * ```ts
 * setPath(flags, 'model.options.hiddenSize', 32);
 * ```
 */
export function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  if (keys.some((key) => key === '' || key === '__proto__' || key === 'constructor' || key === 'prototype')) {
    throw new GenrecError('INVALID_OPTION', `--set ${path}: expected a dotted field path such as model.options.hiddenSize`, { details: { field: path } });
  }
  let holder = target;
  for (const key of keys.slice(0, -1)) {
    if (!isRecord(holder[key])) holder[key] = {};
    holder = holder[key] as Record<string, unknown>;
  }
  holder[keys.at(-1)!] = value;
}

/**
 * Parses one `--set key=value` flag: the value is JSON when it parses (`3`, `0.5`, `true`,
 * `[5,10]`, `"x"`), else the text itself.
 *
 * @param assignment - `key=value`
 * @returns the path and the value
 * @throws GenrecError `INVALID_OPTION` without `=`
 * @example
 * ```ts
 * parseAssignment('model.options.hiddenSize=32'); // { path: 'model.options.hiddenSize', value: 32 }
 * ```
 */
export function parseAssignment(assignment: string): { path: string; value: unknown } {
  const equals = assignment.indexOf('=');
  if (equals <= 0) throw new GenrecError('INVALID_OPTION', `--set expects key=value, got ${JSON.stringify(assignment)}`, { details: { field: 'set' } });
  const path = assignment.slice(0, equals).trim();
  const text = assignment.slice(equals + 1);
  let value: unknown = text;
  try {
    value = JSON.parse(text);
  } catch {
    // a plain string
  }
  return { path, value };
}
