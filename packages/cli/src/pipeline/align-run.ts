import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { GenrecError, loadRecommender, readModelManifest, type ProgressCallback, type Recommender } from '@genrec/core';
import {
  alignModel,
  exposureAwareReward,
  itemPopularity,
  recommenderReward,
  resolvePreferenceLoss,
  type AlignOptions,
  type AlignmentResult,
  type AlignmentRound,
  type ModelDiagnostics,
  type ResolvedAlignOptions,
  type RewardModel,
} from '@genrec/dpo';
import { defaultConfig, type AlignConfig, type GenrecConfig } from '../config/config.js';
import type { CommandContext } from '../context.js';
import { checkDataPaths, loadData, trainingPopularity, type LoadedData } from '../data/load-data.js';
import {
  compareToReference,
  evaluateSystem,
  exposureOf,
  protocolLine,
  seedMetricsOf,
  significanceAgainst,
  storeEvaluation,
  systemMetrics,
  type PairedComparison,
  type RunMetrics,
  type SeedMetrics,
} from '../evaluation/run-metrics.js';
import { CliError, EXIT_CODES } from '../exit-codes.js';
import { preferenceHookFactory } from '../models/preference-hooks.js';
import { modelEntry, registryLoaders } from '../models/registry.js';
import { runEnvironment } from '../run/environment.js';
import { modelFolders } from '../run/model-folders.js';
import { RUN_FILES, RunFolder } from '../run/run-folder.js';
import { assembleMetrics, evaluateBaselines } from './baselines.js';
import { checkBaselines } from './model-options.js';

/** One aligned model of an align run: the un-aligned model's diagnostics and every round's. */
export interface AlignedSeed {
  /** The seed of the model aligned (its run folder's seed, or its own). */
  seed: number;
  /** The un-aligned model's diagnostics (round 0). */
  before: ModelDiagnostics;
  /** One entry per round run. */
  rounds: AlignmentRound[];
  /** Why alignment stopped. */
  stoppedBy: 'rounds' | 'abort';
  /** `alignModel`'s resolved options. */
  options: ResolvedAlignOptions;
  /** Wall time of the alignment, seconds. */
  seconds: number;
}

/** What {@link alignRun} returns. */
export interface AlignRunResult {
  folder: RunFolder;
  /** `metrics.json` (null when interrupted). */
  metrics: RunMetrics | null;
  /** The aligned models' rounds. */
  aligned: AlignedSeed[];
  /** Ctrl-C stopped it (the model aligned so far was saved). */
  interrupted: boolean;
}

/** One record of the run folder's `alignment.json` (the report's alignment rounds). */
export interface AlignmentRoundRecord {
  /** 0 = before alignment. */
  round: number;
  /** The system row the round belongs to (`sasrec (aligned)`). */
  system: string;
  /** Validation and training diagnostics after the round. */
  metrics: Record<string, number>;
}

/**
 * The names of a model's two rows in an align run.
 *
 * @param kind - the model kind
 * @returns the un-aligned and the aligned row's names
 * @example
 * ```ts
 * alignedNames('sasrec'); // { unaligned: 'sasrec (un-aligned)', aligned: 'sasrec (aligned)' }
 * ```
 */
export function alignedNames(kind: string): { unaligned: string; aligned: string } {
  return { unaligned: `${kind} (un-aligned)`, aligned: `${kind} (aligned)` };
}

/** The fields of the `align` section (also `@genrec/dpo`'s option names). */
const ALIGN_FIELDS = new Set(Object.keys(defaultConfig().align));

/** `config field align.<field>: <message>` as an `INVALID_OPTION` error naming the field (in `details`, not again in the message). */
function alignFieldError(field: string, message: string, cause?: unknown): GenrecError {
  const error = new GenrecError('INVALID_OPTION', `config field align.${field}: ${message}`, cause === undefined ? {} : { cause });
  error.details.field = `align.${field}`;
  return error;
}

/** An `INVALID_OPTION` of `@genrec/dpo` naming one of its options, as a config-field error (`config field align.beta: …`). */
function inAlignConfig(error: unknown): unknown {
  if (!GenrecError.isInstance(error) || error.code !== 'INVALID_OPTION') return error;
  const field = error.details.field;
  if (field === undefined || !ALIGN_FIELDS.has(field)) return error;
  return alignFieldError(field, error.message.replace(/ \(field "[^"]*"\)$/, ''), error);
}

/**
 * Checks the `align` section beyond its types, before any data is read: the loss and β
 * (`@genrec/dpo`'s own check), the rating thresholds, the reward model's kind.
 *
 * @throws GenrecError `INVALID_OPTION` naming the `align.*` field
 */
function checkAlignConfig(align: AlignConfig, context: CommandContext): void {
  try {
    resolvePreferenceLoss({ loss: align.loss, beta: align.beta, labelSmoothing: align.labelSmoothing });
  } catch (error) {
    throw inAlignConfig(error);
  }
  if (!(align.lowRating < align.highRating)) {
    throw alignFieldError('lowRating', `must be below align.highRating (${align.highRating}), found ${align.lowRating}`);
  }
  if (align.source === 'reward-model') {
    modelEntry(context.registry, align.rewardModel, 'align.rewardModel');
    const rejected = align.rejected ?? (align.loss === 'sdpo' ? 3 : 1);
    if (rejected >= align.candidates) {
      throw alignFieldError('rejected', `${rejected} rejected items need more than ${rejected} candidates (align.candidates is ${align.candidates})`);
    }
  }
}

/** The options bounded by what the model returns (its `maxK`), checked before the run folder is written. */
function checkAgainstModel(align: AlignConfig, model: Recommender): void {
  const fail = (field: string, found: number): never => {
    throw alignFieldError(field, `the ${model.kind} model returns at most ${model.maxK} items per user, found ${found}`);
  };
  if (align.diagnosticK > model.maxK) fail('diagnosticK', align.diagnosticK);
  const rejected = align.rejected ?? (align.loss === 'sdpo' ? 3 : 1);
  if (align.source === 'self-hard-negatives' && rejected + 1 > model.maxK) fail('rejected', rejected);
  if (align.source === 'reward-model' && align.candidates > model.maxK) fail('candidates', align.candidates);
}

/** The model kind of a saved folder (its manifest), or exit 4. */
function savedKind(path: string): string {
  try {
    return readModelManifest(path).manifest.model;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new CliError(EXIT_CODES.artifact, GenrecError.isInstance(error) ? error.code : 'CORRUPT_ARTIFACT', `${path} is not a readable model folder: ${message}`, { details: { file: path }, cause: error });
  }
}

/** `alignModel`'s options from the config section. */
function alignOptions(config: GenrecConfig, extra: Pick<AlignOptions, 'onProgress' | 'signal' | 'rewardModel'>): AlignOptions {
  const { rewardModel: _kind, exposureWeight: _weight, exposurePenalty: _penalty, rejected, steps, ...rest } = config.align;
  return { ...rest, ...(rejected === null ? {} : { rejected }), ...(steps === null ? {} : { steps }), threads: config.threads, ...extra };
}

/** The reward model of `'reward-model'` pairs: the configured kind fitted on the training part (exposure-aware when `exposureWeight` > 0). */
async function fitRewardModel(config: GenrecConfig, context: CommandContext, data: LoadedData, folder: RunFolder, seedFolder: string[]): Promise<{ reward: RewardModel; dispose(): Promise<void> } | undefined> {
  if (config.align.source !== 'reward-model') return undefined;
  const entry = modelEntry(context.registry, config.align.rewardModel, 'align.rewardModel');
  const checkpointDirectory = folder.file(...seedFolder, 'reward-model', 'checkpoint');
  const model: Recommender = await entry.fit({
    data: { train: data.split.train, validation: data.split.validation, ...(data.catalog === undefined ? {} : { catalog: data.catalog }) },
    options: {},
    seed: Math.abs(config.align.seed) % 2 ** 32,
    threads: config.threads,
    onProgress: context.display.callback(`reward model ${entry.kind}`),
    signal: context.signal,
    checkpointDirectory,
  });
  rmSync(join(checkpointDirectory, '..'), { recursive: true, force: true }); // nothing of the reward model is kept but its name
  const relevance = recommenderReward(model);
  const reward =
    config.align.exposureWeight > 0
      ? exposureAwareReward(relevance, { weight: config.align.exposureWeight, penalty: config.align.exposurePenalty, popularity: itemPopularity({ ...data.split.train, itemCount: model.itemCount }) })
      : relevance;
  return { reward, dispose: () => model.dispose() };
}

/** Progress of `alignModel` for the display: the step total when it is known, the step's loss and margins as the message. */
function alignProgress(display: ProgressCallback, align: AlignConfig): ProgressCallback {
  const total = align.steps === null ? undefined : align.rounds * (align.steps + align.supervisedSteps);
  return (event) => {
    if (event.type !== 'task-start' && event.type !== 'task-progress' && event.type !== 'task-end') return display(event);
    if (event.task !== 'align') return display(event);
    const metrics = event.metrics;
    const message =
      event.type === 'task-progress' && metrics !== undefined
        ? `round ${metrics['round']}/${align.rounds} · loss ${metrics['loss']?.toFixed(4)} · margins ${metrics['rewards/margins']?.toFixed(4)} · accuracies ${metrics['rewards/accuracies']?.toFixed(3)}`
        : event.message;
    display({ ...event, ...(total === undefined || event.type === 'task-end' ? {} : { total }), ...(message === undefined ? {} : { message }) });
  };
}

const fixed = (value: number | null | undefined, digits = 4): string => (value === null || value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits));

/** One line per round for the log: pairs, margins, accuracies, KL, false negatives, validation NDCG/coverage. */
function roundLine(label: string, round: AlignmentRound, k: number): string {
  const validation = round.after.validation;
  return (
    `[align ${label}] round ${round.round}: ${round.pairs} pairs of ${round.users} users, ${round.steps} + ${round.supervisedSteps} steps · margins ${fixed(round.training['rewards/margins'])} · ` +
    `accuracies ${fixed(round.training['rewards/accuracies'], 3)} · KL ${fixed(round.after.kl)} · false negatives ${fixed(round.falseNegativeShare, 3)} · ` +
    `validation ndcg@${k} ${fixed(validation?.[`ndcg@${k}`])}, coverage@${k} ${fixed(validation?.[`coverage@${k}`], 3)}`
  );
}

/**
 * The report's records of one aligned model (the run folder's `alignment.json`): round 0 (before
 * alignment) and every round, with the validation users' NDCG/Recall/coverage/popularity@K, KL to
 * the round's reference and the round's mean margins and accuracies (finite values only).
 *
 * @param system - the row the rounds belong to (`sasrec (aligned)`)
 * @param aligned - the model's diagnostics before and after each round
 * @param k - the diagnostics' cut-off
 * @returns one record per round, round 0 first
 * @example
 * ```ts
 * alignmentRoundRecords('sasrec (aligned)', result.aligned[0], 10)[1].metrics['validation ndcg@10'];
 * ```
 */
export function alignmentRoundRecords(system: string, aligned: Pick<AlignedSeed, 'before' | 'rounds'>, k: number): AlignmentRoundRecord[] {
  const diagnostics = (after: ModelDiagnostics, round: AlignmentRound | null): Record<string, number> => {
    const numbers: Record<string, number | null | undefined> = {
      [`validation ndcg@${k}`]: after.validation?.[`ndcg@${k}`],
      [`validation recall@${k}`]: after.validation?.[`recall@${k}`],
      [`validation coverage@${k}`]: after.validation?.[`coverage@${k}`],
      [`validation popularity@${k}`]: after.validation?.[`popularity@${k}`],
      kl: after.kl,
      ...(round === null ? {} : { 'rewards/margins': round.training['rewards/margins'], 'rewards/accuracies': round.training['rewards/accuracies'] }),
    };
    return Object.fromEntries(Object.entries(numbers).filter((entry): entry is [string, number] => typeof entry[1] === 'number' && Number.isFinite(entry[1])));
  };
  return [{ round: 0, system, metrics: diagnostics(aligned.before, null) }, ...aligned.rounds.map((round) => ({ round: round.round, system, metrics: diagnostics(round.after, round) }))];
}

/** Writes one aligned model's diagnostics: `rounds.jsonl` (round 0 = before), `steps.jsonl`, `alignment.json`. */
function writeDiagnostics(folder: RunFolder, seedFolder: string[], result: AlignmentResult): void {
  folder.appendJsonLine([...seedFolder, 'rounds.jsonl'], { round: 0, after: result.before });
  for (const round of result.rounds) folder.appendJsonLine([...seedFolder, 'rounds.jsonl'], round);
  for (const step of result.steps) folder.appendJsonLine([...seedFolder, 'steps.jsonl'], step);
  folder.writeJson([...seedFolder, 'alignment.json'], { options: result.options, stoppedBy: result.stoppedBy, seconds: result.elapsedMs / 1000, rounds: result.rounds.length, steps: result.steps.length });
}

/**
 * Runs `genrec align`: loads saved models (a model folder, or every seed of a run folder), evaluates
 * each on the configured data's test users, aligns it with `@genrec/dpo`'s `alignModel` through its
 * preference hook (pairs and rewards from the training part only, per-round diagnostics on the
 * validation users), saves the aligned model and evaluates it the same way; the baselines beside
 * them, the aligned model compared with the un-aligned one by a paired test on the same users.
 * Writes a run folder like `train`'s: `run.json`, `config.json`, `environment.json`, `data.json`,
 * `log.txt`, `baselines/<kind>/`, `seeds/<seed>/{model,evaluation.json,per-user.safetensors,
 * unaligned/,rounds.jsonl,steps.jsonl,alignment.json}`, `alignment.json` (the report's rounds) and
 * `metrics.json` (with `comparison`).
 *
 * @param config - the resolved configuration (its `align` section)
 * @param context - the command's context
 * @param options - the model or run folder, run folder naming
 * @returns the folder, the metrics, the rounds, whether it was interrupted
 * @throws CliError exit 4 for a missing or unreadable model folder, exit 3 when the model's catalogue does not match the data; GenrecError `INVALID_OPTION` (exit 2) naming the `align.*` field
 * @example
 * ```ts
 * const { metrics } = await alignRun(config, context, { model: 'runs/sasrec-20261205-161859' });
 * metrics?.comparison?.seeds[0]?.metrics['ndcg@10']; // { reference, system, difference, pValue, … }
 * ```
 */
export async function alignRun(config: GenrecConfig, context: CommandContext, options: { model: string; runId?: string; reproduces?: string; output?: string }): Promise<AlignRunResult> {
  const { folders } = modelFolders(options.model);
  const kinds = folders.map((entry) => savedKind(entry.path));
  const hooks = kinds.map((kind) => preferenceHookFactory(context.registry, kind));
  const kind = kinds[0]!;
  const other = kinds.find((candidate) => candidate !== kind);
  if (other !== undefined) throw new CliError(EXIT_CODES.artifact, 'INVALID_INPUT', `${resolve(options.model)} holds models of several kinds (${kind}, ${other}): align them one model folder at a time`, { details: { file: resolve(options.model) } });
  checkAlignConfig(config.align, context);
  checkBaselines(context.registry, config.evaluation.baselines);
  checkDataPaths(config.data);
  const loaders = registryLoaders(context.registry);
  // the first model is loaded before the run folder is written: the options it bounds are checked first
  let preloaded: Recommender | undefined = await loadRecommender(folders[0]!.path, { loaders });
  try {
    checkAgainstModel(config.align, preloaded);
  } catch (error) {
    await preloaded.dispose();
    throw error;
  }
  const names = alignedNames(kind);
  let folder: RunFolder;
  try {
    folder = RunFolder.create(options.output ?? config.output, {
      name: config.name ?? `${kind}-aligned`,
      ...(options.runId === undefined ? {} : { id: options.runId }),
      command: 'align',
      arguments: { model: resolve(options.model) },
      ...(options.reproduces === undefined ? {} : { reproduces: options.reproduces }),
    });
  } catch (error) {
    await preloaded.dispose();
    throw error;
  }
  const removeLog = context.display.addLog((line) => folder.log(line));
  const interrupted = (aligned: AlignedSeed[]): AlignRunResult => {
    folder.finish('interrupted');
    return { folder, metrics: null, aligned, interrupted: true };
  };
  try {
    folder.writeJson(RUN_FILES.config, config);
    folder.writeJson(RUN_FILES.environment, runEnvironment({ threads: config.threads, seeds: config.seeds, argv: [...context.argv], cwd: context.io.cwd }));
    context.display.line(`run folder ${folder.path}`);
    const data = await loadData(config.data, context.display.callback('data'));
    folder.writeJson(RUN_FILES.data, { name: data.name, fingerprint: data.fingerprint, statistics: data.statistics, split: data.splitSummary });
    if (config.align.source === 'explicit-feedback' && data.split.train.ratings === undefined) {
      throw alignFieldError('source', `'explicit-feedback' pairs need ratings, and data ${data.name} has none (an interaction log with a rating column, MovieLens ratings, or data.synthetic.ratings: true)`);
    }
    const popularity = trainingPopularity(data);
    const baselines = await evaluateBaselines(config, context, data, folder, popularity);
    const primary = baselines.primary?.result;
    const ks = config.evaluation.ks;
    const unalignedSeeds: SeedMetrics[] = [];
    const alignedSeeds: SeedMetrics[] = [];
    const comparison: PairedComparison = { reference: names.unaligned, system: names.aligned, test: config.evaluation.test, alpha: config.evaluation.alpha, correction: 'holm', seeds: [] };
    const aligned: AlignedSeed[] = [];
    let exposure: { unaligned?: ReturnType<typeof exposureOf>; aligned?: ReturnType<typeof exposureOf> } = {};
    let protocol = primary === undefined ? '' : protocolLine(primary);
    let hyperParameters: Record<string, unknown> = {};
    let resolvedOptions: ResolvedAlignOptions | undefined;
    for (const [index, entry] of folders.entries()) {
      const model: Recommender = preloaded ?? (await loadRecommender(entry.path, { loaders }));
      preloaded = undefined;
      let result: AlignmentResult | undefined;
      try {
        const description = model.describe();
        hyperParameters = description.hyperParameters;
        if (model.itemCount !== data.dataset.itemCount) {
          throw new CliError(EXIT_CODES.data, 'SHAPE_MISMATCH', `the model in ${entry.path} knows ${model.itemCount} items, the data ${data.dataset.itemCount}: align it on the data it was trained on`, { details: { file: entry.path } });
        }
        if (description.dataFingerprint !== data.fingerprint.train) {
          context.display.line(`note: ${entry.path} was trained on data with fingerprint ${description.dataFingerprint}; this training split has ${data.fingerprint.train}`);
        }
        const seed = entry.seed ?? (typeof description.hyperParameters['seed'] === 'number' ? (description.hyperParameters['seed'] as number) : index);
        const seedFolder = [RUN_FILES.seeds, String(seed)];
        const label = `${kind}${folders.length > 1 ? ` seed ${seed}` : ''}`;

        const before = await evaluateSystem(model, data.split.test, config.evaluation, popularity, { system: names.unaligned, onProgress: context.display.callback(`evaluate ${label} (un-aligned)`), signal: context.signal });
        storeEvaluation(folder.directory(...seedFolder, 'unaligned'), before, ks);

        const reward = await fitRewardModel(config, context, data, folder, seedFolder);
        try {
          result = await alignModel(
            model,
            hooks[index]!(model),
            { train: data.split.train, validation: data.split.validation },
            alignOptions(config, { onProgress: alignProgress(context.display.callback(`align ${label}`), config.align), signal: context.signal, ...(reward === undefined ? {} : { rewardModel: reward.reward }) }),
          );
        } catch (error) {
          throw inAlignConfig(error);
        } finally {
          await reward?.dispose();
        }
        resolvedOptions = result.options;
        for (const round of result.rounds) context.display.line(roundLine(label, round, result.options.diagnosticK));
        writeDiagnostics(folder, seedFolder, result);
        aligned.push({ seed, before: result.before, rounds: result.rounds, stoppedBy: result.stoppedBy, options: result.options, seconds: result.elapsedMs / 1000 });
        await result.model.save(folder.file(...seedFolder, 'model'));
        if (result.stoppedBy === 'abort' || context.signal.aborted) {
          context.display.line(`interrupted: ${label} aligned for ${result.steps.length} steps (${result.rounds.length} full rounds), saved in ${folder.file(...seedFolder, 'model')}`);
          return interrupted(aligned);
        }
        const after = await evaluateSystem(result.model, data.split.test, config.evaluation, popularity, { system: names.aligned, onProgress: context.display.callback(`evaluate ${label} (aligned)`), signal: context.signal });
        storeEvaluation(folder.directory(...seedFolder), after, ks);
        protocol = protocolLine(after);
        exposure = { unaligned: exposure.unaligned ?? exposureOf(names.unaligned, before), aligned: exposure.aligned ?? exposureOf(names.aligned, after) };
        const against = (evaluated: typeof after) => (primary === undefined ? {} : { significance: significanceAgainst(primary, evaluated, config.evaluation, seed) });
        unalignedSeeds.push(seedMetricsOf(seed, before, against(before)));
        alignedSeeds.push(seedMetricsOf(seed, after, { ...against(after), trainingSeconds: result.elapsedMs / 1000 }));
        comparison.seeds.push({ seed, users: after.evaluatedUserCount, metrics: compareToReference(before, after, config.evaluation, seed) });
      } finally {
        await result?.model.dispose();
        await model.dispose();
      }
    }
    const systems = [
      ...baselines.systems,
      systemMetrics({ name: names.unaligned, kind, baseline: false, role: 'model', options: hyperParameters, seeds: unalignedSeeds, exposure: exposure.unaligned! }),
      systemMetrics({ name: names.aligned, kind, baseline: false, role: 'model', options: { ...hyperParameters, align: resolvedOptions }, seeds: alignedSeeds, exposure: exposure.aligned! }),
    ];
    const metrics: RunMetrics = { ...assembleMetrics(config, data, popularity, systems, protocol), comparison };
    folder.writeJson(RUN_FILES.alignment, alignmentRoundRecords(names.aligned, aligned[0]!, resolvedOptions!.diagnosticK));
    folder.writeJson(RUN_FILES.metrics, metrics);
    folder.finish('complete');
    return { folder, metrics, aligned, interrupted: false };
  } catch (error) {
    await preloaded?.dispose();
    if (context.signal.aborted) return interrupted([]);
    folder.finish('failed', error instanceof Error ? error.message : String(error));
    throw error;
  } finally {
    removeLog();
  }
}
