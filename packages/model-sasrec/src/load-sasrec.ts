import { join } from 'node:path';
import {
  GenrecError,
  MODEL_FILES,
  checkIntegerOption,
  checkKnownOptions,
  checkSavedTraining,
  openModelFolder,
  resolveSavedSpec,
  storedItemFields,
  type RecommenderManifest,
} from '@genrec/core';
import { resolveSasrecSpec, type SasrecSpec } from './options.js';
import { sasrecParameterShapes } from './sasrec-graph.js';
import { SasrecModel, architectureOf, type SasrecTrainingSummary } from './sasrec-model.js';
import { SASREC_FORMAT_VERSION, SASREC_KIND } from './version.js';

/** Runtime settings that may differ from the saved ones. */
export interface LoadSasrecOptions {
  /** onnxruntime threads per operator. @defaultValue the saved spec's */
  threads?: number;
  /** Users per inference run. @defaultValue the saved spec's */
  inferenceBatchSize?: number;
}

interface SasrecManifest extends RecommenderManifest {
  spec: SasrecSpec;
  training: SasrecTrainingSummary;
}

/**
 * Loads a model folder written by `SasrecModel.save` (a `RecommenderLoader`: pass it to core's
 * `loadRecommender` as `{ loaders: { sasrec: loadSasrec } }`). Every file is checked against the
 * folder's checksums, the spec is re-validated and every tensor's name and shape checked before
 * the model is built; the loaded model gives the same recommendations and scores as the saved one.
 *
 * @param directory - the model folder.
 * @param options - runtime settings that may differ from the saved ones.
 * @throws GenrecError `NOT_FOUND`; `FORMAT_VERSION` for a folder of another model kind or a newer
 * format; `CORRUPT_ARTIFACT` for a changed file, a missing tensor or a wrong shape.
 * @example
 * ```ts
 * const model = await loadSasrec('runs/sasrec');
 * const top = await model.recommend([[3, 7]], { k: 10 });
 * ```
 */
export async function loadSasrec(directory: string, options: LoadSasrecOptions = {}): Promise<SasrecModel> {
  checkKnownOptions(options, ['threads', 'inferenceBatchSize'], 'loadSasrec');
  const folder = openModelFolder<SasrecManifest>(directory, SASREC_KIND, [SASREC_FORMAT_VERSION]);
  const source = join(folder.artifact.directory, MODEL_FILES.manifest);
  const { manifest } = folder;
  const itemCount = manifest.description.itemCount;
  let spec = resolveSavedSpec(manifest.spec, resolveSasrecSpec, source);
  if (options.threads !== undefined) spec = { ...spec, threads: checkIntegerOption(options.threads, 'threads', 0, 1024) };
  if (options.inferenceBatchSize !== undefined) spec = { ...spec, inferenceBatchSize: checkIntegerOption(options.inferenceBatchSize, 'inferenceBatchSize', 1, 65_536) };
  const training = manifest.training;
  checkSavedTraining(training, source);
  const tensors = folder.readTensors();
  const weightsFile = join(folder.artifact.directory, MODEL_FILES.weights);
  const parameters = new Map<string, Float32Array>();
  for (const [name, shape] of sasrecParameterShapes(architectureOf(spec, itemCount))) {
    const tensor = tensors.get(name);
    if (!tensor) throw new GenrecError('CORRUPT_ARTIFACT', `weights.safetensors has no tensor "${name}"`, { details: { file: weightsFile, field: name } });
    if (tensor.dtype !== 'float32' || tensor.shape.join(',') !== shape.join(',')) {
      throw new GenrecError('CORRUPT_ARTIFACT', `tensor "${name}" is [${tensor.shape.join(', ')}] ${tensor.dtype}, the spec needs [${shape.join(', ')}] float32`, { details: { file: weightsFile, field: name } });
    }
    parameters.set(name, tensor.data as Float32Array);
  }
  const popularity = tensors.get('popularity');
  if (!popularity || popularity.dtype !== 'int32' || popularity.shape.join(',') !== String(itemCount)) {
    throw new GenrecError('CORRUPT_ARTIFACT', `weights.safetensors needs "popularity" int32 [${itemCount}]`, { details: { file: weightsFile, field: 'popularity' } });
  }
  return new SasrecModel({
    spec,
    itemCount,
    parameters,
    popularity: popularity.data as Int32Array,
    dataFingerprint: manifest.description.dataFingerprint,
    training,
    retiredItems: manifest.retiredItems,
    ...storedItemFields(folder.readItems(), itemCount),
  });
}
