import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { GenrecError } from '../errors.js';

let counter = 0;

function temporaryPath(path: string): string {
  counter += 1;
  return join(dirname(path), `.${basename(path)}.${process.pid}.${counter}.tmp`);
}

/**
 * Writes a file atomically: the content goes to a temporary file next to `path`, which is
 * fsynced and then renamed over `path`. A crash or an error leaves either the old file or the new
 * one, never a half-written file. Parent folders are created.
 *
 * @param chunks - the content, as one buffer/string or several written in order.
 * @throws GenrecError `IO_ERROR` when writing fails (the temporary file is removed).
 */
export function writeFileAtomic(path: string, chunks: string | Uint8Array | ReadonlyArray<string | Uint8Array>): void {
  const list = typeof chunks === 'string' || chunks instanceof Uint8Array ? [chunks] : chunks;
  const temporary = temporaryPath(path);
  let descriptor: number | undefined;
  try {
    mkdirSync(dirname(path), { recursive: true });
    descriptor = openSync(temporary, 'w');
    for (const chunk of list) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      let offset = 0;
      while (offset < bytes.byteLength) offset += writeSync(descriptor, bytes, offset, bytes.byteLength - offset);
    }
    fsyncSync(descriptor);
    closeSync(descriptor);
    descriptor = undefined;
    renameSync(temporary, path);
  } catch (error) {
    if (descriptor !== undefined) closeSync(descriptor);
    try {
      rmSync(temporary, { force: true });
    } catch {
      // the temporary file's folder may not exist; nothing to clean up then
    }
    throw new GenrecError('IO_ERROR', `could not write ${path}: ${(error as Error).message}`, { cause: error, details: { file: path } });
  }
}

/**
 * Writes a folder atomically: `fill` writes into a fresh temporary folder next to `path`, which
 * then replaces `path` (the old folder, if any, is moved aside and removed only after the new one
 * is in place). A failure inside `fill` leaves the previous folder untouched.
 */
export async function writeDirectoryAtomic(path: string, fill: (temporaryDirectory: string) => void | Promise<void>): Promise<void> {
  const temporary = temporaryPath(path);
  const previous = `${temporary}.old`;
  mkdirSync(temporary, { recursive: true });
  try {
    await fill(temporary);
  } catch (error) {
    rmSync(temporary, { recursive: true, force: true });
    throw GenrecError.isInstance(error)
      ? error
      : new GenrecError('IO_ERROR', `could not write ${path}: ${(error as Error).message}`, { cause: error, details: { file: path } });
  }
  let movedAside = false;
  try {
    try {
      renameSync(path, previous);
      movedAside = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    renameSync(temporary, path);
  } catch (error) {
    if (movedAside) renameSync(previous, path);
    rmSync(temporary, { recursive: true, force: true });
    throw new GenrecError('IO_ERROR', `could not replace ${path}: ${(error as Error).message}`, { cause: error, details: { file: path } });
  }
  if (movedAside) rmSync(previous, { recursive: true, force: true });
}
