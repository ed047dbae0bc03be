import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GenrecError, createTensor, readNpy, writeFileAtomic, writeNpy, type Matrix, type ProgressCallback } from '@genrec/core';
import {
  SemanticIds,
  SetIds,
  collaborativeEmbeddings,
  defaultTextFields,
  formatHealthReport,
  itemDocument,
  semanticIdHealth,
  textEmbeddings,
  type ItemEmbeddings,
} from '@genrec/semantic-id';
import type { IdsConfig } from '../config/config.js';
import { CliError, EXIT_CODES } from '../exit-codes.js';
import type { LoadedData } from '../data/load-data.js';

/** Health of item ids, in one shape for semantic and set ids (what reports and `genrec ids --json` show). */
export interface IdsHealth {
  /** `semantic ids 3 x 32` / `set ids 1 + 4 slots x 32`. */
  title: string;
  /** Items in the table. */
  itemCount: number;
  /** Codes per level (collision level last) or per slot (CF slot first). */
  codebookSizes: number[];
  /** Used codes / codebook size per quantiser level or slot. */
  utilisationPerLevel: number[];
  /** exp(entropy) of each level's code distribution. */
  perplexityPerLevel: number[];
  /** Items sharing every quantiser code (before a collision token): `count` groups of `size` items. */
  collisionGroups: { size: number; count: number }[];
  /** Other numbers (quantisation error, collision rates…). */
  summary: Record<string, number | string>;
}

/** Item ids ready for a generative model. */
export interface PreparedIds {
  /** Which ids. */
  kind: 'semantic' | 'set';
  /** Ordered semantic ids (kind `semantic`). */
  semanticIds?: SemanticIds;
  /** Set ids (kind `set`). */
  setIds?: SetIds;
  /** The item vectors the ids were built from, row `j` = item `j + 1` (core's `FitData.itemVectors` layout). */
  itemVectors: Matrix;
  /** How the vectors were made (`text: title`, `collaborative`). */
  embeddings: string;
  /** Their health. */
  health: IdsHealth;
  /** The health as the text table `genrec ids` prints. */
  healthText: string;
}

/** Files of a saved ids folder (`genrec ids --out`). */
export const IDS_FILES = { ids: 'ids', health: 'health.json', vectors: 'item-vectors.npy' } as const;

/** Groups of items sharing the first `length` codes of their row (`stride` codes per row). */
function collisionGroups(codes: Int32Array, rows: number, stride: number, length: number): { size: number; count: number }[] {
  const sizes = new Map<string, number>();
  for (let row = 0; row < rows; row++) {
    const key = Array.from(codes.subarray(row * stride, row * stride + length)).join(',');
    sizes.set(key, (sizes.get(key) ?? 0) + 1);
  }
  const bySize = new Map<number, number>();
  for (const size of sizes.values()) bySize.set(size, (bySize.get(size) ?? 0) + 1);
  return [...bySize].map(([size, count]) => ({ size, count })).sort((a, b) => a.size - b.size);
}

/** Utilisation and perplexity of one column of codes. */
function codeUsage(codes: Int32Array, rows: number, stride: number, column: number, size: number): { utilisation: number; perplexity: number } {
  const counts = new Float64Array(size);
  for (let row = 0; row < rows; row++) {
    const code = codes[row * stride + column]!;
    counts[code] = counts[code]! + 1;
  }
  let used = 0;
  let entropy = 0;
  for (const count of counts) {
    if (count === 0) continue;
    used++;
    const p = count / rows;
    entropy -= p * Math.log(p);
  }
  return { utilisation: used / size, perplexity: Math.exp(entropy) };
}

/** The vectors of every item `1 .. itemCount` (zero rows for items without one), row `j` = item `j + 1`. */
function fullItemVectors(embeddings: ItemEmbeddings, itemCount: number): Matrix {
  const { itemIds, vectors } = embeddings;
  const data = new Float32Array(itemCount * vectors.cols);
  itemIds.forEach((id, row) => {
    if (id >= 1 && id <= itemCount) data.set(vectors.data.subarray(row * vectors.cols, (row + 1) * vectors.cols), (id - 1) * vectors.cols);
  });
  return { data, rows: itemCount, cols: vectors.cols };
}

function hasText(data: LoadedData, fields: readonly string[]): boolean {
  // the text the embeddings would read (semantic-id's own document of a record), not a second reading of the fields
  return (data.catalog?.records ?? []).some((record) => record !== undefined && itemDocument(record, fields).trim() !== '');
}

/**
 * Builds the item ids of a configuration: item vectors (TF-IDF + SVD of the catalogue text, or
 * PPMI-SVD of co-occurrences in the training split), then ordered semantic ids (residual k-means)
 * or discrete set ids (a CF code + product-quantised semantic slots), and their health.
 *
 * @param data - the loaded data (the training split is what collaborative vectors see)
 * @param config - the `ids` section
 * @param onProgress - embeddings and k-means events
 * @returns the ids, the vectors and the health
 * @throws GenrecError `INVALID_OPTION` (`ids.embeddings: text` without a catalogue), the packages' own errors
 * @example
 * ```ts
 * const ids = await buildIds(await loadData(defaultConfig().data), defaultConfig().ids);
 * process.stdout.write(ids.healthText);
 * ```
 */
export async function buildIds(data: LoadedData, config: IdsConfig, onProgress?: ProgressCallback): Promise<PreparedIds> {
  const progress = onProgress === undefined ? {} : { onProgress };
  const itemCount = data.dataset.itemCount;
  // data without the configured text fields but with attribute ids (Sports: no titles) embeds those
  const textFields = defaultTextFields(data.catalog, config.textFields);
  const text = config.embeddings === 'text' || (config.embeddings === 'auto' && hasText(data, textFields));
  if (config.embeddings === 'text' && !hasText(data, textFields)) {
    throw new GenrecError('INVALID_OPTION', `config field ids.embeddings: "text" needs a catalogue with ${config.textFields.join(', ')} (set data.catalog or data.attributes, or use "collaborative")`, { details: { field: 'ids.embeddings' } });
  }
  const collaborative = (): ItemEmbeddings => collaborativeEmbeddings(data.split.train, { dimension: Math.min(config.dimension, itemCount - 1) });
  const base: ItemEmbeddings = text ? textEmbeddings(data.catalog!, { fields: textFields, dimension: config.dimension, seed: config.seed, ...progress }) : collaborative();
  const itemVectors = fullItemVectors(base, itemCount);
  const itemIds = Int32Array.from({ length: itemCount }, (_, i) => i + 1);
  const vectors = itemVectors; // row r = item r + 1 = itemIds[r]
  const embeddings = text ? `text (${textFields.join(', ')}), TF-IDF + SVD ${config.dimension}` : `collaborative (PPMI-SVD of the training split), ${vectors.cols}`;
  if (config.kind === 'semantic') {
    const { ids } = await SemanticIds.fit(itemIds, vectors, { levels: config.levels, codebookSize: config.codebookSize, collisionLevel: config.collisionLevel, seed: config.seed, ...progress });
    return { kind: 'semantic', semanticIds: ids, itemVectors, embeddings, ...semanticHealth(ids, vectors, config) };
  }
  const cf = text ? fullItemVectors(collaborative(), itemCount) : vectors;
  const setIds = await SetIds.fitDiscrete(itemIds, vectors, cf, { semanticSlots: config.semanticSlots, codebookSize: config.codebookSize, seed: config.seed, ...progress });
  return { kind: 'set', setIds, itemVectors, embeddings, ...setHealth(setIds, config) };
}

function semanticHealth(ids: SemanticIds, vectors: Matrix, config: IdsConfig): { health: IdsHealth; healthText: string } {
  const report = semanticIdHealth(ids, vectors);
  const title = `semantic ids ${config.levels} x ${config.codebookSize}`;
  const table = ids.table;
  return {
    health: {
      title,
      itemCount: report.itemCount,
      codebookSizes: report.codebookSizes,
      utilisationPerLevel: report.utilisationPerLevel,
      perplexityPerLevel: report.perplexityPerLevel,
      collisionGroups: collisionGroups(table.codes, table.itemCount, table.levels, report.quantizerLevels),
      summary: {
        'relative quantisation error': report.relativeQuantizationError,
        'distinct prefixes': report.distinctPrefixes,
        'items colliding before the token': report.collisionRateBefore,
        'items colliding after the token': report.collisionRateAfter,
        'largest collision group': report.largestCollisionGroup,
      },
    },
    healthText: formatHealthReport(report, { title }),
  };
}

function setHealth(ids: SetIds, config: IdsConfig): { health: IdsHealth; healthText: string } {
  const slots = ids.slotCount;
  const codes = ids.encode(ids.itemIds);
  const sizes = [...(ids.codebookSizes ?? [])];
  const usage = sizes.map((size, slot) => codeUsage(codes, ids.itemCount, slots, slot, size));
  const groups = collisionGroups(codes, ids.itemCount, slots, slots);
  const colliding = groups.filter((group) => group.size > 1).reduce((sum, group) => sum + group.size * group.count, 0);
  const title = `set ids 1 CF + ${config.semanticSlots} semantic slots x ${config.codebookSize}`;
  const health: IdsHealth = {
    title,
    itemCount: ids.itemCount,
    codebookSizes: sizes,
    utilisationPerLevel: usage.map((entry) => entry.utilisation),
    perplexityPerLevel: usage.map((entry) => entry.perplexity),
    collisionGroups: groups,
    summary: { 'items sharing all codes': colliding / Math.max(1, ids.itemCount), 'largest collision group': Math.max(...groups.map((group) => group.size)) },
  };
  const percent = (value: number): string => `${(100 * value).toFixed(1)}%`;
  const lines = [`${title}: ${ids.itemCount} items, ${slots} slots (slot 0 = collaborative code)`];
  lines.push(`items sharing all codes      ${percent(health.summary['items sharing all codes'] as number)}`, `largest collision group      ${health.summary['largest collision group']}`, '');
  const rows = [['slot', 'codes', 'utilisation', 'perplexity'], ...sizes.map((size, slot) => [slot === 0 ? '0 (CF)' : String(slot), String(size), percent(usage[slot]!.utilisation), usage[slot]!.perplexity.toFixed(1)])];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  for (const row of rows) lines.push(row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  '));
  return { health, healthText: lines.join('\n') + '\n' };
}

/**
 * Saves prepared ids into a folder: the ids artifact (`ids/`), `health.json` and the item vectors
 * (`item-vectors.npy`, row `j` = item `j + 1`, so a later `train` uses the same vectors).
 *
 * @param directory - the folder (created)
 * @param ids - what {@link buildIds} returned
 * @example
 * ```ts
 * await saveIds('toys-ids', ids); // later: --set ids.path=toys-ids
 * ```
 */
export async function saveIds(directory: string, ids: PreparedIds): Promise<void> {
  const { mkdirSync } = await import('node:fs');
  mkdirSync(directory, { recursive: true });
  if (ids.semanticIds) await ids.semanticIds.save(join(directory, IDS_FILES.ids));
  if (ids.setIds) await ids.setIds.save(join(directory, IDS_FILES.ids));
  writeFileAtomic(join(directory, IDS_FILES.health), JSON.stringify({ kind: ids.kind, embeddings: ids.embeddings, health: ids.health, text: ids.healthText }, null, 2) + '\n');
  writeNpy(join(directory, IDS_FILES.vectors), createTensor(ids.itemVectors.data, [ids.itemVectors.rows, ids.itemVectors.cols]));
}

/**
 * Loads ids saved by {@link saveIds} (`ids.path` of the config, `genrec ids --out`).
 *
 * @throws CliError exit 4 when the folder is missing or incomplete; the loaders' `CORRUPT_ARTIFACT` / `FORMAT_VERSION`
 * @example
 * ```ts
 * const ids = await loadIds('toys-ids', 11924);
 * ```
 */
export async function loadIds(directory: string, itemCount: number): Promise<PreparedIds> {
  const healthFile = join(directory, IDS_FILES.health);
  if (!existsSync(healthFile)) throw new CliError(EXIT_CODES.artifact, 'NOT_FOUND', `${directory} is not an ids folder written by genrec ids (no ${IDS_FILES.health})`, { details: { file: directory, field: 'ids.path' } });
  const saved = JSON.parse(readFileSync(healthFile, 'utf8')) as { kind: 'semantic' | 'set'; embeddings: string; health: IdsHealth; text: string };
  const stored = readNpy(join(directory, IDS_FILES.vectors), { requireFinite: true });
  if (stored.dtype !== 'float32' || stored.shape.length !== 2 || stored.shape[0] !== itemCount) {
    throw new CliError(EXIT_CODES.artifact, 'SHAPE_MISMATCH', `the ids in ${directory} hold ${stored.dtype} vectors of shape [${stored.shape.join(', ')}], the data has ${itemCount} items`, {
      details: { file: directory, field: 'ids.path' },
    });
  }
  const itemVectors: Matrix = { rows: itemCount, cols: stored.shape[1]!, data: stored.data as Float32Array };
  const base = { kind: saved.kind, itemVectors, embeddings: saved.embeddings, health: saved.health, healthText: saved.text };
  return saved.kind === 'semantic' ? { ...base, semanticIds: await SemanticIds.load(join(directory, IDS_FILES.ids)) } : { ...base, setIds: await SetIds.load(join(directory, IDS_FILES.ids)) };
}
