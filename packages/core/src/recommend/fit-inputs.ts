import type { SequenceDataset } from '../contracts/dataset.js';
import type { CommonFitOptions, FitData } from '../contracts/recommender.js';
import { GenrecError } from '../errors.js';

/**
 * Checks the data a model's `fit` receives: an object with `train` (a sequence dataset with a
 * positive integer `itemCount`, then checked by `validateTrain`, whose errors are re-thrown with
 * the prefix `train: ` and `details.field: 'train'`) and, when given, `catalog` an `ItemCatalog`.
 * `validation` is checked where it is used (`selectValidationUsers`).
 *
 * @param data - what `fit` was given.
 * @param usage - the message for data that is not an object with `train`, e.g. `'fitSasrec needs { train: SequenceDataset, validation?, catalog? }'`.
 * @param validateTrain - the full check of a sequence dataset (`@genrec/data`'s `validateSequenceDataset`).
 * @returns `data.train`.
 * @throws GenrecError `INVALID_INPUT` (or the code `validateTrain` throws) naming the field.
 * @example
 * ```ts
 * const train = checkFitData(data, 'fitMine needs { train: SequenceDataset, validation? }', validateSequenceDataset);
 * ```
 */
export function checkFitData(data: FitData, usage: string, validateTrain: (train: SequenceDataset) => void): SequenceDataset {
  if (typeof data !== 'object' || data === null || typeof data.train !== 'object' || data.train === null) {
    throw new GenrecError('INVALID_INPUT', usage, { details: { field: 'data' } });
  }
  const train = data.train;
  if (!Number.isSafeInteger(train.itemCount) || train.itemCount < 1) {
    throw new GenrecError('INVALID_INPUT', `train.itemCount must be a positive integer, got ${String(train.itemCount)}`, { details: { field: 'train.itemCount' } });
  }
  try {
    validateTrain(train);
  } catch (error) {
    if (GenrecError.isInstance(error)) throw new GenrecError(error.code, `train: ${error.message}`, { cause: error, details: { field: 'train' } });
    throw error;
  }
  if (data.catalog !== undefined && (typeof data.catalog !== 'object' || data.catalog === null || !Array.isArray(data.catalog.records))) {
    throw new GenrecError('INVALID_INPUT', 'catalog must be an ItemCatalog ({ itemCount, records })', { details: { field: 'catalog' } });
  }
  return train;
}

/**
 * Checks the fitting options of core's `CommonFitOptions` that are not hyper-parameters:
 * `onProgress` a function, `signal` an `AbortSignal` (anything with a boolean `aborted`),
 * `checkpointDirectory` and `resumeFrom` non-empty folder paths. `earlyStopping` is resolved by
 * `resolveEarlyStopping`, `seed` by the model's spec.
 *
 * @param options - the fit options.
 * @throws GenrecError `INVALID_OPTION` naming the field.
 * @example
 * ```ts
 * checkFitCallbacks({ onProgress: console.log, checkpointDirectory: 'runs/ckpt' }); // passes
 * checkFitCallbacks({ resumeFrom: '' }); // throws INVALID_OPTION (field 'resumeFrom')
 * ```
 */
export function checkFitCallbacks(options: CommonFitOptions): void {
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
    throw new GenrecError('INVALID_OPTION', 'onProgress must be a function', { details: { field: 'onProgress' } });
  }
  const signal = options.signal as unknown;
  if (signal !== undefined && (typeof signal !== 'object' || signal === null || typeof (signal as AbortSignal).aborted !== 'boolean')) {
    throw new GenrecError('INVALID_OPTION', 'signal must be an AbortSignal', { details: { field: 'signal' } });
  }
  for (const field of ['checkpointDirectory', 'resumeFrom'] as const) {
    const value = options[field] as unknown;
    if (value !== undefined && (typeof value !== 'string' || value.length === 0)) {
      throw new GenrecError('INVALID_OPTION', `${field} must be a folder path, got ${typeof value}`, { details: { field } });
    }
  }
}

/**
 * Fails a training run whose step loss is not finite (a diverged run).
 *
 * @param loss - the step's loss.
 * @param epoch - the 1-based epoch of the step.
 * @param step - the step's number as the model reports it (in the epoch, or overall).
 * @throws GenrecError `RUNTIME_ERROR` (`details.field: 'learningRate'`) when `loss` is NaN or infinite.
 * @example
 * ```ts
 * checkStepLoss(0.7, 1, 12); // passes
 * checkStepLoss(NaN, 3, 5); // throws: training diverged: the loss is NaN at epoch 3, step 5 (try a lower learningRate)
 * ```
 */
export function checkStepLoss(loss: number, epoch: number, step: number): void {
  if (!Number.isFinite(loss)) {
    throw new GenrecError('RUNTIME_ERROR', `training diverged: the loss is ${loss} at epoch ${epoch}, step ${step} (try a lower learningRate)`, { details: { field: 'learningRate' } });
  }
}
