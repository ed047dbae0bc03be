import { checkBooleanOption, checkEnumOption, checkKnownOptions, GenrecError, type ProgressCallback } from '@genrec/core';
import { DelimitedRecordParser, RecordTooLongError } from './delimited-record.js';
import { Float64Buffer, Int32Buffer } from './growable-array.js';
import { groupInteractions } from './group-interactions.js';
import { IdMap, type IdOrder } from './id-map.js';
import { lineSettings, quoteToken, streamLines, type ForEachLineOptions, type LineEncoding, LINE_ENCODINGS } from './line-reader.js';
import { parseDecimal, parseTimestamp, TIMESTAMP_UNITS, type TimestampUnit } from './timestamp.js';
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
  /** Field separator (not empty, no line break, not containing the quote). @defaultValue `'\t'` for `.tsv` files, `','` otherwise */
  delimiter?: string;
  /** Quote character (one character), or `null` for none. @defaultValue `'"'` */
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
  /**
   * Unit of numeric timestamps: `'seconds'` or `'milliseconds'` (anything else is
   * `INVALID_OPTION`). ISO 8601 dates are also accepted; one without a zone is read as UTC.
   *
   * @defaultValue `'seconds'`
   */
  timestampUnit?: TimestampUnit;
  /** Text encoding (see {@link LINE_ENCODINGS}). @defaultValue `'utf8'` */
  encoding?: LineEncoding;
  /** Longest line, and longest quoted record over several lines, in characters (see {@link ForEachLineOptions.maxLineLength}). @defaultValue 64 Mi */
  maxLineLength?: number;
  /** Receives the `task-*` events of the task `'read-interactions'` (bytes read of the file). */
  onProgress?: ProgressCallback;
}

const READ_INTERACTION_LOG_OPTIONS = [
  'name',
  'delimiter',
  'quote',
  'header',
  'columns',
  'idOrder',
  'timestampUnit',
  'encoding',
  'maxLineLength',
  'onProgress',
] as const;
const ID_ORDERS = ['auto', 'numeric', 'first-seen'] as const;
/** Most fields a record may have (a header wider than this is a `PARSE_ERROR`). */
export const MAX_FIELDS = 65536;

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
 * embedded delimiters, `""` and line breaks) are supported. Every record must have as many fields
 * as the first record (the header, or the first data line without one).
 *
 * @param path - the log file (`.gz` is decompressed on the fly).
 * @param options - see {@link ReadInteractionLogOptions}.
 * @returns the grouped dataset, with `timestamps` (seconds, UTC) and `ratings` when those columns
 *   are mapped, and the external ids when they are not already `1..N`.
 * @throws GenrecError `PARSE_ERROR` with `details.file` and `details.line` for a missing column, a
 *   record with another number of fields than the first, a bad timestamp or rating, an unclosed
 *   quote, a line or record longer than `maxLineLength`, a blank line in the middle or an empty
 *   file; `INVALID_OPTION` for an unknown option, an unknown `timestampUnit`/`idOrder`/`encoding`
 *   or an inconsistent column mapping.
 * @example
 * ```ts
 * const log = await readInteractionLog('ratings.csv', { columns: { user: 'userId', item: 'movieId', timestamp: 'timestamp', rating: 'rating' } });
 * ```
 */
export async function readInteractionLog(path: string, options: ReadInteractionLogOptions = {}): Promise<InteractionDataset> {
  checkKnownOptions(options, READ_INTERACTION_LOG_OPTIONS, 'readInteractionLog');
  return readDelimitedLog(path, options, { task: 'read-interactions' });
}

/** Options of {@link readMovieLensRatings}. */
export interface ReadMovieLensOptions {
  /** Dataset name. @defaultValue the file name without its extension */
  name?: string;
  /** How ids become dense ids. @defaultValue `'auto'` (numeric ids, renumbered by value unless already `1..N`) */
  idOrder?: IdOrder;
  /** Longest line in characters (see {@link ForEachLineOptions.maxLineLength}). @defaultValue 64 Mi */
  maxLineLength?: number;
  /** Receives the `task-*` events of the task `'read-interactions'`. */
  onProgress?: ProgressCallback;
}

const READ_MOVIELENS_OPTIONS = ['name', 'idOrder', 'maxLineLength', 'onProgress'] as const;

/**
 * Reads a MovieLens `ratings.dat` file (`UserID::MovieID::Rating::Timestamp`, no header, no
 * quoting; MovieLens 1M and 10M), streaming. Each line must hold exactly one record of 4 fields;
 * ids must be positive decimal integers up to 2,147,483,647, the rating a decimal number and the
 * timestamp whole seconds (a non-negative integer).
 *
 * @param path - the `ratings.dat` file.
 * @param options - see {@link ReadMovieLensOptions}.
 * @returns chronological user sequences with ratings and timestamps (seconds).
 * @throws GenrecError `PARSE_ERROR` naming file and line for a malformed record (including a line
 *   with more than 4 fields, e.g. two records run together) or a non-numeric, zero or negative id;
 *   `INVALID_OPTION` for an unknown option.
 * @example
 * ```ts
 * const ml1m = await readMovieLensRatings('ml-1m/ratings.dat');
 * ```
 */
export async function readMovieLensRatings(path: string, options: ReadMovieLensOptions = {}): Promise<InteractionDataset> {
  checkKnownOptions(options, READ_MOVIELENS_OPTIONS, 'readMovieLensRatings');
  return readDelimitedLog(
    path,
    {
      delimiter: '::',
      quote: null,
      header: false,
      columns: { user: 0, item: 1, rating: 2, timestamp: 3 },
      ...(options.name !== undefined ? { name: options.name } : {}),
      ...(options.idOrder !== undefined ? { idOrder: options.idOrder } : {}),
      ...(options.maxLineLength !== undefined ? { maxLineLength: options.maxLineLength } : {}),
      ...(options.onProgress !== undefined ? { onProgress: options.onProgress } : {}),
    },
    { task: 'read-interactions', exactFields: 4, integerIds: true, integerTimestamps: true, format: 'UserID::MovieID::Rating::Timestamp' },
  );
}

/** Reader-specific rules on top of {@link ReadInteractionLogOptions}. */
interface LogRules {
  task: string;
  /** Every record must have exactly this many fields. */
  exactFields?: number;
  /** Ids must be positive decimal integers up to 2^31 - 1. */
  integerIds?: boolean;
  /** Timestamps must be non-negative integers (seconds). */
  integerTimestamps?: boolean;
  /** The record layout, for messages. */
  format?: string;
}

const POSITIVE_ID = /^[1-9][0-9]{0,9}$/;
const WHOLE_NUMBER = /^[0-9]+$/;
const MAX_INTEGER_ID = 0x7fffffff;

async function readDelimitedLog(path: string, options: ReadInteractionLogOptions, rules: LogRules): Promise<InteractionDataset> {
  const header = checkBooleanOption(options.header ?? true, 'header');
  const delimiter = options.delimiter ?? (typeof path === 'string' && /\.tsv(\.gz)?$/i.test(path) ? '\t' : ',');
  const quote = options.quote === undefined ? '"' : options.quote;
  if (typeof delimiter !== 'string' || delimiter.length === 0 || /[\r\n]/.test(delimiter)) {
    throw new GenrecError('INVALID_OPTION', `delimiter must be a non-empty string without line breaks, got ${JSON.stringify(delimiter)}`, {
      details: { field: 'delimiter' },
    });
  }
  if (quote !== null && (typeof quote !== 'string' || quote.length !== 1 || quote === '\n' || quote === '\r' || delimiter.includes(quote))) {
    throw new GenrecError('INVALID_OPTION', `quote must be one character that is not a line break or part of the delimiter, or null; got ${JSON.stringify(quote)}`, {
      details: { field: 'quote' },
    });
  }
  if (options.name !== undefined && typeof options.name !== 'string') {
    throw new GenrecError('INVALID_OPTION', 'name must be a string', { details: { field: 'name' } });
  }
  const timestampUnit = checkEnumOption(options.timestampUnit ?? 'seconds', 'timestampUnit', TIMESTAMP_UNITS);
  const idOrder = checkEnumOption(options.idOrder ?? 'auto', 'idOrder', ID_ORDERS);
  const columnOptions = options.columns ?? {};
  checkKnownOptions(columnOptions, ['user', 'item', 'timestamp', 'rating'], 'readInteractionLog columns');
  for (const role of ['user', 'item', 'timestamp', 'rating'] as const) {
    const ref = columnOptions[role];
    if (ref !== undefined && typeof ref !== 'string' && !(typeof ref === 'number' && Number.isInteger(ref) && ref >= 0 && ref < MAX_FIELDS)) {
      throw new GenrecError('INVALID_OPTION', `columns.${role} must be a header name or a 0-based index below ${MAX_FIELDS}, got ${JSON.stringify(ref)}`, {
        details: { field: `columns.${role}` },
      });
    }
  }
  const settings = lineSettings({ ...(options.encoding !== undefined ? { encoding: options.encoding } : {}), ...pickLineOptions(options) }, rules.task);
  const parser = new DelimitedRecordParser(delimiter, quote, settings.maxLineLength);
  const userMap = new IdMap();
  const itemMap = new IdMap();
  const userInterner = new TokenInterner(userMap);
  const itemInterner = new TokenInterner(itemMap);
  const users = new Int32Buffer(65536);
  const items = new Int32Buffer(65536);
  const timestamps = new Float64Buffer(65536);
  const ratings = new Float64Buffer(65536);
  let columns: ResolvedColumns | undefined = header ? undefined : resolveByIndex(columnOptions, path);
  // Number of fields every record must have: the first record's (or the format's).
  let fieldCount = rules.exactFields ?? 0;
  let recordLine = 0;

  const checkId = (token: string, role: 'user' | 'item', line: number): string => {
    if (token === '') throw new GenrecError('PARSE_ERROR', `empty ${role} id`, { details: { file: path, line, field: role } });
    if (rules.integerIds && (!POSITIVE_ID.test(token) || Number(token) > MAX_INTEGER_ID)) {
      throw new GenrecError('PARSE_ERROR', `${role} id ${quoteToken(token)} is not a positive integer up to ${MAX_INTEGER_ID}`, {
        details: { file: path, line, field: role },
      });
    }
    return token;
  };

  await streamLines(
    path,
    (text, line) => {
      if (!parser.pending) recordLine = line;
      let fields: string[] | undefined;
      try {
        fields = parser.feed(text, fieldCount === 0 ? MAX_FIELDS + 1 : fieldCount + 1);
      } catch (error) {
        if (error instanceof RecordTooLongError) {
          throw new GenrecError('PARSE_ERROR', `record too long: a quoted record over several lines holds more than ${error.maxRecordLength} characters (maxLineLength)`, {
            details: { file: path, line: recordLine, maxLineLength: error.maxRecordLength },
          });
        }
        throw error;
      }
      if (fields === undefined) return;
      if (fieldCount === 0) {
        if (fields.length > MAX_FIELDS) {
          throw new GenrecError('PARSE_ERROR', `the first record has more than ${MAX_FIELDS} fields`, { details: { file: path, line: recordLine } });
        }
        fieldCount = fields.length;
      }
      if (columns === undefined) {
        columns = resolveByHeader(fields, columnOptions, path, recordLine);
        return;
      }
      if (fields.length < columns.minimumFields) {
        const resolved = columns;
        const missing = resolved.names.find((_, k) => resolved.indices[k]! >= fields.length) ?? 'column';
        throw new GenrecError(
          'PARSE_ERROR',
          `missing column "${missing}": expected at least ${columns.minimumFields} fields separated by ${JSON.stringify(delimiter)}, found ${fields.length}`,
          { details: { file: path, line: recordLine, field: missing } },
        );
      }
      if (fields.length !== fieldCount) {
        const expected = rules.format ? `${fieldCount} fields (${rules.format})` : `${fieldCount} fields like the ${header ? 'header' : 'first line'}`;
        const hint = fields.length > fieldCount ? '; two records on one line, or an unquoted delimiter?' : '';
        throw new GenrecError('PARSE_ERROR', `expected ${expected}, found ${fields.length > fieldCount ? `more than ${fieldCount}` : fields.length}${hint}`, {
          details: { file: path, line: recordLine },
        });
      }
      const userToken = checkId(fields[columns.user]!.trim(), 'user', recordLine);
      const itemToken = checkId(fields[columns.item]!.trim(), 'item', recordLine);
      if (columns.timestamp !== undefined) {
        const token = fields[columns.timestamp]!;
        const time = rules.integerTimestamps && !WHOLE_NUMBER.test(token.trim()) ? 'it is not a whole number of seconds' : parseTimestamp(token, timestampUnit);
        if (typeof time === 'string') {
          throw new GenrecError('PARSE_ERROR', `timestamp ${quoteToken(token)} is not valid: ${time}`, { details: { file: path, line: recordLine, field: 'timestamp' } });
        }
        timestamps.push(time);
      }
      if (columns.rating !== undefined) {
        const token = fields[columns.rating]!;
        const rating = parseDecimal(token);
        if (rating === undefined) {
          throw new GenrecError('PARSE_ERROR', `rating ${quoteToken(token)} is not a finite decimal number`, { details: { file: path, line: recordLine, field: 'rating' } });
        }
        ratings.push(rating);
      }
      users.push(userInterner.intern(userToken));
      items.push(itemInterner.intern(itemToken));
    },
    settings,
  );
  if (parser.pending) {
    throw new GenrecError('PARSE_ERROR', 'a quoted field is not closed before the end of the file', { details: { file: path, line: recordLine } });
  }
  if (users.length === 0) {
    throw new GenrecError('PARSE_ERROR', `${path} has a header but no interactions`, { details: { file: path, line: recordLine + 1 } });
  }
  const resolved = columns as ResolvedColumns | undefined;
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

function pickLineOptions(options: { maxLineLength?: number; onProgress?: ProgressCallback }): ForEachLineOptions {
  return {
    ...(options.maxLineLength !== undefined ? { maxLineLength: options.maxLineLength } : {}),
    ...(options.onProgress !== undefined ? { onProgress: options.onProgress } : {}),
  };
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

function defaultName(path: string): string {
  const base = path.split(/[\\/]/).pop() ?? path;
  return base.replace(/(\.gz)?$/, '').replace(/\.[^.]*$/, '');
}
