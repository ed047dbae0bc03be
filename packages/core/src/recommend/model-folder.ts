import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { ItemCatalog, SequenceDataset } from '../contracts/dataset.js';
import type { ModelDescription, Recommender, RecommenderLoader, RecommenderManifest } from '../contracts/recommender.js';
import { GenrecError } from '../errors.js';
import { openArtifactDirectory, writeArtifactDirectory, type ArtifactDirectory } from '../io/artifact-directory.js';
import { checkManifest } from '../io/manifest.js';
import { decodeSafetensors, encodeSafetensors } from '../io/safetensors.js';
import type { Tensor } from '../io/tensor.js';
import { writeFileAtomic } from '../io/atomic-write.js';

/** Format version of the model folder layout written by {@link writeModelFolder}. */
export const RECOMMENDER_FOLDER_VERSION = 1;

/** Files of a model folder. */
export const MODEL_FILES = { manifest: 'manifest.json', weights: 'weights.safetensors', items: 'items.json' } as const;

/** One catalogue entry stored in a model folder (`items.json`), index = item id - 1. */
export interface StoredItem {
  /** The item's external id (from the source data), when known. */
  externalId?: string;
  /** Its title, when known. */
  title?: string;
}

/** What {@link writeModelFolder} writes. */
export interface ModelFolderContent {
  /** The model kind (`'sasrec'`). */
  model: string;
  /** Version of the model's own content layout. */
  modelFormatVersion: number;
  /** The model's description. */
  description: ModelDescription;
  /** Retired item ids. */
  retiredItems: ArrayLike<number>;
  /** Model-specific manifest fields (spec, vocabulary…), JSON-serialisable. */
  fields?: Record<string, unknown>;
  /** Named tensors stored in `weights.safetensors` (omit for models without weights). */
  tensors?: Record<string, Tensor>;
  /** External item ids by item id (index 0 unused), as `SequenceDataset.externalItemIds`. */
  externalItemIds?: readonly string[];
  /** The item catalogue, for titles. */
  catalog?: ItemCatalog;
  /** Writes further files into the version folder (sub-artifacts such as an index or semantic ids). */
  extra?: (directory: string) => void | Promise<void>;
}

/**
 * Writes a model folder atomically (see `writeArtifactDirectory`): `manifest.json`
 * ({@link RecommenderManifest}), `weights.safetensors`, and `items.json` (external ids and titles
 * by item id, so a service can answer with them). Every file is covered by the folder's checksums.
 */
export async function writeModelFolder(directory: string, content: ModelFolderContent): Promise<void> {
  const { itemCount } = content.description;
  const items: StoredItem[] = new Array(itemCount);
  for (let id = 1; id <= itemCount; id++) {
    const entry: StoredItem = {};
    const externalId = content.externalItemIds?.[id];
    if (externalId !== undefined) entry.externalId = externalId;
    const title = content.catalog?.records[id]?.title;
    if (title !== undefined) entry.title = title;
    items[id - 1] = entry;
  }
  const manifest: RecommenderManifest = {
    ...(content.fields ?? {}),
    kind: 'genrec.recommender',
    formatVersion: RECOMMENDER_FOLDER_VERSION,
    model: content.model,
    modelFormatVersion: content.modelFormatVersion,
    description: content.description,
    retiredItems: Array.from(content.retiredItems),
  };
  await writeArtifactDirectory(directory, async (folder) => {
    writeFileAtomic(join(folder, MODEL_FILES.manifest), JSON.stringify(manifest, null, 2) + '\n');
    if (content.tensors) writeFileAtomic(join(folder, MODEL_FILES.weights), encodeSafetensors(content.tensors));
    writeFileAtomic(join(folder, MODEL_FILES.items), JSON.stringify(items) + '\n');
    await content.extra?.(folder);
  });
}

/** A model folder opened by {@link openModelFolder}. */
export interface OpenedModelFolder<M extends RecommenderManifest = RecommenderManifest> {
  /** The checked manifest. */
  manifest: M;
  /** The opened artifact (read further files through it: checked against the folder's checksums). */
  artifact: ArtifactDirectory;
  /** Reads `weights.safetensors` (checked). */
  readTensors(): Map<string, Tensor>;
  /** Reads `items.json`: external ids and titles, index = item id - 1. */
  readItems(): StoredItem[];
}

/** Reads a model folder's manifest without checking the model kind (for dispatch). */
export function readModelManifest(directory: string): { manifest: RecommenderManifest; artifact: ArtifactDirectory } {
  const artifact = openArtifactDirectory(directory);
  const source = join(artifact.directory, MODEL_FILES.manifest);
  const manifest = checkManifest<RecommenderManifest>(artifact.readJson(MODEL_FILES.manifest), 'genrec.recommender', [RECOMMENDER_FOLDER_VERSION], source);
  if (typeof manifest.model !== 'string' || typeof manifest.modelFormatVersion !== 'number') {
    throw new GenrecError('CORRUPT_ARTIFACT', 'the model manifest has no model kind or model format version', { details: { file: source } });
  }
  const description = manifest.description as Partial<ModelDescription> | undefined;
  if (typeof description !== 'object' || description === null || !Number.isSafeInteger(description.itemCount) || (description.itemCount as number) < 1) {
    throw new GenrecError('CORRUPT_ARTIFACT', 'the model manifest has no valid description.itemCount', { details: { file: source } });
  }
  const itemCount = description.itemCount as number;
  if (!Array.isArray(manifest.retiredItems) || manifest.retiredItems.some((id) => !Number.isInteger(id) || id < 1 || id > itemCount)) {
    throw new GenrecError('CORRUPT_ARTIFACT', `the model manifest's retiredItems must be item ids in 1..${itemCount}`, { details: { file: source } });
  }
  return { manifest, artifact };
}

/**
 * Opens a model folder of one model kind and checks its manifest: the folder kind and version, the
 * model kind, and the model format version.
 *
 * @throws GenrecError `NOT_FOUND`, `CORRUPT_ARTIFACT` (a changed file), `FORMAT_VERSION` (another
 * model kind, or a version this package does not read: a newer one says so).
 */
export function openModelFolder<M extends RecommenderManifest = RecommenderManifest>(
  directory: string,
  model: string,
  supportedVersions: readonly number[],
): OpenedModelFolder<M> {
  const { manifest, artifact } = readModelManifest(directory);
  const source = join(artifact.directory, MODEL_FILES.manifest);
  if (manifest.model !== model) {
    throw new GenrecError('FORMAT_VERSION', `${directory} holds a "${manifest.model}" model, not a "${model}" model`, { details: { file: source, field: 'model' } });
  }
  if (!supportedVersions.includes(manifest.modelFormatVersion)) {
    const newer = manifest.modelFormatVersion > Math.max(...supportedVersions) ? ': it was written by a newer version of the package; upgrade to read it' : '';
    throw new GenrecError(
      'FORMAT_VERSION',
      `"${model}" model format version ${manifest.modelFormatVersion} is not supported (supported: ${supportedVersions.join(', ')})${newer}`,
      { details: { file: source, field: 'modelFormatVersion' } },
    );
  }
  return {
    manifest: manifest as M,
    artifact,
    readTensors: () => decodeSafetensors(artifact.readFile(MODEL_FILES.weights), join(artifact.directory, MODEL_FILES.weights)).tensors,
    readItems() {
      const items = artifact.readJson(MODEL_FILES.items);
      if (!Array.isArray(items) || items.length !== manifest.description.itemCount) {
        throw new GenrecError('CORRUPT_ARTIFACT', `items.json must list ${manifest.description.itemCount} items`, { details: { file: join(artifact.directory, MODEL_FILES.items) } });
      }
      return items as StoredItem[];
    },
  };
}

/** Options of {@link loadRecommender}. */
export interface LoadRecommenderOptions {
  /** Loaders by model kind (`{ sasrec: loadSasrec, popularity: loadPopularity }`). */
  loaders: Readonly<Record<string, RecommenderLoader>>;
}

/**
 * Loads any saved model folder: reads its manifest and hands the folder to the loader of its
 * `model` kind. Loaders are passed in (packages are side-effect free; nothing registers itself on
 * import); `@genrec/models` exports a `loadRecommender` that knows every model package.
 *
 * @throws GenrecError `FORMAT_VERSION` for a model kind without a loader (naming the known ones),
 * and whatever the loader throws.
 * @example
 * ```ts
 * const model = await loadRecommender('runs/sasrec/model', { loaders: { sasrec: loadSasrec } });
 * ```
 */
export async function loadRecommender(directory: string, options: LoadRecommenderOptions): Promise<Recommender> {
  const { manifest, artifact } = readModelManifest(directory);
  const loader = Object.hasOwn(options.loaders, manifest.model) ? options.loaders[manifest.model] : undefined;
  if (loader === undefined) {
    throw new GenrecError('FORMAT_VERSION', `${directory} holds a "${manifest.model}" model; no loader for it was given (known: ${Object.keys(options.loaders).join(', ') || 'none'})`, {
      details: { file: join(artifact.directory, MODEL_FILES.manifest), field: 'model' },
    });
  }
  return loader(directory);
}

/**
 * A short fingerprint of training data: SHA-256 (first 16 hex digits) over the item count, the
 * row offsets and the item ids. Two datasets with the same sequences have the same fingerprint.
 */
export function datasetFingerprint(dataset: Pick<SequenceDataset, 'itemCount' | 'offsets' | 'items'>): string {
  const hash = createHash('sha256');
  hash.update(`genrec-dataset:${dataset.itemCount}:`);
  hash.update(new Uint8Array(dataset.offsets.buffer, dataset.offsets.byteOffset, dataset.offsets.byteLength));
  hash.update(new Uint8Array(dataset.items.buffer, dataset.items.byteOffset, dataset.items.byteLength));
  return hash.digest('hex').slice(0, 16);
}
