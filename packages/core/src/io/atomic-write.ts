import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { GenrecError } from '../errors.js';
import { pathsInProgress, removeLeftovers } from './leftovers.js';

let counter = 0;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `.NAME.PID.N.tmp`: the temporary file of one `writeFileAtomic(NAME)` call. */
function temporaryPath(path: string): string {
  counter += 1;
  return join(dirname(path), `.${basename(path)}.${process.pid}.${counter}.tmp`);
}

/**
 * Removes the temporary files that killed `writeFileAtomic(path)` calls left next to `path`
 * (their writer process is gone). Called by every `writeFileAtomic` and by loaders of single-file
 * artifacts; best effort, never throws.
 */
export function removeStaleTemporaryFiles(path: string): void {
  removeLeftovers(dirname(path), new RegExp(`^\\.${escapeRegExp(basename(path))}\\.(\\d+)\\.\\d+\\.tmp$`));
}

/** fsyncs a folder so a rename inside it is durable (not supported everywhere: best effort). */
export function fsyncDirectory(path: string): void {
  let descriptor: number | undefined;
  try {
    descriptor = openSync(path, 'r');
    fsyncSync(descriptor);
  } catch {
    // some platforms cannot open or fsync a folder; the rename is still atomic there
  } finally {
    if (descriptor !== undefined) closeSync(descriptor);
  }
}

/**
 * Writes a file atomically: the content goes to a temporary file next to `path`, which is
 * fsynced and then renamed over `path`. A crash or an error leaves either the old file or the new
 * one, never a half-written file; temporary files left by killed writers are removed by the next
 * write of the same path. Parent folders are created.
 *
 * @param chunks - the content, as one buffer/string or several written in order.
 * @throws GenrecError `IO_ERROR` when writing fails (the temporary file is removed).
 * @example
 * ```ts
 * writeFileAtomic('out/config.json', JSON.stringify({ seed: 1 }));
 * ```
 */
export function writeFileAtomic(path: string, chunks: string | Uint8Array | ReadonlyArray<string | Uint8Array>): void {
  const list = typeof chunks === 'string' || chunks instanceof Uint8Array ? [chunks] : chunks;
  const temporary = temporaryPath(path);
  let descriptor: number | undefined;
  pathsInProgress.add(temporary);
  try {
    mkdirSync(dirname(path), { recursive: true });
    removeStaleTemporaryFiles(path);
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
  } finally {
    pathsInProgress.delete(temporary);
  }
}
