import { GenrecError, type ItemCatalog, type ItemRecord, type SequenceDataset } from '@genrec/core';
import { forEachLine } from './line-reader.js';

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
  /** Largest item id of the catalogue. @defaultValue the dataset size when `externalItemIds` is given, else the largest id read */
  itemCount?: number;
}

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
 * @param path - the `.jsonl` file.
 * @param options - see {@link ReadItemCatalogOptions}.
 * @returns the catalogue, indexed by dense item id.
 * @throws GenrecError `PARSE_ERROR` naming file and line for invalid JSON (a truncated line), a
 *   line that is not an object, a missing or invalid id, a title that is not a string or malformed
 *   categories; `DUPLICATE_ID` for an id seen twice; `UNKNOWN_ID` (with `unknownIds: 'error'`).
 * @example
 * ```ts
 * const catalog = await readItemCatalog('shared/data/amazon2014-toys/items.jsonl');
 * catalog.records[1]?.title;
 * ```
 */
export async function readItemCatalog(path: string, options: ReadItemCatalogOptions = {}): Promise<ItemCatalogReadResult> {
  const idField = options.idField ?? 'item_id';
  const titleField = options.titleField ?? 'title';
  const categoriesField = options.categoriesField ?? 'categories';
  const lookup = options.externalItemIds ? new Map(options.externalItemIds.map((external, id) => [external, id] as const).slice(1)) : undefined;
  const records: (ItemRecord | undefined)[] = [undefined];
  const recordLines: number[] = [];
  let skippedRecords = 0;
  let maxId = 0;

  await forEachLine(path, (text, line) => {
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
    const rawId = object[idField];
    let id: number;
    if (lookup) {
      if (typeof rawId !== 'string' && typeof rawId !== 'number') {
        throw new GenrecError('PARSE_ERROR', `missing or invalid "${idField}"`, { details: { file: path, line, field: idField } });
      }
      const known = lookup.get(String(rawId));
      if (known === undefined) {
        if (options.unknownIds === 'error') {
          throw new GenrecError('UNKNOWN_ID', `item id ${JSON.stringify(rawId)} is not in the dataset`, { details: { file: path, line, field: idField } });
        }
        skippedRecords++;
        return;
      }
      id = known;
    } else {
      id = typeof rawId === 'string' && /^[1-9][0-9]*$/.test(rawId) ? Number(rawId) : (rawId as number);
      if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1) {
        throw new GenrecError('PARSE_ERROR', `"${idField}" must be a positive integer, got ${JSON.stringify(rawId)}`, {
          details: { file: path, line, field: idField },
        });
      }
    }
    if (records[id] !== undefined) {
      throw new GenrecError('DUPLICATE_ID', `item id ${id} already appeared on line ${recordLines[id]}`, { details: { file: path, line, field: idField } });
    }
    const fields: Record<string, unknown> = {};
    for (const key of Object.keys(object)) if (key !== idField && key !== titleField && key !== categoriesField) fields[key] = object[key];
    const record: { -readonly [K in keyof ItemRecord]: ItemRecord[K] } = { id, fields };
    const title = object[titleField];
    if (title !== undefined && title !== null) {
      if (typeof title !== 'string') throw new GenrecError('PARSE_ERROR', `"${titleField}" must be a string`, { details: { file: path, line, field: titleField } });
      record.title = title;
    }
    const categories = object[categoriesField];
    if (categories !== undefined && categories !== null) record.categories = parseCategories(categories, path, line, categoriesField);
    while (records.length <= id) records.push(undefined);
    records[id] = record;
    recordLines[id] = line;
    if (id > maxId) maxId = id;
  });

  const itemCount = options.itemCount ?? (options.externalItemIds ? options.externalItemIds.length - 1 : maxId);
  if (maxId > itemCount) {
    throw new GenrecError('INVALID_INPUT', `item id ${maxId} exceeds itemCount ${itemCount}`, { details: { file: path, line: recordLines[maxId]! } });
  }
  while (records.length <= itemCount) records.push(undefined);
  return { itemCount, records, skippedRecords };
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
