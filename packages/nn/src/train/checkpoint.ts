import { GenrecError, Rng, type RngState, type SafetensorsContent } from '@genrec/core';

/** The `kind` in a trainer checkpoint's safetensors metadata. */
export const CHECKPOINT_KIND = 'genrec-nn-checkpoint';
/** The checkpoint format version this genrec writes and reads. */
export const CHECKPOINT_FORMAT_VERSION = '1';

const CHECKPOINT_FIELDS = ['kind', 'formatVersion', 'step', 'optimizer', 'rng'] as const;
const OPTIMIZER_SLOT = /^optimizer\.([a-z]+)\.(.+)$/;

/** What the trainer holds, which a checkpoint must match. */
export interface CheckpointExpectation {
  /** Every parameter with its shape and dtype. */
  readonly parameters: ReadonlyMap<string, { readonly shape: readonly number[]; readonly dtype: 'float32' | 'float64' }>;
  /** The trainer's optimizer state slots (`optimizer.<slot>.<param>`) with their dtypes. */
  readonly state: ReadonlyMap<string, 'float32' | 'float64'>;
  /** The trainer's optimizer kind (`'adam'`, `'sgd'`…). */
  readonly optimizerKind: string;
}

/** What loading a checkpoint will set, built and checked before anything is replaced. */
export interface CheckpointPlan {
  /** New parameter values (copies). */
  readonly parameters: Map<string, Float32Array | Float64Array>;
  /** Optimizer state, step counter and dropout generator, when the checkpoint restores them. */
  readonly resume?: { readonly state: Map<string, Float32Array | Float64Array>; readonly step: number; readonly rng: Rng };
}

/**
 * Checks a checkpoint's content against the trainer and plans the load. Nothing is mutated, so a
 * failure leaves the trainer as it was.
 *
 * - A genrec checkpoint (metadata with any of `kind`, `formatVersion`, `step`, `optimizer`, `rng`)
 *   needs `kind` {@link CHECKPOINT_KIND} and `formatVersion` {@link CHECKPOINT_FORMAT_VERSION};
 *   `step` a non-negative integer in decimal; `rng` the JSON of an Rng state (4 unsigned 32-bit
 *   words, `spareNormal` null or finite); `optimizer` `'none'` or an optimizer kind; its tensors
 *   exactly the model's parameters plus `optimizer.<slot>.<param>` state of the parameters' shapes.
 *   The optimizer state, step and generator are restored when `optimizer` is the trainer's own
 *   kind and every state slot of the trainer is present; otherwise (another optimizer, another
 *   `trainable` set, a checkpoint saved without state) only the parameters are loaded.
 * - Any other safetensors file is plain weights: every parameter must be present; other tensors
 *   are ignored.
 * - Every parameter's dtype and shape must match. Non-finite values are refused by the caller
 *   (`readSafetensors(path, { requireFinite: true })`).
 *
 * @param content - the decoded safetensors file
 * @param expected - what the trainer holds
 * @param file - the path, for error details
 * @returns the plan
 * @throws GenrecError `FORMAT_VERSION` for another kind or version, `CORRUPT_ARTIFACT` for
 * anything else that does not match.
 */
export function planCheckpointLoad(content: SafetensorsContent, expected: CheckpointExpectation, file: string): CheckpointPlan {
  const { tensors, metadata } = content;
  const corrupt = (message: string, field?: string): never => {
    throw new GenrecError('CORRUPT_ARTIFACT', `checkpoint ${message}`, { details: field === undefined ? { file } : { file, field } });
  };
  const isCheckpoint = CHECKPOINT_FIELDS.some((field) => Object.hasOwn(metadata, field));
  if (isCheckpoint) {
    if (metadata.kind !== CHECKPOINT_KIND) {
      throw new GenrecError('FORMAT_VERSION', `expected a checkpoint of kind "${CHECKPOINT_KIND}", found ${JSON.stringify(metadata.kind ?? null)}`, { details: { file, field: 'kind' } });
    }
    if (metadata.formatVersion !== CHECKPOINT_FORMAT_VERSION) {
      throw new GenrecError(
        'FORMAT_VERSION',
        `checkpoint format version ${JSON.stringify(metadata.formatVersion ?? null)} is not supported by this version of genrec (supported: ${CHECKPOINT_FORMAT_VERSION})`,
        { details: { file, field: 'formatVersion' } },
      );
    }
  }

  const parameters = new Map<string, Float32Array | Float64Array>();
  for (const [name, info] of expected.parameters) {
    const tensor = tensors.get(name);
    if (!tensor) corrupt(`has no tensor "${name}"`, name);
    if (tensor!.dtype !== info.dtype || tensor!.shape.join(',') !== info.shape.join(',')) {
      corrupt(`tensor "${name}" is [${tensor!.shape.join(', ')}] ${tensor!.dtype}, the model needs [${info.shape.join(', ')}] ${info.dtype}`, name);
    }
    parameters.set(name, (tensor!.data as Float32Array | Float64Array).slice());
  }
  if (!isCheckpoint) return { parameters };

  // every tensor is a parameter or optimizer state of one, with the parameter's shape
  for (const [name, tensor] of tensors) {
    if (expected.parameters.has(name)) continue;
    const slot = OPTIMIZER_SLOT.exec(name);
    const owner = slot ? expected.parameters.get(slot[2]!) : undefined;
    if (!owner) corrupt(`tensor "${name}" is neither a parameter of the model nor optimizer state of one`, name);
    if (tensor.dtype !== owner!.dtype || tensor.shape.join(',') !== owner!.shape.join(',')) {
      corrupt(`optimizer state "${name}" is [${tensor.shape.join(', ')}] ${tensor.dtype}, its parameter is [${owner!.shape.join(', ')}] ${owner!.dtype}`, name);
    }
  }
  const step = metadata.step;
  if (typeof step !== 'string' || !/^(0|[1-9][0-9]*)$/.test(step) || !Number.isSafeInteger(Number(step))) {
    corrupt(`step must be a non-negative integer, found ${JSON.stringify(step ?? null)}`, 'step');
  }
  const rng = parseRng(metadata.rng, corrupt);
  const optimizer = metadata.optimizer;
  if (typeof optimizer !== 'string' || !/^[a-z]+$/.test(optimizer)) corrupt(`optimizer must be "none" or an optimizer kind, found ${JSON.stringify(optimizer ?? null)}`, 'optimizer');
  const slots = [...tensors.keys()].filter((name) => OPTIMIZER_SLOT.test(name));
  if (optimizer === 'none') {
    if (slots.length > 0) corrupt(`says it holds no optimizer state but has "${slots[0]}"`, slots[0]);
    return { parameters };
  }
  // state of another optimizer, or not for every parameter this trainer trains (another
  // `trainable` set): the weights only
  if (optimizer !== expected.optimizerKind || [...expected.state.keys()].some((name) => !tensors.has(name))) return { parameters };
  const state = new Map<string, Float32Array | Float64Array>();
  for (const [name, dtype] of expected.state) {
    const tensor = tensors.get(name)!;
    if (tensor.dtype !== dtype) corrupt(`optimizer state "${name}" is ${tensor.dtype}, the trainer needs ${dtype}`, name);
    state.set(name, (tensor.data as Float32Array | Float64Array).slice());
  }
  return { parameters, resume: { state, step: Number(step), rng } };
}

function parseRng(text: string | undefined, corrupt: (message: string, field?: string) => never): Rng {
  let state: unknown;
  try {
    state = JSON.parse(text ?? '');
  } catch {
    return corrupt(`rng is not JSON: ${JSON.stringify((text ?? '').slice(0, 80))}`, 'rng');
  }
  const { words, spareNormal } = (typeof state === 'object' && state !== null ? state : {}) as Partial<RngState>;
  // all-zero words are not a state xoshiro128** reaches (it would return zeros forever)
  const wordsOk =
    Array.isArray(words) && words.length === 4 && words.every((word) => Number.isInteger(word) && word >= 0 && word <= 0xffffffff) && words.some((word) => word !== 0);
  const spareOk = spareNormal === null || (typeof spareNormal === 'number' && Number.isFinite(spareNormal));
  if (!wordsOk || !spareOk) corrupt('rng must be {"words": [4 unsigned 32-bit integers, not all 0], "spareNormal": null or a finite number}', 'rng');
  return Rng.fromState({ words: words!, spareNormal: spareNormal! });
}
