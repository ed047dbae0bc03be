import { join } from 'node:path';
import {
  GenrecError,
  MODEL_FILES,
  checkBooleanOption,
  checkIntegerOption,
  checkKnownOptions,
  checkSavedTraining,
  createMatrix,
  openModelFolder,
  resolveSavedSpec,
  storedItemFields,
  type Matrix,
  type RecommenderManifest,
  type Tensor,
} from '@genrec/core';
import { ResidualQuantizer } from '@genrec/semantic-id';
import { tigerParameterShapes } from './graphs.js';
import { ItemCodeTable } from './item-codes.js';
import { resolveTigerSpec, type TigerSpec } from './options.js';
import { TigerModel, type TigerTrainingSummary } from './tiger-model.js';
import { TIGER_FORMAT_VERSION, TIGER_KIND } from './version.js';

/** Runtime settings that may differ from the saved ones. */
export interface LoadTigerOptions {
  /** Worker threads of the decoding step model. @defaultValue the saved spec's */
  workers?: number;
  /** Users per decoding call. @defaultValue the saved spec's */
  inferenceBatchSize?: number;
  /** Beam width of `recommend`. @defaultValue the saved spec's */
  beamWidth?: number;
  /** Renormalise each token over the trie's allowed tokens (see `TigerOptions.renormalize`). @defaultValue the saved spec's */
  renormalize?: boolean;
}

interface TigerManifest extends RecommenderManifest {
  spec: TigerSpec;
  training: TigerTrainingSummary;
  semanticIds: { quantizerLevels: number; levelSizes: number[]; itemTokens: number; hasQuantizer: boolean };
  addedItems: number[];
}

/**
 * Loads a model folder written by `TigerModel.save` (a `RecommenderLoader`: pass it to core's
 * `loadRecommender` as `{ loaders: { tiger: loadTiger } }`). Every file is checked against the
 * folder's checksums, the spec re-validated, and every tensor's name, dtype and shape and every
 * semantic id checked before the model is built; the loaded model gives the same recommendations
 * and scores as the saved one.
 *
 * @param directory - the model folder
 * @param options - runtime settings that may differ from the saved ones
 * @returns the model
 * @throws GenrecError `NOT_FOUND`; `FORMAT_VERSION` for a folder of another model kind or a newer
 * format; `CORRUPT_ARTIFACT` for a changed file, a missing tensor, a wrong shape or invalid codes.
 * @example
 * ```ts
 * const model = await loadTiger('runs/tiger');
 * const top = await model.recommend([[3, 7]], { k: 10 });
 * ```
 */
export async function loadTiger(directory: string, options: LoadTigerOptions = {}): Promise<TigerModel> {
  checkKnownOptions(options, ['workers', 'inferenceBatchSize', 'beamWidth', 'renormalize'], 'loadTiger');
  const folder = openModelFolder<TigerManifest>(directory, TIGER_KIND, [TIGER_FORMAT_VERSION]);
  const source = join(folder.artifact.directory, MODEL_FILES.manifest);
  const weightsFile = join(folder.artifact.directory, MODEL_FILES.weights);
  const corrupt = (message: string, field: string, file = source): GenrecError => new GenrecError('CORRUPT_ARTIFACT', message, { details: { file, field } });
  const { manifest } = folder;
  const itemCount = manifest.description.itemCount;
  let spec = resolveSavedSpec(manifest.spec, resolveTigerSpec, source);
  if (options.workers !== undefined) spec = { ...spec, workers: checkIntegerOption(options.workers, 'workers', 0, 64) };
  if (options.inferenceBatchSize !== undefined) spec = { ...spec, inferenceBatchSize: checkIntegerOption(options.inferenceBatchSize, 'inferenceBatchSize', 1, 65_536) };
  if (options.beamWidth !== undefined) spec = { ...spec, beamWidth: checkIntegerOption(options.beamWidth, 'beamWidth', 1, 65_536) };
  if (options.renormalize !== undefined) spec = { ...spec, renormalize: checkBooleanOption(options.renormalize, 'renormalize') };
  const training = manifest.training;
  checkSavedTraining(training, source);
  const semantic = manifest.semanticIds;
  const q = semantic?.quantizerLevels;
  if (
    typeof semantic !== 'object' ||
    semantic === null ||
    !Number.isInteger(q) ||
    q !== spec.levels ||
    !Array.isArray(semantic.levelSizes) ||
    semantic.levelSizes.length !== q + 1 ||
    semantic.levelSizes.some((size) => !Number.isInteger(size) || size < 1 || size > 16_777_216) ||
    semantic.itemTokens !== spec.itemTokens
  ) {
    throw corrupt('the manifest has no valid semanticIds layout', 'semanticIds');
  }
  const tensors = folder.readTensors();
  const take = (name: string, dtype: Tensor['dtype'], shape: readonly number[]): Tensor => {
    const tensor = tensors.get(name);
    if (!tensor) throw corrupt(`weights.safetensors has no tensor "${name}"`, name, weightsFile);
    if (tensor.dtype !== dtype || tensor.shape.join(',') !== shape.join(',')) {
      throw corrupt(`tensor "${name}" is [${tensor.shape.join(', ')}] ${tensor.dtype}, expected [${shape.join(', ')}] ${dtype}`, name, weightsFile);
    }
    return tensor;
  };
  const width = q + 1;
  const codes = take('semantic_ids.codes', 'int32', [itemCount + 1, width]).data as Int32Array;
  const seen = new Set<string>();
  for (let id = 0; id <= itemCount; id++) {
    const row = codes.subarray(id * width, (id + 1) * width);
    if (row[0]! < 0 || id === 0) {
      if (row.some((code) => code !== -1)) throw corrupt(`semantic_ids.codes row ${id} is partly set`, 'semantic_ids.codes', weightsFile);
      continue;
    }
    for (let l = 0; l < width; l++) {
      if (!(row[l]! >= 0 && row[l]! < semantic.levelSizes[l]!)) throw corrupt(`semantic_ids.codes: item ${id} has code ${row[l]} at level ${l}, outside 0..${semantic.levelSizes[l]! - 1}`, 'semantic_ids.codes', weightsFile);
    }
    const key = row.join(',');
    if (seen.has(key)) throw corrupt(`semantic_ids.codes: two items share the id ${key}`, 'semantic_ids.codes', weightsFile);
    seen.add(key);
  }
  const shape = {
    vocabularySize: 3 + semantic.levelSizes.reduce((sum, size) => sum + size, 0) + semantic.itemTokens,
    tokensPerItem: width,
    contextWidth: width + (semantic.itemTokens > 0 ? 1 : 0),
  };
  const parameters = new Map<string, Float32Array>();
  for (const { name, shape: expected } of tigerParameterShapes(spec, shape)) {
    const data = take(name, 'float32', expected).data as Float32Array;
    for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) throw corrupt(`tensor "${name}" holds ${data[i]} at ${i}`, name, weightsFile);
    parameters.set(name, data);
  }
  let quantizer: ResidualQuantizer | undefined;
  let vectors: Matrix | undefined;
  const vectorTensor = tensors.get('item_vectors');
  if (vectorTensor !== undefined) {
    if (vectorTensor.dtype !== 'float32' || vectorTensor.shape.length !== 2 || vectorTensor.shape[0] !== itemCount) throw corrupt(`item_vectors must be float32 [${itemCount}, dim]`, 'item_vectors', weightsFile);
    vectors = createMatrix(itemCount, vectorTensor.shape[1]!, vectorTensor.data as Float32Array);
  }
  if (semantic.hasQuantizer) {
    const codebooks: Matrix[] = [];
    for (let level = 0; level < q; level++) {
      const name = `semantic_ids.codebook.${level}`;
      const tensor = tensors.get(name);
      if (!tensor || tensor.dtype !== 'float32' || tensor.shape.length !== 2 || tensor.shape[0] !== semantic.levelSizes[level]) {
        throw corrupt(`${name} must be float32 [${semantic.levelSizes[level]}, dim]`, name, weightsFile);
      }
      const data = tensor.data as Float32Array;
      for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) throw corrupt(`${name} holds ${data[i]}`, name, weightsFile);
      codebooks.push(createMatrix(tensor.shape[0]!, tensor.shape[1]!, data));
    }
    if (new Set(codebooks.map((c) => c.cols)).size !== 1) throw corrupt('the codebooks have different dimensions', 'semantic_ids.codebook', weightsFile);
    quantizer = new ResidualQuantizer(codebooks);
  }
  const popularity = take('popularity', 'int32', [itemCount]).data as Int32Array;
  const addedItems = manifest.addedItems ?? [];
  if (!Array.isArray(addedItems) || addedItems.some((id) => !Number.isInteger(id) || id < 1 || id > itemCount || codes[id * width]! < 0)) {
    throw corrupt('addedItems must list item ids that have a semantic id', 'addedItems');
  }
  return new TigerModel({
    spec,
    itemCount,
    parameters,
    codes: new ItemCodeTable(itemCount, q, semantic.levelSizes, codes, quantizer, semantic.itemTokens, spec.lastLevel),
    popularity,
    ...(vectors ? { itemVectors: vectors } : {}),
    dataFingerprint: manifest.description.dataFingerprint,
    training,
    retiredItems: manifest.retiredItems,
    addedItems,
    ...storedItemFields(folder.readItems(), itemCount),
  });
}
