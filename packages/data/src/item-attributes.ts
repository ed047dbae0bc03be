import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import {
  checkEnumOption,
  checkIntegerOption,
  checkKnownOptions,
  GenrecError,
  progressReporter,
  type ProgressCallback,
} from '@genrec/core';
import { AttributeJsonParser, type AttributeEntrySink } from './attribute-json.js';
import { Int32Buffer } from './growable-array.js';
import { DEFAULT_MAX_ITEM_ID, MAX_CATALOG_SIZE } from './item-catalog.js';
import { lineSettings, quoteToken, streamLines } from './line-reader.js';

/** Default largest attribute id {@link readItemAttributes} accepts: 2^24 = 16,777,216. */
export const DEFAULT_MAX_ATTRIBUTE_ID = 2 ** 24;

/** Largest `maxAttributeId` / `attributeCount` accepted: 2^26. */
export const MAX_ATTRIBUTE_ID_LIMIT = 2 ** 26;

/** The file formats {@link readItemAttributes} reads. */
export type ItemAttributesFormat = 'tsv' | 'json';

/** Options of {@link readItemAttributes}. */
export interface ReadItemAttributesOptions {
  /**
   * `'tsv'`: a header line, then one item per line with tab-separated columns, the attributes as
   * space-separated ids (`items.tsv` of the shared Sports folder). `'json'`: one object
   * `{"item_id": [attribute_id, ...]}` (S3-Rec's `*_item2attributes.json`). `'auto'` decides by
   * the file name: `.json` (or `.json.gz`) is JSON, `.tsv`/`.txt` (or `.gz` of them) is TSV.
   *
   * @defaultValue `'auto'`
   */
  format?: ItemAttributesFormat | 'auto';
  /**
   * Largest item id `N` (at most {@link MAX_CATALOG_SIZE}): an id above it is an error at its
   * line. Give the dataset's `itemCount` to get exactly its id space.
   *
   * @defaultValue the largest item id read
   */
  itemCount?: number;
  /**
   * Largest item id accepted when `itemCount` is not given (at most {@link MAX_CATALOG_SIZE}); the
   * offsets are indexed by item id, so an id bounds the result's memory.
   *
   * @defaultValue {@link DEFAULT_MAX_ITEM_ID} (16,777,216)
   */
  maxItemId?: number;
  /**
   * Largest attribute id `A` (at most {@link MAX_ATTRIBUTE_ID_LIMIT}); an id above it is an error.
   *
   * @defaultValue the largest attribute id read
   */
  attributeCount?: number;
  /**
   * Largest attribute id accepted when `attributeCount` is not given (at most
   * {@link MAX_ATTRIBUTE_ID_LIMIT}): consumers size per-attribute arrays by `attributeCount`.
   *
   * @defaultValue {@link DEFAULT_MAX_ATTRIBUTE_ID} (16,777,216)
   */
  maxAttributeId?: number;
  /**
   * An attribute listed twice for the same item: `'keep'` the list as written (S3-Rec's Sports
   * file repeats attributes for 957 items: the category paths of an item share prefixes), or
   * `'remove'` later repeats (first occurrences keep their order).
   *
   * @defaultValue `'keep'`
   */
  repeatedAttributes?: 'keep' | 'remove';
  /** TSV: header name of the item id column. @defaultValue `'item_id'` */
  itemColumn?: string;
  /** TSV: header name of the attribute column. @defaultValue `'attribute_ids'` */
  attributesColumn?: string;
  /**
   * TSV: header name of a column of external item ids (ASINs) returned in `externalIds`. The
   * default is used only when the header has it; a name given explicitly must be there.
   *
   * @defaultValue `'asin'`
   */
  externalIdColumn?: string;
  /** TSV: longest line in characters (see `ForEachLineOptions.maxLineLength`). @defaultValue 64 Mi */
  maxLineLength?: number;
  /** Receives the `task-*` events of the task `'read-item-attributes'` (bytes read of the file). */
  onProgress?: ProgressCallback;
}

const READ_ITEM_ATTRIBUTES_OPTIONS = [
  'format',
  'itemCount',
  'maxItemId',
  'attributeCount',
  'maxAttributeId',
  'repeatedAttributes',
  'itemColumn',
  'attributesColumn',
  'externalIdColumn',
  'maxLineLength',
  'onProgress',
] as const;

/**
 * Attribute ids per item id, in compressed-row form indexed by item id: the attributes of item
 * `i` (`1..itemCount`) are `values[offsets[i] .. offsets[i + 1])`, in file order. Row 0 (the
 * padding id) is empty: `offsets[0] = offsets[1] = 0`. Attribute ids are `1..attributeCount`.
 */
export interface ItemAttributes {
  /** Largest item id `N`. */
  readonly itemCount: number;
  /** Largest attribute id `A` (ids `1..A`; 0 when no item has an attribute). */
  readonly attributeCount: number;
  /** Offsets by item id, length `itemCount + 2`. */
  readonly offsets: Int32Array;
  /** Attribute ids, concatenated by item id. */
  readonly values: Int32Array;
  /** External item ids by item id (index 0 and unlisted items `''`), when the TSV has such a column. */
  readonly externalIds?: readonly string[];
  /** Item ids in `1..itemCount` that the file does not list (they have no attributes). */
  readonly unlistedItems: number;
  /** Items whose list, as written, repeats an attribute. */
  readonly itemsWithRepeatedAttributes: number;
}

/** Validated limits shared by both formats. */
interface Limits {
  file: string;
  itemLimit: number;
  itemLimitName: string;
  attributeLimit: number;
  attributeLimitName: string;
  removeRepeats: boolean;
}

const DECIMAL_ID = /^[1-9][0-9]{0,15}$/;

/** Collects entries in file order, checking every id at its line before anything is sized by it. */
class AttributeCollector implements AttributeEntrySink {
  readonly itemIds = new Int32Buffer();
  readonly itemLines = new Int32Buffer();
  /** Start of each entry in `values`; one more than entries once finished. */
  readonly starts = new Int32Buffer();
  readonly values = new Int32Buffer(65536);
  readonly firstLine = new Map<number, number>();
  maxItemId = 0;
  maxAttributeId = 0;
  itemsWithRepeats = 0;
  private readonly seen = new Set<number>();
  private repeated = false;

  constructor(private readonly limits: Limits) {}

  beginItem(idText: string, line: number, field = 'item_id'): void {
    const { file, itemLimit, itemLimitName } = this.limits;
    const id = DECIMAL_ID.test(idText) ? Number(idText) : Number.NaN;
    if (!Number.isSafeInteger(id)) {
      throw new GenrecError('PARSE_ERROR', `item id ${quoteToken(idText)} is not a positive integer`, { details: { file, line, field } });
    }
    if (id > itemLimit) {
      const hint = itemLimitName === 'maxItemId' ? '; give itemCount or raise maxItemId for larger ids' : '';
      throw new GenrecError('INVALID_INPUT', `item id ${id} is above ${itemLimitName} (${itemLimit})${hint}`, { details: { file, line, field } });
    }
    const previous = this.firstLine.get(id);
    if (previous !== undefined) {
      throw new GenrecError('DUPLICATE_ID', `item id ${id} is listed twice (first on line ${previous})`, { details: { file, line, field } });
    }
    this.firstLine.set(id, line);
    this.itemIds.push(id);
    this.itemLines.push(line);
    this.starts.push(this.values.length);
    if (id > this.maxItemId) this.maxItemId = id;
    this.seen.clear();
    this.repeated = false;
  }

  attribute(idText: string, line: number, field = 'attribute_ids'): void {
    const { file, attributeLimit, attributeLimitName } = this.limits;
    const id = DECIMAL_ID.test(idText) ? Number(idText) : Number.NaN;
    if (!Number.isSafeInteger(id)) {
      throw new GenrecError('PARSE_ERROR', `attribute id ${quoteToken(idText)} is not a positive integer`, { details: { file, line, field } });
    }
    if (id > attributeLimit) {
      const hint = attributeLimitName === 'maxAttributeId' ? '; give attributeCount or raise maxAttributeId for larger ids' : '';
      throw new GenrecError('INVALID_INPUT', `attribute id ${id} is above ${attributeLimitName} (${attributeLimit})${hint}`, { details: { file, line, field } });
    }
    if (this.seen.has(id)) {
      this.repeated = true;
      if (this.limits.removeRepeats) return;
    } else {
      this.seen.add(id);
    }
    this.values.push(id);
    if (id > this.maxAttributeId) this.maxAttributeId = id;
  }

  endItem(): void {
    if (this.repeated) this.itemsWithRepeats++;
  }

  /** Lays the entries out by item id. */
  build(itemCount: number, attributeCount: number, externals: readonly string[] | undefined): ItemAttributes {
    const entries = this.itemIds.length;
    const starts = this.starts.toArray();
    const values = this.values.toArray();
    const lengthOf = (entry: number): number => (entry + 1 < entries ? starts[entry + 1]! : values.length) - starts[entry]!;
    const offsets = new Int32Array(itemCount + 2);
    for (let entry = 0; entry < entries; entry++) offsets[this.itemIds.at(entry) + 1] = lengthOf(entry);
    for (let item = 1; item <= itemCount; item++) offsets[item + 1] = offsets[item + 1]! + offsets[item]!;
    const ordered = new Int32Array(values.length);
    let externalIds: string[] | undefined;
    if (externals) externalIds = new Array<string>(itemCount + 1).fill('');
    for (let entry = 0; entry < entries; entry++) {
      const item = this.itemIds.at(entry);
      ordered.set(values.subarray(starts[entry]!, starts[entry]! + lengthOf(entry)), offsets[item]!);
      if (externalIds) externalIds[item] = externals![entry]!;
    }
    const result: { -readonly [K in keyof ItemAttributes]: ItemAttributes[K] } = {
      itemCount,
      attributeCount,
      offsets,
      values: ordered,
      unlistedItems: itemCount - entries,
      itemsWithRepeatedAttributes: this.itemsWithRepeats,
    };
    if (externalIds) result.externalIds = externalIds;
    return result;
  }
}

function checkColumnName(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '' || value.includes('\t')) {
    throw new GenrecError('INVALID_OPTION', `${field} must be a non-empty column name without tabs, got ${JSON.stringify(value)}`, { details: { field } });
  }
  return value;
}

function formatOf(path: string, format: ItemAttributesFormat | 'auto'): ItemAttributesFormat {
  if (format !== 'auto') return format;
  const name = path.toLowerCase().replace(/\.gz$/, '');
  if (name.endsWith('.json')) return 'json';
  if (name.endsWith('.tsv') || name.endsWith('.txt')) return 'tsv';
  throw new GenrecError('INVALID_OPTION', `cannot tell the format of ${path} from its name; give format: 'tsv' or 'json'`, { details: { field: 'format', file: path } });
}

/**
 * Reads item attributes (S3-Rec's attribute ids of the Amazon 2014 Sports and Toys sets, or any
 * file of the same shapes), streaming, into compressed rows indexed by item id: see
 * {@link ItemAttributes}. Two formats:
 *
 * - **TSV** (`items.tsv` in `shared/data/amazon2014-sports`): a header line naming the columns
 *   (`item_id`, `asin`, `attribute_ids` there), then one item per line, tab-separated, the
 *   attribute ids separated by spaces (an empty field = no attributes). Every line must have as
 *   many fields as the header.
 * - **JSON** (`*_item2attributes.json`): one object `{"item_id": [attribute_id, ...]}`, keys
 *   decimal item ids, values lists of integer literals; nothing else is accepted.
 *
 * Item and attribute ids must be positive decimal integers (no sign, fraction or leading zero);
 * an item listed twice is an error; item ids not listed get an empty list. Every id is checked at
 * its line against `itemCount` / `maxItemId` and `attributeCount` / `maxAttributeId` before any
 * array is sized by it; arrays indexed by item id are built once at the end.
 *
 * @param path - the `.tsv` or `.json` file (`.gz` decompressed on the fly).
 * @param options - see {@link ReadItemAttributesOptions}.
 * @returns the attribute lists by item id.
 * @throws GenrecError `PARSE_ERROR` naming file and line for malformed JSON, a TSV line with the
 *   wrong number of fields, a missing header column, a non-integer id, an empty file or one that
 *   lists no item; `INVALID_INPUT` for an id above its bound; `DUPLICATE_ID` for an item listed
 *   twice; `NOT_FOUND` / `IO_ERROR` when the file cannot be read; `INVALID_OPTION` for an unknown
 *   or invalid option or a file name that does not tell the format.
 * @example
 * ```ts
 * const sports = await readItemAttributes('shared/data/amazon2014-sports/items.tsv');
 * sports.itemCount;      // 18,357
 * sports.attributeCount; // 2,277
 * attributesOf(sports, 1); // Int32Array [1, 2, 3, 4, 5, 6]
 * ```
 */
export async function readItemAttributes(path: string, options: ReadItemAttributesOptions = {}): Promise<ItemAttributes> {
  checkKnownOptions(options, READ_ITEM_ATTRIBUTES_OPTIONS, 'readItemAttributes');
  const format = formatOf(path, checkEnumOption(options.format ?? 'auto', 'format', ['auto', 'tsv', 'json']));
  const givenItemCount = options.itemCount === undefined ? undefined : checkIntegerOption(options.itemCount, 'itemCount', 1, MAX_CATALOG_SIZE);
  const maxItemId = checkIntegerOption(options.maxItemId ?? DEFAULT_MAX_ITEM_ID, 'maxItemId', 1, MAX_CATALOG_SIZE);
  const givenAttributeCount =
    options.attributeCount === undefined ? undefined : checkIntegerOption(options.attributeCount, 'attributeCount', 0, MAX_ATTRIBUTE_ID_LIMIT);
  const maxAttributeId = checkIntegerOption(options.maxAttributeId ?? DEFAULT_MAX_ATTRIBUTE_ID, 'maxAttributeId', 1, MAX_ATTRIBUTE_ID_LIMIT);
  const repeated = checkEnumOption(options.repeatedAttributes ?? 'keep', 'repeatedAttributes', ['keep', 'remove']);
  const itemColumn = checkColumnName(options.itemColumn ?? 'item_id', 'itemColumn');
  const attributesColumn = checkColumnName(options.attributesColumn ?? 'attribute_ids', 'attributesColumn');
  const externalIdColumn = checkColumnName(options.externalIdColumn ?? 'asin', 'externalIdColumn');
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
    throw new GenrecError('INVALID_OPTION', 'onProgress must be a function', { details: { field: 'onProgress' } });
  }
  const collector = new AttributeCollector({
    file: path,
    itemLimit: givenItemCount ?? maxItemId,
    itemLimitName: givenItemCount === undefined ? 'maxItemId' : 'itemCount',
    attributeLimit: givenAttributeCount ?? maxAttributeId,
    attributeLimitName: givenAttributeCount === undefined ? 'maxAttributeId' : 'attributeCount',
    removeRepeats: repeated === 'remove',
  });
  let externals: string[] | undefined;
  if (format === 'json') {
    await readJsonAttributes(path, collector, options.onProgress);
  } else {
    externals = await readTsvAttributes(path, collector, {
      itemColumn,
      attributesColumn,
      externalIdColumn,
      externalIdRequired: options.externalIdColumn !== undefined,
      maxLineLength: options.maxLineLength,
      onProgress: options.onProgress,
    });
  }
  return collector.build(givenItemCount ?? collector.maxItemId, givenAttributeCount ?? collector.maxAttributeId, externals);
}

interface TsvColumns {
  itemColumn: string;
  attributesColumn: string;
  externalIdColumn: string;
  externalIdRequired: boolean;
  maxLineLength: number | undefined;
  onProgress: ProgressCallback | undefined;
}

async function readTsvAttributes(path: string, collector: AttributeCollector, columns: TsvColumns): Promise<string[] | undefined> {
  const settings = lineSettings(
    {
      ...(columns.maxLineLength !== undefined ? { maxLineLength: columns.maxLineLength } : {}),
      ...(columns.onProgress !== undefined ? { onProgress: columns.onProgress } : {}),
    },
    'read-item-attributes',
  );
  let fieldCount = 0;
  let itemIndex = -1;
  let attributesIndex = -1;
  let externalIndex = -1;
  let headerLine = 0;
  let externals: string[] | undefined;
  await streamLines(
    path,
    (text, line) => {
      const fields = text.split('\t');
      if (headerLine === 0) {
        headerLine = line;
        const names = fields.map((name) => name.trim());
        const find = (name: string, field: string, required: boolean): number => {
          const index = names.indexOf(name);
          if (index >= 0 && names.indexOf(name, index + 1) >= 0) {
            throw new GenrecError('PARSE_ERROR', `the header names column ${quoteToken(name)} twice`, { details: { file: path, line, field } });
          }
          if (index < 0 && required) {
            throw new GenrecError('PARSE_ERROR', `the header has no column ${quoteToken(name)} (${field}); found ${names.map(quoteToken).join(', ')}`, {
              details: { file: path, line, field },
            });
          }
          return index;
        };
        fieldCount = fields.length;
        itemIndex = find(columns.itemColumn, 'itemColumn', true);
        attributesIndex = find(columns.attributesColumn, 'attributesColumn', true);
        externalIndex = find(columns.externalIdColumn, 'externalIdColumn', columns.externalIdRequired);
        if (externalIndex >= 0) externals = [];
        return;
      }
      if (fields.length !== fieldCount) {
        throw new GenrecError('PARSE_ERROR', `expected ${fieldCount} tab-separated fields (as the header), found ${fields.length}`, {
          details: { file: path, line },
        });
      }
      collector.beginItem(fields[itemIndex]!.trim(), line, columns.itemColumn);
      const list = fields[attributesIndex]!;
      let start = 0;
      for (let i = 0; i <= list.length; i++) {
        if (i === list.length || list.charCodeAt(i) === 32) {
          if (i > start) collector.attribute(list.slice(start, i), line, columns.attributesColumn);
          start = i + 1;
        }
      }
      collector.endItem();
      if (externals) externals.push(fields[externalIndex]!.trim());
    },
    settings,
  );
  if (collector.itemIds.length === 0) {
    throw new GenrecError('PARSE_ERROR', `${path} has a header but lists no item`, { details: { file: path, line: headerLine + 1 } });
  }
  return externals;
}

async function readJsonAttributes(path: string, collector: AttributeCollector, onProgress: ProgressCallback | undefined): Promise<void> {
  if (typeof path !== 'string' || path === '') throw new GenrecError('INVALID_INPUT', 'expected a file path');
  let size: number;
  try {
    const stats = await stat(path);
    if (!stats.isFile()) throw new GenrecError('IO_ERROR', `${path} is not a regular file`, { details: { file: path } });
    size = stats.size;
  } catch (error) {
    if (GenrecError.isInstance(error)) throw error;
    const code = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'NOT_FOUND' : 'IO_ERROR';
    throw new GenrecError(code, `could not open ${path}: ${(error as Error).message}`, { cause: error, details: { file: path } });
  }
  const progress = progressReporter(onProgress, 'read-item-attributes', { total: size, unit: 'bytes' });
  progress.start(path);
  const parser = new AttributeJsonParser(path, collector);
  const fileStream = createReadStream(path);
  let input: Readable = fileStream;
  if (path.endsWith('.gz')) {
    const gunzip = createGunzip();
    fileStream.on('error', (error) => gunzip.destroy(error));
    input = fileStream.pipe(gunzip);
  }
  input.setEncoding('utf8');
  let reported = 0;
  try {
    for await (const chunk of input as AsyncIterable<string>) {
      parser.feed(chunk);
      if (fileStream.bytesRead - reported >= 1 << 20) {
        reported = fileStream.bytesRead;
        progress.update(reported);
      }
    }
  } catch (error) {
    input.destroy();
    fileStream.destroy();
    if (GenrecError.isInstance(error)) throw error;
    throw new GenrecError('IO_ERROR', `could not read ${path}: ${(error as Error).message}`, { cause: error, details: { file: path } });
  }
  parser.end();
  progress.end(fileStream.bytesRead);
}

/**
 * The attribute ids of one item, as a view (no copy); empty for an item without attributes.
 *
 * @param attributes - what {@link readItemAttributes} returned.
 * @param item - an item id in `1..itemCount`.
 * @returns the item's attribute ids in file order.
 * @throws GenrecError `INVALID_INPUT` when `item` is not an id in `1..itemCount`.
 * @example
 * ```ts
 * attributesOf(sports, 1); // Int32Array [1, 2, 3, 4, 5, 6]
 * ```
 */
export function attributesOf(attributes: ItemAttributes, item: number): Int32Array {
  if (!Number.isInteger(item) || item < 1 || item > attributes.itemCount) {
    throw new GenrecError('INVALID_INPUT', `item ${item} is not an id in 1..${attributes.itemCount}`);
  }
  return attributes.values.subarray(attributes.offsets[item]!, attributes.offsets[item + 1]!);
}
