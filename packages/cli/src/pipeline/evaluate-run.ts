import { resolve } from 'node:path';
import { loadRecommender, type Recommender } from '@genrec/core';
import type { GenrecConfig } from '../config/config.js';
import type { CommandContext } from '../context.js';
import { checkDataPaths, loadData, trainingPopularity } from '../data/load-data.js';
import { evaluateSystem, exposureOf, protocolLine, seedMetricsOf, significanceAgainst, storeEvaluation, systemMetrics, type RunMetrics, type SeedMetrics } from '../evaluation/run-metrics.js';
import { CliError, EXIT_CODES } from '../exit-codes.js';
import { checkBaselines } from './model-options.js';
import { registryLoaders } from '../models/registry.js';
import { runEnvironment } from '../run/environment.js';
import { modelFolders } from '../run/model-folders.js';
import { RUN_FILES, RunFolder } from '../run/run-folder.js';
import { assembleMetrics, evaluateBaselines } from './baselines.js';

/**
 * Runs `genrec evaluate`: loads saved models (any kind `@genrec/models` or the registry knows),
 * evaluates them on the configured data's test users against the baselines, and writes a run
 * folder like `train`'s (without training).
 *
 * @throws CliError exit 4 for a missing or corrupt model folder; exit 3 when the model's catalogue does not match the data
 * @example
 * ```ts
 * const { metrics } = await evaluateRun(config, context, { model: 'runs/x/seeds/42/model' });
 * ```
 */
export async function evaluateRun(config: GenrecConfig, context: CommandContext, options: { model: string; runId?: string; reproduces?: string; output?: string }): Promise<{ folder: RunFolder; metrics: RunMetrics | null; interrupted: boolean }> {
  const { folders } = modelFolders(options.model);
  checkBaselines(context.registry, config.evaluation.baselines);
  checkDataPaths(config.data);
  const loaders = registryLoaders(context.registry);
  const folder = RunFolder.create(options.output ?? config.output, {
    name: config.name ?? 'evaluate',
    ...(options.runId === undefined ? {} : { id: options.runId }),
    command: 'evaluate',
    arguments: { model: resolve(options.model) },
    ...(options.reproduces === undefined ? {} : { reproduces: options.reproduces }),
  });
  const removeLog = context.display.addLog((line) => folder.log(line));
  try {
    folder.writeJson(RUN_FILES.config, config);
    folder.writeJson(RUN_FILES.environment, runEnvironment({ threads: config.threads, seeds: config.seeds, argv: [...context.argv], cwd: context.io.cwd }));
    const data = await loadData(config.data, context.display.callback('data'));
    folder.writeJson(RUN_FILES.data, { name: data.name, fingerprint: data.fingerprint, statistics: data.statistics, split: data.splitSummary });
    const popularity = trainingPopularity(data);
    const baselines = await evaluateBaselines(config, context, data, folder, popularity);
    const seeds: SeedMetrics[] = [];
    let kind = '';
    let exposure: ReturnType<typeof exposureOf> | undefined;
    let protocol = baselines.primary === undefined ? '' : protocolLine(baselines.primary.result);
    let hyperParameters: Record<string, unknown> = {};
    for (const [index, entry] of folders.entries()) {
      const model: Recommender = await loadRecommender(entry.path, { loaders });
      try {
        const description = model.describe();
        kind = model.kind;
        hyperParameters = description.hyperParameters;
        if (model.itemCount !== data.dataset.itemCount) {
          throw new CliError(EXIT_CODES.data, 'SHAPE_MISMATCH', `the model in ${entry.path} knows ${model.itemCount} items, the data ${data.dataset.itemCount}: evaluate it on the data it was trained on`, { details: { file: entry.path } });
        }
        if (description.dataFingerprint !== data.fingerprint.train) {
          context.display.line(`note: ${entry.path} was trained on data with fingerprint ${description.dataFingerprint}; this training split has ${data.fingerprint.train}`);
        }
        const seed = entry.seed ?? (typeof description.hyperParameters['seed'] === 'number' ? (description.hyperParameters['seed'] as number) : index);
        const result = await evaluateSystem(model, data.split.test, config.evaluation, popularity, { system: model.kind, onProgress: context.display.callback(`evaluate ${model.kind}`), signal: context.signal });
        storeEvaluation(folder.directory(RUN_FILES.seeds, String(seed)), result, config.evaluation.ks);
        protocol = protocolLine(result);
        exposure ??= exposureOf(model.kind, result);
        seeds.push(seedMetricsOf(seed, result, baselines.primary === undefined ? {} : { significance: significanceAgainst(baselines.primary.result, result, config.evaluation, seed) }));
      } finally {
        await model.dispose();
      }
    }
    const metrics = assembleMetrics(config, data, popularity, [...baselines.systems, systemMetrics({ name: kind, kind, baseline: false, role: 'model', options: hyperParameters, seeds, exposure: exposure! })], protocol);
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
