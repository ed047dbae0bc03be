import { GenrecError } from '@genrec/core';
import { DelimitedRecordParser } from './delimited-record.js';
import { Float64Buffer, Int32Buffer } from './growable-array.js';
import { groupInteractions } from './group-interactions.js';
import { IdMap, type IdOrder } from './id-map.js';
import { forEachLine } from './line-reader.js';
import { TokenInterner } from './token-interner.js';
import type { InteractionDataset } from './sequence-dataset.js';

/** A column, by header name or by 0-based index. */
export type ColumnRef = string | number;

/** Which columns hold what (see {@link ReadInteractionLogOptions.columns}). */
export interface InteractionColumns {
  /** The user id column. */
  user: ColumnRef;
  /** The item id column. */
  item: ColumnRef;
  /** The timestamp column, if any. */
  timestamp?: ColumnRef;
  /** The rating column, if any. */
  rating?: ColumnRef;
}

/** Options of {@link readInteractionLog}. */
export interface ReadInteractionLogOptions {
  /** Dataset name for reports. @defaultValue the file name without its extension */
  name?: string;
  /** Field separator. @defaultValue `'\t'` for `.tsv` files, `','` otherwise */
  delimiter?: string;
  /** Quote character, or `null` for none. @defaultValue `'"'` */
  quote?: string | null;
  /** Whether the first line is a header naming the columns. @defaultValue `true` */
  header?: boolean;
  /**
   * The column mapping. With a header, names are matched case-insensitively; columns not given are
   * looked up among common names (user: `user`, `user_id`, `userId`, `reviewerID`; item: `item`,
   * `item_id`, `itemId`, `movieId`, `book_id`, `asin`; timestamp: `timestamp`, `time`, `ts`,
   * `unixReviewTime`; rating: `rating`, `score`, `overall`). Without a header, give indices.
   *
   * @defaultValue by header names, or `{ user: 0, item: 1 }` without a header
   */
  columns?: Partial<InteractionColumns>;
  /** How external ids become dense ids (see {@link IdOrder}). @defaultValue `'auto'` */
  idOrder?: IdOrder;
  /** Unit of numeric timestamps; date strings (ISO 8601) are also accepted. @defaultValue `'seconds'` */
  timestampUnit?: 'seconds' | 'milliseconds';
  /** Text encoding. @defaultValue `'utf8'` */
  encoding?: BufferEncoding;
}

const ALIASES: Record<keyof InteractionColumns, string[]> = {
  user: ['user', 'user_id', 'userid', 'reviewerid', 'uid'],
  item: ['item', 'item_id', 'itemid', 'movieid', 'movie_id', 'book_id', 'asin', 'iid'],
  timestamp: ['timestamp', 'time', 'ts', 'unixreviewtime', 'datetime', 'date'],
  rating: ['rating', 'score', 'overall'],
};

/**
 * Reads an interaction log (CSV, TSV or any delimited text; one interaction per record) and groups
 * it into chronological user sequences (see {@link groupInteractions}: row `r` is dense user
 * `r + 1`, ordered by timestamp, ties keep file order). The file is streamed; quoted fields (with
 * embedded delimiters, `""` and line breaks) are supported.
 *
 * @param path - the log file (`.gz` is decompressed on the fly).
 * @param options - see {@link ReadInteractionLogOptions}.
 * @returns the grouped dataset, with `timestamps` and `ratings` when those columns are mapped, and
 *   the external ids when they are not already `1..N`.
 * @throws GenrecError `PARSE_ERROR` with `details.file` and `details.line` for a missing column, a
 *   bad timestamp or rating, an unclosed quote, a blank line in the middle or an empty file;
 *   `INVALID_OPTION` for an inconsistent column mapping.
 * @example
 * ```ts
 * const log = await readInteractionLog('ratings.csv', { columns: { user: 'userId', item: 'movieId', timestamp: 'timestamp', rating: 'rating' } });
 * ```
 */
export async function readInteractionLog(path: string, options: ReadInteractionLogOptions = {}): Promise<InteractionDataset> {
  const header = options.header ?? true;
  const delimiter = options.delimiter ?? (/\.tsv(\.gz)?$/i.test(path) ? '\t' : ',');
  if (delimiter.length === 0) throw new GenrecError('INVALID_OPTION', 'delimiter must not be empty', { details: { field: 'delimiter' } });
  const quote = options.quote === undefined ? '"' : options.quote;
  const timestampScale = (options.timestampUnit ?? 'seconds') === 'milliseconds' ? 1e-3 : 1;
  const parser = new DelimitedRecordParser(delimiter, quote);
  const userMap = new IdMap();
  const itemMap = new IdMap();
  const userInterner = new TokenInterner(userMap);
  const itemInterner = new TokenInterner(itemMap);
  const users = new Int32Buffer(65536);
  const items = new Int32Buffer(65536);
  const timestamps = new Float64Buffer(65536);
  const ratings = new Float64Buffer(65536);
  let columns: ResolvedColumns | undefined = header ? undefined : resolveByIndex(options.columns ?? {}, path);
  let recordLine = 0;

  await forEachLine(
    path,
    (text, line) => {
      if (!parser.pending) recordLine = line;
      const fields = parser.feed(text);
      if (fields === undefined) return;
      if (columns === undefined) {
        columns = resolveByHeader(fields, options.columns ?? {}, path, recordLine);
        return;
      }
      if (fields.length < columns.minimumFields) {
        const missing = columns.names.find((_, k) => columns!.indices[k]! >= fields.length) ?? 'column';
        throw new GenrecError(
          'PARSE_ERROR',
          `missing column "${missing}": expected at least ${columns.minimumFields} fields separated by ${JSON.stringify(delimiter)}, found ${fields.length}`,
          { details: { file: path, line: recordLine, field: missing } },
        );
      }
      const userToken = fields[columns.user]!.trim();
      const itemToken = fields[columns.item]!.trim();
      if (userToken === '') throw new GenrecError('PARSE_ERROR', 'empty user id', { details: { file: path, line: recordLine, field: 'user' } });
      if (itemToken === '') throw new GenrecError('PARSE_ERROR', 'empty item id', { details: { file: path, line: recordLine, field: 'item' } });
      users.push(userInterner.intern(userToken));
      items.push(itemInterner.intern(itemToken));
      if (columns.timestamp !== undefined) timestamps.push(parseTimestamp(fields[columns.timestamp]!, timestampScale, path, recordLine));
      if (columns.rating !== undefined) ratings.push(parseNumber(fields[columns.rating]!, 'rating', path, recordLine));
    },
    { ...(options.encoding ? { encoding: options.encoding } : {}) },
  );
  if (parser.pending) {
    throw new GenrecError('PARSE_ERROR', 'a quoted field is not closed before the end of the file', { details: { file: path, line: recordLine } });
  }
  if (users.length === 0) {
    throw new GenrecError('PARSE_ERROR', `${path} has a header but no interactions`, { details: { file: path, line: recordLine + 1 } });
  }
  const resolved = columns as ResolvedColumns | undefined;
  const idOrder = options.idOrder ?? 'auto';
  const userIds = userMap.densify(idOrder);
  const itemIds = itemMap.densify(idOrder);
  const userArray = users.toArray();
  const itemArray = items.toArray();
  for (let i = 0; i < userArray.length; i++) {
    userArray[i] = userIds.remap[userArray[i]!]!;
    itemArray[i] = itemIds.remap[itemArray[i]!]!;
  }
  return groupInteractions({
    name: options.name ?? defaultName(path),
    users: userArray,
    items: itemArray,
    userCount: userIds.map.size,
    itemCount: itemIds.map.size,
    ...(resolved?.timestamp !== undefined ? { timestamps: timestamps.toArray() } : {}),
    ...(resolved?.rating !== undefined ? { ratings: Float32Array.from(ratings.toArray()) } : {}),
    ...(userIds.map.isVerbatim() ? {} : { externalUserIds: userIds.map.externals() }),
    ...(itemIds.map.isVerbatim() ? {} : { externalItemIds: itemIds.map.externals() }),
  });
}

/** Options of {@link readMovieLensRatings}. */
export interface ReadMovieLensOptions {
  /** Dataset name. @defaultValue the file name without its extension */
  name?: string;
  /** How ids become dense ids. @defaultValue `'auto'` (numeric ids, renumbered by value unless already `1..N`) */
  idOrder?: IdOrder;
}

/**
 * Reads a MovieLens `ratings.dat` file (`UserID::MovieID::Rating::Timestamp`, no header, no
 * quoting; MovieLens 1M and 10M), streaming.
 *
 * @param path - the `ratings.dat` file.
 * @param options - see {@link ReadMovieLensOptions}.
 * @returns chronological user sequences with ratings and timestamps (seconds).
 * @throws GenrecError `PARSE_ERROR` naming file and line for a malformed record.
 * @example
 * ```ts
 * const ml1m = await readMovieLensRatings('ml-1m/ratings.dat');
 * ```
 */
export function readMovieLensRatings(path: string, options: ReadMovieLensOptions = {}): Promise<InteractionDataset> {
  return readInteractionLog(path, {
    delimiter: '::',
    quote: null,
    header: false,
    columns: { user: 0, item: 1, rating: 2, timestamp: 3 },
    ...(options.name !== undefined ? { name: options.name } : {}),
    ...(options.idOrder !== undefined ? { idOrder: options.idOrder } : {}),
  });
}

interface ResolvedColumns {
  user: number;
  item: number;
  timestamp?: number;
  rating?: number;
  /** Role names and indices, in the same order, for messages. */
  names: string[];
  indices: number[];
  minimumFields: number;
}

function finishColumns(found: Partial<Record<keyof InteractionColumns, number>>): ResolvedColumns {
  const names: string[] = [];
  const indices: number[] = [];
  for (const role of ['user', 'item', 'timestamp', 'rating'] as const) {
    const index = found[role];
    if (index !== undefined) {
      names.push(role);
      indices.push(index);
    }
  }
  const resolved: ResolvedColumns = { user: found.user!, item: found.item!, names, indices, minimumFields: Math.max(...indices) + 1 };
  if (found.timestamp !== undefined) resolved.timestamp = found.timestamp;
  if (found.rating !== undefined) resolved.rating = found.rating;
  return resolved;
}

function resolveByIndex(columns: Partial<InteractionColumns>, path: string): ResolvedColumns {
  const found: Partial<Record<keyof InteractionColumns, number>> = {};
  const mapping: Partial<InteractionColumns> = { user: 0, item: 1, ...columns };
  for (const role of ['user', 'item', 'timestamp', 'rating'] as const) {
    const ref = mapping[role];
    if (ref === undefined) continue;
    if (typeof ref !== 'number' || !Number.isInteger(ref) || ref < 0) {
      throw new GenrecError('INVALID_OPTION', `without a header, column "${role}" must be a 0-based index, got ${JSON.stringify(ref)}`, {
        details: { field: `columns.${role}`, file: path },
      });
    }
    found[role] = ref;
  }
  return finishColumns(found);
}

function resolveByHeader(fields: string[], columns: Partial<InteractionColumns>, path: string, line: number): ResolvedColumns {
  const names = fields.map((field) => field.trim());
  const lower = names.map((field) => field.toLowerCase());
  const found: Partial<Record<keyof InteractionColumns, number>> = {};
  for (const role of ['user', 'item', 'timestamp', 'rating'] as const) {
    const ref = columns[role];
    if (typeof ref === 'number') {
      if (!Number.isInteger(ref) || ref < 0 || ref >= names.length) {
        throw new GenrecError('PARSE_ERROR', `column index ${ref} for "${role}" is outside the header's ${names.length} columns`, {
          details: { file: path, line, field: role },
        });
      }
      found[role] = ref;
    } else if (typeof ref === 'string') {
      const index = lower.indexOf(ref.toLowerCase());
      if (index < 0) {
        throw new GenrecError('PARSE_ERROR', `the header has no column "${ref}" for ${role}; it has ${names.map((n) => JSON.stringify(n)).join(', ')}`, {
          details: { file: path, line, field: role },
        });
      }
      found[role] = index;
    } else {
      const index = lower.findIndex((name) => ALIASES[role].includes(name));
      if (index >= 0) found[role] = index;
      else if (role === 'user' || role === 'item') {
        throw new GenrecError(
          'PARSE_ERROR',
          `missing column for ${role}: the header has ${names.map((n) => JSON.stringify(n)).join(', ')}; name it with options.columns.${role}`,
          { details: { file: path, line, field: role } },
        );
      }
    }
  }
  return finishColumns(found);
}

function parseNumber(token: string, field: string, path: string, line: number): number {
  const trimmed = token.trim();
  const value = trimmed === '' ? Number.NaN : Number(trimmed);
  if (!Number.isFinite(value)) {
    throw new GenrecError('PARSE_ERROR', `${field} "${token}" is not a finite number`, { details: { file: path, line, field } });
  }
  return value;
}

function parseTimestamp(token: string, scale: number, path: string, line: number): number {
  const trimmed = token.trim();
  if (trimmed !== '') {
    const numeric = Number(trimmed);
    if (Number.isFinite(numeric)) return numeric * scale;
    const parsed = Date.parse(trimmed);
    if (Number.isFinite(parsed)) return parsed / 1000;
  }
  throw new GenrecError('PARSE_ERROR', `timestamp "${token}" is neither a number nor a date`, { details: { file: path, line, field: 'timestamp' } });
}

function defaultName(path: string): string {
  const base = path.split(/[\\/]/).pop() ?? path;
  return base.replace(/(\.gz)?$/, '').replace(/\.[^.]*$/, '');
}
