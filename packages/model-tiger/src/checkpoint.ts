import { openTrainingCheckpoint, scheduleBudgetSetting, type OpenedTrainingCheckpoint, type TrainingCheckpointState } from '@genrec/nn';
import type { TigerSpec } from './options.js';

/** `kind` of a TIGER training checkpoint folder's `state.json`. */
export const CHECKPOINT_KIND = 'genrec.tiger-checkpoint';
/** The checkpoint format version this package writes and reads. */
export const CHECKPOINT_VERSION = 1;

/** `state.json` of a TIGER checkpoint (`@genrec/nn`'s training checkpoint state). */
export interface CheckpointState extends TrainingCheckpointState {
  kind: typeof CHECKPOINT_KIND;
}

/**
 * The settings that must agree between a checkpoint and the run that resumes it: every
 * hyper-parameter except runtime settings (threads, workers, inference batch; the beam width is
 * compared) and the epoch budget unless the schedule depends on it (`'cosine'`, the default:
 * `@genrec/nn`'s `scheduleBudgetSetting`), the data fingerprint, the semantic ids' fingerprint and
 * the validation setup.
 */
export function compatibilityOf(spec: TigerSpec, dataFingerprint: string, codesFingerprint: string, earlyStopping: string, validationUsers: number): Record<string, unknown> {
  const { epochs, threads: _threads, workers: _workers, inferenceBatchSize: _inference, ...rest } = spec;
  return { ...rest, ...scheduleBudgetSetting(spec.schedule, epochs), dataFingerprint, codesFingerprint, earlyStopping, validationUsers };
}

/**
 * What the options added after the checkpoint format stand for in a checkpoint written before
 * them (`@genrec/nn`'s `openTrainingCheckpoint` `defaults`): a weight of 1 per item-vector source
 * and no renormalisation.
 */
function laterDefaults(compatibility: Record<string, unknown>): Record<string, unknown> {
  const weights = compatibility.itemVectorWeights;
  return { ...(Array.isArray(weights) ? { itemVectorWeights: weights.map(() => 1) } : {}), renormalize: false };
}

/**
 * Opens a TIGER checkpoint folder (`@genrec/nn`'s `openTrainingCheckpoint`) and checks that it
 * belongs to this run's settings.
 *
 * @throws GenrecError `NOT_FOUND`, `CORRUPT_ARTIFACT`, `FORMAT_VERSION` (not a TIGER checkpoint),
 * `INVALID_OPTION` when it was written with other hyper-parameters or data (naming the first difference).
 */
export function openCheckpoint(directory: string, compatibility: Record<string, unknown>): OpenedTrainingCheckpoint<CheckpointState> {
  return openTrainingCheckpoint<CheckpointState>(directory, CHECKPOINT_KIND, [CHECKPOINT_VERSION], compatibility, { defaults: laterDefaults(compatibility) });
}
