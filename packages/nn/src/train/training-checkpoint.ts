import { join } from 'node:path';
import {
  GenrecError,
  checkManifest,
  decodeSafetensors,
  encodeSafetensors,
  openArtifactDirectory,
  writeArtifactDirectory,
  writeFileAtomic,
  type ArtifactDirectory,
  type EpochLoopState,
  type EpochSnapshot,
  type RngState,
  type Tensor,
} from '@genrec/core';
import type { Trainer } from './trainer.js';

/** The files of a fit's checkpoint folder (a model may add its own, e.g. SETRec's `frozen.safetensors`). */
export const TRAINING_CHECKPOINT_FILES = { state: 'state.json', trainer: 'trainer.safetensors', best: 'best.safetensors' } as const;

/**
 * `state.json` of a fit's checkpoint folder: everything besides the trainer (parameters, optimizer
 * moments, step counter, dropout stream: `trainer.safetensors`) that a resumed fit needs to
 * continue exactly. Models add their own fields (random streams, SETRec's β).
 */
export interface TrainingCheckpointState extends EpochLoopState {
  [field: string]: unknown;
  /** The model's checkpoint kind (`'genrec.sasrec-checkpoint'`). */
  kind: string;
  formatVersion: number;
  /** The settings that must match on resume (everything but the epoch budget and runtime settings). */
  compatibility: Record<string, unknown>;
  /** State of the batch-order generator after `epoch` epochs. */
  orderRng: RngState;
  /** Whether `best.safetensors` holds the best epoch's weights (otherwise they are the trainer's). */
  hasBestWeights: boolean;
}

/**
 * The `state.json` of an epoch: `kind`, `formatVersion`, `epoch`, `compatibility`, the model's
 * random streams (`orderRng` first), the loop's early-stopping state and losses,
 * `hasBestWeights`, then the model's own fields, in that order.
 *
 * @param header - the checkpoint kind, format version and compatibility settings.
 * @param snapshot - the loop's state after the epoch (`fitEpochs`' `afterEpoch` argument).
 * @param streams - the random streams' states, `orderRng` first (`{ orderRng, samplerRng }`).
 * @param fields - further model fields, written last.
 * @returns the state to pass to {@link writeTrainingCheckpoint}.
 * @example
 * ```ts
 * const state = trainingCheckpointState({ kind: 'genrec.mine-checkpoint', formatVersion: 1, compatibility }, snapshot, { orderRng: orderRng.getState() });
 * ```
 */
export function trainingCheckpointState<Kind extends string, Streams extends { orderRng: RngState }, Fields extends Record<string, unknown> = Record<never, never>>(
  header: { kind: Kind; formatVersion: number; compatibility: Record<string, unknown> },
  snapshot: EpochSnapshot<unknown>,
  streams: Streams,
  fields?: Fields,
): TrainingCheckpointState & { kind: Kind } & Streams & Fields {
  return {
    kind: header.kind,
    formatVersion: header.formatVersion,
    epoch: snapshot.epoch,
    compatibility: header.compatibility,
    ...streams,
    bestEpoch: snapshot.bestEpoch,
    bestValue: snapshot.bestValue,
    bestValidation: snapshot.bestValidation,
    sinceBest: snapshot.sinceBest,
    stoppedEarly: snapshot.stoppedEarly,
    losses: snapshot.losses,
    hasBestWeights: snapshot.hasBestWeights,
    ...(fields ?? ({} as Fields)),
  };
}

/**
 * Writes a fit's checkpoint folder atomically (`writeArtifactDirectory`: a new version, then the
 * `CURRENT` pointer switches): the trainer's parameters, optimizer moments, step counter and
 * dropout stream (`trainer.safetensors`), the model's own files (`writeFiles`), the best epoch's
 * weights when they differ from the current ones (`best.safetensors`, flat float32 tensors, only
 * when `state.hasBestWeights`), and `state.json`.
 *
 * @param directory - the checkpoint folder (`checkpointDirectory`).
 * @param trainer - the fit's trainer.
 * @param state - the state (see {@link trainingCheckpointState}).
 * @param best - the best epoch's weights, when early stopping keeps them.
 * @param writeFiles - writes further files into the version folder before `best` and `state`.
 * @returns when the folder's `CURRENT` pointer names the new version.
 * @throws GenrecError `IO_ERROR` when the folder cannot be written.
 * @example
 * ```ts
 * await writeTrainingCheckpoint('runs/ckpt', trainer, state, snapshot.best);
 * ```
 */
export async function writeTrainingCheckpoint(
  directory: string,
  trainer: Pick<Trainer, 'saveCheckpoint'>,
  state: TrainingCheckpointState,
  best: ReadonlyMap<string, Float32Array> | undefined,
  writeFiles?: (folder: string) => void,
): Promise<void> {
  await writeArtifactDirectory(directory, (folder) => {
    trainer.saveCheckpoint(join(folder, TRAINING_CHECKPOINT_FILES.trainer));
    writeFiles?.(folder);
    if (best && state.hasBestWeights) {
      const tensors: Record<string, Tensor> = {};
      for (const [name, data] of best) tensors[name] = { dtype: 'float32', shape: [data.length], data };
      writeFileAtomic(join(folder, TRAINING_CHECKPOINT_FILES.best), encodeSafetensors(tensors));
    }
    writeFileAtomic(join(folder, TRAINING_CHECKPOINT_FILES.state), JSON.stringify(state, null, 1) + '\n');
  });
}

/** A fit's checkpoint folder opened for resuming. */
export interface OpenedTrainingCheckpoint<State extends TrainingCheckpointState> {
  /** The checked `state.json`. */
  state: State;
  /** Path of the verified trainer file (for `Trainer.loadCheckpoint`). */
  trainerPath: string;
  /** The best epoch's weights (flat), when stored. */
  best: Map<string, Float32Array> | undefined;
  /** The opened folder, to read the model's own files (checked against its checksums). */
  artifact: ArtifactDirectory;
}

/**
 * Opens a fit's checkpoint folder and checks that it belongs to this run: `state.json`'s `kind`
 * and `formatVersion`, then every key of `compatibility` (in either) compared as JSON. A key the
 * checkpoint lacks is compared as its value in `options.defaults` when it has one: a setting added
 * after checkpoints were first written, whose absence means the value every run had before it.
 *
 * @param directory - the checkpoint folder (`resumeFrom`).
 * @param kind - the model's checkpoint kind.
 * @param supportedVersions - the format versions this model reads.
 * @param compatibility - this run's settings that must match.
 * @param options - `defaults`: what each setting added later stands for in a checkpoint written
 *   before it (e.g. `{ renormalize: false }`); each of its keys must have a defined value in
 *   `compatibility` (`state.json` drops undefined values, and the run would then be compared
 *   against the default).
 * @returns the state, the trainer file's path and the stored best weights.
 * @throws GenrecError `NOT_FOUND`, `CORRUPT_ARTIFACT`, `FORMAT_VERSION` (another kind or version),
 * `INVALID_OPTION` (`details.field: 'resumeFrom'`) when it was written with other settings or
 * data, naming the first difference.
 * @example
 * ```ts
 * const resumed = openTrainingCheckpoint<MyState>('runs/ckpt', 'genrec.mine-checkpoint', [1], compatibility);
 * trainer.loadCheckpoint(resumed.trainerPath);
 * ```
 */
export function openTrainingCheckpoint<State extends TrainingCheckpointState>(
  directory: string,
  kind: State['kind'],
  supportedVersions: readonly number[],
  compatibility: Record<string, unknown>,
  options: { defaults?: Record<string, unknown> } = {},
): OpenedTrainingCheckpoint<State> {
  const artifact = openArtifactDirectory(directory);
  const source = join(artifact.directory, TRAINING_CHECKPOINT_FILES.state);
  const state = checkManifest<State>(artifact.readJson(TRAINING_CHECKPOINT_FILES.state), kind, supportedVersions, source);
  const stored = state.compatibility ?? {};
  const defaults = options.defaults ?? {};
  for (const key of new Set([...Object.keys(compatibility), ...Object.keys(stored)])) {
    const mine = JSON.stringify(compatibility[key]);
    const theirs = JSON.stringify(Object.hasOwn(stored, key) ? stored[key] : Object.hasOwn(defaults, key) ? defaults[key] : undefined);
    if (mine !== theirs) {
      throw new GenrecError('INVALID_OPTION', `resumeFrom: the checkpoint in ${directory} was written with ${key} = ${theirs}, this run has ${mine}`, { details: { field: 'resumeFrom', file: source } });
    }
  }
  let best: Map<string, Float32Array> | undefined;
  if (state.hasBestWeights) {
    const content = decodeSafetensors(artifact.readFile(TRAINING_CHECKPOINT_FILES.best), join(artifact.directory, TRAINING_CHECKPOINT_FILES.best));
    best = new Map([...content.tensors].map(([name, tensor]) => [name, (tensor.data as Float32Array).slice()]));
  }
  return { state, trainerPath: artifact.verifiedPath(TRAINING_CHECKPOINT_FILES.trainer), best, artifact };
}
