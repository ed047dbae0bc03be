import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { GenrecError, datasetFingerprint, type ItemCatalog, type ProgressCallback } from '@genrec/core';
import {
  datasetStatistics,
  generateSyntheticDataset,
  leaveOneOutSplit,
  attributeCatalog,
  readInteractionLog,
  readItemAttributes,
  readItemCatalog,
  readMovieLensRatings,
  readSequenceFile,
  summarizeSplit,
  temporalSplit,
  type DatasetSplit,
  type DatasetStatistics,
  type InteractionDataset,
  type SplitSummary,
} from '@genrec/data';
import type { DataConfig } from '../config/config.js';

/** A file the data came from, with its SHA-256 (the run folder's data fingerprint). */
export interface DataFile {
  /** Absolute path. */
  path: string;
  /** Size in bytes. */
  bytes: number;
  /** SHA-256 of the bytes, hex. */
  sha256: string;
}

/** The data of a command: the dataset, its catalogue and split, and what identifies them. */
export interface LoadedData {
  /** A name for tables and run folders (`synthetic`, `Toys_and_Games`). */
  name: string;
  dataset: InteractionDataset;
  catalog?: ItemCatalog;
  split: DatasetSplit;
  /** Fingerprints: the whole dataset and the training part (`datasetFingerprint`), and the files read. */
  fingerprint: { dataset: string; train: string; files: DataFile[] };
  statistics: DatasetStatistics;
  splitSummary: SplitSummary;
}

function hashFile(path: string): DataFile {
  const bytes = readFileSync(path);
  return { path, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
}

const SEQUENCE_EXTENSIONS = ['.txt', '.txt.gz'];
const LOG_EXTENSIONS = ['.csv', '.tsv', '.csv.gz', '.tsv.gz'];

const endsWithAny = (name: string, suffixes: readonly string[]): boolean => suffixes.some((suffix) => name.toLowerCase().endsWith(suffix));

/** The data file inside a data folder: its one sequence file (or interaction log), `items.jsonl` and an attribute file when present. */
function findInFolder(folder: string): { file: string; catalog?: string; attributes?: string } {
  const entries = readdirSync(folder).filter((name) => statSync(join(folder, name)).isFile());
  const sequences = entries.filter((name) => endsWithAny(name, SEQUENCE_EXTENSIONS) && !/^(readme|license|source)/i.test(name));
  const logs = entries.filter((name) => endsWithAny(name, LOG_EXTENSIONS));
  const candidates = sequences.length > 0 ? sequences : logs;
  if (candidates.length !== 1) {
    throw new GenrecError(
      'NOT_FOUND',
      candidates.length === 0
        ? `data folder ${folder} holds no sequence file (.txt) or interaction log (.csv, .tsv); name the file in data.path`
        : `data folder ${folder} holds several data files (${candidates.join(', ')}); name one in data.path`,
      { details: { file: folder, field: 'data.path' } },
    );
  }
  const catalog = entries.includes('items.jsonl') ? join(folder, 'items.jsonl') : undefined;
  const attributes = entries.find((name) => name.endsWith('_item2attributes.json')) ?? (entries.includes('items.tsv') && candidates[0] !== 'items.tsv' ? 'items.tsv' : undefined);
  return { file: join(folder, candidates[0]!), ...(catalog === undefined ? {} : { catalog }), ...(attributes === undefined ? {} : { attributes: join(folder, attributes) }) };
}

/**
 * Checks that the data files of a configuration exist, before anything is written or computed.
 *
 * @throws GenrecError `NOT_FOUND` naming `data.path` or `data.catalog`
 * @example
 * ```ts
 * checkDataPaths(defaultConfig().data); // the synthetic default: nothing to check
 * ```
 */
export function checkDataPaths(config: DataConfig): void {
  if (config.path !== 'synthetic' && !existsSync(config.path)) throw new GenrecError('NOT_FOUND', `data file ${config.path} does not exist`, { details: { field: 'data.path' } });
  if (config.catalog !== null && !existsSync(config.catalog)) throw new GenrecError('NOT_FOUND', `catalogue file ${config.catalog} does not exist`, { details: { field: 'data.catalog' } });
  if (config.attributes !== null && !existsSync(config.attributes)) throw new GenrecError('NOT_FOUND', `attribute file ${config.attributes} does not exist`, { details: { field: 'data.attributes' } });
}

/**
 * Reads (or generates) the data of a configuration, splits it, and fingerprints it.
 *
 * @param config - the `data` section
 * @param onProgress - reader events
 * @returns the loaded data
 * @throws GenrecError `NOT_FOUND` for a missing file (naming `data.path` / `data.catalog`), the readers' `PARSE_ERROR`s, `INVALID_OPTION` for bad synthetic options
 * @example
 * ```ts
 * const data = await loadData(defaultConfig().data); // the synthetic default, split leave-one-out
 * data.statistics.users; // 5000
 * ```
 */
export async function loadData(config: DataConfig, onProgress?: ProgressCallback): Promise<LoadedData> {
  let dataset: InteractionDataset;
  let catalog: ItemCatalog | undefined;
  let name: string;
  const files: DataFile[] = [];
  const progress = onProgress === undefined ? {} : { onProgress };
  checkDataPaths(config);
  if (config.path === 'synthetic') {
    let synthetic;
    try {
      synthetic = generateSyntheticDataset(config.synthetic);
    } catch (error) {
      if (GenrecError.isInstance(error) && error.code === 'INVALID_OPTION') {
        const field = typeof error.details.field === 'string' ? `data.synthetic.${error.details.field}` : 'data.synthetic';
        throw new GenrecError('INVALID_OPTION', `config field ${field}: ${error.message.replace(/ \(field "[^"]*"\)$/, '')}`, { details: { field }, cause: error });
      }
      throw error;
    }
    dataset = synthetic.dataset;
    catalog = synthetic.catalog;
    name = 'synthetic';
  } else {
    if (!existsSync(config.path)) throw new GenrecError('NOT_FOUND', `data file ${config.path} does not exist`, { details: { field: 'data.path' } });
    let file = config.path;
    let catalogPath = config.catalog ?? undefined;
    let attributesPath = config.attributes ?? undefined;
    if (statSync(config.path).isDirectory()) {
      const found = findInFolder(config.path);
      file = found.file;
      catalogPath ??= found.catalog;
      attributesPath ??= found.attributes;
    }
    const lower = basename(file).toLowerCase();
    const format = config.format !== 'auto' ? config.format : lower.endsWith('.dat') ? 'movielens' : endsWithAny(lower, LOG_EXTENSIONS) ? 'interactions' : 'sequences';
    name = basename(file).replace(/\.gz$/i, '').replace(extname(basename(file).replace(/\.gz$/i, '')), '');
    dataset =
      format === 'sequences'
        ? await readSequenceFile(file, { name, ...progress })
        : format === 'interactions'
          ? await readInteractionLog(file, { name, ...progress })
          : await readMovieLensRatings(file, { name, ...progress });
    files.push(hashFile(file));
    if (catalogPath !== undefined) {
      if (!existsSync(catalogPath)) throw new GenrecError('NOT_FOUND', `catalogue file ${catalogPath} does not exist`, { details: { field: 'data.catalog' } });
      catalog = await readItemCatalog(catalogPath, dataset.externalItemIds === undefined ? { itemCount: dataset.itemCount, ...progress } : { externalItemIds: dataset.externalItemIds, ...progress });
      files.push(hashFile(catalogPath));
    }
    if (attributesPath !== undefined) {
      if (format !== 'sequences' || dataset.externalItemIds !== undefined) {
        throw new GenrecError('INVALID_OPTION', `config field data.attributes: attribute files are keyed by the sequence file's own item ids; ${basename(file)} is not such a file (its items are renumbered)`, {
          details: { field: 'data.attributes' },
        });
      }
      const attributes = await readItemAttributes(attributesPath, { itemCount: dataset.itemCount, ...progress });
      catalog = attributeCatalog(attributes, catalog === undefined ? {} : { base: catalog });
      files.push(hashFile(attributesPath));
    }
  }
  const split =
    config.split.method === 'leave-one-out'
      ? leaveOneOutSplit(dataset, { maxHistoryLength: config.split.maxHistoryLength })
      : temporalSplit(dataset, { maxHistoryLength: config.split.maxHistoryLength, validationFraction: config.split.validationFraction, testFraction: config.split.testFraction });
  return {
    name,
    dataset,
    ...(catalog === undefined ? {} : { catalog }),
    split,
    fingerprint: { dataset: datasetFingerprint(dataset), train: datasetFingerprint(split.train), files },
    statistics: datasetStatistics(dataset),
    splitSummary: summarizeSplit(split),
  };
}

/**
 * Training interaction counts per item, indexed by item id (`itemCount + 1` entries, entry 0
 * unused): the popularity the beyond-accuracy metrics and the exposure charts use.
 * @example
 * ```ts
 * trainingPopularity(data)[42]; // training interactions of item 42
 * ```
 */
export function trainingPopularity(data: LoadedData): Float64Array {
  const counts = new Float64Array(data.split.train.itemCount + 1);
  for (const item of data.split.train.items) counts[item] = counts[item]! + 1;
  return counts;
}
