import { join } from 'node:path';
import { GenrecError, MODEL_FILES, openModelFolder, type RecommenderManifest, type Tensor, type TensorDType, type TensorDataByDType } from '@genrec/core';
import { BASELINE_FORMAT_VERSION, type BaselineState } from './baseline-model.js';
import { itemMetadataFromStored } from './item-metadata.js';

/** A baseline's model folder, opened and checked (see {@link openBaselineFolder}). */
export interface OpenedBaseline {
  /** The state every baseline shares (popularity, description fields, items, retired ids). */
  state: BaselineState;
  /** Reads one tensor of `weights.safetensors`, checking its dtype and (optionally) its shape. */
  tensor<D extends TensorDType>(name: string, dtype: D, shape?: readonly number[]): TensorDataByDType[D];
  /** A `CORRUPT_ARTIFACT` error naming the weights file. */
  corrupt(message: string): GenrecError;
}

/**
 * Opens a baseline model folder of one kind: checks the manifest (kind, versions), reads the
 * weights and `items.json` (every file checked against the folder's checksums) and the shared
 * state. The caller re-checks its hyper-parameters and its own tensors.
 *
 * @throws GenrecError `NOT_FOUND`, `FORMAT_VERSION` (another kind or a newer version), `CORRUPT_ARTIFACT`.
 */
export function openBaselineFolder(directory: string, kind: string): OpenedBaseline {
  if (typeof directory !== 'string' || directory.length === 0) {
    throw new GenrecError('INVALID_INPUT', `load needs a folder path`, { details: { field: 'directory' } });
  }
  const folder = openModelFolder<RecommenderManifest>(directory, kind, [BASELINE_FORMAT_VERSION]);
  const manifestFile = join(folder.artifact.directory, MODEL_FILES.manifest);
  const weightsFile = join(folder.artifact.directory, MODEL_FILES.weights);
  const description = folder.manifest.description;
  const itemCount = description.itemCount;
  const corruptManifest = (message: string): GenrecError => new GenrecError('CORRUPT_ARTIFACT', message, { details: { file: manifestFile } });
  if (typeof description.hyperParameters !== 'object' || description.hyperParameters === null || Array.isArray(description.hyperParameters)) {
    throw corruptManifest('the manifest has no description.hyperParameters object');
  }
  if (typeof description.dataFingerprint !== 'string') throw corruptManifest('the manifest has no description.dataFingerprint');
  const trainingInteractions = description['trainingInteractions'];
  if (typeof trainingInteractions !== 'number' || !Number.isSafeInteger(trainingInteractions) || trainingInteractions < 0) {
    throw corruptManifest('the manifest has no valid description.trainingInteractions');
  }
  if (description.epoch !== 0 && description.epoch !== 1) throw corruptManifest('description.epoch must be 0 or 1 for a baseline');
  const tensors = folder.readTensors();
  const corrupt = (message: string): GenrecError => new GenrecError('CORRUPT_ARTIFACT', message, { details: { file: weightsFile } });
  const tensor = <D extends TensorDType>(name: string, dtype: D, shape?: readonly number[]): TensorDataByDType[D] => {
    const found: Tensor | undefined = tensors.get(name);
    if (found === undefined) throw corrupt(`the weights have no tensor "${name}"`);
    if (found.dtype !== dtype) throw corrupt(`tensor "${name}" is ${found.dtype}, expected ${dtype}`);
    if (shape !== undefined && (found.shape.length !== shape.length || found.shape.some((size, axis) => size !== shape[axis]))) {
      throw corrupt(`tensor "${name}" has shape [${found.shape.join(', ')}], expected [${shape.join(', ')}]`);
    }
    return found.data as TensorDataByDType[D];
  };
  const popularity = tensor('popularity', 'int32', [itemCount]);
  let total = 0;
  for (let j = 0; j < itemCount; j++) {
    if (popularity[j]! < 0) throw corrupt(`tensor "popularity" holds a negative count for item ${j + 1}`);
    total += popularity[j]!;
  }
  if (total !== trainingInteractions) throw corrupt(`tensor "popularity" sums to ${total}, the manifest says ${trainingInteractions} training interactions`);
  return {
    state: {
      itemCount,
      popularity,
      hyperParameters: description.hyperParameters,
      dataFingerprint: description.dataFingerprint,
      trainingInteractions,
      complete: description.epoch === 1,
      items: itemMetadataFromStored(folder.readItems()),
      retired: folder.manifest.retiredItems,
    },
    tensor,
    corrupt,
  };
}

/**
 * Re-checks hyper-parameters read from a manifest with the model's own option checks: an invalid
 * value there means the file was edited or damaged, so `INVALID_OPTION` becomes `CORRUPT_ARTIFACT`.
 */
export function checkStoredHyperParameters<T>(directory: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (GenrecError.isInstance(error) && error.code === 'INVALID_OPTION') {
      throw new GenrecError('CORRUPT_ARTIFACT', `the manifest in ${directory} holds an invalid hyper-parameter: ${error.message}`, { cause: error, details: error.details });
    }
    throw error;
  }
}

/**
 * Checks a compressed-row structure read from a file: `offsets` of length `rows + 1`, starting at 0,
 * non-decreasing, ending at `entries`; every id in `1 .. itemCount`, ascending within a row when
 * `sortedRows`.
 *
 * @throws the error `corrupt` builds, naming the tensor.
 */
export function checkCompressedRows(
  name: string,
  offsets: Int32Array,
  ids: Int32Array,
  rows: number,
  itemCount: number,
  sortedRows: boolean,
  corrupt: (message: string) => GenrecError,
): void {
  if (offsets.length !== rows + 1 || offsets[0] !== 0 || offsets[rows] !== ids.length) {
    throw corrupt(`tensor "${name}" offsets must hold ${rows + 1} entries from 0 to ${ids.length}`);
  }
  // every offset first: non-decreasing from 0 to ids.length keeps each row inside `ids` (a row
  // reaching past the end before a decrease would otherwise be walked, up to 2^31 steps)
  for (let r = 0; r < rows; r++) if (offsets[r + 1]! < offsets[r]!) throw corrupt(`tensor "${name}" offsets decrease at row ${r}`);
  for (let r = 0; r < rows; r++) {
    const from = offsets[r]!;
    const to = offsets[r + 1]!;
    for (let i = from; i < to; i++) {
      const id = ids[i]!;
      if (id < 1 || id > itemCount) throw corrupt(`tensor "${name}" holds item id ${id} outside 1..${itemCount}`);
      if (sortedRows && i > from && id <= ids[i - 1]!) throw corrupt(`tensor "${name}" row ${r} is not strictly ascending`);
    }
  }
}
