import { resolve } from 'node:path';
import type { GenrecConfig } from '../config/config.js';
import type { CommandContext, CommandOutcome } from '../context.js';
import { loadData } from '../data/load-data.js';
import { EXIT_CODES } from '../exit-codes.js';
import { buildIds, saveIds } from '../ids/build-ids.js';

/**
 * `genrec ids`: builds the item ids of the `ids` section (semantic ids or set ids) on the
 * configured data, prints their health table (`@genrec/semantic-id`'s `formatHealthReport` for
 * semantic ids), and with `--out` saves them for `train` (`ids.path`).
 * @example
 * ```ts
 * await runCli(['ids', '--kind', 'set', '--out', 'set-ids']); // what calls it
 * ```
 */
export async function idsCommand(config: GenrecConfig, context: CommandContext, options: { out?: string }): Promise<CommandOutcome> {
  const data = await loadData(config.data, context.display.callback('data'));
  const started = performance.now();
  const ids = await buildIds(data, config.ids, context.display.callback('ids'));
  const seconds = (performance.now() - started) / 1000;
  let saved: string | undefined;
  if (options.out !== undefined) {
    saved = resolve(context.io.cwd, options.out);
    await saveIds(saved, ids);
  }
  const text = `${ids.healthText}\nitem vectors: ${ids.embeddings}; built in ${seconds.toFixed(1)} s${saved === undefined ? '' : `\nsaved to ${saved} (use it with --set ids.path=${saved})`}\n`;
  return { exitCode: EXIT_CODES.ok, text, json: { ok: true, command: 'ids', kind: ids.kind, embeddings: ids.embeddings, health: ids.health, seconds, ...(saved === undefined ? {} : { folder: saved }) } };
}
