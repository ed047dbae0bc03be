import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic, type EvaluationSet } from '@genrec/core';
import { formatSplitSummary, formatStatistics } from '@genrec/data';
import type { GenrecConfig } from '../config/config.js';
import type { CommandContext, CommandOutcome } from '../context.js';
import { loadData } from '../data/load-data.js';
import { EXIT_CODES } from '../exit-codes.js';

function evaluationLines(set: EvaluationSet): string {
  const lines: string[] = [];
  for (let u = 0; u < set.size; u++) {
    const history = Array.from(set.historyItems.subarray(set.historyOffsets[u]!, set.historyOffsets[u + 1]!));
    const targets = Array.from(set.targetItems.subarray(set.targetOffsets[u]!, set.targetOffsets[u + 1]!));
    lines.push(JSON.stringify({ user: set.userIds[u], history, targets }));
  }
  return lines.length === 0 ? '' : lines.join('\n') + '\n';
}

/**
 * `genrec data stats`: statistics of the configured data and the sizes of its split;
 * `genrec data split --out <folder>`: writes the split (`train.txt` as a sequence file with the
 * dense user id first, `validation.jsonl` and `test.jsonl` with one `{user, history, targets}` per
 * line, `split.json` with the sizes and fingerprints).
 * @example
 * ```ts
 * await runCli(['data', 'split', '--out', 'split']); // what calls it
 * ```
 */
export async function dataCommand(action: 'stats' | 'split', config: GenrecConfig, context: CommandContext, options: { out?: string }): Promise<CommandOutcome> {
  const data = await loadData(config.data, context.display.callback('data'));
  const summary = { name: data.name, fingerprint: data.fingerprint, statistics: data.statistics, split: { method: config.data.split.method, maxHistoryLength: config.data.split.maxHistoryLength, ...data.splitSummary } };
  const indent = (text: string): string => text.split('\n').map((line) => `  ${line}`).join('\n');
  const text = [`data ${data.name} (fingerprint ${data.fingerprint.dataset})`, '', 'statistics', indent(formatStatistics(data.statistics)), '', `${config.data.split.method} split`, indent(formatSplitSummary(data.splitSummary))].join('\n');
  if (action === 'stats') return { exitCode: EXIT_CODES.ok, text: `${text}\n`, json: { ok: true, command: 'data stats', ...summary } };
  const folder = resolve(context.io.cwd, options.out ?? `split-${data.name}`);
  mkdirSync(folder, { recursive: true });
  const train = data.split.train;
  const rows: string[] = [];
  for (let row = 0; row < train.userCount; row++) {
    const items = train.items.subarray(train.offsets[row]!, train.offsets[row + 1]!);
    if (items.length > 0) rows.push(`${train.userIds[row]} ${Array.from(items).join(' ')}`);
  }
  writeFileAtomic(join(folder, 'train.txt'), rows.join('\n') + '\n');
  writeFileAtomic(join(folder, 'validation.jsonl'), evaluationLines(data.split.validation));
  writeFileAtomic(join(folder, 'test.jsonl'), evaluationLines(data.split.test));
  writeFileAtomic(join(folder, 'split.json'), JSON.stringify(summary, null, 2) + '\n');
  return { exitCode: EXIT_CODES.ok, text: `${text}\n\nwrote ${folder}: train.txt, validation.jsonl, test.jsonl, split.json\n`, json: { ok: true, command: 'data split', folder, ...summary } };
}
