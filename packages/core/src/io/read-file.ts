import { readFileSync } from 'node:fs';
import { GenrecError } from '../errors.js';

/**
 * Reads a whole file as bytes.
 *
 * @throws GenrecError `NOT_FOUND` when it is missing, `IO_ERROR` on other failures.
 */
export function readBytes(path: string): Uint8Array {
  try {
    const buffer = readFileSync(path);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'NOT_FOUND' : 'IO_ERROR';
    throw new GenrecError(code, `could not read ${path}: ${(error as Error).message}`, { cause: error, details: { file: path } });
  }
}
