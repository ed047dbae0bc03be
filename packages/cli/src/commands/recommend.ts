import { GenrecError, MODEL_FILES, loadRecommender, readModelManifest, type StoredItem } from '@genrec/core';
import type { GenrecConfig } from '../config/config.js';
import type { CommandContext, CommandOutcome } from '../context.js';
import { loadData } from '../data/load-data.js';
import { EXIT_CODES } from '../exit-codes.js';
import { registryLoaders } from '../models/registry.js';
import { modelFolders } from '../run/model-folders.js';
import { textTable } from '../tables.js';

/** Options of {@link recommendCommand}. */
export interface RecommendOptions {
  /** A model folder, or a run folder (its first seed's model). */
  model: string;
  /** Histories given on the command line: `"3,14,15"` each. */
  histories: string[];
  /** Users of the configured data (dense ids, or external ids when the data has them): their whole sequence is the history. */
  users: string[];
  /** Items per user. */
  k: number;
  /** Keep history items in the recommendations. */
  includeHistory: boolean;
}

function parseHistory(text: string, index: number): number[] {
  const parts = text.split(/[\s,]+/).filter(Boolean);
  const items = parts.map(Number);
  const bad = items.findIndex((item) => !Number.isSafeInteger(item) || item < 1);
  if (bad >= 0) throw new GenrecError('INVALID_OPTION', `--history ${index + 1}: "${parts[bad]}" is not an item id (positive integers, comma-separated)`, { details: { field: 'history' } });
  return items;
}

/**
 * `genrec recommend <model>`: top-k recommendations of a saved model for histories given on the
 * command line (`--history 3,14,15`) or for users of the configured data (`--user 42`), with the
 * items' external ids and titles from the model folder.
 * @example
 * ```ts
 * await runCli(['recommend', 'runs/x', '--history', '3,14,15', '-k', '5']); // what calls it
 * ```
 */
export async function recommendCommand(config: GenrecConfig, context: CommandContext, options: RecommendOptions): Promise<CommandOutcome> {
  if (options.histories.length === 0 && options.users.length === 0) {
    throw new GenrecError('INVALID_OPTION', 'give --history 3,14,15 (item ids) or --user <id> (a user of the data), once or several times', { details: { field: 'history' } });
  }
  const histories = options.histories.map(parseHistory);
  const labels = options.histories.map((text) => `history ${text}`);
  if (options.users.length > 0) {
    const data = await loadData(config.data, context.display.callback('data'));
    const { dataset } = data;
    for (const user of options.users) {
      let dense = dataset.externalUserIds === undefined ? -1 : dataset.externalUserIds.indexOf(user); // index = dense id
      if (dense <= 0 && /^\d+$/.test(user)) dense = Number(user);
      const row = dense > 0 ? dataset.userIds.indexOf(dense) : -1;
      if (row < 0) throw new GenrecError('INVALID_OPTION', `--user ${user}: no such user in ${data.name}`, { details: { field: 'user' } });
      histories.push(Array.from(dataset.items.subarray(dataset.offsets[row]!, dataset.offsets[row + 1]!)));
      labels.push(`user ${user}`);
    }
  }
  const { folders } = modelFolders(options.model);
  const path = folders[0]!.path;
  const model = await loadRecommender(path, { loaders: registryLoaders(context.registry) });
  try {
    const items = readModelManifest(path).artifact.readJson(MODEL_FILES.items) as StoredItem[];
    const result = await model.recommend(histories, { k: options.k, excludeHistory: !options.includeHistory });
    const users = histories.map((history, u) => {
      const rows = Array.from({ length: result.lengths[u]! }, (_, rank) => {
        const item = result.items[u * result.k + rank]!;
        return { rank: rank + 1, item, externalId: items[item - 1]?.externalId ?? null, title: items[item - 1]?.title ?? null, score: result.scores[u * result.k + rank]! };
      });
      return { label: labels[u]!, history, recommendations: rows };
    });
    const text = users
      .map((user) => {
        const table = textTable(
          [['rank', 'item', 'external id', 'title', `score (${model.scoreScale})`], ...user.recommendations.map((row) => [String(row.rank), String(row.item), row.externalId ?? '', row.title ?? '', row.score.toFixed(4)])],
          ['right', 'right', 'left', 'left', 'right'],
        );
        return `${user.label} (${user.history.length} items)\n${table}`;
      })
      .join('\n\n');
    return { exitCode: EXIT_CODES.ok, text: `${model.kind} model ${path}\n\n${text}\n`, json: { ok: true, command: 'recommend', model: path, kind: model.kind, scoreScale: model.scoreScale, users } };
  } finally {
    await model.dispose();
  }
}
