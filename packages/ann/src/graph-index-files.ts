import { join } from 'node:path';
import { GenrecError } from '@genrec/core';
import { checkSaveFault } from './save-fault.js';
import { fsyncFile, type IndexSidecar } from './sidecar.js';

// What the two graph indexes, HnswIndex (hnswlib) and UsearchIndex (usearch), do alike with their
// saved folders: write the native library's graph file, and check the sidecar's parameters and
// slot -> id map before the native loader (which trusts its input) sees anything.

/** Makes a `CORRUPT_ARTIFACT` error about a saved index's sidecar (`details.file`), with an optional cause. */
export type SidecarCorruption = (message: string, cause?: unknown) => GenrecError;

/**
 * The {@link SidecarCorruption} of the sidecar at `sidecarPath`.
 *
 * @param sidecarPath - the sidecar file, named in every error's `details.file`
 * @returns the error factory
 */
export function sidecarCorruption(sidecarPath: string): SidecarCorruption {
  return (message, cause) => new GenrecError('CORRUPT_ARTIFACT', message, cause === undefined ? { details: { file: sidecarPath } } : { cause, details: { file: sidecarPath } });
}

/**
 * Writes the native graph file `name` into a save's temporary `directory` with the library's own
 * writer, fsyncs it (the libraries do not), then gives the save-fault hook of `path` its turn.
 *
 * @param path - the folder the caller saves to (the save-fault hook's key)
 * @param directory - the save's temporary folder
 * @param name - the file's name in it
 * @param library - the library's name in the error (`'hnswlib'`, `'usearch'`)
 * @param write - the library's writer, called with the file's path
 * @returns the written file's path
 * @throws GenrecError `IO_ERROR` when writing or flushing fails.
 */
export function writeGraphFile(path: string, directory: string, name: string, library: string, write: (file: string) => void): string {
  const file = join(directory, name);
  try {
    write(file);
    fsyncFile(file);
  } catch (error) {
    throw new GenrecError('IO_ERROR', `${library} could not write ${file}: ${(error as Error).message}`, { cause: error, details: { file } });
  }
  checkSaveFault(path);
  return file;
}

/**
 * Checks the sidecar's graph parameters against the bounds of the constructor's options: a value
 * outside them (or missing) is corruption.
 *
 * @param parameters - the sidecar's `parameters`
 * @param bounds - per parameter, its lowest and highest value
 * @param corrupt - the sidecar's error factory
 * @throws GenrecError `CORRUPT_ARTIFACT` naming the first parameter out of bounds.
 */
export function checkSidecarParameters(parameters: IndexSidecar['parameters'], bounds: Readonly<Record<string, readonly [number, number]>>, corrupt: SidecarCorruption): void {
  for (const [name, [low, high]] of Object.entries(bounds)) {
    const value = parameters[name];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < low || value > high) throw corrupt(`the sidecar's parameter ${name} is missing or outside ${low}..${high}`);
  }
}

/**
 * The ids of the sidecar's slot -> id map (-1 marks a free slot): each at most once, and as many as
 * the sidecar's `size`.
 *
 * @param sidecar - the sidecar, already read by `readSidecar` (ids checked to be integers in [-1, 2^31 − 1])
 * @param corrupt - its error factory
 * @returns the ids, in slot order
 * @throws GenrecError `CORRUPT_ARTIFACT` for an id mapped twice or a count that disagrees with `size`.
 */
export function sidecarIdSet(sidecar: IndexSidecar, corrupt: SidecarCorruption): Set<number> {
  const seen = new Set<number>();
  for (const id of sidecar.ids) {
    if (id < 0) continue;
    if (seen.has(id)) throw corrupt(`the sidecar maps id ${id} twice`);
    seen.add(id);
  }
  if (seen.size !== sidecar.size) throw corrupt(`the sidecar's id map holds ${seen.size} ids, its size says ${sidecar.size}`);
  return seen;
}
