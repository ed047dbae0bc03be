import {
  checkEnumOption,
  checkIntegerOption,
  checkKnownOptions,
  GenrecError,
  type ItemCatalog,
  type ItemRecord,
  type ProgressCallback,
  type SequenceDataset,
} from '@genrec/core';
import { lineSettings, quoteToken, streamLines, type ForEachLineOptions } from './line-reader.js';

/**
 * Default largest item id {@link readItemCatalog} accepts when ids are used verbatim and no
 * `itemCount` is given: 2^24 = 16,777,216.
 */
export const DEFAULT_MAX_ITEM_ID = 2 ** 24;

/**
 * Largest catalogue {@link readItemCatalog} builds (`itemCount` and `maxItemId` are bounded by it):
 * 2^26 = 67,108,864 ids, a records array of 512 MiB before any record.
 */
export const MAX_CATALOG_SIZE = 2 ** 26;

/** Options of {@link readItemCatalog}. */
export interface ReadItemCatalogOptions {
  /** Field holding the item id. @defaultValue `'item_id'` */
  idField?: string;
  /** Field holding the title. @defaultValue `'title'` */
  titleField?: string;
  /** Field holding the categories (a list of category paths). @defaultValue `'categories'` */
  categoriesField?: string;
  /**
   * External item ids by dense id (a dataset's `externalItemIds`): the file's ids are looked up
   * there. Without it, ids must be positive integers and are used verbatim (the Amazon files).
   */
  externalItemIds?: readonly string[];
  /**
   * What to do with a record whose id is not in `externalItemIds`: `'skip'` it (counted in
   * `skippedRecords`) or throw (`UNKNOWN_ID`, naming file and line).
   *
   * @defaultValue `'skip'`
   */
  unknownIds?: 'skip' | 'error';
  /**
   * Largest item id of the catalogue (at most {@link MAX_CATALOG_SIZE}); a verbatim id above it is
   * an error at its line.
   *
   * @defaultValue the dataset size when `externalItemIds` is given, else the largest id read
   */
  itemCount?: number;
  /**
   * Largest verbatim id accepted when `itemCount` is not given (at most {@link MAX_CATALOG_SIZE}):
   * the records are indexed by id, so an id bounds the catalogue's memory. Raise it (or give
   * `itemCount`) for catalogues with larger ids.
   *
   * @defaultValue {@link DEFAULT_MAX_ITEM_ID} (16,777,216)
   */
  maxItemId?: number;
  /** Longest line in characters (see {@link ForEachLineOptions.maxLineLength}). @defaultValue 64 Mi */
  maxLineLength?: number;
  /** Receives the `task-*` events of the task `'read-items'` (bytes read of the file). */
  onProgress?: ProgressCallback;
}

const READ_ITEM_CATALOG_OPTIONS = [
  'idField',
  'titleField',
  'categoriesField',
  'externalItemIds',
  'unknownIds',
  'itemCount',
  'maxItemId',
  'maxLineLength',
  'onProgress',
] as const;

/** The result of {@link readItemCatalog}: an {@link ItemCatalog} plus what was skipped. */
export interface ItemCatalogReadResult extends ItemCatalog {
  /** Records skipped because their id was unknown. */
  readonly skippedRecords: number;
}

/**
 * Reads item metadata from a JSON Lines file, one object per line, streaming. The id, title and
 * categories fields become {@link ItemRecord} fields; every other field is kept in `fields` as
 * read. Categories may be a list of category paths (`[["Toys & Games", "Puzzles"]]`), one path
 * (`["Toys & Games", "Puzzles"]`) or one string.
 *
 * Ids are checked at their line, before anything is sized by them: a verbatim id must be a
 * positive integer (a JSON number or a decimal string) up to `itemCount` when given, else up to
 * `maxItemId`; records are collected in a map, and the records array (`itemCount + 1` entries) is
 * built once at the end.
 *
 * @param path - the `.jsonl` file.
 * @param options - see {@link ReadItemCatalogOptions}.
 * @returns the catalogue, indexed by dense item id.
 * @throws GenrecError `PARSE_ERROR` naming file and line for invalid JSON (a truncated line), a
 *   line that is not an object, a missing or invalid id, a title that is not a string, malformed
 *   categories or a line longer than `maxLineLength`; `INVALID_INPUT` naming the line for a
 *   verbatim id above `itemCount` or `maxItemId`; `DUPLICATE_ID` for an id seen twice;
 *   `UNKNOWN_ID` (with `unknownIds: 'error'`); `INVALID_OPTION` for an unknown or invalid option.
 * @example
 * ```ts
 * const catalog = await readItemCatalog('shared/data/amazon2014-toys/items.jsonl');
 * catalog.records[1]?.title;
 * ```
 */
export async function readItemCatalog(path: string, options: ReadItemCatalogOptions = {}): Promise<ItemCatalogReadResult> {
  checkKnownOptions(options, READ_ITEM_CATALOG_OPTIONS, 'readItemCatalog');
  const idField = checkFieldName(options.idField ?? 'item_id', 'idField');
  const titleField = checkFieldName(options.titleField ?? 'title', 'titleField');
  const categoriesField = checkFieldName(options.categoriesField ?? 'categories', 'categoriesField');
  const unknownIds = checkEnumOption(options.unknownIds ?? 'skip', 'unknownIds', ['skip', 'error']);
  const externalItemIds = options.externalItemIds;
  if (externalItemIds !== undefined && (!Array.isArray(externalItemIds) || externalItemIds.length - 1 > MAX_CATALOG_SIZE)) {
    throw new GenrecError('INVALID_OPTION', `externalItemIds must be an array of at most ${MAX_CATALOG_SIZE + 1} ids (index 0 unused)`, {
      details: { field: 'externalItemIds' },
    });
  }
  const givenItemCount = options.itemCount === undefined ? undefined : checkIntegerOption(options.itemCount, 'itemCount', 0, MAX_CATALOG_SIZE);
  const maxItemId = checkIntegerOption(options.maxItemId ?? DEFAULT_MAX_ITEM_ID, 'maxItemId', 1, MAX_CATALOG_SIZE);
  const settings = lineSettings(
    {
      ...(options.maxLineLength !== undefined ? { maxLineLength: options.maxLineLength } : {}),
      ...(options.onProgress !== undefined ? { onProgress: options.onProgress } : {}),
    },
    'read-items',
  );
  const lookup = externalItemIds ? new Map(externalItemIds.map((external, id) => [String(external), id] as const).slice(1)) : undefined;
  // Largest id a record may have; ids are checked against it at their line.
  const idLimit = givenItemCount ?? (externalItemIds ? externalItemIds.length - 1 : maxItemId);
  const limitName = givenItemCount !== undefined ? 'itemCount' : externalItemIds ? 'the dataset size' : 'maxItemId';
  const records = new Map<number, ItemRecord>();
  const recordLines = new Map<number, number>();
  let skippedRecords = 0;
  let maxId = 0;

  await streamLines(
    path,
    (text, line) => {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        throw new GenrecError('PARSE_ERROR', `invalid JSON (${(error as Error).message}); the line may be truncated`, {
          cause: error,
          details: { file: path, line },
        });
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new GenrecError('PARSE_ERROR', 'expected one JSON object per line', { details: { file: path, line } });
      }
      const object = value as Record<string, unknown>;
      const rawId = Object.hasOwn(object, idField) ? object[idField] : undefined;
      let id: number;
      if (lookup) {
        if (typeof rawId !== 'string' && typeof rawId !== 'number') {
          throw new GenrecError('PARSE_ERROR', `missing or invalid "${idField}"`, { details: { file: path, line, field: idField } });
        }
        const known = lookup.get(String(rawId));
        if (known === undefined) {
          if (unknownIds === 'error') {
            throw new GenrecError('UNKNOWN_ID', `item id ${quoteToken(String(rawId))} is not in the dataset`, { details: { file: path, line, field: idField } });
          }
          skippedRecords++;
          return;
        }
        id = known;
      } else {
        id = typeof rawId === 'string' && /^[1-9][0-9]{0,15}$/.test(rawId) ? Number(rawId) : typeof rawId === 'number' ? rawId : Number.NaN;
        if (!Number.isSafeInteger(id) || id < 1) {
          throw new GenrecError('PARSE_ERROR', `"${idField}" must be a positive integer, got ${quoteToken(JSON.stringify(rawId) ?? 'nothing')}`, {
            details: { file: path, line, field: idField },
          });
        }
      }
      if (id > idLimit) {
        const hint = limitName === 'maxItemId' ? '; give itemCount or raise maxItemId for larger ids' : '';
        throw new GenrecError('INVALID_INPUT', `item id ${id} is above ${limitName} (${idLimit})${hint}`, { details: { file: path, line, field: idField } });
      }
      const previous = recordLines.get(id);
      if (previous !== undefined) {
        throw new GenrecError('DUPLICATE_ID', `item id ${id} already appeared on line ${previous}`, { details: { file: path, line, field: idField } });
      }
      const fields: Record<string, unknown> = {};
      for (const key of Object.keys(object)) {
        if (key === idField || key === titleField || key === categoriesField) continue;
        // A "__proto__" key stays an ordinary field (assignment would replace the prototype).
        if (key === '__proto__') Object.defineProperty(fields, key, { value: object[key], enumerable: true, writable: true, configurable: true });
        else fields[key] = object[key];
      }
      const record: { -readonly [K in keyof ItemRecord]: ItemRecord[K] } = { id, fields };
      const title = Object.hasOwn(object, titleField) ? object[titleField] : undefined;
      if (title !== undefined && title !== null) {
        if (typeof title !== 'string') throw new GenrecError('PARSE_ERROR', `"${titleField}" must be a string`, { details: { file: path, line, field: titleField } });
        record.title = title;
      }
      const categories = Object.hasOwn(object, categoriesField) ? object[categoriesField] : undefined;
      if (categories !== undefined && categories !== null) record.categories = parseCategories(categories, path, line, categoriesField);
      records.set(id, record);
      recordLines.set(id, line);
      if (id > maxId) maxId = id;
    },
    settings,
  );

  const itemCount = givenItemCount ?? (externalItemIds ? externalItemIds.length - 1 : maxId);
  const dense = new Array<ItemRecord | undefined>(itemCount + 1).fill(undefined);
  for (const [id, record] of records) dense[id] = record;
  return { itemCount, records: dense, skippedRecords };
}

function checkFieldName(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new GenrecError('INVALID_OPTION', `${field} must be a non-empty string, got ${JSON.stringify(value)}`, { details: { field } });
  }
  return value;
}

function parseCategories(value: unknown, path: string, line: number, field: string): string[][] {
  const bad = (): never => {
    throw new GenrecError('PARSE_ERROR', `"${field}" must be a list of category paths (lists of strings), one path or a string`, {
      details: { file: path, line, field },
    });
  };
  if (typeof value === 'string') return [[value]];
  if (!Array.isArray(value)) return bad();
  if (value.every((entry) => typeof entry === 'string')) return value.length === 0 ? [] : [value as string[]];
  return value.map((path_) => {
    if (!Array.isArray(path_) || !path_.every((entry) => typeof entry === 'string')) return bad();
    return path_ as string[];
  });
}

/** What {@link catalogCoverage} found. */
export interface CatalogCoverage {
  /** Item ids with at least one interaction but no record. */
  missing: Int32Array;
  /** Item ids that have a record but no interaction. */
  withoutInteractions: Int32Array;
  /** Number of item ids with both a record and interactions. */
  covered: number;
}

/**
 * Checks how a catalogue joins a dataset: which interacted items have no metadata record and
 * which records have no interaction.
 *
 * @example
 * ```ts
 * catalogCoverage(toys, catalog).missing.length; // 0 when every item has metadata
 * ```
 */
export function catalogCoverage(dataset: SequenceDataset, catalog: ItemCatalog): CatalogCoverage {
  const size = Math.max(dataset.itemCount, catalog.itemCount);
  const interacted = new Uint8Array(size + 1);
  for (let i = 0; i < dataset.items.length; i++) interacted[dataset.items[i]!] = 1;
  const missing: number[] = [];
  const withoutInteractions: number[] = [];
  let covered = 0;
  for (let id = 1; id <= size; id++) {
    const hasRecord = catalog.records[id] !== undefined;
    if (interacted[id] && hasRecord) covered++;
    else if (interacted[id]) missing.push(id);
    else if (hasRecord) withoutInteractions.push(id);
  }
  return { missing: Int32Array.from(missing), withoutInteractions: Int32Array.from(withoutInteractions), covered };
}

/**
 * Renumbers a catalogue after a filter compacted item ids (`itemIdMap[oldId]` = new id, 0 =
 * removed; the map every filter of this package returns).
 */
export function remapCatalog(catalog: ItemCatalog, itemIdMap: Int32Array): ItemCatalog {
  let itemCount = 0;
  for (let old = 1; old < itemIdMap.length; old++) if (itemIdMap[old]! > itemCount) itemCount = itemIdMap[old]!;
  const records: (ItemRecord | undefined)[] = new Array<ItemRecord | undefined>(itemCount + 1).fill(undefined);
  for (let old = 1; old < itemIdMap.length; old++) {
    const newId = itemIdMap[old]!;
    const record = catalog.records[old];
    if (newId > 0 && record) records[newId] = { ...record, id: newId };
  }
  return { itemCount, records };
}
