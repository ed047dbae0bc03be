import type { GenrecConfig } from '../config/config.js';
import type { CommandContext, CommandOutcome } from '../context.js';
import { EXIT_CODES } from '../exit-codes.js';
import { evaluateRun } from '../pipeline/evaluate-run.js';
import { runTable } from './train.js';

/**
 * `genrec evaluate <model>`: evaluates a saved model folder (or every model of a run folder) on the
 * configured data against the baselines, in a new run folder.
 * @example
 * ```ts
 * await runCli(['evaluate', 'runs/sasrec-20261205-161859']); // what calls it
 * ```
 */
export async function evaluateCommand(config: GenrecConfig, context: CommandContext, options: { model: string; runId?: string }): Promise<CommandOutcome> {
  const { folder, metrics, interrupted } = await evaluateRun(config, context, options);
  if (interrupted || metrics === null) {
    return { exitCode: EXIT_CODES.interrupted, text: `interrupted; nothing evaluated (${folder.path})\n`, json: { ok: false, command: 'evaluate', status: 'interrupted', run: folder.path } };
  }
  return {
    exitCode: EXIT_CODES.ok,
    text: `${runTable(metrics)}\n\nProtocol: ${metrics.protocol}\nrun folder: ${folder.path}\n`,
    json: { ok: true, command: 'evaluate', status: 'complete', run: folder.path, metrics },
  };
}
