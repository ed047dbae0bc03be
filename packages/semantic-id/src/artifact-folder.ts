import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { GenrecError, readManifest, readNpy, type ArtifactManifest, type Tensor } from '@genrec/core';

/**
 * Reads the manifest of a saved artifact folder (internal, shared by the `load` methods).
 *
 * @param what - the artifact's name in the message ("semantic-id", "set-id")
 * @returns the manifest and its path
 * @throws GenrecError `NOT_FOUND` without `manifest.json`; what `readManifest` throws for another
 *   kind or version
 */
export function openArtifactFolder<M extends ArtifactManifest>(
  directory: string,
  what: string,
  kind: string,
  formatVersion: number,
): { manifest: M; manifestPath: string } {
  const manifestPath = join(directory, 'manifest.json');
  if (!existsSync(manifestPath)) throw new GenrecError('NOT_FOUND', `no ${what} artifact at ${directory} (manifest.json is missing)`, { details: { file: manifestPath } });
  return { manifest: readManifest<M>(manifestPath, kind, [formatVersion]), manifestPath };
}

/**
 * Reads `directory/file` as an `.npy` array and checks its dtype and shape (internal).
 *
 * @throws GenrecError `CORRUPT_ARTIFACT` (naming the file) when the dtype or shape differs
 */
export function readCheckedArray<D extends Tensor['dtype']>(directory: string, file: string, dtype: D, shape: number[]): Tensor<D> {
  const tensor = readNpy(join(directory, file));
  if (tensor.dtype !== dtype || tensor.shape.join(',') !== shape.join(',')) {
    throw new GenrecError('CORRUPT_ARTIFACT', `expected ${dtype} [${shape.join(', ')}], found ${tensor.dtype} [${tensor.shape.join(', ')}]`, {
      details: { file: join(directory, file) },
    });
  }
  return tensor as Tensor<D>;
}
