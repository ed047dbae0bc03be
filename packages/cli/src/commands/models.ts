import type { CommandContext, CommandOutcome } from '../context.js';
import { EXIT_CODES } from '../exit-codes.js';
import { textTable } from '../tables.js';

/**
 * `genrec models`: the model kinds `train` knows, with their presets and packages.
 *
 * @example
 * ```ts
 * await runCli(['models', '--json']); // what calls it
 * ```
 */
export function modelsCommand(context: CommandContext): CommandOutcome {
  const entries = Object.values(context.registry);
  const rows = [['kind', 'presets', 'package', 'what'], ...entries.map((entry) => [entry.kind, Object.keys(entry.presets).join(', ') || '-', entry.packageName, entry.summary])];
  const table = textTable(rows, ['left', 'left', 'left', 'left']);
  return {
    exitCode: EXIT_CODES.ok,
    text: `${table}\n`,
    json: { ok: true, command: 'models', models: entries.map((entry) => ({ kind: entry.kind, package: entry.packageName, summary: entry.summary, presets: entry.presets, requires: entry.requires ?? null, trainsByEpochs: entry.trainsByEpochs })) },
  };
}
