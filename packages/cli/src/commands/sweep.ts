import { rmSync } from 'node:fs';
import { GenrecError } from '@genrec/core';
import { evaluateRecommender } from '@genrec/eval';
import type { GenrecConfig } from '../config/config.js';
import { validateField } from '../config/schema.js';
import type { CommandContext, CommandOutcome } from '../context.js';
import { EXIT_CODES } from '../exit-codes.js';
import { inModelOptions, resolveModel } from '../pipeline/model-options.js';
import { trainRun, type TrainRunResult } from '../pipeline/train-run.js';
import { RUN_FILES } from '../run/run-folder.js';
import { textTable } from '../tables.js';
import { runTable } from './train.js';

/** Most grid points a sweep trains. */
export const MAX_SWEEP_POINTS = 64;

/** One grid point of a sweep and its validation numbers. */
export interface SweepPoint {
  /** The options varied (over the model's base options). */
  options: Record<string, unknown>;
  /** The validation metric (and its neighbours at the same K). */
  validation: Record<string, number>;
  trainingSeconds: number;
}

/** `sweep.json` of a sweep run. */
export interface SweepRecord {
  metric: string;
  grid: Record<string, unknown[]>;
  points: SweepPoint[];
  /** Index of the chosen point (highest validation metric; the first on ties). */
  best: number;
}

/**
 * Every combination of the grid's values, in order (the last key varies fastest).
 *
 * @example
 * ```ts
 * gridPoints({ order: [1, 2], smoothing: [0.5, 1] }); // [{ order: 1, smoothing: 0.5 }, { order: 1, smoothing: 1 }, { order: 2, smoothing: 0.5 }, …]
 * ```
 */
export function gridPoints(grid: Record<string, readonly unknown[]>): Record<string, unknown>[] {
  let points: Record<string, unknown>[] = [{}];
  for (const [key, values] of Object.entries(grid)) points = points.flatMap((point) => values.map((value) => ({ ...point, [key]: value })));
  return points;
}

function checkSweep(config: GenrecConfig, context: CommandContext): { metric: string; k: number } {
  const { entry } = resolveModel(context.registry, config.model);
  const keys = Object.keys(config.sweep.grid);
  if (keys.length === 0) throw new GenrecError('INVALID_OPTION', 'config field sweep.grid: name at least one option and its values (--grid learningRate=0.001,0.005)', { details: { field: 'sweep.grid' } });
  for (const key of keys) {
    const spec = entry.options[key];
    if (spec === undefined) throw new GenrecError('INVALID_OPTION', `config field sweep.grid.${key}: ${entry.kind} has no option ${key} (known: ${Object.keys(entry.options).join(', ')})`, { details: { field: `sweep.grid.${key}` } });
    config.sweep.grid[key]!.forEach((value, index) => validateField(value, spec, `sweep.grid.${key}[${index}]`, {}));
  }
  const count = gridPoints(config.sweep.grid).length;
  if (count > MAX_SWEEP_POINTS) throw new GenrecError('INVALID_OPTION', `config field sweep.grid: ${count} points; at most ${MAX_SWEEP_POINTS}`, { details: { field: 'sweep.grid' } });
  const match = /^(recall|ndcg|hitrate|mrr|precision|map)@(\d+)$/.exec(config.sweep.metric);
  if (!match || Number(match[2]) < 1) throw new GenrecError('INVALID_OPTION', `config field sweep.metric: expected recall@K, ndcg@K, hitrate@K, mrr@K, precision@K or map@K, found "${config.sweep.metric}"`, { details: { field: 'sweep.metric' } });
  // every point's options must pass the model's own checks before anything trains
  for (const point of gridPoints(config.sweep.grid)) resolveModel(context.registry, { ...config.model, options: { ...config.model.options, ...point } });
  return { metric: config.sweep.metric, k: Number(match[2]) };
}

/**
 * Runs `genrec sweep`: trains one model per grid point (first seed) on the training split, scores
 * each on the validation users, picks the best by `sweep.metric`, then trains and evaluates that
 * point like `genrec train` (every seed, test users, baselines) in the same run folder, with
 * `sweep.json` listing every point.
 * @example
 * ```ts
 * const { sweep } = await sweepRun(config, context, {}); // sweep.best: the chosen grid point
 * ```
 */
export async function sweepRun(config: GenrecConfig, context: CommandContext, options: { runId?: string; reproduces?: string; output?: string }): Promise<TrainRunResult & { sweep?: SweepRecord }> {
  const { metric, k } = checkSweep(config, context);
  let record: SweepRecord | undefined;
  const result = await trainRun(config, context, {
    command: 'sweep',
    arguments: { model: config.model.kind },
    ...options,
    async chooseOptions(folder, data, base, entry) {
      const points = gridPoints(config.sweep.grid);
      const evaluated: SweepPoint[] = [];
      for (const [index, point] of points.entries()) {
        const label = `sweep ${index + 1}/${points.length} ${Object.entries(point).map(([key, value]) => `${key}=${JSON.stringify(value)}`).join(' ')}`;
        const checkpoint = folder.file('sweep', String(index + 1), 'checkpoint');
        const started = performance.now();
        let model;
        try {
          model = await entry.fit({
            data: { train: data.split.train, validation: data.split.validation, ...(data.catalog === undefined ? {} : { catalog: data.catalog }) },
            options: { ...base, ...point },
            seed: config.seeds[0]!,
            threads: config.threads,
            onProgress: context.display.callback(label),
            signal: context.signal,
            checkpointDirectory: checkpoint,
          });
        } catch (error) {
          throw inModelOptions(error, entry.kind);
        }
        try {
          const trainingSeconds = (performance.now() - started) / 1000;
          if (context.signal.aborted) throw new GenrecError('INVALID_INPUT', 'interrupted during the sweep');
          const scored = await evaluateRecommender(model, data.split.validation, { ks: [k], keepPerUser: false, excludeHistory: config.evaluation.excludeHistory, signal: context.signal });
          const validation = Object.fromEntries(Object.entries(scored.metrics).filter(([key]) => key.endsWith(`@${k}`)));
          evaluated.push({ options: point, validation, trainingSeconds });
          context.display.line(`${label}: validation ${metric} ${validation[metric]!.toFixed(4)} (${trainingSeconds.toFixed(1)} s)`);
        } finally {
          await model.dispose();
          rmSync(folder.file('sweep', String(index + 1)), { recursive: true, force: true });
        }
      }
      let best = 0;
      evaluated.forEach((point, index) => {
        if (point.validation[metric]! > evaluated[best]!.validation[metric]!) best = index;
      });
      record = { metric, grid: config.sweep.grid, points: evaluated, best };
      folder.writeJson(RUN_FILES.sweep, record);
      context.display.line(`best on validation: ${JSON.stringify(evaluated[best]!.options)} (${metric} ${evaluated[best]!.validation[metric]!.toFixed(4)}); training it on every seed`);
      return { ...base, ...evaluated[best]!.options };
    },
  });
  rmSync(result.folder.file('sweep'), { recursive: true, force: true });
  return { ...result, ...(record === undefined ? {} : { sweep: record }) };
}

/**
 * `genrec sweep [model] --grid key=v1,v2 …`: a small grid chosen on validation, then trained and tested.
 *
 * @example
 * ```ts
 * await runCli(['sweep', 'markov', '--grid', 'order=1,2,3']); // the same, from the command line
 * ```
 */
export async function sweepCommand(config: GenrecConfig, context: CommandContext, options: { runId?: string }): Promise<CommandOutcome> {
  const { folder, metrics, interrupted, sweep } = await sweepRun(config, context, options);
  if (interrupted || metrics === null || sweep === undefined) {
    return { exitCode: EXIT_CODES.interrupted, text: `interrupted (${folder.path})\n`, json: { ok: false, command: 'sweep', status: 'interrupted', run: folder.path } };
  }
  const keys = Object.keys(sweep.grid);
  const grid = textTable([
    [...keys, `validation ${sweep.metric}`, 'train s', ''],
    ...sweep.points.map((point, index) => [...keys.map((key) => JSON.stringify(point.options[key])), point.validation[sweep.metric]!.toFixed(4), point.trainingSeconds.toFixed(1), index === sweep.best ? '← chosen' : '']),
  ]);
  return {
    exitCode: EXIT_CODES.ok,
    text: `grid (seed ${config.seeds[0]}, validation users)\n${grid}\n\ntest, chosen point\n${runTable(metrics)}\n\nProtocol: ${metrics.protocol}\nrun folder: ${folder.path}\n`,
    json: { ok: true, command: 'sweep', status: 'complete', run: folder.path, sweep, metrics },
  };
}
