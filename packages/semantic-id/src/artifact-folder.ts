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
