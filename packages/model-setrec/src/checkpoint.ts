import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { GenrecError, decodeSafetensors, encodeSafetensors, writeFileAtomic } from '@genrec/core';
import { openTrainingCheckpoint, scheduleBudgetSetting, type OpenedTrainingCheckpoint, type TrainingCheckpointState } from '@genrec/nn';
import type { SetrecSpec } from './options.js';

/** `kind` of a SETRec training checkpoint folder's `state.json`. */
export const CHECKPOINT_KIND = 'genrec.setrec-checkpoint';
/** The checkpoint format version this package writes and reads. */
export const CHECKPOINT_VERSION = 1;
/** SETRec's own file in a checkpoint folder, besides `@genrec/nn`'s: the frozen CF vectors. */
const FROZEN_FILE = 'frozen.safetensors';

/** `state.json` of a SETRec checkpoint: `@genrec/nn`'s training checkpoint state and the β of the best epoch. */
export interface CheckpointState extends TrainingCheckpointState {
  kind: typeof CHECKPOINT_KIND;
  /** β of the best epoch. */
  bestBeta: number;
  /** Where β came from. */
  betaSource: 'validation' | 'given' | 'fallback';
  /** The β search of the best epoch, when β is chosen on validation. */
  bestBetaSearch: { beta: number; value: number }[] | null;
}

/** The frozen item inputs stored with a checkpoint (a resumed fit skips SASRec pre-training). */
export interface FrozenInputs {
  cf: Float32Array;
  cfDimension: number;
}

/**
 * The settings that must agree between a checkpoint and the run that resumes it: every
 * hyper-parameter but the runtime settings and the epoch budget unless the schedule depends on it
 * (`'cosine'`: `@genrec/nn`'s `scheduleBudgetSetting`), the data and validation setup, the item
 * inputs' hashes.
 */
export function compatibilityOf(spec: SetrecSpec, dataFingerprint: string, earlyStopping: string, validationUsers: number, contentHash: string, cfHash: string | undefined): Record<string, unknown> {
  const { epochs, threads: _threads, inferenceBatchSize: _inference, ...rest } = spec;
  return { ...rest, ...scheduleBudgetSetting(spec.schedule, epochs), dataFingerprint, earlyStopping, validationUsers, contentHash, ...(cfHash === undefined ? {} : { cfHash }) };
}

/**
 * What the settings added after the checkpoint format stand for in a checkpoint written before
 * them (`@genrec/nn`'s `openTrainingCheckpoint` `defaults`): the constant rate without warm-up.
 */
const LATER_DEFAULTS = { schedule: 'constant', warmupSteps: 0 };

/** SHA-256 of a float array's bytes (hex), to recognise the same item inputs on resume. */
export function hashFloats(data: Float32Array): string {
  return createHash('sha256').update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)).digest('hex');
}

/**
 * Writes the frozen CF vectors into a checkpoint's version folder (`frozen.safetensors`, tensor
 * `item.cf` `[items, d]`): the `writeFiles` argument of `@genrec/nn`'s `writeTrainingCheckpoint`.
 */
export function writeFrozenInputs(folder: string, frozen: FrozenInputs): void {
  const rows = frozen.cf.length / frozen.cfDimension;
  writeFileAtomic(join(folder, FROZEN_FILE), encodeSafetensors({ 'item.cf': { dtype: 'float32', shape: [rows, frozen.cfDimension], data: frozen.cf } }));
}

/** A SETRec checkpoint opened for resuming. */
export interface OpenedCheckpoint extends OpenedTrainingCheckpoint<CheckpointState> {
  /** The frozen CF vectors the run used. */
  cf: { data: Float32Array; dimension: number };
}

/**
 * Opens a SETRec checkpoint folder (`@genrec/nn`'s `openTrainingCheckpoint`), checks that it
 * belongs to this run's settings and reads its frozen CF vectors.
 *
 * @throws GenrecError `NOT_FOUND`, `CORRUPT_ARTIFACT`, `FORMAT_VERSION` (not a SETRec checkpoint),
 * `INVALID_OPTION` when it was written with other hyper-parameters or data (naming the first difference).
 */
export function openCheckpoint(directory: string, compatibility: Record<string, unknown>): OpenedCheckpoint {
  const opened = openTrainingCheckpoint<CheckpointState>(directory, CHECKPOINT_KIND, [CHECKPOINT_VERSION], compatibility, { defaults: LATER_DEFAULTS });
  const frozenPath = join(opened.artifact.directory, FROZEN_FILE);
  const cf = decodeSafetensors(opened.artifact.readFile(FROZEN_FILE), frozenPath).tensors.get('item.cf');
  if (!cf || cf.dtype !== 'float32' || cf.shape.length !== 2) throw new GenrecError('CORRUPT_ARTIFACT', 'the checkpoint has no float32 [items, d] tensor "item.cf"', { details: { file: frozenPath } });
  return { ...opened, cf: { data: (cf.data as Float32Array).slice(), dimension: cf.shape[1]! } };
}
