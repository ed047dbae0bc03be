import { GenrecError, type EvaluationSet, type SequenceDataset } from '@genrec/core';
import { Int32Buffer } from './growable-array.js';
import type { InteractionDataset } from './sequence-dataset.js';

/** A train / validation / test split. */
export interface DatasetSplit {
  /** Training sequences: one row per source row, in the same order (a row may be empty in the temporal split). */
  readonly train: InteractionDataset;
  /** Validation users (targets after the training part). */
  readonly validation: EvaluationSet;
  /** Test users (targets after the validation part; histories include the validation part). */
  readonly test: EvaluationSet;
}

/** Options of {@link leaveOneOutSplit}. */
export interface LeaveOneOutOptions {
  /** Keep at most this many most recent items in each evaluation history. @defaultValue `Infinity` */
  maxHistoryLength?: number;
}

class EvaluationSetBuilder {
  private readonly rows = new Int32Buffer();
  private readonly userIds = new Int32Buffer();
  private readonly historyOffsets = new Int32Buffer();
  private readonly historyItems = new Int32Buffer(65536);
  private readonly targetOffsets = new Int32Buffer();
  private readonly targetItems = new Int32Buffer();

  constructor(private readonly maxHistoryLength: number) {
    this.historyOffsets.push(0);
    this.targetOffsets.push(0);
  }

  add(row: number, userId: number, history: ArrayLike<number>, targets: ArrayLike<number>): void {
    this.rows.push(row);
    this.userIds.push(userId);
    const from = Math.max(0, history.length - this.maxHistoryLength);
    for (let i = from; i < history.length; i++) this.historyItems.push(history[i]!);
    this.historyOffsets.push(this.historyItems.length);
    for (let i = 0; i < targets.length; i++) this.targetItems.push(targets[i]!);
    this.targetOffsets.push(this.targetItems.length);
  }

  build(): EvaluationSet {
    return {
      size: this.rows.length,
      rows: this.rows.toArray(),
      userIds: this.userIds.toArray(),
      historyOffsets: this.historyOffsets.toArray(),
      historyItems: this.historyItems.toArray(),
      targetOffsets: this.targetOffsets.toArray(),
      targetItems: this.targetItems.toArray(),
    };
  }
}

function checkMaxHistory(value: number | undefined): number {
  const maxHistoryLength = value ?? Number.POSITIVE_INFINITY;
  if (!(maxHistoryLength >= 1) || (Number.isFinite(maxHistoryLength) && !Number.isInteger(maxHistoryLength))) {
    throw new GenrecError('INVALID_OPTION', `maxHistoryLength must be a positive integer, got ${maxHistoryLength}`, { details: { field: 'maxHistoryLength' } });
  }
  return maxHistoryLength;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * The leave-one-out split of the sequential-recommendation papers (SASRec, S3-Rec, P5, TIGER): for
 * a user with `n >= 3` items the last item is the test target, the second-last the validation
 * target and the first `n - 2` items are training data; a user with fewer than 3 items is
 * training-only. The validation history is the training part, the test history everything but the
 * last item, each cut to the most recent `maxHistoryLength` items. Same as the `sasrec_ce` peer's
 * `build_split`.
 *
 * @param dataset - chronological user sequences.
 * @param options - see {@link LeaveOneOutOptions}.
 * @returns `train` (one row per source row, same order and item ids) and the evaluation sets.
 * @example
 * ```ts
 * const { train, validation, test } = leaveOneOutSplit(createSequenceDataset({ sequences: [[1, 2, 3, 4]] }));
 * // train row 0 = [1, 2]; validation: history [1, 2] -> 3; test: history [1, 2, 3] -> 4
 * ```
 */
export function leaveOneOutSplit(dataset: InteractionDataset, options: LeaveOneOutOptions = {}): DatasetSplit {
  const maxHistoryLength = checkMaxHistory(options.maxHistoryLength);
  const { offsets, items, userCount } = dataset;
  // Sizes first, then one pass that copies into exactly sized arrays.
  const trainOffsets = new Int32Array(userCount + 1);
  let evaluated = 0;
  let validationHistoryTotal = 0;
  let testHistoryTotal = 0;
  for (let row = 0; row < userCount; row++) {
    const length = offsets[row + 1]! - offsets[row]!;
    trainOffsets[row + 1] = trainOffsets[row]! + (length >= 3 ? length - 2 : length);
    if (length >= 3) {
      evaluated++;
      validationHistoryTotal += Math.min(length - 2, maxHistoryLength);
      testHistoryTotal += Math.min(length - 1, maxHistoryLength);
    }
  }
  const trainTotal = trainOffsets[userCount]!;
  const trainItems = new Int32Array(trainTotal);
  const trainTimestamps = dataset.timestamps ? new Float64Array(trainTotal) : undefined;
  const trainRatings = dataset.ratings ? new Float32Array(trainTotal) : undefined;
  const evaluationRows = new Int32Array(evaluated);
  const evaluationUserIds = new Int32Array(evaluated);
  const targetOffsets = new Int32Array(evaluated + 1);
  for (let u = 0; u <= evaluated; u++) targetOffsets[u] = u;
  const validationTargets = new Int32Array(evaluated);
  const testTargets = new Int32Array(evaluated);
  const validationOffsets = new Int32Array(evaluated + 1);
  const testOffsets = new Int32Array(evaluated + 1);
  const validationHistories = new Int32Array(validationHistoryTotal);
  const testHistories = new Int32Array(testHistoryTotal);
  let u = 0;
  for (let row = 0; row < userCount; row++) {
    const from = offsets[row]!;
    const to = offsets[row + 1]!;
    const trainFrom = trainOffsets[row]!;
    const trainLength = trainOffsets[row + 1]! - trainFrom;
    for (let i = 0; i < trainLength; i++) trainItems[trainFrom + i] = items[from + i]!;
    if (trainTimestamps) for (let i = 0; i < trainLength; i++) trainTimestamps[trainFrom + i] = dataset.timestamps![from + i]!;
    if (trainRatings) for (let i = 0; i < trainLength; i++) trainRatings[trainFrom + i] = dataset.ratings![from + i]!;
    if (to - from < 3) continue;
    evaluationRows[u] = row;
    evaluationUserIds[u] = dataset.userIds[row]!;
    validationTargets[u] = items[to - 2]!;
    testTargets[u] = items[to - 1]!;
    let out = validationOffsets[u]!;
    for (let i = Math.max(from, to - 2 - maxHistoryLength); i < to - 2; i++) validationHistories[out++] = items[i]!;
    validationOffsets[u + 1] = out;
    out = testOffsets[u]!;
    for (let i = Math.max(from, to - 1 - maxHistoryLength); i < to - 1; i++) testHistories[out++] = items[i]!;
    testOffsets[u + 1] = out;
    u++;
  }
  const train: Mutable<InteractionDataset> = {
    name: `${dataset.name}/train`,
    userCount,
    itemCount: dataset.itemCount,
    offsets: trainOffsets,
    items: trainItems,
    userIds: dataset.userIds,
  };
  if (trainTimestamps) train.timestamps = trainTimestamps;
  if (trainRatings) train.ratings = trainRatings;
  if (dataset.externalUserIds) train.externalUserIds = dataset.externalUserIds;
  if (dataset.externalItemIds) train.externalItemIds = dataset.externalItemIds;
  const evaluationSet = (historyOffsets: Int32Array, historyItems: Int32Array, targetItems: Int32Array): EvaluationSet => ({
    size: evaluated,
    rows: evaluationRows,
    userIds: evaluationUserIds,
    historyOffsets,
    historyItems,
    targetOffsets,
    targetItems,
  });
  return {
    train,
    validation: evaluationSet(validationOffsets, validationHistories, validationTargets),
    test: evaluationSet(testOffsets, testHistories, testTargets),
  };
}

/** Options of {@link temporalSplit}. */
export interface TemporalSplitOptions {
  /**
   * Share of all interactions (by time) that become validation targets; the validation period
   * starts at the timestamp of quantile `1 - validationFraction - testFraction`.
   *
   * @defaultValue `0.1`
   */
  validationFraction?: number;
  /** Share of all interactions (the latest) that become test targets. @defaultValue `0.1` */
  testFraction?: number;
  /** Explicit start of the validation period (seconds); overrides `validationFraction`. */
  validationStart?: number;
  /** Explicit start of the test period (seconds); overrides `testFraction`. */
  testStart?: number;
  /** Keep at most this many most recent items in each evaluation history. @defaultValue `Infinity` */
  maxHistoryLength?: number;
  /** Skip users whose history is empty (they have targets but nothing to condition on). @defaultValue `true` */
  requireHistory?: boolean;
}

/** A {@link DatasetSplit} with the cut-off times that produced it. */
export interface TemporalSplit extends DatasetSplit {
  /** Interactions at or after this time (and before `testStart`) are validation targets. */
  readonly validationStart: number;
  /** Interactions at or after this time are test targets. */
  readonly testStart: number;
}

/**
 * A global temporal split (as SETRec uses): two cut-off times divide all interactions into a
 * training period, a validation period and a test period. Each user's validation targets are
 * their interactions in the validation period, with their training-period interactions as
 * history; test targets are those in the test period, with everything before `testStart` as
 * history. Interactions exactly at a cut-off belong to the later period. Users without targets in
 * a period are not in that evaluation set.
 *
 * @param dataset - sequences with timestamps.
 * @param options - see {@link TemporalSplitOptions}.
 * @throws GenrecError `INVALID_INPUT` when the dataset has no timestamps, `INVALID_OPTION` for
 *   fractions outside [0, 1) or `validationStart > testStart`.
 * @example
 * ```ts
 * const split = temporalSplit(synthetic.dataset, { validationFraction: 0.1, testFraction: 0.1 });
 * split.test.size; // users with interactions in the last 10% of time
 * ```
 */
export function temporalSplit(dataset: InteractionDataset, options: TemporalSplitOptions = {}): TemporalSplit {
  const timestamps = dataset.timestamps;
  if (!timestamps) throw new GenrecError('INVALID_INPUT', `dataset "${dataset.name}" has no timestamps; a temporal split needs them`);
  const maxHistoryLength = checkMaxHistory(options.maxHistoryLength);
  const validationFraction = options.validationFraction ?? 0.1;
  const testFraction = options.testFraction ?? 0.1;
  for (const [field, value] of [['validationFraction', validationFraction], ['testFraction', testFraction]] as const) {
    if (!(value >= 0 && value < 1)) throw new GenrecError('INVALID_OPTION', `${field} must be in [0, 1), got ${value}`, { details: { field } });
  }
  if (validationFraction + testFraction >= 1) {
    throw new GenrecError('INVALID_OPTION', 'validationFraction + testFraction must be below 1', { details: { field: 'validationFraction' } });
  }
  let sorted: Float64Array | undefined;
  const quantile = (fraction: number): number => {
    sorted ??= Float64Array.from(timestamps).sort();
    if (sorted.length === 0) return Number.POSITIVE_INFINITY;
    const index = Math.floor(sorted.length * (1 - fraction));
    return index >= sorted.length ? Number.POSITIVE_INFINITY : sorted[index]!;
  };
  const testStart = options.testStart ?? quantile(testFraction);
  const validationStart = options.validationStart ?? quantile(validationFraction + testFraction);
  if (validationStart > testStart) {
    throw new GenrecError('INVALID_OPTION', `validationStart ${validationStart} is after testStart ${testStart}`, { details: { field: 'validationStart' } });
  }
  const requireHistory = options.requireHistory ?? true;
  const { offsets, items, userCount } = dataset;
  const trainOffsets = new Int32Array(userCount + 1);
  const trainItems = new Int32Buffer(items.length);
  const trainPositions = new Int32Buffer(items.length);
  const validation = new EvaluationSetBuilder(maxHistoryLength);
  const test = new EvaluationSetBuilder(maxHistoryLength);
  const history: number[] = [];
  const validationTargets: number[] = [];
  const testTargets: number[] = [];
  for (let row = 0; row < userCount; row++) {
    history.length = 0;
    validationTargets.length = 0;
    testTargets.length = 0;
    for (let i = offsets[row]!; i < offsets[row + 1]!; i++) {
      const time = timestamps[i]!;
      if (time < validationStart) {
        trainItems.push(items[i]!);
        trainPositions.push(i);
        history.push(items[i]!);
      } else if (time < testStart) {
        validationTargets.push(items[i]!);
      } else {
        testTargets.push(items[i]!);
      }
    }
    trainOffsets[row + 1] = trainItems.length;
    const userId = dataset.userIds[row]!;
    if (validationTargets.length > 0 && (history.length > 0 || !requireHistory)) validation.add(row, userId, history, validationTargets);
    if (testTargets.length > 0) {
      const trainLength = history.length;
      for (const item of validationTargets) history.push(item);
      if (history.length > 0 || !requireHistory) test.add(row, userId, history, testTargets);
      history.length = trainLength;
    }
  }
  const positions = trainPositions.toArray();
  const train: Mutable<InteractionDataset> = {
    name: `${dataset.name}/train`,
    userCount,
    itemCount: dataset.itemCount,
    offsets: trainOffsets,
    items: trainItems.toArray(),
    userIds: dataset.userIds,
    timestamps: Float64Array.from(positions, (i) => timestamps[i]!),
  };
  if (dataset.ratings) train.ratings = Float32Array.from(positions, (i) => dataset.ratings![i]!);
  if (dataset.externalUserIds) train.externalUserIds = dataset.externalUserIds;
  if (dataset.externalItemIds) train.externalItemIds = dataset.externalItemIds;
  return { train, validation: validation.build(), test: test.build(), validationStart, testStart };
}

/**
 * Left-pads each history of an evaluation set to `maxLength` with 0 (the most recent item last,
 * longer histories cut to their last `maxLength` items): a `size x maxLength` row-major array, the
 * model input for scoring (the `sasrec_ce` peer's `left_pad_last`).
 *
 * @example
 * ```ts
 * paddedHistories(split.test, 50); // Int32Array of split.test.size * 50
 * ```
 */
export function paddedHistories(set: EvaluationSet, maxLength: number): Int32Array {
  if (!Number.isInteger(maxLength) || maxLength < 1) {
    throw new GenrecError('INVALID_OPTION', `maxLength must be a positive integer, got ${maxLength}`, { details: { field: 'maxLength' } });
  }
  const out = new Int32Array(set.size * maxLength);
  for (let u = 0; u < set.size; u++) {
    const to = set.historyOffsets[u + 1]!;
    const from = Math.max(set.historyOffsets[u]!, to - maxLength);
    out.set(set.historyItems.subarray(from, to), u * maxLength + maxLength - (to - from));
  }
  return out;
}

/** Number of users, histories and targets of a split, for reports. */
export interface SplitSummary {
  /** Training rows with at least one item. */
  trainUsers: number;
  /** Training interactions. */
  trainInteractions: number;
  /** Validation users. */
  validationUsers: number;
  /** Validation targets. */
  validationTargets: number;
  /** Test users. */
  testUsers: number;
  /** Test targets. */
  testTargets: number;
}

/** Counts what a split holds. */
export function summarizeSplit(split: DatasetSplit): SplitSummary {
  return {
    trainUsers: nonEmptyRows(split.train),
    trainInteractions: split.train.items.length,
    validationUsers: split.validation.size,
    validationTargets: split.validation.targetItems.length,
    testUsers: split.test.size,
    testTargets: split.test.targetItems.length,
  };
}

function nonEmptyRows(dataset: SequenceDataset): number {
  let count = 0;
  for (let row = 0; row < dataset.userCount; row++) if (dataset.offsets[row + 1]! > dataset.offsets[row]!) count++;
  return count;
}
