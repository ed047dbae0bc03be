import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import {
  checkBooleanOption,
  checkEnumOption,
  checkIntegerOption,
  checkKnownOptions,
  GenrecError,
  progressReporter,
  type ProgressCallback,
} from '@genrec/core';

/**
 * Default bound on the length of one line (and of one CSV record spanning several lines), in
 * characters (UTF-16 code units) after decoding: 64 Mi = 67,108,864.
 */
export const DEFAULT_MAX_LINE_LENGTH = 64 * 1024 * 1024;

/**
 * Largest accepted `maxLineLength`: 256 Mi characters, safely below V8's string length limit
 * (about 512 Mi), so a line can never grow into an engine `RangeError`.
 */
export const MAX_LINE_LENGTH_LIMIT = 256 * 1024 * 1024;

/** Text encodings the line readers accept. */
export const LINE_ENCODINGS = ['utf8', 'utf-8', 'utf16le', 'ucs2', 'latin1', 'binary', 'ascii'] as const;

/** A text encoding the line readers accept. */
export type LineEncoding = (typeof LINE_ENCODINGS)[number];

/** Options of {@link forEachLine}. */
export interface ForEachLineOptions {
  /**
   * What a blank (empty or whitespace-only) line means. `'error'`: blank lines are only allowed at
   * the end of the file; one followed by more data throws `PARSE_ERROR` naming the blank line.
   * `'skip'`: blank lines are ignored wherever they are.
   *
   * @defaultValue `'error'`
   */
  blankLines?: 'error' | 'skip';
  /**
   * Whether a file without any non-blank line is acceptable. When false, it throws `PARSE_ERROR`
   * (line 1).
   *
   * @defaultValue `false`
   */
  allowEmpty?: boolean;
  /**
   * Whether the file is gzip-compressed. `'auto'` decides by the `.gz` suffix.
   *
   * @defaultValue `'auto'`
   */
  gzip?: boolean | 'auto';
  /**
   * Text encoding of the file (MovieLens 1M's `movies.dat` is `'latin1'`); one of
   * {@link LINE_ENCODINGS}.
   *
   * @defaultValue `'utf8'`
   */
  encoding?: LineEncoding;
  /**
   * Longest line accepted, in characters after decoding (line break excluded). A longer line is a
   * `PARSE_ERROR` "line too long" naming file and line, raised as soon as the line passes the
   * bound (it is never held in memory whole). At most {@link MAX_LINE_LENGTH_LIMIT}.
   *
   * @defaultValue {@link DEFAULT_MAX_LINE_LENGTH} (64 Mi)
   */
  maxLineLength?: number;
  /**
   * Receives `task-start`, `task-progress` (about every MiB read) and `task-end` events of the task
   * `'read-lines'`; `done`/`total` are bytes of the file as stored (compressed bytes for gzip).
   */
  onProgress?: ProgressCallback;
}

const FOR_EACH_LINE_OPTIONS = ['blankLines', 'allowEmpty', 'gzip', 'encoding', 'maxLineLength', 'onProgress'] as const;

/** Validated settings of {@link streamLines}. Internal to the package. */
export interface LineSettings {
  blankLines: 'error' | 'skip';
  allowEmpty: boolean;
  gzip: boolean | 'auto';
  encoding: LineEncoding;
  maxLineLength: number;
  onProgress: ProgressCallback | undefined;
  /** Progress task name. */
  task: string;
}

/**
 * Checks the line-reading options shared by every reader (`encoding`, `maxLineLength`,
 * `onProgress`, and for {@link forEachLine} also `blankLines`, `allowEmpty`, `gzip`). Internal.
 *
 * @throws GenrecError `INVALID_OPTION` naming the option.
 */
export function lineSettings(options: ForEachLineOptions, task: string): LineSettings {
  const gzip = options.gzip ?? 'auto';
  if (gzip !== 'auto' && typeof gzip !== 'boolean') {
    throw new GenrecError('INVALID_OPTION', `gzip must be true, false or 'auto', got ${JSON.stringify(gzip)}`, { details: { field: 'gzip' } });
  }
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
    throw new GenrecError('INVALID_OPTION', 'onProgress must be a function', { details: { field: 'onProgress' } });
  }
  return {
    blankLines: checkEnumOption(options.blankLines ?? 'error', 'blankLines', ['error', 'skip']),
    allowEmpty: checkBooleanOption(options.allowEmpty ?? false, 'allowEmpty'),
    gzip,
    encoding: checkEnumOption(options.encoding ?? 'utf8', 'encoding', LINE_ENCODINGS),
    maxLineLength: checkIntegerOption(options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH, 'maxLineLength', 1, MAX_LINE_LENGTH_LIMIT),
    onProgress: options.onProgress,
    task,
  };
}

/**
 * Streams a text file line by line (memory stays bounded by the longest line) and calls `onLine`
 * with each non-blank line and its 1-based line number. Lines end at `\n`, `\r\n` or a lone `\r`.
 * A UTF-8 byte order mark on the first line is removed.
 *
 * @param path - the file to read (`.gz` files are decompressed on the fly by default).
 * @param onLine - called for every non-blank line; may throw to stop reading.
 * @param options - see {@link ForEachLineOptions}.
 * @returns the number of non-blank lines read.
 * @throws GenrecError `NOT_FOUND` when the file does not exist, `IO_ERROR` when it cannot be read
 *   (or is corrupt gzip), `PARSE_ERROR` (with `details.file` and `details.line`) for a line longer
 *   than `maxLineLength`, a blank line in the middle of the file or an empty file,
 *   `INVALID_OPTION` for an unknown or invalid option; errors thrown by `onLine` are passed
 *   through. Every error rejects the returned promise.
 * @example
 * ```ts
 * let lines = 0;
 * await forEachLine('data.txt', (text, line) => { lines = line; }, { maxLineLength: 1 << 20 });
 * ```
 */
export async function forEachLine(
  path: string,
  onLine: (text: string, line: number) => void,
  options: ForEachLineOptions = {},
): Promise<number> {
  checkKnownOptions(options, FOR_EACH_LINE_OPTIONS, 'forEachLine');
  return streamLines(path, onLine, lineSettings(options, 'read-lines'));
}

/** {@link forEachLine} with validated settings. Internal to the package. */
export async function streamLines(path: string, onLine: (text: string, line: number) => void, settings: LineSettings): Promise<number> {
  const { blankLines, maxLineLength, gzip } = settings;
  const size = await checkReadableFile(path);
  const progress = progressReporter(settings.onProgress, settings.task, { total: size, unit: 'bytes' });
  progress.start(path);
  const fileStream = createReadStream(path);
  let input: Readable = fileStream;
  if (gzip === true || (gzip === 'auto' && path.endsWith('.gz'))) {
    const gunzip = createGunzip();
    fileStream.on('error', (error) => gunzip.destroy(error));
    input = fileStream.pipe(gunzip);
  }
  input.setEncoding(settings.encoding);
  let lineNumber = 0;
  let dataLines = 0;
  let pendingBlankLine = 0;
  let reportedBytes = 0;
  await new Promise<void>((resolve, reject) => {
    let finished = false;
    // The current line's text seen so far (when it spans chunks), and whether the previous chunk
    // ended with '\r' (then a '\n' opening the next chunk completes that line break).
    let carry = '';
    let skipLineFeed = false;
    const fail = (error: unknown): void => {
      if (finished) return;
      finished = true;
      input.destroy();
      fileStream.destroy();
      reject(
        GenrecError.isInstance(error)
          ? error
          : new GenrecError('IO_ERROR', `could not read ${path}: ${(error as Error).message}`, {
              cause: error,
              details: { file: path, line: lineNumber + 1 },
            }),
      );
    };
    const tooLong = (): void => {
      fail(
        new GenrecError('PARSE_ERROR', `line too long: more than ${maxLineLength} characters (maxLineLength)`, {
          details: { file: path, line: lineNumber + 1, maxLineLength },
        }),
      );
    };
    const emit = (raw: string): void => {
      lineNumber++;
      const text = lineNumber === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
      if (isBlank(text)) {
        if (pendingBlankLine === 0) pendingBlankLine = lineNumber;
        return;
      }
      if (pendingBlankLine !== 0 && blankLines === 'error') {
        const where = dataLines > 0 ? 'in the middle of' : 'at the start of';
        fail(
          new GenrecError('PARSE_ERROR', `empty line ${where} ${path}; blank lines are only allowed at the end`, {
            details: { file: path, line: pendingBlankLine },
          }),
        );
        return;
      }
      pendingBlankLine = 0;
      dataLines++;
      try {
        onLine(text, lineNumber);
      } catch (error) {
        fail(error);
      }
    };
    input.on('error', fail);
    input.on('data', (chunk: string) => {
      if (finished) return;
      try {
        const length = chunk.length;
        let start = 0;
        if (skipLineFeed) {
          skipLineFeed = false;
          if (chunk.charCodeAt(0) === 10) start = 1;
        }
        let lineFeed = chunk.indexOf('\n', start);
        let carriageReturn = chunk.indexOf('\r', start);
        while (!finished) {
          const end = carriageReturn < 0 ? lineFeed : lineFeed < 0 ? carriageReturn : Math.min(lineFeed, carriageReturn);
          if (end < 0) {
            if (carry.length + (length - start) > maxLineLength) tooLong();
            else if (start < length) carry = carry === '' ? chunk.slice(start) : carry + chunk.slice(start);
            break;
          }
          if (carry.length + (end - start) > maxLineLength) {
            tooLong();
            break;
          }
          const line = carry === '' ? chunk.slice(start, end) : carry + chunk.slice(start, end);
          carry = '';
          start = end + 1;
          if (end === carriageReturn) {
            if (start === length) skipLineFeed = true;
            else if (chunk.charCodeAt(start) === 10) start++;
          }
          if (lineFeed >= 0 && lineFeed < start) lineFeed = chunk.indexOf('\n', start);
          if (carriageReturn >= 0 && carriageReturn < start) carriageReturn = chunk.indexOf('\r', start);
          emit(line);
        }
        const bytes = fileStream.bytesRead;
        if (!finished && bytes - reportedBytes >= 1 << 20) {
          reportedBytes = bytes;
          progress.update(bytes, { metrics: { lines: lineNumber } });
        }
      } catch (error) {
        fail(error);
      }
    });
    input.on('end', () => {
      if (finished) return;
      if (carry !== '') {
        const last = carry;
        carry = '';
        emit(last);
      }
      if (finished) return;
      finished = true;
      resolve();
    });
  });
  progress.end(fileStream.bytesRead, { metrics: { lines: lineNumber } });
  if (dataLines === 0 && !settings.allowEmpty) {
    throw new GenrecError('PARSE_ERROR', `${path} is empty; expected at least one line of data`, { details: { file: path, line: 1 } });
  }
  return dataLines;
}

async function checkReadableFile(path: string): Promise<number> {
  if (typeof path !== 'string' || path === '') {
    throw new GenrecError('INVALID_INPUT', `expected a file path, got ${typeof path === 'string' ? 'an empty string' : typeof path}`);
  }
  let stats;
  try {
    stats = await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'NOT_FOUND' : 'IO_ERROR';
    throw new GenrecError(code, `could not open ${path}: ${(error as Error).message}`, { cause: error, details: { file: path } });
  }
  if (!stats.isFile()) throw new GenrecError('IO_ERROR', `${path} is not a regular file`, { details: { file: path } });
  return stats.size;
}

function isBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13 && c !== 11 && c !== 12) return false;
  }
  return true;
}

/** A token for an error message: JSON-quoted, cut to 80 characters. Internal to the package. */
export function quoteToken(token: string): string {
  return JSON.stringify(token.length > 80 ? `${token.slice(0, 80)}…` : token);
}
