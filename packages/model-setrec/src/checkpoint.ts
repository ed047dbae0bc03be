import { createHash } from 'node:crypto';
import { join } from 'node:path';
import {
  GenrecError,
  checkManifest,
  decodeSafetensors,
  encodeSafetensors,
  openArtifactDirectory,
  writeArtifactDirectory,
  writeFileAtomic,
  type RngState,
  type Tensor,
} from '@genrec/core';
import type { Trainer } from '@genrec/nn';
import type { SetrecSpec } from './options.js';

/** `kind` of a SETRec training checkpoint folder's `state.json`. */
export const CHECKPOINT_KIND = 'genrec.setrec-checkpoint';
const CHECKPOINT_VERSION = 1;
const FILES = { state: 'state.json', trainer: 'trainer.safetensors', best: 'best.safetensors', frozen: 'frozen.safetensors' } as const;

/** Everything besides the trainer that a resumed fit needs to continue exactly. */
export interface CheckpointState {
  [field: string]: unknown;
  kind: typeof CHECKPOINT_KIND;
  formatVersion: number;
  /** Epochs completed. */
  epoch: number;
  /** The hyper-parameters that must match on resume (everything but the epoch budget and runtime settings). */
  compatibility: Record<string, unknown>;
  /** State of the batch-order generator after `epoch` epochs. */
  orderRng: RngState;
  /** Best epoch so far on the early-stopping metric (0 = none). */
  bestEpoch: number;
  /** Its metric value. */
  bestValue: number | null;
  /** Validation metrics of the best epoch. */
  bestValidation: Record<string, number> | null;
  /** Epochs since the best one. */
  sinceBest: number;
  /** Whether early stopping already ended this run. */
  stoppedEarly: boolean;
  /** Mean loss of every epoch so far. */
  losses: number[];
  /** Whether `best.safetensors` holds the best epoch's weights (otherwise they are the trainer's). */
  hasBestWeights: boolean;
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

/** The settings that must agree between a checkpoint and the run that resumes it. */
export function compatibilityOf(spec: SetrecSpec, dataFingerprint: string, earlyStopping: string, validationUsers: number, contentHash: string, cfHash: string | undefined): Record<string, unknown> {
  const { epochs: _epochs, threads: _threads, inferenceBatchSize: _inference, ...rest } = spec;
  return { ...rest, dataFingerprint, earlyStopping, validationUsers, contentHash, ...(cfHash === undefined ? {} : { cfHash }) };
}

/** SHA-256 of a float array's bytes (hex), to recognise the same item inputs on resume. */
export function hashFloats(data: Float32Array): string {
  return createHash('sha256').update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)).digest('hex');
}

/**
 * Writes a checkpoint folder atomically (`writeArtifactDirectory`: a new version, then the
 * `CURRENT` pointer switches): the trainer's parameters, Adam moments, step counter and dropout
 * stream (`trainer.safetensors`), the best epoch's weights when they differ from the current ones
 * (`best.safetensors`), and `state.json`.
 */
export async function writeCheckpoint(directory: string, trainer: Trainer, state: CheckpointState, best: ReadonlyMap<string, Float32Array> | undefined, frozen: FrozenInputs): Promise<void> {
  await writeArtifactDirectory(directory, (folder) => {
    trainer.saveCheckpoint(join(folder, FILES.trainer));
    const rows = frozen.cf.length / frozen.cfDimension;
    writeFileAtomic(join(folder, FILES.frozen), encodeSafetensors({ 'item.cf': { dtype: 'float32', shape: [rows, frozen.cfDimension], data: frozen.cf } }));
    if (best && state.hasBestWeights) {
      const tensors: Record<string, Tensor> = {};
      for (const [name, data] of best) tensors[name] = { dtype: 'float32', shape: [data.length], data };
      writeFileAtomic(join(folder, FILES.best), encodeSafetensors(tensors));
    }
    writeFileAtomic(join(folder, FILES.state), JSON.stringify(state, null, 1) + '\n');
  });
}

/** A checkpoint opened for resuming. */
export interface OpenedCheckpoint {
  state: CheckpointState;
  /** Path of the verified trainer file (for `Trainer.loadCheckpoint`). */
  trainerPath: string;
  /** The best epoch's weights (flat), when stored. */
  best: Map<string, Float32Array> | undefined;
  /** The frozen CF vectors the run used. */
  cf: { data: Float32Array; dimension: number };
}

/**
 * Opens a checkpoint folder and checks that it belongs to this run's settings.
 *
 * @throws GenrecError `NOT_FOUND`, `CORRUPT_ARTIFACT`, `FORMAT_VERSION` (not a SETRec checkpoint),
 * `INVALID_OPTION` when it was written with other hyper-parameters or data (naming the first difference).
 */
export function openCheckpoint(directory: string, compatibility: Record<string, unknown>): OpenedCheckpoint {
  const artifact = openArtifactDirectory(directory);
  const source = join(artifact.directory, FILES.state);
  const state = checkManifest<CheckpointState>(artifact.readJson(FILES.state), CHECKPOINT_KIND, [CHECKPOINT_VERSION], source);
  for (const key of new Set([...Object.keys(compatibility), ...Object.keys(state.compatibility ?? {})])) {
    const mine = JSON.stringify(compatibility[key]);
    const theirs = JSON.stringify(state.compatibility?.[key]);
    if (mine !== theirs) {
      throw new GenrecError('INVALID_OPTION', `resumeFrom: the checkpoint in ${directory} was written with ${key} = ${theirs}, this run has ${mine}`, { details: { field: 'resumeFrom', file: source } });
    }
  }
  let best: Map<string, Float32Array> | undefined;
  if (state.hasBestWeights) {
    const content = decodeSafetensors(artifact.readFile(FILES.best), join(artifact.directory, FILES.best));
    best = new Map([...content.tensors].map(([name, tensor]) => [name, (tensor.data as Float32Array).slice()]));
  }
  const frozenPath = join(artifact.directory, FILES.frozen);
  const cf = decodeSafetensors(artifact.readFile(FILES.frozen), frozenPath).tensors.get('item.cf');
  if (!cf || cf.dtype !== 'float32' || cf.shape.length !== 2) throw new GenrecError('CORRUPT_ARTIFACT', 'the checkpoint has no float32 [items, d] tensor "item.cf"', { details: { file: frozenPath } });
  return { state, trainerPath: artifact.verifiedPath(FILES.trainer), best, cf: { data: (cf.data as Float32Array).slice(), dimension: cf.shape[1]! } };
}
