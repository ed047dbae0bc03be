import { join } from 'node:path';
import { GenrecError, openArtifactDirectory, type VectorIndex } from '@genrec/core';
import { FLAT_INDEX_KIND, loadFlatIndex } from './flat-index.js';
import { HNSW_INDEX_KIND, loadHnswIndex } from './hnsw-index.js';
import { SIDECAR_FILE, readSidecarJson, type LoadIndexOptions } from './sidecar.js';
import { USEARCH_INDEX_KIND, loadUsearchIndex } from './usearch-index.js';

/**
 * Loads any saved genrec vector index: reads the folder's `index.json` sidecar and hands the folder
 * to the loader of its kind (`genrec.flat-index` -> {@link loadFlatIndex}, `genrec.hnsw-index` ->
 * {@link loadHnswIndex}, `genrec.usearch-index` -> {@link loadUsearchIndex}).
 *
 * @param options - what the caller expects (dimension, metric); a mismatch fails clearly.
 * @throws GenrecError `NOT_FOUND` when there is no sidecar, `FORMAT_VERSION` for an unknown kind,
 * and whatever the implementation's loader throws.
 * @example
 * ```ts
 * const index = await loadVectorIndex('/tmp/items.index', { dimension: 64 });
 * const { ids } = await index.search(queries, 10);
 * ```
 */
export async function loadVectorIndex(path: string, options: LoadIndexOptions = {}): Promise<VectorIndex> {
  const sidecar = readSidecarJson(openArtifactDirectory(path)) as { kind?: unknown } | null;
  const kind = typeof sidecar === 'object' && sidecar !== null ? sidecar.kind : undefined;
  if (kind === FLAT_INDEX_KIND) return loadFlatIndex(path, options);
  if (kind === HNSW_INDEX_KIND) return loadHnswIndex(path, options);
  if (kind === USEARCH_INDEX_KIND) return loadUsearchIndex(path, options);
  throw new GenrecError('FORMAT_VERSION', `${path} holds an index of kind "${String(kind)}", which no loader of @genrec/ann knows (known: ${FLAT_INDEX_KIND}, ${HNSW_INDEX_KIND}, ${USEARCH_INDEX_KIND})`, {
    details: { file: join(path, SIDECAR_FILE) },
  });
}
