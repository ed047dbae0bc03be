import { join } from 'node:path';
import { GenrecError, decodeNpy, openArtifactDirectory, readArtifactManifest, type ArtifactDirectory, type ArtifactManifest, type Tensor } from '@genrec/core';

/**
 * Opens a saved artifact folder and reads its manifest (internal, shared by the `load` methods).
 * The folder's checksums cover the manifest and every array.
 *
 * @param what - the artifact's name in the message ("semantic-id", "set-id")
 * @returns the manifest, its path and the opened folder
 * @throws GenrecError `NOT_FOUND` without `manifest.json`; what `readArtifactManifest` throws for
 *   another kind or version or a changed file
 */
export function openArtifactFolder<M extends ArtifactManifest>(
  directory: string,
  what: string,
  kind: string,
  formatVersion: number,
): { manifest: M; manifestPath: string; artifact: ArtifactDirectory } {
  const artifact = openArtifactDirectory(directory);
  const manifestPath = join(artifact.directory, 'manifest.json');
  if (!artifact.has('manifest.json')) throw new GenrecError('NOT_FOUND', `no ${what} artifact at ${directory} (manifest.json is missing)`, { details: { file: manifestPath } });
  return { manifest: readArtifactManifest<M>(artifact, kind, [formatVersion]), manifestPath, artifact };
}

/**
 * Reads `file` of an opened artifact as an `.npy` array and checks its dtype and shape (internal).
 *
 * @throws GenrecError `CORRUPT_ARTIFACT` (naming the file) when the dtype or shape differs
 */
export function readCheckedArray<D extends Tensor['dtype']>(artifact: ArtifactDirectory, file: string, dtype: D, shape: number[]): Tensor<D> {
  const path = join(artifact.directory, file);
  const tensor = decodeNpy(artifact.readFile(file), path);
  if (tensor.dtype !== dtype || tensor.shape.join(',') !== shape.join(',')) {
    throw new GenrecError('CORRUPT_ARTIFACT', `expected ${dtype} [${shape.join(', ')}], found ${tensor.dtype} [${tensor.shape.join(', ')}]`, {
      details: { file: path },
    });
  }
  return tensor as Tensor<D>;
}

/**
 * Reads a manifest field that must be an integer in `[minimum, maximum]` (internal).
 *
 * @throws GenrecError `CORRUPT_ARTIFACT` naming the field and the manifest
 */
export function manifestInteger(manifest: Record<string, unknown>, field: string, manifestPath: string, minimum: number, maximum = 0x7fffffff): number {
  const value = manifest[field];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < minimum || value > maximum) {
    throw new GenrecError('CORRUPT_ARTIFACT', `manifest field ${field} must be an integer in ${minimum}..${maximum}, found ${JSON.stringify(value) ?? String(value)}`, {
      details: { file: manifestPath, field },
    });
  }
  return value;
}

/**
 * Reads a manifest field that must be a list of `length` integers in `[minimum, maximum]` (internal).
 *
 * @throws GenrecError `CORRUPT_ARTIFACT` naming the field and the manifest
 */
export function manifestIntegers(manifest: Record<string, unknown>, field: string, manifestPath: string, length: number, minimum: number, maximum = 0x7fffffff): number[] {
  const value = manifest[field];
  if (!Array.isArray(value) || value.length !== length || value.some((entry) => typeof entry !== 'number' || !Number.isSafeInteger(entry) || entry < minimum || entry > maximum)) {
    throw new GenrecError('CORRUPT_ARTIFACT', `manifest field ${field} must list ${length} integers in ${minimum}..${maximum}`, { details: { file: manifestPath, field } });
  }
  return value as number[];
}

/**
 * Reads a boolean manifest field; `undefined` gives `fallback` when one is given (internal).
 *
 * @throws GenrecError `CORRUPT_ARTIFACT` for anything else
 */
export function manifestBoolean(manifest: Record<string, unknown>, field: string, manifestPath: string, fallback?: boolean): boolean {
  const value = manifest[field];
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'boolean') throw new GenrecError('CORRUPT_ARTIFACT', `manifest field ${field} must be true or false`, { details: { file: manifestPath, field } });
  return value;
}

/**
 * Checks that every value of a loaded float array is finite (NaN and ±Infinity never load), and
 * that every loaded item id is non-negative (internal).
 *
 * @throws GenrecError `CORRUPT_ARTIFACT` naming the file and the first bad position
 */
export function checkLoadedValues(data: Float32Array | Int32Array, file: string, kind: 'finite' | 'item-ids'): void {
  for (let i = 0; i < data.length; i++) {
    const value = data[i]!;
    const bad = kind === 'finite' ? value - value !== 0 : value < 0;
    if (bad) {
      const what = kind === 'finite' ? `a non-finite value ${value}` : `a negative item id ${value}`;
      throw new GenrecError('CORRUPT_ARTIFACT', `${file} holds ${what} at position ${i}`, { details: { file } });
    }
  }
}
