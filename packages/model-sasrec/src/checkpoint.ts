import type { RngState } from '@genrec/core';
import { openTrainingCheckpoint, type OpenedTrainingCheckpoint, type TrainingCheckpointState } from '@genrec/nn';
import type { SasrecSpec } from './options.js';

/** `kind` of a SASRec training checkpoint folder's `state.json`. */
export const CHECKPOINT_KIND = 'genrec.sasrec-checkpoint';
/** The checkpoint format version this package writes and reads. */
export const CHECKPOINT_VERSION = 1;

/** `state.json` of a SASRec checkpoint: `@genrec/nn`'s training checkpoint state and the negative-sampling stream. */
export interface CheckpointState extends TrainingCheckpointState {
  kind: typeof CHECKPOINT_KIND;
  /** State of the negative-sampling generator. */
  samplerRng: RngState;
}

/** The settings that must agree between a checkpoint and the run that resumes it. */
export function compatibilityOf(spec: SasrecSpec, dataFingerprint: string, earlyStopping: string, validationUsers: number): Record<string, unknown> {
  const { epochs: _epochs, threads: _threads, inferenceBatchSize: _inference, ...rest } = spec;
  return { ...rest, dataFingerprint, earlyStopping, validationUsers };
}

/**
 * Opens a SASRec checkpoint folder (`@genrec/nn`'s `openTrainingCheckpoint`) and checks that it
 * belongs to this run's settings.
 *
 * @throws GenrecError `NOT_FOUND`, `CORRUPT_ARTIFACT`, `FORMAT_VERSION` (not a SASRec checkpoint),
 * `INVALID_OPTION` when it was written with other hyper-parameters or data (naming the first difference).
 */
export function openCheckpoint(directory: string, compatibility: Record<string, unknown>): OpenedTrainingCheckpoint<CheckpointState> {
  return openTrainingCheckpoint<CheckpointState>(directory, CHECKPOINT_KIND, [CHECKPOINT_VERSION], compatibility);
}
