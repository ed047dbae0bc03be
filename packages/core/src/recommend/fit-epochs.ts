import type { ProgressCallback, FitEndEvent } from '../progress.js';
import type { ResolvedEarlyStopping } from './early-stopping.js';

/** Parameter values by name, as a trainer reports them. */
export type ParameterValues = ReadonlyMap<string, Float32Array | Float64Array>;

/** Where an epoch loop stands after `epoch` epochs: what a checkpoint stores to resume it exactly. */
export interface EpochLoopState {
  /** Epochs completed. */
  epoch: number;
  /** Best epoch so far on the early-stopping metric (without early stopping: the last one; 0 = none). */
  bestEpoch: number;
  /** Its metric value (`null` before the first validated epoch or without early stopping). */
  bestValue: number | null;
  /** Validation metrics of the best epoch (`null` when none). */
  bestValidation: Record<string, number> | null;
  /** Epochs since the best one. */
  sinceBest: number;
  /** Whether early stopping already ended the run. */
  stoppedEarly: boolean;
  /** Mean training loss of every epoch so far. */
  losses: number[];
}

/** The state after an epoch, handed to `afterEpoch` (to write a checkpoint). */
export interface EpochSnapshot<Extra> extends EpochLoopState {
  /**
   * Whether the best epoch's weights differ from the trainer's current ones (early stopping, and
   * the best epoch is not this one): then a checkpoint must store `best`.
   */
  hasBestWeights: boolean;
  /** The best epoch's weights (copies), when early stopping kept them. */
  best: ReadonlyMap<string, Float32Array> | undefined;
  /** The model's own companion of the best epoch (see {@link FitEpochsOptions.validate}). */
  extra: Extra;
}

/** One epoch's validation: the metrics (`epoch-end`'s `validation`) and anything the model keeps with the best epoch. */
export interface EpochValidation<Extra> {
  metrics: Record<string, number>;
  /** Kept with the best epoch like its weights (SETRec: the β chosen that epoch). */
  extra?: Extra;
}

/** What the loop ends with, handed to `finish` to build the model. */
export interface FitEpochsResult<Extra> {
  /** Epochs trained in all (resumed ones included). */
  epochsTrained: number;
  /** The epoch whose weights `parameters` holds (0 = none finished). */
  keptEpoch: number;
  /** Why training stopped. */
  stoppedBy: FitEndEvent['stoppedBy'];
  /** Mean training loss of every epoch (the loop's own array). */
  losses: number[];
  /** Validation metrics of the kept epoch, when it was validated. */
  validation: Record<string, number> | undefined;
  /** The model's companion of the best epoch (or the initial / resumed value when none replaced it). */
  extra: Extra;
  /** The kept weights: the best epoch's (early stopping) or copies of the trainer's current ones. */
  parameters: Map<string, Float32Array>;
}

/** The model-specific parts of a fit's epoch loop. */
export interface FitEpochsOptions<Extra, Model> {
  /** The model kind (`fit-start`'s `model`). */
  model: string;
  /** The epoch budget. */
  epochs: number;
  /** Training steps in one epoch (`fit-start`). */
  stepsPerEpoch: number;
  /** The early-stopping rule (`resolveEarlyStopping`), `undefined` = keep the last epoch. */
  early: ResolvedEarlyStopping | undefined;
  /** Progress callback. */
  onProgress?: ProgressCallback | undefined;
  /** `performance.now()` when the fit began (`elapsedMs` counts from it). @defaultValue when the loop starts */
  started?: number;
  /** A run resumed from a checkpoint: its loop state, stored best weights and companion. */
  resumed?: { state: EpochLoopState; best: Map<string, Float32Array> | undefined; extra: Extra } | undefined;
  /** The companion before any epoch (a fresh run). */
  extra: Extra;
  /** The trainer's current parameter values (copied where kept). */
  parameters(): ParameterValues;
  /**
   * Trains epoch `epoch` (1-based). Returns its mean loss and the learning rate at its end, or
   * `undefined` when the abort signal stopped it (checked before every step).
   */
  runEpoch(epoch: number): Promise<{ loss: number; learningRate: number } | undefined>;
  /** Validates the weights after epoch `epoch`; `undefined` when there is no validation data. */
  validate?(epoch: number, losses: number[]): Promise<EpochValidation<Extra> | undefined>;
  /** Called after every epoch's `epoch-end` (writes the checkpoint). */
  afterEpoch?(snapshot: EpochSnapshot<Extra>): Promise<void>;
  /** Builds the fitted model from the loop's result; `fit-end` follows. */
  finish(result: FitEpochsResult<Extra>): Model | Promise<Model>;
}

/**
 * Copies parameter values into fresh float32 arrays (a trainer's buffers change at the next step).
 *
 * @param values - parameter values by name.
 * @returns a new map of float32 copies.
 * @example
 * ```ts
 * const best = copyParameters(trainer.parameterValues());
 * ```
 */
export function copyParameters(values: ParameterValues): Map<string, Float32Array> {
  return new Map([...values].map(([name, value]) => [name, Float32Array.from(value)]));
}

/**
 * The epoch loop every trained genrec model shares: `fit-start`; then per epoch the model's own
 * steps (`runEpoch`), its validation (`validate`), early stopping on `early`'s metric (a strict
 * improvement makes a new best and copies its weights; `patience` epochs without one stop the
 * run), `epoch-end` and `afterEpoch` (the checkpoint); an abort keeps the best epoch so far (or the
 * current weights when none is kept); finally `finish` builds the model and `fit-end` reports it.
 * A resumed run continues from its checkpoint's state so that the result equals a straight run:
 * without stored best weights, the best epoch is the last one and its weights are the trainer's.
 *
 * Without early stopping every epoch is "best" and the last one is kept, with its validation.
 *
 * @param options - the model-specific parts.
 * @returns what `finish` returns.
 * @throws whatever `runEpoch`, `validate`, `afterEpoch` or `finish` throw (no `fit-end` then).
 * @example
 * ```ts
 * const model = await fitEpochs({
 *   model: 'mine', epochs: 10, stepsPerEpoch, early, onProgress, extra: undefined,
 *   parameters: () => trainer.parameterValues(),
 *   runEpoch: async (epoch) => { ...; return signal?.aborted ? undefined : { loss, learningRate } },
 *   validate: async () => ({ metrics: await validateRecommender(current, users, early) }),
 *   finish: (result) => new MyModel(result.parameters, result),
 * });
 * ```
 */
export async function fitEpochs<Extra, Model>(options: FitEpochsOptions<Extra, Model>): Promise<Model> {
  const { early, epochs } = options;
  const onProgress: ProgressCallback = options.onProgress ?? (() => {});
  const started = options.started ?? performance.now();
  const state: EpochLoopState = { epoch: 0, bestEpoch: 0, bestValue: null, bestValidation: null, sinceBest: 0, stoppedEarly: false, losses: [] };
  let best: Map<string, Float32Array> | undefined;
  let extra = options.extra;
  if (options.resumed) {
    const s = options.resumed.state;
    Object.assign(state, { epoch: s.epoch, bestEpoch: s.bestEpoch, bestValue: s.bestValue, bestValidation: s.bestValidation, sinceBest: s.sinceBest, stoppedEarly: s.stoppedEarly });
    state.losses.push(...s.losses);
    extra = options.resumed.extra;
    // without stored best weights the best epoch is the last one: the trainer holds its weights
    best = options.resumed.best ?? (state.bestEpoch === state.epoch && early ? copyParameters(options.parameters()) : undefined);
  }
  const startEpoch = state.epoch;
  const loopStarted = performance.now();
  onProgress({ type: 'fit-start', model: options.model, epochs, stepsPerEpoch: options.stepsPerEpoch, startEpoch });
  let aborted = false;
  while (state.epoch < epochs && !state.stoppedEarly) {
    const trained = await options.runEpoch(state.epoch + 1);
    if (trained === undefined) {
      aborted = true;
      break;
    }
    const epoch = ++state.epoch;
    state.losses.push(trained.loss);
    const validated = options.validate ? await options.validate(epoch, state.losses) : undefined;
    const validation = validated?.metrics;
    let isBest = true;
    if (early && validation) {
      const value = validation[early.name]!;
      isBest = state.bestValue === null || value > state.bestValue;
      if (isBest) {
        state.bestValue = value;
        state.bestEpoch = epoch;
        state.bestValidation = validation;
        if (validated.extra !== undefined) extra = validated.extra;
        best = copyParameters(options.parameters());
        state.sinceBest = 0;
      } else if (++state.sinceBest >= early.patience) {
        state.stoppedEarly = true;
      }
    } else {
      state.bestEpoch = epoch;
      state.bestValidation = validation ?? null;
      if (validated?.extra !== undefined) extra = validated.extra;
    }
    const elapsedMs = performance.now() - started;
    onProgress({
      type: 'epoch-end',
      epoch,
      epochs,
      loss: trained.loss,
      ...(validation ? { validation } : {}),
      best: isBest,
      learningRate: trained.learningRate,
      elapsedMs,
      etaMs: state.stoppedEarly ? 0 : ((performance.now() - loopStarted) / (epoch - startEpoch)) * (epochs - epoch),
      progress: epoch / epochs,
    });
    if (options.afterEpoch) {
      await options.afterEpoch({ ...state, hasBestWeights: early !== undefined && best !== undefined && state.bestEpoch !== epoch, best, extra });
    }
  }
  const stoppedBy: FitEndEvent['stoppedBy'] = aborted ? 'abort' : state.stoppedEarly ? 'early-stopping' : 'epochs';
  const useBest = early !== undefined && best !== undefined;
  const keptEpoch = useBest ? state.bestEpoch : state.epoch;
  const model = await options.finish({
    epochsTrained: state.epoch,
    keptEpoch,
    stoppedBy,
    losses: state.losses,
    validation: state.bestValidation && (useBest || !early) ? state.bestValidation : undefined,
    extra,
    parameters: useBest ? best! : copyParameters(options.parameters()),
  });
  onProgress({ type: 'fit-end', epochs: state.epoch, bestEpoch: keptEpoch, stoppedBy, elapsedMs: performance.now() - started });
  return model;
}
