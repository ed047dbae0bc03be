import type { GenrecConfig } from '../config/config.js';
import type { CommandContext, CommandOutcome } from '../context.js';
import { EXIT_CODES } from '../exit-codes.js';
import type { RunMetrics } from '../evaluation/run-metrics.js';
import { trainRun } from '../pipeline/train-run.js';
import { formatQualityTable } from '../tables.js';

/**
 * The quality table of a run's metrics (what `train`, `evaluate` and `sweep` print).
 *
 * @example
 * ```ts
 * console.log(runTable(metrics));
 * ```
 */
export function runTable(metrics: RunMetrics): string {
  const seeds = Math.max(...metrics.systems.map((system) => system.seeds.length));
  return formatQualityTable(metrics.systems, metrics.tableMetrics, { baseline: metrics.baseline, test: metrics.significance.test, alpha: metrics.significance.alpha, seeds });
}

/**
 * `genrec train [model]`: trains the configured model (one run folder, one training per seed),
 * evaluates it against the baselines and prints the quality table.
 *
 * @returns exit 0, or 130 when Ctrl-C stopped it (the best model so far is in the run folder)
 * @example
 * ```ts
 * await runCli(['train', 'sasrec', '--preset', 'quickstart']); // what calls it
 * ```
 */
export async function trainCommand(config: GenrecConfig, context: CommandContext, options: { runId?: string }): Promise<CommandOutcome> {
  const { folder, metrics, interrupted } = await trainRun(config, context, {
    command: 'train',
    arguments: { model: config.model.kind },
    ...(options.runId === undefined ? {} : { runId: options.runId }),
  });
  if (interrupted || metrics === null) {
    return {
      exitCode: EXIT_CODES.interrupted,
      text: `interrupted; the best model so far is in ${folder.path}\n`,
      json: { ok: false, command: 'train', status: 'interrupted', run: folder.path },
    };
  }
  return {
    exitCode: EXIT_CODES.ok,
    text: `${runTable(metrics)}\n\nProtocol: ${metrics.protocol}\nrun folder: ${folder.path}\n`,
    json: { ok: true, command: 'train', status: 'complete', run: folder.path, metrics },
  };
}
