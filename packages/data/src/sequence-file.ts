import { checkEnumOption, checkKnownOptions, GenrecError, type ProgressCallback } from '@genrec/core';
import { Int32Buffer } from './growable-array.js';
import { IdMap } from './id-map.js';
import { lineSettings, quoteToken, streamLines, type ForEachLineOptions } from './line-reader.js';
import type { InteractionDataset } from './sequence-dataset.js';

/** Options of {@link readSequenceFile}. */
export interface ReadSequenceFileOptions {
  /** Dataset name for reports. @defaultValue the file name without its extension */
  name?: string;
  /**
   * `'integer'`: every id must be a non-negative decimal integer (anything else is a
   * `PARSE_ERROR`); ids that are exactly `1..N` are kept verbatim, other integer ids are renumbered
   * by value and the originals kept in `externalUserIds`/`externalItemIds`. `'string'`: ids are
   * arbitrary tokens, numbered in order of first appearance.
   *
   * @defaultValue `'integer'`
   */
  idType?: 'integer' | 'string';
  /** Longest line in characters (see {@link ForEachLineOptions.maxLineLength}). @defaultValue 64 Mi */
  maxLineLength?: number;
  /** Receives the `task-*` events of the task `'read-sequences'` (bytes read of the file). */
  onProgress?: ProgressCallback;
}

const READ_SEQUENCE_FILE_OPTIONS = ['name', 'idType', 'maxLineLength', 'onProgress'] as const;

const DECIMAL = /^[0-9]+$/;
const MAX_ID = 0x7fffffff;

/**
 * Reads a sequence file of the S3-Rec/P5 format: one user per line, `user_id item_id item_id ...`
 * separated by whitespace, items in chronological order. The file is streamed line by line.
 * Rows keep the file's order. With integer ids `1..N` (the Amazon 2014 files) user and item ids
 * are kept verbatim, so item ids join `items.jsonl`'s `item_id` without translation.
 *
 * @param path - the sequence file (`.gz` is decompressed on the fly).
 * @param options - see {@link ReadSequenceFileOptions}.
 * @returns the sequences as an {@link InteractionDataset} (no timestamps: the format has none).
 * Integer ids may be anything in `0..2^31-1`: memory stays proportional to the file (ids far above
 * the number of ids read are renumbered through a sort, never through an array sized by the id).
 *
 * @throws GenrecError `PARSE_ERROR` with `details.file` and `details.line` for a non-numeric id or
 *   one above 2,147,483,647 (integer mode), a line without items, a repeated user, a line longer
 *   than `maxLineLength`, a blank line in the middle or an empty file; `NOT_FOUND` when the file
 *   is missing; `INVALID_OPTION` for an unknown or invalid option.
 * @example
 * ```ts
 * const toys = await readSequenceFile('shared/data/amazon2014-toys/Toys_and_Games.txt');
 * toys.userCount; // 19412
 * ```
 */
export async function readSequenceFile(path: string, options: ReadSequenceFileOptions = {}): Promise<InteractionDataset> {
  checkKnownOptions(options, READ_SEQUENCE_FILE_OPTIONS, 'readSequenceFile');
  const idType = checkEnumOption(options.idType ?? 'integer', 'idType', ['integer', 'string']);
  if (options.name !== undefined && typeof options.name !== 'string') {
    throw new GenrecError('INVALID_OPTION', 'name must be a string', { details: { field: 'name' } });
  }
  const settings = lineSettings(
    {
      ...(options.maxLineLength !== undefined ? { maxLineLength: options.maxLineLength } : {}),
      ...(options.onProgress !== undefined ? { onProgress: options.onProgress } : {}),
    },
    'read-sequences',
  );
  const name = options.name ?? defaultName(path);
  const offsets = new Int32Buffer(4096);
  offsets.push(0);
  const items = new Int32Buffer(65536);
  const users = new Int32Buffer(4096);
  const userLines = new Map<number | string, number>();
  const userMap = new IdMap();
  const itemMap = new IdMap();

  const parseInteger = (token: string, line: number, field: string, column: number): number => {
    if (!DECIMAL.test(token)) {
      throw new GenrecError('PARSE_ERROR', `${field} id ${quoteToken(token)} in column ${column} is not a non-negative integer (read string ids with idType 'string')`, {
        details: { file: path, line, field, column },
      });
    }
    const value = Number(token);
    if (value > MAX_ID) {
      throw new GenrecError('PARSE_ERROR', `${field} id ${token} in column ${column} exceeds ${MAX_ID}`, { details: { file: path, line, field, column } });
    }
    return value;
  };

  await streamLines(path, (text, line) => {
    const tokens = text.trim().split(/\s+/);
    if (tokens.length < 2) {
      throw new GenrecError('PARSE_ERROR', `expected "user_id item_id [item_id ...]" but the line has no item id`, {
        details: { file: path, line, field: 'item', column: 2 },
      });
    }
    const userToken = tokens[0]!;
    const userKey: number | string = idType === 'integer' ? parseInteger(userToken, line, 'user', 1) : userToken;
    const previousLine = userLines.get(userKey);
    if (previousLine !== undefined) {
      throw new GenrecError('PARSE_ERROR', `user ${quoteToken(userToken)} already had a line (line ${previousLine}); each user must appear once`, {
        details: { file: path, line, field: 'user', column: 1 },
      });
    }
    userLines.set(userKey, line);
    users.push(idType === 'integer' ? (userKey as number) : userMap.add(userToken));
    for (let column = 1; column < tokens.length; column++) {
      const token = tokens[column]!;
      items.push(idType === 'integer' ? parseInteger(token, line, 'item', column + 1) : itemMap.add(token));
    }
    offsets.push(items.length);
  }, settings);

  const itemArray = items.toArray();
  const userArray = users.toArray();
  const dataset: { -readonly [K in keyof InteractionDataset]: InteractionDataset[K] } = {
    name,
    userCount: userArray.length,
    itemCount: 0,
    offsets: offsets.toArray(),
    items: itemArray,
    userIds: userArray,
  };
  if (idType === 'string') {
    dataset.itemCount = itemMap.size;
    dataset.externalItemIds = itemMap.externals();
    dataset.externalUserIds = userMap.externals();
    return dataset;
  }
  const itemIds = denseIntegerIds(itemArray);
  dataset.itemCount = itemIds.count;
  if (itemIds.externals) dataset.externalItemIds = itemIds.externals;
  const userIds = denseIntegerIds(userArray);
  if (userIds.externals) dataset.externalUserIds = userIds.externals;
  return dataset;
}

/**
 * Renumbers non-negative integer ids in place to `1..count` by value, unless they already are
 * exactly `1..max`. Returns the count and, when renumbered, the original ids as strings. Uses
 * arrays indexed by id only when the largest id is within a few times the number of ids (memory
 * bounded by the data); otherwise sorts the distinct values.
 */
function denseIntegerIds(ids: Int32Array): { count: number; externals?: string[] } {
  let max = 0;
  for (let i = 0; i < ids.length; i++) if (ids[i]! > max) max = ids[i]!;
  if (max > 4 * ids.length + 65536) return sortedIntegerIds(ids);
  const present = new Uint8Array(max + 1);
  for (let i = 0; i < ids.length; i++) present[ids[i]!] = 1;
  let distinct = 0;
  for (let id = 0; id <= max; id++) distinct += present[id]!;
  if (present[0] === 0 && distinct === max) return { count: max };
  const remap = new Int32Array(max + 1);
  const externals: string[] = [''];
  for (let id = 0; id <= max; id++) {
    if (present[id]) {
      externals.push(String(id));
      remap[id] = externals.length - 1;
    }
  }
  for (let i = 0; i < ids.length; i++) ids[i] = remap[ids[i]!]!;
  return { count: distinct, externals };
}

/** {@link denseIntegerIds} for sparse ids: distinct values by sorting, new ids by binary search. */
function sortedIntegerIds(ids: Int32Array): { count: number; externals: string[] } {
  const sorted = Int32Array.from(ids).sort();
  let distinct = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[distinct++] = sorted[i]!;
  const values = sorted.subarray(0, distinct);
  const externals: string[] = [''];
  for (let k = 0; k < distinct; k++) externals.push(String(values[k]));
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    let low = 0;
    let high = distinct - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (values[middle]! < id) low = middle + 1;
      else high = middle;
    }
    ids[i] = low + 1;
  }
  return { count: distinct, externals };
}

function defaultName(path: string): string {
  const base = path.split(/[\\/]/).pop() ?? path;
  return base.replace(/(\.gz)?$/, '').replace(/\.[^.]*$/, '');
}
