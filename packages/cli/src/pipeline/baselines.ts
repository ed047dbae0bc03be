import type { Recommender } from '@genrec/core';
import type { EvaluationResult } from '@genrec/eval';
import type { GenrecConfig } from '../config/config.js';
import type { CommandContext } from '../context.js';
import type { LoadedData } from '../data/load-data.js';
import {
  evaluateSystem,
  exposureOf,
  seedMetricsOf,
  storeEvaluation,
  systemMetrics,
  tableMetricsOf,
  trainingExposure,
  type RunMetrics,
  type SystemMetrics,
} from '../evaluation/run-metrics.js';
import { RUN_FILES, type RunFolder } from '../run/run-folder.js';

/** The baselines of a run, fitted and evaluated on the test users. */
export interface EvaluatedBaselines {
  /** Their rows of the metrics table (the first is the baseline of the significance marks). */
  systems: SystemMetrics[];
  /** The first baseline's result (paired tests run against it), when there is one. */
  primary?: { kind: string; result: EvaluationResult };
}

/**
 * Fits every baseline of `evaluation.baselines` with its defaults and evaluates it on the test
 * users; stores each evaluation under `baselines/<kind>/`.
 * @example
 * ```ts
 * const { systems, primary } = await evaluateBaselines(config, context, data, folder, trainingPopularity(data));
 * ```
 */
export async function evaluateBaselines(config: GenrecConfig, context: CommandContext, data: LoadedData, folder: RunFolder, popularity: Float64Array): Promise<EvaluatedBaselines> {
  const systems: SystemMetrics[] = [];
  let primary: EvaluatedBaselines['primary'];
  for (const kind of config.evaluation.baselines) {
    const model: Recommender = await context.registry[kind]!.fit({
      data: { train: data.split.train, validation: data.split.validation, ...(data.catalog === undefined ? {} : { catalog: data.catalog }) },
      options: {},
      seed: config.seeds[0]!,
      threads: config.threads,
      onProgress: context.display.callback(`baseline ${kind}`),
      signal: context.signal,
      checkpointDirectory: folder.file(RUN_FILES.baselines, kind, 'checkpoint'),
    });
    try {
      const result = await evaluateSystem(model, data.split.test, config.evaluation, popularity, { system: kind, onProgress: context.display.callback(`evaluate ${kind}`), signal: context.signal });
      storeEvaluation(folder.directory(RUN_FILES.baselines, kind), result, config.evaluation.ks);
      primary ??= { kind, result };
      systems.push(systemMetrics({ name: kind, kind, baseline: systems.length === 0, role: 'baseline', options: {}, seeds: [seedMetricsOf(config.seeds[0]!, result)], exposure: exposureOf(kind, result) }));
    } finally {
      await model.dispose();
    }
  }
  return { systems, ...(primary === undefined ? {} : { primary }) };
}

/**
 * Assembles `metrics.json` of a run.
 *
 * @example
 * ```ts
 * folder.writeJson('metrics.json', assembleMetrics(config, data, popularity, systems, protocolLine(result)));
 * ```
 */
export function assembleMetrics(config: GenrecConfig, data: LoadedData, popularity: Float64Array, systems: SystemMetrics[], protocol: string, split: 'test' | 'validation' = 'test'): RunMetrics {
  const k = config.evaluation.ks.includes(10) ? 10 : config.evaluation.ks.at(-1)!;
  return {
    kind: 'genrec.run-metrics',
    formatVersion: 1,
    data: { name: data.name, trainFingerprint: data.fingerprint.train },
    split,
    ks: config.evaluation.ks,
    tableMetrics: tableMetricsOf(config.evaluation.ks),
    protocol,
    baseline: config.evaluation.baselines[0] ?? null,
    significance: { test: config.evaluation.test, alpha: config.evaluation.alpha, correction: 'holm' },
    systems,
    trainingData: trainingExposure(popularity),
    longTailDefinition: `long tail = the ${Math.round(100 * config.evaluation.longTailFraction)}% least popular items of the training data; the share of the top-${k} slots they get`,
  };
}
