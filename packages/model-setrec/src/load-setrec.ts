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
  type Tensor,
} from '@genrec/core';
import type { DiscreteParts } from './discrete-table.js';
import { resolveSetrecSpec, type SetrecSpec } from './options.js';
import { architectureOf, setrecParameterShapes, slotCount } from './setrec-graph.js';
import { SetrecModel, type SetrecTrainingSummary } from './setrec-model.js';
import { SETREC_FORMAT_VERSION, SETREC_KIND } from './version.js';

/** Runtime settings that may differ from the saved ones. */
export interface LoadSetrecOptions {
  /** onnxruntime threads per operator. @defaultValue the saved spec's */
  threads?: number;
  /** Users per inference run. @defaultValue the saved spec's */
  inferenceBatchSize?: number;
}

interface SetrecManifest extends RecommenderManifest {
  spec: SetrecSpec;
  beta: number;
  variant: 'continuous' | 'discrete';
  training: SetrecTrainingSummary;
  cfDimension: number;
  contentDimension: number;
}

/**
 * Loads a model folder written by `SetrecModel.save` (a `RecommenderLoader`: pass it to core's
 * `loadRecommender` as `{ loaders: { setrec: loadSetrec } }`, or use `@genrec/models`). Every file
 * is checked against the folder's checksums; the spec is re-validated, and every tensor's name,
 * dtype and shape (and every discrete code's range) checked before the model is built. The loaded
 * model gives the same recommendations and scores as the saved one.
 *
 * @param directory - the model folder.
 * @param options - runtime settings that may differ from the saved ones.
 * @returns the model.
 * @throws GenrecError `NOT_FOUND`; `FORMAT_VERSION` for a folder of another model kind or a newer
 * format; `CORRUPT_ARTIFACT` for a changed file, an invalid field, a missing tensor or a wrong shape.
 * @example
 * ```ts
 * const model = await loadSetrec('runs/setrec');
 * const top = await model.recommend([[3, 7]], { k: 10 });
 * ```
 */
export async function loadSetrec(directory: string, options: LoadSetrecOptions = {}): Promise<SetrecModel> {
  checkKnownOptions(options, ['threads', 'inferenceBatchSize'], 'loadSetrec');
  const folder = openModelFolder<SetrecManifest>(directory, SETREC_KIND, [SETREC_FORMAT_VERSION]);
  const source = join(folder.artifact.directory, MODEL_FILES.manifest);
  const weightsFile = join(folder.artifact.directory, MODEL_FILES.weights);
  const corrupt = (message: string, field: string, file = source): GenrecError => new GenrecError('CORRUPT_ARTIFACT', message, { details: { file, field } });
  const { manifest } = folder;
  const itemCount = manifest.description.itemCount;
  let spec = resolveSavedSpec(manifest.spec, resolveSetrecSpec, source);
  if (options.threads !== undefined) spec = { ...spec, threads: checkIntegerOption(options.threads, 'threads', 0, 1024) };
  if (options.inferenceBatchSize !== undefined) spec = { ...spec, inferenceBatchSize: checkIntegerOption(options.inferenceBatchSize, 'inferenceBatchSize', 1, 65_536) };
  const { beta, variant, training, cfDimension, contentDimension } = manifest;
  if (typeof beta !== 'number' || !(beta >= 0 && beta <= 1)) throw corrupt(`the manifest's beta must be a number in [0, 1], found ${JSON.stringify(beta)}`, 'beta');
  if (variant !== 'continuous' && variant !== 'discrete') throw corrupt(`the manifest's variant must be 'continuous' or 'discrete', found ${JSON.stringify(variant)}`, 'variant');
  checkSavedTraining(training, source);
  for (const [field, value] of [['cfDimension', cfDimension], ['contentDimension', contentDimension]] as const) {
    if (!Number.isSafeInteger(value) || value < 1) throw corrupt(`the manifest's ${field} must be a positive integer, found ${JSON.stringify(value)}`, field);
  }
  if (!Number.isSafeInteger(itemCount) || itemCount < 1) throw corrupt(`the description's itemCount must be a positive integer, found ${JSON.stringify(itemCount)}`, 'description.itemCount');
  const architecture = architectureOf(spec, itemCount, cfDimension, contentDimension);
  const tensors = folder.readTensors();
  const take = (name: string, dtype: Tensor['dtype'], shape: readonly number[]): Tensor => {
    const tensor = tensors.get(name);
    if (!tensor) throw corrupt(`weights.safetensors has no tensor "${name}"`, name, weightsFile);
    if (tensor.dtype !== dtype || tensor.shape.join(',') !== shape.join(',')) {
      throw corrupt(`tensor "${name}" is [${tensor.shape.join(', ')}] ${tensor.dtype}, the spec needs [${shape.join(', ')}] ${dtype}`, name, weightsFile);
    }
    if (dtype === 'float32') {
      const data = tensor.data as Float32Array;
      for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) throw corrupt(`tensor "${name}" holds ${data[i]} at ${i}`, name, weightsFile);
    }
    return tensor;
  };
  const parameters = new Map<string, Float32Array>();
  for (const [name, shape] of setrecParameterShapes(architecture)) parameters.set(name, take(name, 'float32', shape).data as Float32Array);
  const cfVectors = take('item.cf', 'float32', [itemCount, cfDimension]).data as Float32Array;
  const content = take('item.content', 'float32', [itemCount, contentDimension]).data as Float32Array;
  const popularity = take('popularity', 'int32', [itemCount]).data as Int32Array;
  for (let j = 0; j < itemCount; j++) if (popularity[j]! < 0) throw corrupt(`popularity of item ${j + 1} is negative`, 'popularity', weightsFile);
  let discrete: DiscreteParts | undefined;
  if (variant === 'discrete') {
    const slots = slotCount(architecture);
    const d = spec.hiddenSize;
    const codes = take('discrete.codes', 'int32', [itemCount, slots]).data as Int32Array;
    const codebooks: Float32Array[] = [];
    const codebookSizes: number[] = [];
    for (let s = 0; s < slots; s++) {
      const tensor = tensors.get(`discrete.codebook.${s}`);
      const size = tensor?.shape[0];
      if (size === undefined || !Number.isSafeInteger(size) || size < 1) throw corrupt(`weights.safetensors has no codebook "discrete.codebook.${s}"`, `discrete.codebook.${s}`, weightsFile);
      codebooks.push(take(`discrete.codebook.${s}`, 'float32', [size, d]).data as Float32Array);
      codebookSizes.push(size);
    }
    for (let i = 0; i < codes.length; i++) {
      const s = i % slots;
      if (!(codes[i]! >= 0 && codes[i]! < codebookSizes[s]!)) throw corrupt(`code ${codes[i]} of item ${Math.floor(i / slots) + 1}, slot ${s} is outside 0..${codebookSizes[s]! - 1}`, 'discrete.codes', weightsFile);
    }
    const width = spec.semanticTokens * d;
    const rotation = tensors.has('discrete.rotation') ? (take('discrete.rotation', 'float32', [width, width]).data as Float32Array) : undefined;
    discrete = { codes, codebooks, codebookSizes, rotation };
  }
  return new SetrecModel({
    spec,
    architecture,
    parameters,
    cfVectors,
    content,
    popularity,
    beta,
    dataFingerprint: manifest.description.dataFingerprint,
    training,
    retiredItems: manifest.retiredItems,
    ...(discrete ? { discrete } : {}),
    ...storedItemFields(folder.readItems(), itemCount),
  });
}
