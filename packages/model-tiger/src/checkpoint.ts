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
import type { TigerSpec } from './options.js';

/** `kind` of a TIGER training checkpoint folder's `state.json`. */
export const CHECKPOINT_KIND = 'genrec.tiger-checkpoint';
const CHECKPOINT_VERSION = 1;
const FILES = { state: 'state.json', trainer: 'trainer.safetensors', best: 'best.safetensors' } as const;

/** Everything besides the trainer that a resumed fit needs to continue exactly. */
export interface CheckpointState {
  [field: string]: unknown;
  kind: typeof CHECKPOINT_KIND;
  formatVersion: number;
  /** Epochs completed. */
  epoch: number;
  /** Settings that must match on resume (everything but the epoch budget and runtime settings). */
  compatibility: Record<string, unknown>;
  /** State of the batch-order generator after `epoch` epochs. */
  orderRng: RngState;
  /** Best epoch so far on the early-stopping metric (0 = none). */
  bestEpoch: number;
  bestValue: number | null;
  bestValidation: Record<string, number> | null;
  sinceBest: number;
  stoppedEarly: boolean;
  /** Mean loss of every epoch so far. */
  losses: number[];
  /** Whether `best.safetensors` holds the best epoch's weights (otherwise they are the trainer's). */
  hasBestWeights: boolean;
}

/**
 * The settings that must agree between a checkpoint and the run that resumes it: every
 * hyper-parameter except the epoch budget and runtime settings (threads, workers, inference batch,
 * beam), the data fingerprint, the semantic ids' fingerprint and the validation setup.
 */
export function compatibilityOf(spec: TigerSpec, dataFingerprint: string, codesFingerprint: string, earlyStopping: string, validationUsers: number): Record<string, unknown> {
  const { epochs: _epochs, threads: _threads, workers: _workers, inferenceBatchSize: _inference, ...rest } = spec;
  return { ...rest, dataFingerprint, codesFingerprint, earlyStopping, validationUsers };
}

/**
 * Writes a checkpoint folder atomically (a new version, then the `CURRENT` pointer): the trainer's
 * parameters, AdamW moments, step counter and dropout stream, the best epoch's weights when they
 * differ from the current ones, and `state.json`.
 */
export async function writeCheckpoint(directory: string, trainer: Trainer, state: CheckpointState, best: ReadonlyMap<string, Float32Array> | undefined): Promise<void> {
  await writeArtifactDirectory(directory, (folder) => {
    trainer.saveCheckpoint(join(folder, FILES.trainer));
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
}

/**
 * Opens a checkpoint folder and checks that it belongs to this run's settings.
 *
 * @throws GenrecError `NOT_FOUND`, `CORRUPT_ARTIFACT`, `FORMAT_VERSION` (not a TIGER checkpoint),
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
  return { state, trainerPath: artifact.verifiedPath(FILES.trainer), best };
}
