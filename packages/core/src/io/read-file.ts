import { closeSync, constants as fsConstants, fstatSync, openSync, readSync } from 'node:fs';
import { constants } from 'node:buffer';
import { GenrecError } from '../errors.js';

/** Options of {@link readBytes}. */
export interface ReadBytesOptions {
  /**
   * Refuse files larger than this many bytes (checked before anything is read or allocated).
   * @defaultValue the largest buffer this runtime can hold (`buffer.constants.MAX_LENGTH`)
   */
  maxBytes?: number;
}

/**
 * Reads a whole regular file as bytes. The size is checked before any memory is allocated, and
 * only regular files are read: a FIFO or a device such as `/dev/zero` would otherwise be read
 * forever.
 *
 * @param path - the file
 * @param options - {@link ReadBytesOptions}
 * @returns the bytes, in a buffer of their own (offset 0, so aligned for every typed array)
 * @throws GenrecError `NOT_FOUND` when it is missing, `IO_ERROR` when it is not a regular file or
 * reading fails, `UNSUPPORTED` when it is larger than `maxBytes`.
 * @example
 * ```ts
 * const bytes = readBytes('model.onnx');
 * ```
 */
export function readBytes(path: string, options: ReadBytesOptions = {}): Uint8Array {
  const maxBytes = options.maxBytes ?? constants.MAX_LENGTH;
  let descriptor: number | undefined;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused just below)
    descriptor = openSync(path, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0));
    const stat = fstatSync(descriptor);
    if (!stat.isFile()) throw new GenrecError('IO_ERROR', `could not read ${path}: not a regular file`, { details: { file: path } });
    if (stat.size > maxBytes) {
      throw new GenrecError('UNSUPPORTED', `${path} holds ${stat.size} bytes, more than the ${maxBytes} this reader accepts`, { details: { file: path, bytes: stat.size } });
    }
    const buffer = Buffer.allocUnsafeSlow(stat.size);
    let offset = 0;
    while (offset < buffer.byteLength) {
      const read = readSync(descriptor, buffer, offset, buffer.byteLength - offset, offset);
      if (read === 0) break; // the file shrank while being read: return what is there
      offset += read;
    }
    return new Uint8Array(buffer.buffer, buffer.byteOffset, offset);
  } catch (error) {
    if (GenrecError.isInstance(error)) throw error;
    const code = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'NOT_FOUND' : 'IO_ERROR';
    throw new GenrecError(code, `could not read ${path}: ${(error as Error).message}`, { cause: error, details: { file: path } });
  } finally {
    if (descriptor !== undefined) closeSync(descriptor);
  }
}
