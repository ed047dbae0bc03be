import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { GenrecError, type FitData, type FitEndEvent, type ProgressCallback, type Recommender } from '@genrec/core';
import type { EvaluationResult } from '@genrec/eval';
import type { GenrecConfig } from '../config/config.js';
import type { CommandContext } from '../context.js';
import { checkDataPaths, loadData, trainingPopularity, type LoadedData } from '../data/load-data.js';
import {
  evaluateSystem,
  exposureOf,
  protocolLine,
  seedMetricsOf,
  significanceAgainst,
  storeEvaluation,
  systemMetrics,
  tableMetricsOf,
  trainingExposure,
  type RunMetrics,
  type SeedMetrics,
  type SystemMetrics,
} from '../evaluation/run-metrics.js';
import { buildIds, loadIds, saveIds, type PreparedIds } from '../ids/build-ids.js';
import type { ModelEntry } from '../models/registry.js';
import { runEnvironment } from '../run/environment.js';
import { RUN_FILES, RunFolder, type EpochRecord, type RunCommand } from '../run/run-folder.js';
import { assembleMetrics, evaluateBaselines } from './baselines.js';
import { checkBaselines, inModelOptions, resolveModel } from './model-options.js';

/** What {@link trainRun} returns. */
export interface TrainRunResult {
  folder: RunFolder;
  /** `metrics.json` (null when interrupted before the evaluation). */
  metrics: RunMetrics | null;
  /** Ctrl-C stopped it (the best model so far was saved). */
  interrupted: boolean;
}

/** Options of {@link trainRun}. */
export interface TrainRunOptions {
  command: RunCommand;
  arguments: Record<string, string>;
  /** Exact run folder name (`--run-id`). */
  runId?: string;
  /** The run reproduced (`genrec reproduce`). */
  reproduces?: string;
  /** Output folder instead of `config.output`. */
  output?: string;
  /**
   * Called once the data is loaded, before the final training: returns the model options to train
   * with (a sweep trains its grid here, on validation, and returns the best point's options).
   */
  chooseOptions?: (folder: RunFolder, data: LoadedData, options: Record<string, unknown>, entry: ModelEntry) => Promise<Record<string, unknown>>;
}

/** The data section of `data.json`. */
function dataRecord(data: LoadedData): Record<string, unknown> {
  return { name: data.name, fingerprint: data.fingerprint, statistics: data.statistics, split: data.splitSummary };
}

async function prepareIds(config: GenrecConfig, entry: ModelEntry, data: LoadedData, folder: RunFolder, context: CommandContext): Promise<PreparedIds | undefined> {
  if (entry.requires === undefined) return undefined;
  const wanted = entry.requires === 'semantic-ids' ? 'semantic' : 'set';
  const onProgress = context.display.callback('ids');
  let ids: PreparedIds;
  if (config.ids.path !== null) {
    ids = await loadIds(config.ids.path, data.dataset.itemCount);
    if (ids.kind !== wanted) throw new GenrecError('INVALID_OPTION', `config field ids.path: ${entry.kind} needs ${wanted} ids, ${config.ids.path} holds ${ids.kind} ids`, { details: { field: 'ids.path' } });
  } else {
    ids = await buildIds(data, { ...config.ids, kind: wanted }, onProgress);
  }
  await saveIds(folder.file(RUN_FILES.ids), ids); // a copy: the run folder holds everything it used
  for (const line of ids.healthText.trimEnd().split('\n')) context.display.line(line);
  return ids;
}

/**
 * Runs `genrec train`: reads the data, builds ids for generative models, fits and evaluates the
 * baselines, trains the model once per seed (checkpoints each epoch; Ctrl-C keeps the best epoch),
 * evaluates every seed on the test users against the baseline (paired tests, Holm), and writes the
 * run folder (`run.json`, `config.json`, `environment.json`, `data.json`, `log.txt`,
 * `seeds/<seed>/{epochs.jsonl,model,evaluation.json,per-user.safetensors}`, `baselines/<kind>/…`,
 * `metrics.json`).
 *
 * @param config - the resolved configuration
 * @param context - the command's context
 * @param options - run folder naming
 * @returns the folder, the metrics and whether it was interrupted
 * @throws GenrecError for bad options or data (the run folder is then marked `failed`)
 * @example
 * ```ts
 * const { folder, metrics } = await trainRun(config, context, { command: 'train', arguments: { model: 'sasrec' } });
 * ```
 */
export async function trainRun(config: GenrecConfig, context: CommandContext, options: TrainRunOptions): Promise<TrainRunResult> {
  const resolved = resolveModel(context.registry, config.model);
  const entry = resolved.entry;
  let modelOptions = resolved.options;
  checkBaselines(context.registry, config.evaluation.baselines);
  checkDataPaths(config.data);
  const folder = RunFolder.create(options.output ?? config.output, {
    name: config.name ?? `${entry.kind}${config.model.preset === null ? '' : `-${config.model.preset}`}`,
    ...(options.runId === undefined ? {} : { id: options.runId }),
    command: options.command,
    arguments: options.arguments,
    ...(options.reproduces === undefined ? {} : { reproduces: options.reproduces }),
  });
  const removeLog = context.display.addLog((line) => folder.log(line));
  try {
    folder.writeJson(RUN_FILES.config, config);
    folder.writeJson(RUN_FILES.environment, runEnvironment({ threads: config.threads, seeds: config.seeds, argv: [...context.argv], cwd: context.io.cwd }));
    context.display.line(`run folder ${folder.path}`);
    const data = await loadData(config.data, context.display.callback('data'));
    folder.writeJson(RUN_FILES.data, dataRecord(data));
    context.display.line(
      `data ${data.name}: ${data.statistics.users} users, ${data.statistics.items} items, ${data.statistics.interactions} interactions; fingerprint ${data.fingerprint.dataset} (train ${data.fingerprint.train})`,
    );
    if (options.chooseOptions !== undefined) modelOptions = await options.chooseOptions(folder, data, modelOptions, entry);
    const popularity = trainingPopularity(data);
    const ids = await prepareIds(config, entry, data, folder, context);

    // baselines: deterministic, evaluated once
    const baselines = await evaluateBaselines(config, context, data, folder, popularity);
    const primaryResult = baselines.primary?.result;

    const seeds: SeedMetrics[] = [];
    let exposure: ReturnType<typeof exposureOf> | undefined;
    let protocol = primaryResult === undefined ? '' : protocolLine(primaryResult);
    for (const seed of config.seeds) {
      const seedFolder = [RUN_FILES.seeds, String(seed)];
      const label = `${entry.kind}${config.seeds.length > 1 ? ` seed ${seed}` : ''}`;
      const display = context.display.callback(`train ${label}`);
      let fitEnd: FitEndEvent | undefined;
      const onProgress: ProgressCallback = (event) => {
        if (event.type === 'epoch-end') {
          const record: EpochRecord = { epoch: event.epoch, loss: event.loss, best: event.best, elapsedMs: event.elapsedMs };
          if (event.validation !== undefined) record.validation = event.validation;
          if (event.learningRate !== undefined) record.learningRate = event.learningRate;
          folder.appendJsonLine([...seedFolder, 'epochs.jsonl'], record);
        }
        if (event.type === 'fit-end') fitEnd = event;
        display(event);
      };
      const fitData: FitData = {
        train: data.split.train,
        validation: data.split.validation,
        ...(data.catalog === undefined ? {} : { catalog: data.catalog }),
        ...(ids === undefined ? {} : { itemVectors: ids.itemVectors }),
      };
      const started = performance.now();
      let model: Recommender;
      try {
        model = await entry.fit({
          data: fitData,
          options: modelOptions,
          seed,
          threads: config.threads,
          onProgress,
          signal: context.signal,
          checkpointDirectory: folder.file(...seedFolder, 'checkpoint'),
          ...(ids === undefined ? {} : { ids }),
        });
      } catch (error) {
        if (context.signal.aborted) {
          context.display.line(`interrupted before ${label} had a model; checkpoints (if any) are in ${folder.file(...seedFolder, 'checkpoint')}`);
          folder.finish('interrupted');
          return { folder, metrics: null, interrupted: true };
        }
        throw inModelOptions(error, entry.kind);
      }
      const trainingSeconds = (performance.now() - started) / 1000;
      try {
        await model.save(folder.file(...seedFolder, 'model'));
        if (context.signal.aborted) {
          context.display.line(`interrupted: ${label} saved with its best epoch (${fitEnd?.bestEpoch ?? model.describe().epoch ?? '?'}) in ${folder.file(...seedFolder, 'model')}`);
          folder.finish('interrupted');
          return { folder, metrics: null, interrupted: true };
        }
        const result = await evaluateSystem(model, data.split.test, config.evaluation, popularity, { system: entry.kind, onProgress: context.display.callback(`evaluate ${label}`), signal: context.signal });
        storeEvaluation(folder.directory(...seedFolder), result, config.evaluation.ks);
        protocol = protocolLine(result);
        exposure ??= exposureOf(entry.kind, result);
        seeds.push(
          seedMetricsOf(seed, result, {
            ...(primaryResult === undefined ? {} : { significance: significanceAgainst(primaryResult, result, config.evaluation, seed) }),
            trainingSeconds,
            ...(fitEnd === undefined ? {} : { epochs: fitEnd.epochs, bestEpoch: fitEnd.bestEpoch, stoppedBy: fitEnd.stoppedBy }),
          }),
        );
      } finally {
        await model.dispose();
      }
      const checkpoint = join(folder.path, ...seedFolder, 'checkpoint');
      if (existsSync(checkpoint)) rmSync(checkpoint, { recursive: true, force: true });
    }
    const metrics = assembleMetrics(config, data, popularity, [...baselines.systems, systemMetrics({ name: entry.kind, kind: entry.kind, baseline: false, role: 'model', options: modelOptions, seeds, exposure: exposure! })], protocol);
    folder.writeJson(RUN_FILES.metrics, metrics);
    folder.finish('complete');
    return { folder, metrics, interrupted: false };
  } catch (error) {
    if (context.signal.aborted) {
      folder.finish('interrupted');
      return { folder, metrics: null, interrupted: true };
    }
    folder.finish('failed', error instanceof Error ? error.message : String(error));
    throw error;
  } finally {
    removeLog();
  }
}
