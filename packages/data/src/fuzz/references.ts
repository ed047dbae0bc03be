/**
 * Naive reference implementations of the readers' documented rules, written for clarity over a
 * whole decoded file (no streaming), for the fuzz tests to compare against. Each returns
 * `undefined` where the rules say the file is invalid. Test-only.
 *
 * @module
 */
import type { InteractionDataset } from '../sequence-dataset.js';
import { parseDecimal, parseTimestamp } from '../timestamp.js';

/** The non-blank lines of a file as the line readers see them, or `undefined` when the file breaks a line rule. */
export function referenceLines(
  data: Uint8Array,
  maxLineLength: number,
  blankLines: 'error' | 'skip' = 'error',
  allowEmpty = false,
): { text: string; line: number }[] | undefined {
  const text = Buffer.from(data).toString('utf8');
  const raw = text.split(/\r\n|\r|\n/);
  if (raw.length > 0 && raw[raw.length - 1] === '') raw.pop();
  const lines: { text: string; line: number }[] = [];
  let blankSeen = false;
  for (let index = 0; index < raw.length; index++) {
    let line = raw[index]!;
    if (line.length > maxLineLength) return undefined;
    if (index === 0 && line.startsWith('\ufeff')) line = line.slice(1);
    if (/^[ \t\r\v\f]*$/.test(line)) {
      blankSeen = true;
      continue;
    }
    if (blankSeen && blankLines === 'error') return undefined;
    lines.push({ text: line, line: index + 1 });
  }
  return lines.length === 0 && !allowEmpty ? undefined : lines;
}

/** Rows as external ids: `[user, ...items]` per row. */
export type ExternalRows = string[][];

/** The rows of a dataset in external ids (`String(id)` where the dataset has no external ids). */
export function externalRows(dataset: InteractionDataset): ExternalRows {
  const rows: ExternalRows = [];
  for (let row = 0; row < dataset.userCount; row++) {
    const userId = dataset.userIds[row]!;
    const out = [dataset.externalUserIds?.[userId] ?? String(userId)];
    for (let i = dataset.offsets[row]!; i < dataset.offsets[row + 1]!; i++) {
      const item = dataset.items[i]!;
      out.push(dataset.externalItemIds?.[item] ?? String(item));
    }
    rows.push(out);
  }
  return rows;
}

/** Sequence-file rules: `user item...` per line, integer ids in 0..2^31-1 (or any token), users once. */
export function referenceSequenceFile(data: Uint8Array, idType: 'integer' | 'string'): ExternalRows | undefined {
  const lines = referenceLines(data, 64 * 1024 * 1024);
  if (!lines) return undefined;
  const rows: ExternalRows = [];
  const users = new Set<string>();
  for (const { text } of lines) {
    const tokens = text.trim().split(/\s+/);
    if (tokens.length < 2) return undefined;
    const row: string[] = [];
    for (const token of tokens) {
      if (idType === 'string') row.push(token);
      else if (!/^[0-9]+$/.test(token) || Number(token) > 2 ** 31 - 1) return undefined;
      else row.push(String(Number(token)));
    }
    if (users.has(row[0]!)) return undefined;
    users.add(row[0]!);
    rows.push(row);
  }
  return rows;
}

/** One interaction in external ids, for comparing logs as multisets. */
export function interactionKey(user: string, item: string, timestamp: number | undefined, rating: number | undefined): string {
  return `${user}\u0000${item}\u0000${timestamp ?? ''}\u0000${rating === undefined ? '' : Math.fround(rating)}`;
}

/** The interactions of a dataset as sorted {@link interactionKey}s. */
export function interactionKeys(dataset: InteractionDataset): string[] {
  const keys: string[] = [];
  for (let row = 0; row < dataset.userCount; row++) {
    const userId = dataset.userIds[row]!;
    const user = dataset.externalUserIds?.[userId] ?? String(userId);
    for (let i = dataset.offsets[row]!; i < dataset.offsets[row + 1]!; i++) {
      const item = dataset.items[i]!;
      keys.push(interactionKey(user, dataset.externalItemIds?.[item] ?? String(item), dataset.timestamps?.[i], dataset.ratings?.[i]));
    }
  }
  return keys.sort();
}

/** MovieLens rules: exactly `u::i::r::t`, positive integer ids up to 2^31-1, decimal rating, whole-second timestamp. */
export function referenceMovieLens(data: Uint8Array): string[] | undefined {
  const lines = referenceLines(data, 64 * 1024 * 1024);
  if (!lines) return undefined;
  const keys: string[] = [];
  for (const { text } of lines) {
    const fields = text.split('::');
    if (fields.length !== 4) return undefined;
    const [user, item, ratingText, timeText] = fields.map((field, k) => (k < 2 || k === 3 ? field.trim() : field)) as [string, string, string, string];
    for (const id of [user, item]) if (!/^[1-9][0-9]*$/.test(id) || Number(id) > 2 ** 31 - 1) return undefined;
    const rating = parseDecimal(ratingText);
    if (rating === undefined || !/^[0-9]+$/.test(timeText)) return undefined;
    const time = Number(timeText);
    if (time > 8.64e12) return undefined;
    keys.push(interactionKey(user, item, time, rating));
  }
  return keys.sort();
}

/**
 * The interactions of CSV records (as Python's `csv` module split them) under the interaction-log
 * rules, for a file with a header and columns user, item, timestamp, rating at indices 0-3; or
 * `undefined` when a rule is broken.
 */
export function csvRecordsToKeys(records: string[][]): string[] | undefined {
  const rows = records.slice();
  // Blank lines at the end of the file are not records for the reader.
  while (rows.length > 0 && rows[rows.length - 1]!.length <= 1 && /^[ \t\r\v\f]*$/.test(rows[rows.length - 1]![0] ?? '')) rows.pop();
  const header = rows[0];
  if (!header || header.length < 4 || rows.length < 2) return undefined;
  const keys: string[] = [];
  for (const record of rows.slice(1)) {
    if (record.length !== header.length) return undefined;
    const fields = record.map((field) => field.replace(/\r\n?/g, '\n'));
    const user = fields[0]!.trim();
    const item = fields[1]!.trim();
    const time = parseTimestamp(fields[2]!, 'seconds');
    const rating = parseDecimal(fields[3]!);
    if (user === '' || item === '' || typeof time === 'string' || rating === undefined) return undefined;
    keys.push(interactionKey(user, item, time, rating));
  }
  return keys.sort();
}

/** A catalogue record as the reader builds it. */
export interface ReferenceRecord {
  id: number;
  title?: string;
  categories?: string[][];
  fields: Record<string, unknown>;
}

/**
 * Item-catalogue rules (`item_id`, `title`, `categories`): verbatim ids up to `maxItemId`, or ids
 * looked up in `externalItemIds` (unknown ones skipped).
 */
export function referenceCatalog(
  data: Uint8Array,
  maxItemId: number,
  externalItemIds?: readonly string[],
): { itemCount: number; records: Map<number, ReferenceRecord>; skipped: number } | undefined {
  const lines = referenceLines(data, 64 * 1024 * 1024);
  if (!lines) return undefined;
  const records = new Map<number, ReferenceRecord>();
  let skipped = 0;
  for (const { text } of lines) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return undefined;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    const object = value as Record<string, unknown>;
    const own = (key: string): unknown => (Object.hasOwn(object, key) ? object[key] : undefined);
    const rawId = own('item_id');
    let id: number;
    if (externalItemIds) {
      if (typeof rawId !== 'string' && typeof rawId !== 'number') return undefined;
      id = externalItemIds.indexOf(String(rawId), 1);
      if (id < 0) {
        skipped++;
        continue;
      }
    } else {
      id = typeof rawId === 'number' ? rawId : typeof rawId === 'string' && /^[1-9][0-9]{0,15}$/.test(rawId) ? Number(rawId) : Number.NaN;
    }
    if (!Number.isSafeInteger(id) || id < 1 || id > maxItemId || records.has(id)) return undefined;
    const record: ReferenceRecord = { id, fields: {} };
    for (const key of Object.keys(object)) {
      if (key !== 'item_id' && key !== 'title' && key !== 'categories') {
        Object.defineProperty(record.fields, key, { value: object[key], enumerable: true, writable: true, configurable: true });
      }
    }
    const title = own('title');
    if (title !== undefined && title !== null) {
      if (typeof title !== 'string') return undefined;
      record.title = title;
    }
    const categories = own('categories');
    if (categories !== undefined && categories !== null) {
      const isPath = (entry: unknown): entry is string[] => Array.isArray(entry) && entry.every((part) => typeof part === 'string');
      if (typeof categories === 'string') record.categories = [[categories]];
      else if (isPath(categories)) record.categories = categories.length === 0 ? [] : [categories];
      else if (Array.isArray(categories) && categories.every(isPath)) record.categories = categories;
      else return undefined;
    }
    records.set(id, record);
  }
  return { itemCount: externalItemIds ? externalItemIds.length - 1 : Math.max(...records.keys()), records, skipped };
}
