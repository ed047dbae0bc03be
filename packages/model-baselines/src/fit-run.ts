import {
  GenrecError,
  checkIntegerOption,
  checkKnownOptions,
  type FitData,
  type ProgressCallback,
  type SequenceDataset,
} from '@genrec/core';
import { validateSequenceDataset } from '@genrec/data';

/**
 * Options every baseline's `fit` accepts (each model adds its hyper-parameters). Baselines fit in
 * one counting pass, so the epoch options of trained models (`earlyStopping`, `checkpointDirectory`,
 * `resumeFrom`) do not apply and are rejected as unknown options.
 */
export interface BaselineFitOptions {
  /**
   * Accepted for uniformity with trained models and recorded in `describe()`; baselines make no
   * random choice, so every seed gives the same model. @defaultValue 0
   */
  seed?: number;
  /** Receives `fit-start`, one `epoch-end` (the counting pass) and `fit-end`. */
  onProgress?: ProgressCallback;
  /**
   * Stops the counting pass at the next block of 1,024 users: `fit` resolves with a model of what
   * was counted so far (`describe().epoch` is 0 and `fit-end.stoppedBy` is `'abort'`).
   */
  signal?: AbortSignal;
}

/** Names of {@link BaselineFitOptions}, for `checkKnownOptions`. */
export const COMMON_FIT_OPTION_NAMES = ['seed', 'onProgress', 'signal'] as const;

/** Users counted between two looks at the abort signal (each look yields to the event loop once). */
const USERS_PER_BLOCK = 1024;

/**
 * Validates the training data of a baseline `fit`: a well-formed `SequenceDataset` with at least
 * one item.
 *
 * @throws GenrecError `INVALID_INPUT` / `SHAPE_MISMATCH` from `validateSequenceDataset`, or for a missing `train`.
 */
export function checkFitData(data: FitData, where: string): SequenceDataset {
  if (typeof data !== 'object' || data === null || typeof data.train !== 'object' || data.train === null) {
    throw new GenrecError('INVALID_INPUT', `${where}: data must be { train: SequenceDataset, ... }`, { details: { field: 'train' } });
  }
  const train = data.train;
  if (!Number.isSafeInteger(train.itemCount) || train.itemCount < 1) {
    throw new GenrecError('INVALID_INPUT', `${where}: train.itemCount must be a positive integer, got ${String(train.itemCount)}`, { details: { field: 'train.itemCount' } });
  }
  validateSequenceDataset(train);
  return train;
}

/** The common options, checked and resolved. */
export interface ResolvedFitOptions {
  seed: number;
  onProgress: ProgressCallback | undefined;
  signal: AbortSignal | undefined;
}

/**
 * Checks a baseline's options object: no unknown names, an integer seed, a function `onProgress`,
 * an `AbortSignal`.
 *
 * @throws GenrecError `INVALID_OPTION` naming the option.
 */
export function checkCommonFitOptions(options: BaselineFitOptions, known: readonly string[], where: string): ResolvedFitOptions {
  if (typeof options !== 'object' || options === null) {
    throw new GenrecError('INVALID_OPTION', `${where}: options must be an object`, { details: { field: 'options' } });
  }
  checkKnownOptions(options, [...COMMON_FIT_OPTION_NAMES, ...known], where);
  const seed = checkIntegerOption(options.seed ?? 0, 'seed', Number.MIN_SAFE_INTEGER);
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
    throw new GenrecError('INVALID_OPTION', `${where}: onProgress must be a function`, { details: { field: 'onProgress' } });
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new GenrecError('INVALID_OPTION', `${where}: signal must be an AbortSignal`, { details: { field: 'signal' } });
  }
  return { seed, onProgress: options.onProgress, signal: options.signal };
}

/**
 * The one-epoch life of a baseline fit: emits `fit-start`, lets the counting loop look at the abort
 * signal between blocks of users (yielding to the event loop so a timer or another task can abort),
 * and ends with `epoch-end` + `fit-end`, or `fit-end` alone when aborted.
 */
export class OnePassFit {
  private readonly startedAt = performance.now();
  private stopped = false;

  constructor(
    model: string,
    private readonly options: ResolvedFitOptions,
    users: number,
  ) {
    options.onProgress?.({ type: 'fit-start', model, epochs: 1, stepsPerEpoch: users, startEpoch: 0 });
    this.stopped = options.signal?.aborted === true;
  }

  /** Whether the pass was stopped by the signal. */
  get aborted(): boolean {
    return this.stopped;
  }

  /**
   * Call once per user row before counting it: returns false when the pass must stop. Every
   * {@link USERS_PER_BLOCK} rows it yields to the event loop and reads the signal.
   */
  async next(row: number): Promise<boolean> {
    if (this.stopped) return false;
    if (row > 0 && row % USERS_PER_BLOCK === 0) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.options.signal?.aborted === true) this.stopped = true;
    }
    return !this.stopped;
  }

  /** Emits the closing events: `epoch-end` (with `loss`) and `fit-end`, or `fit-end` with `stoppedBy: 'abort'`. */
  end(loss: () => number): void {
    const callback = this.options.onProgress;
    if (callback === undefined) return;
    const elapsedMs = performance.now() - this.startedAt;
    if (this.stopped) {
      callback({ type: 'fit-end', epochs: 0, bestEpoch: 0, stoppedBy: 'abort', elapsedMs });
      return;
    }
    callback({ type: 'epoch-end', epoch: 1, epochs: 1, loss: loss(), best: true, elapsedMs, etaMs: 0, progress: 1 });
    callback({ type: 'fit-end', epochs: 1, bestEpoch: 1, stoppedBy: 'epochs', elapsedMs: performance.now() - this.startedAt });
  }

  /** Whether the pass ran to its end (the model then holds every training interaction). */
  get complete(): boolean {
    return !this.stopped;
  }
}
