import {
  GenrecError,
  checkBooleanOption,
  checkIntegerOption,
  checkKnownOptions,
  checkResultSize,
  progressReporter,
  type EvaluationSet,
  type ProgressCallback,
  type Recommender,
} from '@genrec/core';
import type { BeyondAccuracyOptions } from './beyond-accuracy.js';
import { evaluateRankedListsAs } from './evaluate-ranked-lists.js';
import type { EvaluationResult } from './evaluation-result.js';
import type { ExposureOptions } from './exposure.js';
import { validateItemSets, type UserItemSets } from './item-sets.js';
import { checkItemCount, normaliseKs, type ApDenominator, type UsersWithoutRelevant } from './protocol.js';
import { createRankedLists, rankedListsFromRecommendations } from './ranked-lists.js';

/** The cut-offs {@link evaluateRecommender} uses when `ks` is not given. */
export const DEFAULT_RECOMMENDER_KS: readonly number[] = [5, 10, 20];

/** Options of {@link evaluateRecommender}. */
export interface RecommenderEvaluationOptions {
  /**
   * Cut-offs K; `recommend` is asked for the largest, which must not exceed `model.maxK`.
   * @defaultValue [5, 10, 20]
   */
  ks?: readonly number[];
  /**
   * Passed to `recommend` as `excludeHistory`: the model removes every item of each user's history
   * (the set's `historyItems` row), targets included, so a target that is also in the history can
   * never be hit. Recorded as `protocol.maskHistory` (with `protocol.source: 'recommender'`).
   * @defaultValue true
   */
  excludeHistory?: boolean;
  /**
   * Users per `recommend` call. Does not change any number.
   * @defaultValue 256
   */
  batchSize?: number;
  /** Task events of task `evaluate` (`done` / `total` in users) after every batch. */
  onProgress?: ProgressCallback;
  /** Aborts between batches: the promise rejects with the signal's reason (no partial result). */
  signal?: AbortSignal;
  /**
   * Users whose targets are all missing (an empty target row).
   * @defaultValue 'skip'
   */
  usersWithoutRelevant?: UsersWithoutRelevant;
  /**
   * Average-precision denominator.
   * @defaultValue 'min-relevant-k'
   */
  apDenominator?: ApDenominator;
  /**
   * Keep one value per user and metric (for `compareResults`, slicing and significance tests).
   * @defaultValue true
   */
  keepPerUser?: boolean;
  /** Beyond-accuracy metrics of the recommended lists (per-item arrays indexed by item id). */
  beyondAccuracy?: BeyondAccuracyOptions;
  /** Expected-exposure fairness of the recommended lists. */
  exposure?: Omit<ExposureOptions, 'itemCount'>;
  /**
   * The system's name in reports.
   * @defaultValue `model.kind`
   */
  system?: string;
}

const KNOWN_OPTIONS = [
  'ks',
  'excludeHistory',
  'batchSize',
  'onProgress',
  'signal',
  'usersWithoutRelevant',
  'apDenominator',
  'keepPerUser',
  'beyondAccuracy',
  'exposure',
  'system',
] as const;

/**
 * Evaluates any core `Recommender` on an `EvaluationSet` under one shared protocol: for each batch
 * of users it calls `model.recommend(histories, { k: max K, excludeHistory, userIds })` with the
 * set's `historyItems` rows as histories, then scores the returned lists against each user's
 * distinct target items with `evaluateRankedLists` (binary relevance; repeated targets count once).
 * Short rows (fewer than K items left after exclusions) keep their `lengths`: their 0 padding is
 * never an item. The result's protocol says `source: 'recommender'` and records `excludeHistory` as
 * `maskHistory`, so results of different models on the same set compare with `compareResults`.
 *
 * Item ids are `@genrec/data`'s `1 .. model.itemCount` everywhere. With `excludeHistory`, a model
 * that returns a history item breaks the protocol and is reported as an error.
 *
 * @param model - a fitted recommender (core's contract)
 * @param evaluationSet - users with histories and targets (e.g. a `@genrec/data` split's `test`)
 * @param options - cut-offs, history exclusion, batching, metrics
 * @returns the evaluation result (means, per-user values, decoding diagnostics of the lists)
 * @throws GenrecError `INVALID_OPTION` for a bad or unknown option, or a largest K above
 *   `model.maxK`; `SHAPE_MISMATCH` / `INVALID_INPUT` for a malformed evaluation set (ids outside
 *   `1 .. itemCount`, 0 included), for recommendations of the wrong shape, ids outside the catalogue,
 *   or a history item returned while `excludeHistory` is true; whatever `recommend` throws; the
 *   signal's reason when aborted
 * @example
 * ```ts
 * const split = leaveOneOutSplit(dataset);
 * const sasrec = await evaluateRecommender(sasrecModel, split.test, { ks: [10, 20] });
 * const pop = await evaluateRecommender(popularityModel, split.test, { ks: [10, 20] });
 * console.log(formatComparisonTable(compareResults([pop, sasrec])));
 * ```
 */
export async function evaluateRecommender(
  model: Recommender,
  evaluationSet: EvaluationSet,
  options: RecommenderEvaluationOptions = {},
): Promise<EvaluationResult> {
  checkKnownOptions(options, KNOWN_OPTIONS, 'evaluateRecommender');
  if (model === null || typeof model !== 'object' || typeof model.recommend !== 'function') {
    throw new GenrecError('INVALID_INPUT', 'evaluateRecommender needs a Recommender (an object with recommend())', { details: { field: 'model' } });
  }
  const itemCount = model.itemCount;
  checkItemCount(itemCount);
  const ks = normaliseKs(options.ks ?? DEFAULT_RECOMMENDER_KS);
  const maxK = ks[ks.length - 1]!;
  checkResultSize(maxK, 'ks (largest K)', model.maxK, `model ${model.kind} recommends at most maxK = ${model.maxK} items`);
  const excludeHistory = checkBooleanOption(options.excludeHistory ?? true, 'excludeHistory');
  const batchSize = checkIntegerOption(options.batchSize ?? 256, 'batchSize', 1);
  const { history, targets, userIds } = checkEvaluationSet(evaluationSet, itemCount);
  const size = history.userCount;
  const relevance = distinctTargets(targets, itemCount);

  const items = new Int32Array(size * maxK);
  const lengths = new Int32Array(size);
  const historyTag = new Int32Array(excludeHistory ? itemCount + 1 : 0);
  const progress = progressReporter(options.onProgress, 'evaluate', { total: size, unit: 'users' });
  progress.start();
  for (let start = 0; start < size; start += batchSize) {
    options.signal?.throwIfAborted();
    const end = Math.min(size, start + batchSize);
    const first = history.offsets[start]!;
    const offsets = new Int32Array(end - start + 1);
    for (let u = start; u <= end; u++) offsets[u - start] = history.offsets[u]! - first;
    const batch = { offsets, items: history.items.subarray(first, history.offsets[end]!) };
    const recommendations = await model.recommend(batch, { k: maxK, excludeHistory, userIds: userIds.subarray(start, end) });
    if (recommendations === null || typeof recommendations !== 'object' || recommendations.size !== end - start || recommendations.k !== maxK) {
      throw new GenrecError(
        'SHAPE_MISMATCH',
        `model ${model.kind} returned ${String(recommendations?.size)} rows of k = ${String(recommendations?.k)} for a batch of ${end - start} users asked for k = ${maxK}`,
        { details: { field: 'recommendations', user: start } },
      );
    }
    const lists = rankedListsFromRecommendations(recommendations);
    items.set(lists.items, start * maxK);
    lengths.set(lists.lengths!, start);
    if (excludeHistory) checkHistoryExcluded(model.kind, history, items, lengths, maxK, start, end, historyTag);
    progress.update(end);
  }
  progress.end(size);

  const result = evaluateRankedListsAs(
    createRankedLists(items, maxK, lengths),
    relevance,
    {
      itemCount,
      ks,
      ...(options.usersWithoutRelevant === undefined ? {} : { usersWithoutRelevant: options.usersWithoutRelevant }),
      ...(options.apDenominator === undefined ? {} : { apDenominator: options.apDenominator }),
      ...(options.keepPerUser === undefined ? {} : { keepPerUser: options.keepPerUser }),
      ...(options.beyondAccuracy === undefined ? {} : { beyondAccuracy: options.beyondAccuracy }),
      ...(options.exposure === undefined ? {} : { exposure: options.exposure }),
      system: options.system ?? model.kind,
    },
    'recommender',
  );
  // The evaluator masked nothing itself: the model excluded the history (or not) in `recommend`.
  return { ...result, protocol: { ...result.protocol, maskHistory: excludeHistory } };
}

/** Checks the evaluation set's shape and ids; returns its histories and targets as item sets. */
function checkEvaluationSet(set: EvaluationSet, itemCount: number): { history: UserItemSets; targets: UserItemSets; userIds: Int32Array } {
  if (set === null || typeof set !== 'object') {
    throw new GenrecError('INVALID_INPUT', 'evaluationSet must be an EvaluationSet object', { details: { field: 'evaluationSet' } });
  }
  const { size, historyOffsets, historyItems, targetOffsets, targetItems, userIds } = set;
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new GenrecError('INVALID_INPUT', `evaluationSet.size must be a non-negative integer, got ${String(size)}`, { details: { field: 'evaluationSet.size' } });
  }
  const arrays = { historyOffsets, historyItems, targetOffsets, targetItems, userIds };
  for (const [name, array] of Object.entries(arrays)) {
    if (!(array instanceof Int32Array)) {
      throw new GenrecError('INVALID_INPUT', `evaluationSet.${name} must be an Int32Array`, { details: { field: `evaluationSet.${name}` } });
    }
  }
  for (const [name, offsets] of [['historyOffsets', historyOffsets], ['targetOffsets', targetOffsets]] as const) {
    if (offsets.length !== size + 1) {
      throw new GenrecError('SHAPE_MISMATCH', `evaluationSet.${name} has ${offsets.length} entries for ${size} users (expected size + 1 = ${size + 1})`, {
        details: { field: `evaluationSet.${name}` },
      });
    }
  }
  if (userIds.length !== size) {
    throw new GenrecError('SHAPE_MISMATCH', `evaluationSet.userIds has ${userIds.length} entries for ${size} users`, { details: { field: 'evaluationSet.userIds' } });
  }
  const history: UserItemSets = { userCount: size, offsets: historyOffsets, items: historyItems };
  const targets: UserItemSets = { userCount: size, offsets: targetOffsets, items: targetItems };
  validateItemSets(history, itemCount, 'history');
  validateItemSets(targets, itemCount, 'target');
  return { history, targets, userIds };
}

/** Each user's distinct targets (first occurrence kept): the relevant set of binary relevance. */
function distinctTargets(targets: UserItemSets, itemCount: number): UserItemSets {
  const seen = new Int32Array(itemCount + 1);
  const offsets = new Int32Array(targets.userCount + 1);
  const items = new Int32Array(targets.items.length);
  let count = 0;
  for (let u = 0; u < targets.userCount; u++) {
    const tag = u + 1;
    for (let i = targets.offsets[u]!; i < targets.offsets[u + 1]!; i++) {
      const item = targets.items[i]!;
      if (seen[item] === tag) continue;
      seen[item] = tag;
      items[count++] = item;
    }
    offsets[u + 1] = count;
  }
  return { userCount: targets.userCount, offsets, items: items.slice(0, count) };
}

/** Throws when a returned list of users `start .. end-1` holds an item of the user's history. */
function checkHistoryExcluded(
  kind: string,
  history: UserItemSets,
  items: Int32Array,
  lengths: Int32Array,
  width: number,
  start: number,
  end: number,
  historyTag: Int32Array,
): void {
  for (let u = start; u < end; u++) {
    const tag = u + 1;
    for (let i = history.offsets[u]!; i < history.offsets[u + 1]!; i++) historyTag[history.items[i]!] = tag;
    for (let j = 0; j < lengths[u]!; j++) {
      const item = items[u * width + j]!;
      if (item >= 1 && item < historyTag.length && historyTag[item] === tag) {
        throw new GenrecError(
          'INVALID_INPUT',
          `model ${kind} returned item ${item} at position ${j} for user ${u} of the evaluation set, although it is in the user's history and excludeHistory is true`,
          { details: { field: 'recommendations', user: u, position: j, item } },
        );
      }
    }
  }
}
