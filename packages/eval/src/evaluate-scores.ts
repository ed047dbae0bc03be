import { GenrecError, type Matrix } from '@genrec/core';
import { AccuracyAccumulator } from './accuracy-accumulator.js';
import { BeyondAccuracyAccumulator, type BeyondAccuracyOptions } from './beyond-accuracy.js';
import type { EvaluationResult } from './evaluation-result.js';
import { evaluateExposure, type ExposureOptions } from './exposure.js';
import { validateItemSets, type UserItemSets } from './item-sets.js';
import {
  PROTOCOL_DEFINITIONS,
  checkChoice,
  checkItemCount,
  normaliseKs,
  type CommonEvaluationOptions,
  type EvaluationProtocol,
  type TiePolicy,
} from './protocol.js';
import { createRankedLists, type RankedLists } from './ranked-lists.js';
import { assembleEvaluationResult, checkHistory } from './shared-evaluation.js';
import { TopKSelector } from './top-k.js';
import { UserMarks, maxSetSize } from './user-marks.js';

/**
 * Scores of all users: one matrix `[users, itemCount]`, or blocks of consecutive users in order.
 * Column `j` holds the score of item `j + 1` (item ids are `1 .. itemCount`; 0 is padding).
 */
export type ScoreSource = Matrix | Iterable<Matrix> | AsyncIterable<Matrix>;

/** Options of {@link evaluateScores}. */
export interface ScoreEvaluationOptions extends CommonEvaluationOptions {
  /**
   * Order of equal scores.
   * @defaultValue 'expected'
   */
  tiePolicy?: TiePolicy;
  /** Each user's history items (needed when `maskHistory` is true). */
  history?: UserItemSets;
  /**
   * Compute the AUC of each user's full score vector.
   * @defaultValue true
   */
  computeAuc?: boolean;
  /**
   * Return every user's top-(max K) ranking as item ids `1 .. itemCount` (partial selection; ties
   * ordered by the tie policy, `expected` by lower item id).
   * @defaultValue false
   */
  keepRankings?: boolean;
  /** Compute beyond-accuracy metrics on the top-K rankings. */
  beyondAccuracy?: BeyondAccuracyOptions;
  /** Compute expected-exposure fairness of the top-(max K) rankings (deterministic policy). */
  exposure?: Omit<ExposureOptions, 'itemCount'>;
}

/** The result of {@link evaluateScores}: an {@link EvaluationResult} plus the rankings when asked for. */
export interface ScoreEvaluationResult extends EvaluationResult {
  /**
   * Top-(max K) rankings of every user as item ids `1 .. itemCount`, 0-padded after `lengths` (with
   * `keepRankings`, beyond-accuracy or exposure), not serialised.
   */
  rankings: RankedLists | null;
}

/**
 * Yields score blocks of `blockSize` users from a callback, so a model can score users in blocks
 * without materialising the whole `[users, itemCount]` matrix.
 *
 * @param userCount - number of users
 * @param blockSize - users per block
 * @param scoreBlock - returns the scores of users `start .. end-1` as a `[end-start, itemCount]` matrix
 *   (column `j` = item `j + 1`)
 * @returns an async iterable for {@link evaluateScores}
 * @example
 * ```ts
 * const blocks = scoreBlocks(users, 1024, (start, end) => model.score(start, end));
 * await evaluateScores(blocks, relevance, { itemCount, ks: [10] });
 * ```
 */
export async function* scoreBlocks(
  userCount: number,
  blockSize: number,
  scoreBlock: (start: number, end: number) => Matrix | Promise<Matrix>,
): AsyncGenerator<Matrix> {
  if (!Number.isSafeInteger(blockSize) || blockSize <= 0) {
    throw new GenrecError('INVALID_OPTION', `blockSize must be a positive integer, got ${blockSize}`, { details: { field: 'blockSize' } });
  }
  for (let start = 0; start < userCount; start += blockSize) {
    yield await scoreBlock(start, Math.min(userCount, start + blockSize));
  }
}

function isMatrix(value: unknown): value is Matrix {
  return typeof value === 'object' && value !== null && (value as Matrix).data instanceof Float32Array && typeof (value as Matrix).rows === 'number';
}

/**
 * Full-ranking evaluation from score matrices: every catalogue item is ranked for every user (history
 * items removed with `maskHistory`), relevant items' ranks are counted exactly in one pass over the
 * row (ties per `tiePolicy`), and top-K lists, when needed, come from a partial heap selection.
 *
 * @param scores - a `[users, itemCount]` matrix or blocks of consecutive users (sync or async);
 *   column `j` holds the score of item `j + 1`
 * @param relevance - relevant items (ids `1 .. itemCount`, and grades) per user
 * @param options - the protocol; every choice is recorded in the result
 * @returns means, per-user values (incl. AUC), and optional rankings (item ids), beyond-accuracy and exposure
 * @throws GenrecError `INVALID_INPUT` for a NaN score (naming user and item) or ids outside the
 *   catalogue `1 .. itemCount` (0 included); `SHAPE_MISMATCH` when block widths or user counts do not match
 * @example
 * ```ts
 * // columns: items 1, 2, 3
 * const scores = matrixFromArrays([[0.1, 0.9, 0.5], [0.3, 0.3, 0.2]]);
 * const result = await evaluateScores(scores, itemSetsFromArrays([[3], [2]]), { itemCount: 3, ks: [1, 2] });
 * result.metrics['hitrate@2']; // (1 + 1) / 2 = 1
 * ```
 */
export async function evaluateScores(scores: ScoreSource, relevance: UserItemSets, options: ScoreEvaluationOptions): Promise<ScoreEvaluationResult> {
  const ks = normaliseKs(options.ks);
  const itemCount = options.itemCount;
  checkItemCount(itemCount);
  const protocol: EvaluationProtocol = {
    source: 'score-matrix',
    itemCount,
    ks,
    gain: checkChoice(options.gain ?? 'binary', ['binary', 'linear', 'exponential'], 'gain'),
    tiePolicy: checkChoice(options.tiePolicy ?? 'expected', ['pessimistic', 'optimistic', 'expected'], 'tiePolicy'),
    listDepth: 'whole-list',
    maskHistory: options.maskHistory ?? false,
    dedupe: true,
    invalidIds: 'error',
    usersWithoutRelevant: checkChoice(options.usersWithoutRelevant ?? 'skip', ['skip', 'zero'], 'usersWithoutRelevant'),
    apDenominator: checkChoice(options.apDenominator ?? 'min-relevant-k', ['min-relevant-k', 'relevant'], 'apDenominator'),
    definitions: PROTOCOL_DEFINITIONS,
  };
  const userCount = relevance.userCount;
  validateItemSets(relevance, itemCount, 'relevance');
  const history = options.history;
  checkHistory(history, protocol.maskHistory, userCount, itemCount, 'relevance covers');
  const keepPerUser = options.keepPerUser ?? true;
  const computeAuc = options.computeAuc ?? true;
  const accuracy = new AccuracyAccumulator(ks, userCount, protocol.gain, protocol.apDenominator, keepPerUser, computeAuc);
  const beyond =
    options.beyondAccuracy === undefined ? undefined : new BeyondAccuracyAccumulator(accuracy.ks, itemCount, userCount, options.beyondAccuracy, keepPerUser);
  const needRankings = (options.keepRankings ?? false) || beyond !== undefined || options.exposure !== undefined;
  const maxK = accuracy.maxK;
  const rankingItems = new Int32Array(needRankings ? userCount * maxK : 0); // 0-padded
  const rankingLengths = new Int32Array(needRankings ? userCount : 0);
  const selector = new TopKSelector(maxK);

  const maxRelevant = Math.max(1, maxSetSize(relevance));
  const marks = new UserMarks(itemCount, maxRelevant, history === undefined ? 0 : maxSetSize(history));
  const relevantScore = new Float64Array(maxRelevant);
  const relevantGain = new Float64Array(maxRelevant);
  const order = new Int32Array(maxRelevant);
  // Per distinct relevant score value, descending.
  const distinctValue = new Float64Array(maxRelevant);
  const distinctRelevant = new Float64Array(maxRelevant);
  const distinctGain = new Float64Array(maxRelevant);
  const distinctFirst = new Int32Array(maxRelevant); // index into `order` of the group's first relevant item
  const strictlyBetween = new Float64Array(maxRelevant); // items with value_{k-1} > s > value_k
  const equalCount = new Float64Array(maxRelevant);
  const groupStart = new Float64Array(maxRelevant);
  const positions = new Int32Array(maxRelevant);
  const positionGains = new Float64Array(maxRelevant);
  const gainScratch = new Float64Array(maxRelevant);
  const tiePolicy = protocol.tiePolicy as TiePolicy;
  const mask = protocol.maskHistory;
  const graded = protocol.gain !== 'binary';
  const skip = protocol.usersWithoutRelevant === 'skip';
  const tieWeight = tiePolicy === 'pessimistic' ? 1 : tiePolicy === 'optimistic' ? 0 : 0.5;
  const { relevantTag, historyTag } = marks;
  let u = 0;

  /** Index of the first distinct relevant value <= s (s >= the lowest value). */
  const distinctIndex = (s: number, distinct: number): number => {
    let k = 0;
    if (distinct <= 16) {
      while (s < distinctValue[k]!) k++;
      return k;
    }
    let high = distinct - 1;
    while (k < high) {
      const middle = (k + high) >> 1;
      if (s >= distinctValue[middle]!) high = middle;
      else k = middle + 1;
    }
    return k;
  };

  const evaluateRow = (row: Float32Array): void => {
    const tag = marks.mark(u, relevance, protocol.gain, mask ? history : undefined);
    const relevantCount = marks.relevantCount;
    // Relevant scores, sorted descending.
    let r = 0;
    const { offsets, items, grades } = relevance;
    for (let i = offsets[u]!; i < offsets[u + 1]!; i++) {
      const item = items[i]!;
      if (grades !== undefined && !(grades[i]! > 0)) continue;
      const s = row[item - 1]!; // column j holds item j + 1
      if (s !== s) throw nanError(u, item);
      relevantScore[r] = s;
      relevantGain[r] = marks.gain[item]!;
      order[r] = r;
      r++;
    }
    const sortedOrder = order.subarray(0, r);
    if (r > 1) sortedOrder.sort((a, b) => relevantScore[b]! - relevantScore[a]! || relevantGain[a]! - relevantGain[b]!);
    let distinct = 0;
    for (let i = 0; i < r; i++) {
      const s = relevantScore[sortedOrder[i]!]!;
      if (distinct === 0 || s !== distinctValue[distinct - 1]) {
        distinctValue[distinct] = s;
        distinctRelevant[distinct] = 0;
        distinctGain[distinct] = 0;
        distinctFirst[distinct] = i;
        strictlyBetween[distinct] = 0;
        equalCount[distinct] = 0;
        distinct++;
      }
      distinctRelevant[distinct - 1]! += 1;
      distinctGain[distinct - 1]! += relevantGain[sortedOrder[i]!]!;
    }
    // One pass over the row: count items above and tied with each distinct relevant score
    // (masked items are counted too and subtracted afterwards, which keeps the loop branch-light).
    const n = row.length;
    let nanCount = 0;
    if (distinct === 1) {
      const value = distinctValue[0]!;
      let above = 0;
      let notBelow = 0;
      let below = 0;
      // Branch-free counting (unary + of a comparison): random scores defeat branch prediction.
      for (let j = 0; j < n; j++) {
        const s = row[j]!;
        above += +(s > value);
        notBelow += +(s >= value);
        below += +(s < value);
      }
      nanCount = n - notBelow - below; // NaN compares false both ways
      strictlyBetween[0] = above;
      equalCount[0] = notBelow - above;
    } else if (distinct > 1) {
      const lowest = distinctValue[distinct - 1]!;
      for (let j = 0; j < n; j++) {
        const s = row[j]!;
        if (!(s >= lowest)) {
          if (s !== s) nanCount++;
          continue;
        }
        const k = distinctIndex(s, distinct);
        if (s === distinctValue[k]) equalCount[k]! += 1;
        else strictlyBetween[k]! += 1;
      }
    } else {
      for (let j = 0; j < n; j++) if (row[j] !== row[j]) nanCount++;
    }
    if (nanCount > 0) {
      for (let j = 0; j < n; j++) if (row[j] !== row[j]) throw nanError(u, j + 1);
    }
    if (mask && distinct > 0) {
      const lowest = distinctValue[distinct - 1]!;
      for (let i = 0; i < marks.maskedCount; i++) {
        const s = row[marks.maskedItems[i]! - 1]!;
        if (!(s >= lowest)) continue;
        const k = distinctIndex(s, distinct);
        if (s === distinctValue[k]) equalCount[k]! -= 1;
        else strictlyBetween[k]! -= 1;
      }
    }
    let auc = 0;
    if (relevantCount > 0) {
      let above = 0; // items ranked strictly above the current value
      let relevantAbove = 0;
      let pairPenalty = 0;
      for (let k = 0; k < distinct; k++) {
        above += strictlyBetween[k]!;
        groupStart[k] = above;
        const t = equalCount[k]!;
        const h = distinctRelevant[k]!;
        pairPenalty += h * (above - relevantAbove + tieWeight * (t - h));
        above += t;
        relevantAbove += h;
      }
      const negatives = n - marks.maskedCount - relevantCount;
      auc = negatives > 0 ? 1 - pairPenalty / (relevantCount * negatives) : 1;
      if (tiePolicy === 'expected') {
        accuracy.addTieGroups(u, relevantCount, groupStart, equalCount, distinctRelevant, distinctGain, distinct, graded ? marks.idealGains : undefined, auc);
      } else {
        let count = 0;
        for (let k = 0; k < distinct; k++) {
          const t = equalCount[k]!;
          const h = distinctRelevant[k]!;
          const first = distinctFirst[k]!;
          // Gains of the group, ascending (pessimistic: worst gain nearest the top of the tail end).
          for (let i = 0; i < h; i++) gainScratch[i] = relevantGain[sortedOrder[first + i]!]!;
          const groupGains = gainScratch.subarray(0, h);
          if (h > 1) groupGains.sort();
          const start = tiePolicy === 'pessimistic' ? groupStart[k]! + t - h : groupStart[k]!;
          for (let i = 0; i < h; i++) {
            positions[count] = start + i;
            positionGains[count] = tiePolicy === 'pessimistic' ? groupGains[i]! : groupGains[h - 1 - i]!;
            count++;
          }
        }
        accuracy.addPositions(u, relevantCount, positions, positionGains, count, graded ? marks.idealGains : undefined, auc);
      }
    } else if (skip) accuracy.skipUser(u);
    else accuracy.zeroUser(u);

    if (needRankings) {
      selector.reset();
      let threshold = -Infinity; // the worst kept score once the heap is full
      for (let j = 0; j < n; j++) {
        const s = row[j]!;
        if (s < threshold) continue;
        const item = j + 1;
        if (mask && historyTag[item] === tag) continue;
        const relevant = relevantTag[item] === tag;
        const tieRank = tiePolicy === 'pessimistic' ? (relevant ? 0 : 1) : tiePolicy === 'optimistic' ? (relevant ? 1 : 0) : 0;
        selector.offer(s, tieRank, item);
        threshold = selector.threshold();
      }
      const list = rankingItems.subarray(u * maxK, (u + 1) * maxK);
      const length = selector.drain(list);
      rankingLengths[u] = length;
      if (beyond !== undefined) beyond.addUser(u, list, length);
    }
    u++;
  };

  const consume = (block: Matrix): void => {
    if (!isMatrix(block)) throw new GenrecError('INVALID_INPUT', 'score blocks must be matrices ({ data: Float32Array, rows, cols })', { details: { field: 'scores' } });
    if (block.cols !== itemCount) {
      throw new GenrecError('SHAPE_MISMATCH', `a score block has ${block.cols} columns, expected itemCount = ${itemCount}`, { details: { field: 'scores', user: u } });
    }
    if (block.data.length !== block.rows * block.cols) {
      throw new GenrecError('SHAPE_MISMATCH', `a score block has ${block.data.length} values for ${block.rows} x ${block.cols}`, { details: { field: 'scores' } });
    }
    if (u + block.rows > userCount) {
      throw new GenrecError('SHAPE_MISMATCH', `score blocks cover more than the ${userCount} users of the relevance sets`, { details: { field: 'scores' } });
    }
    for (let row = 0; row < block.rows; row++) evaluateRow(block.data.subarray(row * itemCount, (row + 1) * itemCount));
  };

  if (isMatrix(scores)) consume(scores);
  else if (Symbol.asyncIterator in (scores as object)) {
    for await (const block of scores as AsyncIterable<Matrix>) consume(block);
  } else {
    for (const block of scores as Iterable<Matrix>) consume(block);
  }
  if (u !== userCount) {
    throw new GenrecError('SHAPE_MISMATCH', `scores cover ${u} users but relevance covers ${userCount}`, { details: { field: 'scores' } });
  }

  const rankings = needRankings ? createRankedLists(rankingItems, maxK, rankingLengths) : null;
  const exposure = options.exposure !== undefined && rankings !== null ? evaluateExposure(rankings, relevance, { ...options.exposure, itemCount }) : null;
  return {
    ...assembleEvaluationResult({ system: options.system, protocol, userCount, accuracy, beyond, decoding: null, exposure, dropFullMrr: false }),
    rankings,
  };
}

function nanError(u: number, item: number): GenrecError {
  return new GenrecError('INVALID_INPUT', `score of user ${u} for item ${item} (column ${item - 1}) is NaN`, { details: { field: 'scores', user: u, item } });
}
