import { checkEnumOption, checkKnownOptions, checkNumberOption, GenrecError, Rng, type EvaluationSet, type Seed } from '@genrec/core';
import { Int32Buffer } from './growable-array.js';
import type { InteractionDataset } from './sequence-dataset.js';
import type { DatasetSplit } from './splits.js';

/** What happens to cold items inside evaluation histories; see {@link ColdItemSplitOptions.coldItemsInHistory}. */
export type ColdHistoryPolicy = 'keep' | 'remove';

/** Options of {@link coldItemSplit}. */
export interface ColdItemSplitOptions {
  /**
   * Share of the items with at least one interaction that become cold: `round(share x M)` of the
   * `M` interacted items (at least 1, at most `M - 1`). Ignored when `coldItems` is given.
   *
   * @defaultValue `0.1`
   */
  share?: number;
  /** Seed of the draw of cold items (core's `Rng`, identical on every machine). @defaultValue `0` */
  seed?: Seed;
  /**
   * The cold items, given explicitly (ids in `1..itemCount`, no repeats, at least one) instead of
   * drawn by `share` and `seed`: to reproduce another tool's split, or in tests. An item without
   * interactions may be listed (it is then cold but never a target).
   */
  coldItems?: ArrayLike<number>;
  /** Keep at most this many most recent items in each evaluation history. @defaultValue `Infinity` */
  maxHistoryLength?: number;
  /**
   * Cold items inside validation and test histories. `'keep'` (default): histories are the user's
   * real past, cold items included: the new-item scenario, in which items appear after training
   * and users interact with them before the moment a recommendation is asked for; the model must
   * accept item ids it has not trained on in its input (they are valid ids of the catalogue).
   * `'remove'`: cold items are deleted from histories as well (for a model that must not read an
   * unknown id; a user left with an empty history is then not evaluated, counted in the report).
   *
   * @defaultValue `'keep'`
   */
  coldItemsInHistory?: ColdHistoryPolicy;
}

const COLD_ITEM_SPLIT_OPTIONS = ['share', 'seed', 'coldItems', 'maxHistoryLength', 'coldItemsInHistory'] as const;

/** Counts of what {@link coldItemSplit} did. */
export interface ColdItemSplitReport {
  /** Items with at least one interaction (the pool cold items are drawn from). */
  readonly interactedItems: number;
  /** Number of cold items. */
  readonly coldItems: number;
  /** Training interactions (of the leave-one-out training parts) deleted because their item is cold. */
  readonly removedInteractions: number;
  /** Training rows that had items before the cold items were deleted and have none after. */
  readonly emptiedTrainingRows: number;
  /** Training rows that had at least 2 items and are left with exactly 1 (no next-item pair any more). */
  readonly shortenedTrainingRows: number;
  /** Validation users not evaluated because their history became empty (`coldItemsInHistory: 'remove'` only). */
  readonly droppedValidationUsers: number;
  /** Test users not evaluated because their history became empty (`coldItemsInHistory: 'remove'` only). */
  readonly droppedTestUsers: number;
}

/**
 * The result of {@link coldItemSplit}: a {@link DatasetSplit} (`validation` and `test` hold every
 * evaluated user) plus the same users divided by whether their target is cold.
 */
export interface ColdItemSplit extends DatasetSplit {
  /** Validation users whose target is a warm item. */
  readonly validationWarm: EvaluationSet;
  /** Validation users whose target is a cold item. */
  readonly validationCold: EvaluationSet;
  /** Test users whose target is a warm item. */
  readonly testWarm: EvaluationSet;
  /** Test users whose target is a cold item. */
  readonly testCold: EvaluationSet;
  /** The cold item ids, ascending. */
  readonly coldItems: Int32Array;
  /** `isCold[item]` = 1 for a cold item, length `itemCount + 1` (index 0 unused). */
  readonly isCold: Uint8Array;
  /** What was removed and dropped. */
  readonly report: ColdItemSplitReport;
}

/**
 * Builds an evaluation set row by row (histories and a single target per user) into growable
 * buffers.
 */
class EvaluationRows {
  private readonly rows = new Int32Buffer();
  private readonly userIds = new Int32Buffer();
  private readonly historyOffsets = new Int32Buffer();
  private readonly historyItems = new Int32Buffer(4096);
  private readonly targetItems = new Int32Buffer();

  constructor() {
    this.historyOffsets.push(0);
  }

  add(row: number, userId: number, history: readonly number[], from: number, target: number): void {
    this.rows.push(row);
    this.userIds.push(userId);
    for (let i = from; i < history.length; i++) this.historyItems.push(history[i]!);
    this.historyOffsets.push(this.historyItems.length);
    this.targetItems.push(target);
  }

  build(): EvaluationSet {
    const size = this.rows.length;
    const targetOffsets = new Int32Array(size + 1);
    for (let u = 0; u <= size; u++) targetOffsets[u] = u;
    return {
      size,
      rows: this.rows.toArray(),
      userIds: this.userIds.toArray(),
      historyOffsets: this.historyOffsets.toArray(),
      historyItems: this.historyItems.toArray(),
      targetOffsets,
      targetItems: this.targetItems.toArray(),
    };
  }
}

function checkMaxHistoryLength(value: unknown): number {
  const maxHistoryLength = value ?? Number.POSITIVE_INFINITY;
  if (typeof maxHistoryLength !== 'number' || !(maxHistoryLength >= 1) || (Number.isFinite(maxHistoryLength) && !Number.isSafeInteger(maxHistoryLength))) {
    throw new GenrecError('INVALID_OPTION', `maxHistoryLength must be a positive integer or Infinity, got ${String(maxHistoryLength)}`, {
      details: { field: 'maxHistoryLength' },
    });
  }
  return maxHistoryLength;
}

/** Marks the explicitly given cold items, checking them. */
function markGivenColdItems(coldItems: ArrayLike<number>, itemCount: number, isCold: Uint8Array): number {
  if (typeof coldItems !== 'object' || coldItems === null || typeof coldItems.length !== 'number') {
    throw new GenrecError('INVALID_OPTION', 'coldItems must be an array of item ids', { details: { field: 'coldItems' } });
  }
  if (coldItems.length < 1 || coldItems.length > itemCount) {
    throw new GenrecError('INVALID_OPTION', `coldItems must list 1..${itemCount} items, got ${coldItems.length}`, { details: { field: 'coldItems' } });
  }
  for (let i = 0; i < coldItems.length; i++) {
    const item = coldItems[i];
    if (typeof item !== 'number' || !Number.isInteger(item) || item < 1 || item > itemCount) {
      throw new GenrecError('INVALID_OPTION', `coldItems[${i}] = ${String(item)} is not an item id in 1..${itemCount}`, { details: { field: 'coldItems' } });
    }
    if (isCold[item] === 1) throw new GenrecError('INVALID_OPTION', `coldItems lists item ${item} twice`, { details: { field: 'coldItems' } });
    isCold[item] = 1;
  }
  return coldItems.length;
}

/**
 * Splits a dataset for evaluating **items that are new at recommendation time** ("cold" items):
 * items that no model may see in training, which are inserted into a fitted model afterwards
 * (e.g. from their content) and must then be recommendable. SETRec and TIGER's "new items" claim
 * use this setting.
 *
 * Definition (every step deterministic):
 *
 * 1. **Cold items.** Unless `coldItems` lists them, the pool is the `M` items with at least one
 *    interaction, in id order; the cold items are the first `round(share x M)` entries of a
 *    Fisher-Yates permutation of the pool drawn with `new Rng(seed)` (core's generator, the same on
 *    every machine), returned in id order. The number must be in `1 .. M - 1`.
 * 2. **Positions.** Leave-one-out on the original sequences, exactly as {@link leaveOneOutSplit}:
 *    for a user with `n >= 3` items the last is the test target, the second-last the validation
 *    target, the first `n - 2` are the training part; users with fewer than 3 items are
 *    training-only. Cold items do not move any boundary.
 * 3. **Training.** Every cold item is deleted from every training part (training-only users
 *    included); the remaining items keep their order (the neighbours of a deleted item become
 *    adjacent), with their timestamps and ratings. So **no training row holds a cold item**. A row
 *    may become short or empty: it stays in `train` (one row per source row, same order, as in
 *    the other splits; a row with fewer than 2 items gives no next-item pair), and the user is
 *    still evaluated — users who mostly meet new items are exactly the ones this split is about.
 *    The report counts such rows.
 * 4. **Catalogue.** Ids do not change: `train.itemCount` is the dataset's full `itemCount` `N`, so
 *    a model fitted on `train` keeps the whole id space, and cold items (valid ids without
 *    training interactions) can be inserted into it later without renumbering anything.
 * 5. **Evaluation.** Validation history = the original training part (first `n - 2` items), test
 *    history = all but the last item, each cut to the most recent `maxHistoryLength` items. With
 *    `coldItemsInHistory: 'keep'` (default) cold items stay in histories, since at test time users
 *    have met new items already; with `'remove'` they are deleted before the cut, and users left
 *    with an empty history are not evaluated. Targets may be cold: that is the point.
 * 6. **Warm and cold users.** Each evaluation set is divided by its target:
 *    `testCold` / `validationCold` = users whose target is cold, `testWarm` / `validationWarm` =
 *    the rest; `test` / `validation` hold both (row order). Report cold-target metrics on
 *    `testCold` and the rest on `testWarm`, separately.
 *
 * @param dataset - chronological user sequences (ids `1..itemCount`).
 * @param options - see {@link ColdItemSplitOptions}.
 * @returns the split, the cold item ids and a report.
 * @throws GenrecError `INVALID_OPTION` for an unknown option, a `share` outside `(0, 1)` or one
 *   that gives no cold or no warm item, invalid `coldItems`, `maxHistoryLength` or
 *   `coldItemsInHistory`; `INVALID_INPUT` when the dataset holds an item id outside
 *   `1..itemCount`.
 * @example
 * ```ts
 * const split = coldItemSplit(dataset, { share: 0.1, seed: 7, maxHistoryLength: 50 });
 * // fit on split.train (no cold item in it), insert split.coldItems into the model, then
 * // evaluate split.testCold and split.testWarm separately.
 * split.coldItems; // Int32Array of cold ids, ascending
 * ```
 */
export function coldItemSplit(dataset: InteractionDataset, options: ColdItemSplitOptions = {}): ColdItemSplit {
  checkKnownOptions(options, COLD_ITEM_SPLIT_OPTIONS, 'coldItemSplit');
  const maxHistoryLength = checkMaxHistoryLength(options.maxHistoryLength);
  const historyPolicy = checkEnumOption(options.coldItemsInHistory ?? 'keep', 'coldItemsInHistory', ['keep', 'remove']);
  const share = options.coldItems === undefined ? checkNumberOption(options.share ?? 0.1, 'share', 0, 1, { minimumExclusive: true, maximumExclusive: true }) : 0;
  const seed = options.seed ?? 0;
  const { offsets, items, userCount, itemCount } = dataset;

  // Interacted items (and a range check of the ids, before anything is sized by them).
  const interacted = new Uint8Array(itemCount + 1);
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    if (!(item >= 1 && item <= itemCount)) throw new GenrecError('INVALID_INPUT', `items[${i}] = ${item} is outside 1..${itemCount}`);
    interacted[item] = 1;
  }
  let interactedItems = 0;
  for (let item = 1; item <= itemCount; item++) interactedItems += interacted[item]!;

  // 1. Cold items.
  const isCold = new Uint8Array(itemCount + 1);
  let coldCount: number;
  if (options.coldItems !== undefined) {
    coldCount = markGivenColdItems(options.coldItems, itemCount, isCold);
  } else {
    coldCount = Math.round(share * interactedItems);
    if (coldCount < 1 || coldCount > interactedItems - 1) {
      throw new GenrecError(
        'INVALID_OPTION',
        `share ${share} of ${interactedItems} interacted items gives ${coldCount} cold items; it must give 1..${interactedItems - 1}`,
        { details: { field: 'share' } },
      );
    }
    const pool = new Int32Array(interactedItems);
    for (let item = 1, p = 0; item <= itemCount; item++) if (interacted[item]) pool[p++] = item;
    const permutation = new Rng(seed).permutation(interactedItems);
    for (let i = 0; i < coldCount; i++) isCold[pool[permutation[i]!]!] = 1;
  }
  const coldItems = new Int32Array(coldCount);
  for (let item = 1, c = 0; item <= itemCount; item++) if (isCold[item]) coldItems[c++] = item;

  // 2-3. Training parts without cold items.
  const trainOffsets = new Int32Array(userCount + 1);
  const trainItems = new Int32Buffer(items.length);
  // Source positions of the kept training interactions, to carry timestamps and ratings along.
  const trainPositions = new Int32Buffer(items.length);
  let removedInteractions = 0;
  let emptiedTrainingRows = 0;
  let shortenedTrainingRows = 0;
  // 5-6. Evaluation sets.
  const validation = new EvaluationRows();
  const validationWarm = new EvaluationRows();
  const validationCold = new EvaluationRows();
  const test = new EvaluationRows();
  const testWarm = new EvaluationRows();
  const testCold = new EvaluationRows();
  let droppedValidationUsers = 0;
  let droppedTestUsers = 0;
  const history: number[] = [];
  const addUser = (all: EvaluationRows, warm: EvaluationRows, cold: EvaluationRows, row: number, target: number): boolean => {
    if (history.length === 0) return false;
    const from = Math.max(0, history.length - maxHistoryLength);
    const userId = dataset.userIds[row]!;
    all.add(row, userId, history, from, target);
    (isCold[target] ? cold : warm).add(row, userId, history, from, target);
    return true;
  };

  for (let row = 0; row < userCount; row++) {
    const from = offsets[row]!;
    const to = offsets[row + 1]!;
    const length = to - from;
    const trainEnd = length >= 3 ? to - 2 : to;
    const before = trainItems.length;
    for (let i = from; i < trainEnd; i++) {
      const item = items[i]!;
      if (isCold[item]) {
        removedInteractions++;
        continue;
      }
      trainItems.push(item);
      trainPositions.push(i);
    }
    trainOffsets[row + 1] = trainItems.length;
    const kept = trainItems.length - before;
    if (trainEnd > from && kept === 0) emptiedTrainingRows++;
    if (trainEnd - from >= 2 && kept === 1) shortenedTrainingRows++;
    if (length < 3) continue;

    history.length = 0;
    for (let i = from; i < to - 2; i++) if (historyPolicy === 'keep' || !isCold[items[i]!]) history.push(items[i]!);
    if (!addUser(validation, validationWarm, validationCold, row, items[to - 2]!)) droppedValidationUsers++;
    // The test history continues the validation history with the validation target.
    if (historyPolicy === 'keep' || !isCold[items[to - 2]!]) history.push(items[to - 2]!);
    if (!addUser(test, testWarm, testCold, row, items[to - 1]!)) droppedTestUsers++;
  }

  const train: { -readonly [K in keyof InteractionDataset]: InteractionDataset[K] } = {
    name: `${dataset.name}/train`,
    userCount,
    itemCount,
    offsets: trainOffsets,
    items: trainItems.toArray(),
    userIds: dataset.userIds,
  };
  const positions = trainPositions.toArray();
  if (dataset.timestamps) train.timestamps = Float64Array.from(positions, (i) => dataset.timestamps![i]!);
  if (dataset.ratings) train.ratings = Float32Array.from(positions, (i) => dataset.ratings![i]!);
  if (dataset.externalUserIds) train.externalUserIds = dataset.externalUserIds;
  if (dataset.externalItemIds) train.externalItemIds = dataset.externalItemIds;
  return {
    train,
    validation: validation.build(),
    test: test.build(),
    validationWarm: validationWarm.build(),
    validationCold: validationCold.build(),
    testWarm: testWarm.build(),
    testCold: testCold.build(),
    coldItems,
    isCold,
    report: {
      interactedItems,
      coldItems: coldCount,
      removedInteractions,
      emptiedTrainingRows,
      shortenedTrainingRows,
      droppedValidationUsers,
      droppedTestUsers,
    },
  };
}
