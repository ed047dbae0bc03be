import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { GenrecError } from '@genrec/core';

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
   * Text encoding of the file (MovieLens 1M's `movies.dat` is `'latin1'`).
   *
   * @defaultValue `'utf8'`
   */
  encoding?: BufferEncoding;
}

/**
 * Streams a text file line by line (node `readline` over a file stream, so memory stays constant
 * per line) and calls `onLine` with each non-blank line and its 1-based line number. A UTF-8 byte
 * order mark on the first line is removed; `\r\n` line ends are accepted.
 *
 * @param path - the file to read (`.gz` files are decompressed on the fly by default).
 * @param onLine - called for every non-blank line; may throw to stop reading.
 * @param options - see {@link ForEachLineOptions}.
 * @returns the number of non-blank lines read.
 * @throws GenrecError `NOT_FOUND` when the file does not exist, `IO_ERROR` when it cannot be read,
 *   `PARSE_ERROR` (with `details.file` and `details.line`) for a blank line in the middle of the file
 *   or an empty file; errors thrown by `onLine` are passed through.
 * @example
 * ```ts
 * let lines = 0;
 * await forEachLine('data.txt', (text, line) => { lines = line; });
 * ```
 */
export async function forEachLine(
  path: string,
  onLine: (text: string, line: number) => void,
  options: ForEachLineOptions = {},
): Promise<number> {
  const blankLines = options.blankLines ?? 'error';
  const gzip = options.gzip ?? 'auto';
  await checkReadableFile(path);
  const fileStream = createReadStream(path);
  const encoding = options.encoding ?? 'utf8';
  let input: Readable = fileStream;
  if (gzip === true || (gzip === 'auto' && path.endsWith('.gz'))) {
    const gunzip = createGunzip();
    fileStream.on('error', (error) => gunzip.destroy(error));
    input = fileStream.pipe(gunzip);
  }
  input.setEncoding(encoding);
  const reader = createInterface({ input, crlfDelay: Infinity });
  let lineNumber = 0;
  let dataLines = 0;
  let pendingBlankLine = 0;
  // 'line' events rather than `for await`: the async iterator costs ~60% more per line.
  await new Promise<void>((resolve, reject) => {
    let finished = false;
    const fail = (error: unknown): void => {
      if (finished) return;
      finished = true;
      reader.close();
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
    input.on('error', fail);
    reader.on('error', fail); // readline re-emits its input's errors on itself
    reader.on('line', (raw: string) => {
      if (finished) return;
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
    });
    reader.on('close', () => {
      if (finished) return;
      finished = true;
      resolve();
    });
  });
  if (dataLines === 0 && options.allowEmpty !== true) {
    throw new GenrecError('PARSE_ERROR', `${path} is empty; expected at least one line of data`, { details: { file: path, line: 1 } });
  }
  return dataLines;
}

async function checkReadableFile(path: string): Promise<void> {
  let isFile: boolean;
  try {
    isFile = (await stat(path)).isFile();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'NOT_FOUND' : 'IO_ERROR';
    throw new GenrecError(code, `could not open ${path}: ${(error as Error).message}`, { cause: error, details: { file: path } });
  }
  if (!isFile) throw new GenrecError('IO_ERROR', `${path} is not a regular file`, { details: { file: path } });
}

function isBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13 && c !== 11 && c !== 12) return false;
  }
  return true;
}
