import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CliError, EXIT_CODES } from '../exit-codes.js';
import { RUN_FILES, readRunFolder } from './run-folder.js';

/**
 * The model folders of a path: a model folder itself, or every `seeds/<seed>/model` of a run folder.
 *
 * @param path - a model folder, or a run folder
 * @returns the model folders (with their seed when from a run folder) and the run
 * @throws CliError exit 4 when the path does not exist or the run holds no model
 * @example
 * ```ts
 * modelFolders('runs/sasrec-20261205-161859').folders; // [{ seed: 42, path: '…/seeds/42/model' }]
 * ```
 */
export function modelFolders(path: string): { folders: { seed: number | null; path: string }[]; run?: ReturnType<typeof readRunFolder> } {
  const absolute = resolve(path);
  if (!existsSync(absolute)) throw new CliError(EXIT_CODES.artifact, 'NOT_FOUND', `${absolute} does not exist (give a model folder or a run folder)`, { details: { file: absolute } });
  if (existsSync(join(absolute, RUN_FILES.record))) {
    const run = readRunFolder(absolute);
    const seedsFolder = join(absolute, RUN_FILES.seeds);
    const seeds = existsSync(seedsFolder) ? readdirSync(seedsFolder).filter((name) => existsSync(join(seedsFolder, name, 'model'))) : [];
    if (seeds.length === 0) throw new CliError(EXIT_CODES.artifact, 'NOT_FOUND', `run folder ${absolute} holds no model (seeds/<seed>/model)`, { details: { file: absolute } });
    return { folders: seeds.map((seed) => ({ seed: Number(seed), path: join(seedsFolder, seed, 'model') })).sort((a, b) => a.seed - b.seed), run };
  }
  return { folders: [{ seed: null, path: absolute }] };
}

