import { GenrecError } from '@genrec/core';
import { giniIndex } from './inequality.js';
import { validateItemSets, type UserItemSets } from './item-sets.js';
import { checkChoice, checkItemCount } from './protocol.js';
import { createRankedLists, type RankedLists } from './ranked-lists.js';

/** Options of {@link evaluateExposure}. */
export interface ExposureOptions {
  /** Catalogue size: item ids `1 .. itemCount`. */
  itemCount: number;
  /**
   * Patience of the browsing model: rank r (1-based) gets exposure gamma^(r-1) (RBP-style).
   * @defaultValue 0.5
   */
  gamma?: number;
  /**
   * Ranks below this depth get no exposure, for the system and for the target alike.
   * @defaultValue the width of the lists
   */
  depth?: number;
  /**
   * Group index (0-based integer) of every item, indexed by item id: `itemCount + 1` entries,
   * `itemGroups[id]` for ids `1 .. itemCount`, entry 0 (the padding id) ignored; e.g. from
   * {@link popularityGroups}. Adds per-group exposure.
   */
  itemGroups?: ArrayLike<number>;
  /**
   * Users with no relevant item: `skip`, or `include` them with the uniform target (every item grade 0).
   * @defaultValue 'skip'
   */
  usersWithoutRelevant?: 'skip' | 'include';
  /**
   * Ids outside the catalogue `1 .. itemCount` (0 included) inside a list's length: `error`, or
   * `skip-slot` (the slot is kept and exposes nothing).
   * @defaultValue 'error'
   */
  invalidIds?: 'error' | 'skip-slot';
  /**
   * Keep per-user EE-D, EE-R and EE-L.
   * @defaultValue true
   */
  keepPerUser?: boolean;
}

/** Expected-exposure fairness (Diaz et al., CIKM 2020) of one deterministic or several sampled rankings per user. */
export interface ExposureResult {
  /** Settings and definitions. */
  protocol: {
    gamma: number;
    depth: number;
    samplesPerUser: number;
    usersWithoutRelevant: 'skip' | 'include';
    invalidIds: 'error' | 'skip-slot';
    definitions: {
      exposure: 'gamma^(rank-1) for ranks 1..depth, averaged over the sampled rankings; a repeated id in one ranking keeps its slot and adds nothing';
      target: 'items of equal grade share the exposure of the ranks an ideal ranking (relevant first by grade, ties random) gives them; grade-0 items share ranks |relevant|+1..depth';
      eeD: 'sum_d exposure_d^2';
      eeR: 'sum_d exposure_d * target_d';
      eeL: 'sum_d (exposure_d - target_d)^2 = eeD - 2 eeR + |target|^2';
    };
  };
  /** Users in the input. */
  userCount: number;
  /** Users in the means. */
  evaluatedUserCount: number;
  /** Mean EE-D (disparity). */
  eeD: number;
  /** Mean EE-R (relevance). */
  eeR: number;
  /** Mean EE-L (squared distance to the target). */
  eeL: number;
  /** Per-user values (NaN for skipped users), when kept. */
  perUser: { eeD: Float64Array; eeR: Float64Array; eeL: Float64Array } | null;
  /**
   * Mean exposure per evaluated user of every item, indexed by item id: `itemCount + 1` entries,
   * entry 0 (the padding id) always 0.
   */
  itemExposure: Float64Array;
  /** Mean target exposure per evaluated user of every item, indexed by item id like `itemExposure`. */
  itemTargetExposure: Float64Array;
  /** Gini index of `itemExposure` over the catalogue (items `1 .. itemCount`). */
  itemExposureGini: number;
  /** Gini index of `itemTargetExposure` over the catalogue (items `1 .. itemCount`). */
  itemTargetExposureGini: number;
  /** Per group (when `itemGroups` was given): summed mean exposure of its items. */
  groupExposure: number[] | null;
  /** Per group: summed mean target exposure of its items. */
  groupTargetExposure: number[] | null;
  /** Per group: number of items. */
  groupSizes: number[] | null;
}

/**
 * Expected exposure of items under a patience browsing model, compared with the exposure an ideal
 * stochastic ranker would give them (items of equal relevance share equal exposure).
 *
 * @param rankings - one ranked list of item ids (`1 .. itemCount`) per user (deterministic
 *   recommender), or several {@link RankedLists} over the same users (sampled rankings of a
 *   stochastic decoder), averaged
 * @param relevance - relevant items with grades per user (absent grades mean 1)
 * @param options - patience, depth, groups
 * @returns per-user and mean EE-D, EE-R, EE-L, and exposure per item (indexed by item id) and group
 * @throws GenrecError `SHAPE_MISMATCH` when user counts or per-item array sizes differ;
 *   `INVALID_INPUT` for an id outside the catalogue (0 included)
 * @example
 * ```ts
 * const ee = evaluateExposure(rankedListsFromArrays([[1, 2]]), itemSetsFromArrays([[1]]), { itemCount: 2, gamma: 0.5 });
 * ee.eeL; // 0: the deterministic ranking equals the ideal one here
 * ```
 */
export function evaluateExposure(rankings: RankedLists | readonly RankedLists[], relevance: UserItemSets, options: ExposureOptions): ExposureResult {
  const samples = Array.isArray(rankings) ? (rankings as readonly RankedLists[]) : [rankings as RankedLists];
  const itemCount = options.itemCount;
  checkItemCount(itemCount);
  if (samples.length === 0) throw new GenrecError('INVALID_INPUT', 'exposure needs at least one ranking per user', { details: { field: 'rankings' } });
  const userCount = samples[0]!.userCount;
  let width = 0;
  samples.forEach((sample, s) => {
    createRankedLists(sample.items, sample.width, sample.lengths);
    if (sample.userCount !== userCount) {
      throw new GenrecError('SHAPE_MISMATCH', `sampled ranking ${s} covers ${sample.userCount} users, ranking 0 covers ${userCount}`, {
        details: { field: 'rankings' },
      });
    }
    width = Math.max(width, sample.width);
  });
  if (relevance.userCount !== userCount) {
    throw new GenrecError('SHAPE_MISMATCH', `rankings cover ${userCount} users but relevance covers ${relevance.userCount}`, { details: { field: 'relevance' } });
  }
  validateItemSets(relevance, itemCount, 'relevance');
  const gamma = options.gamma ?? 0.5;
  if (!(gamma > 0 && gamma <= 1)) throw new GenrecError('INVALID_OPTION', `gamma must be in (0, 1], got ${gamma}`, { details: { field: 'gamma' } });
  const depth = options.depth ?? width;
  if (!Number.isSafeInteger(depth) || depth < 0) throw new GenrecError('INVALID_OPTION', `depth must be a non-negative integer, got ${depth}`, { details: { field: 'depth' } });
  const usersWithoutRelevant = checkChoice(options.usersWithoutRelevant ?? 'skip', ['skip', 'include'], 'usersWithoutRelevant');
  const invalidIds = checkChoice(options.invalidIds ?? 'error', ['error', 'skip-slot'], 'invalidIds');
  const keepPerUser = options.keepPerUser ?? true;
  let groups: Int32Array | undefined;
  let groupCount = 0;
  if (options.itemGroups !== undefined) {
    if (options.itemGroups.length !== itemCount + 1) {
      throw new GenrecError(
        'SHAPE_MISMATCH',
        `itemGroups has ${options.itemGroups.length} entries; indexed by item id it needs itemCount + 1 = ${itemCount + 1} (entry 0, the padding id, is ignored)`,
        { details: { field: 'itemGroups' } },
      );
    }
    groups = new Int32Array(itemCount + 1);
    for (let i = 1; i <= itemCount; i++) {
      const g = options.itemGroups[i]!;
      if (!Number.isInteger(g) || g < 0) throw new GenrecError('INVALID_INPUT', `itemGroups[${i}] = ${g} is not a group index`, { details: { field: 'itemGroups', item: i } });
      groups[i] = g;
      groupCount = Math.max(groupCount, g + 1);
    }
  }

  const power = new Float64Array(depth + 1);
  power[0] = 1;
  for (let i = 1; i <= depth; i++) power[i] = power[i - 1]! * gamma;
  // geometric(a, b) = sum_{i=a}^{b-1} gamma^i, truncated at depth
  const geometric = (a: number, b: number): number => {
    const end = Math.min(b, depth);
    if (end <= a) return 0;
    if (gamma === 1) return end - a;
    return (power[a]! - power[end]!) / (1 - gamma);
  };

  // Per-item arrays indexed by item id 1..itemCount (slot 0, the padding id, unused).
  const exposure = new Float64Array(itemCount + 1);
  const touchedTag = new Int32Array(itemCount + 1);
  const seenTag = new Int32Array(itemCount + 1);
  const relevantTag = new Int32Array(itemCount + 1);
  const target = new Float64Array(itemCount + 1);
  const touched = new Int32Array(Math.max(1, Math.min(itemCount, samples.length * depth)));
  const itemExposure = new Float64Array(itemCount + 1);
  const targetAdjustment = new Float64Array(itemCount + 1);
  let baseTargetTotal = 0;
  const perUser = keepPerUser ? { eeD: new Float64Array(userCount), eeR: new Float64Array(userCount), eeL: new Float64Array(userCount) } : null;
  let sumD = 0;
  let sumR = 0;
  let sumL = 0;
  let evaluated = 0;
  let sampleTag = 0;
  const sampleWeight = 1 / samples.length;
  const gradeBuffer: { item: number; grade: number }[] = [];

  for (let u = 0; u < userCount; u++) {
    const tag = u + 1;
    // Relevant items and their grades, best first.
    gradeBuffer.length = 0;
    const { offsets, items: relevantItems, grades } = relevance;
    for (let i = offsets[u]!; i < offsets[u + 1]!; i++) {
      const grade = grades === undefined ? 1 : grades[i]!;
      const item = relevantItems[i]!;
      if (relevantTag[item] === tag || relevantTag[item] === -tag) {
        throw new GenrecError('INVALID_INPUT', `the relevant items of user ${u} list item ${item} twice`, { details: { field: 'relevance', user: u, item } });
      }
      relevantTag[item] = -tag;
      if (grade > 0) gradeBuffer.push({ item, grade });
    }
    const relevantCount = gradeBuffer.length;
    if (relevantCount === 0 && usersWithoutRelevant === 'skip') {
      if (perUser !== null) {
        perUser.eeD[u] = Number.NaN;
        perUser.eeR[u] = Number.NaN;
        perUser.eeL[u] = Number.NaN;
      }
      continue;
    }
    gradeBuffer.sort((a, b) => b.grade - a.grade);
    let targetNormSquared = 0;
    for (let start = 0; start < relevantCount; ) {
      let end = start + 1;
      while (end < relevantCount && gradeBuffer[end]!.grade === gradeBuffer[start]!.grade) end++;
      const share = geometric(start, end) / (end - start);
      for (let i = start; i < end; i++) {
        const item = gradeBuffer[i]!.item;
        relevantTag[item] = tag;
        target[item] = share;
        targetNormSquared += share * share;
      }
      start = end;
    }
    const nonRelevant = itemCount - relevantCount;
    const baseTarget = nonRelevant > 0 ? geometric(relevantCount, itemCount) / nonRelevant : 0;
    targetNormSquared += nonRelevant * baseTarget * baseTarget;

    // System exposure, averaged over the sampled rankings.
    let touchedCount = 0;
    for (const sample of samples) {
      sampleTag++;
      const base = u * sample.width;
      const length = sample.lengths === undefined ? sample.width : sample.lengths[u]!;
      const limit = Math.min(length, depth);
      for (let j = 0; j < limit; j++) {
        const item = sample.items[base + j]!;
        if (item < 1 || item > itemCount) {
          if (invalidIds === 'error') {
            throw new GenrecError('INVALID_INPUT', `ranking of user ${u}, position ${j}: item id ${item} is outside the catalogue 1..${itemCount}`, {
              details: { field: 'rankings', user: u, position: j, item },
            });
          }
          continue;
        }
        if (seenTag[item] === sampleTag) continue;
        seenTag[item] = sampleTag;
        if (touchedTag[item] !== tag) {
          touchedTag[item] = tag;
          exposure[item] = 0;
          touched[touchedCount++] = item;
        }
        exposure[item] = exposure[item]! + power[j]! * sampleWeight;
      }
    }
    let eeD = 0;
    let eeR = 0;
    let eeL = targetNormSquared; // corrected below for every touched item
    for (let t = 0; t < touchedCount; t++) {
      const item = touched[t]!;
      const e = exposure[item]!;
      const star = relevantTag[item] === tag ? target[item]! : baseTarget;
      eeD += e * e;
      eeR += e * star;
      eeL += (e - star) * (e - star) - star * star;
      itemExposure[item] = itemExposure[item]! + e;
    }
    eeL = Math.max(0, eeL);
    for (const { item } of gradeBuffer) targetAdjustment[item] = targetAdjustment[item]! + target[item]! - baseTarget;
    baseTargetTotal += baseTarget;
    evaluated++;
    sumD += eeD;
    sumR += eeR;
    sumL += eeL;
    if (perUser !== null) {
      perUser.eeD[u] = eeD;
      perUser.eeR[u] = eeR;
      perUser.eeL[u] = eeL;
    }
  }

  const itemTargetExposure = new Float64Array(itemCount + 1);
  const scale = evaluated === 0 ? 0 : 1 / evaluated;
  for (let i = 1; i <= itemCount; i++) {
    itemExposure[i] = itemExposure[i]! * scale;
    itemTargetExposure[i] = (baseTargetTotal + targetAdjustment[i]!) * scale;
  }
  let groupExposure: number[] | null = null;
  let groupTargetExposure: number[] | null = null;
  let groupSizes: number[] | null = null;
  if (groups !== undefined) {
    groupExposure = new Array<number>(groupCount).fill(0);
    groupTargetExposure = new Array<number>(groupCount).fill(0);
    groupSizes = new Array<number>(groupCount).fill(0);
    for (let i = 1; i <= itemCount; i++) {
      const g = groups[i]!;
      groupExposure[g]! += itemExposure[i]!;
      groupTargetExposure[g]! += itemTargetExposure[i]!;
      groupSizes[g]! += 1;
    }
  }
  const mean = (sum: number): number => (evaluated === 0 ? Number.NaN : sum / evaluated);
  return {
    protocol: {
      gamma,
      depth,
      samplesPerUser: samples.length,
      usersWithoutRelevant,
      invalidIds,
      definitions: {
        exposure: 'gamma^(rank-1) for ranks 1..depth, averaged over the sampled rankings; a repeated id in one ranking keeps its slot and adds nothing',
        target:
          'items of equal grade share the exposure of the ranks an ideal ranking (relevant first by grade, ties random) gives them; grade-0 items share ranks |relevant|+1..depth',
        eeD: 'sum_d exposure_d^2',
        eeR: 'sum_d exposure_d * target_d',
        eeL: 'sum_d (exposure_d - target_d)^2 = eeD - 2 eeR + |target|^2',
      },
    },
    userCount,
    evaluatedUserCount: evaluated,
    eeD: mean(sumD),
    eeR: mean(sumR),
    eeL: mean(sumL),
    perUser,
    itemExposure,
    itemTargetExposure,
    itemExposureGini: giniIndex(itemExposure.subarray(1)),
    itemTargetExposureGini: giniIndex(itemTargetExposure.subarray(1)),
    groupExposure,
    groupTargetExposure,
    groupSizes,
  };
}

/**
 * Splits the catalogue into `groupCount` groups of (nearly) equal size by popularity, least popular
 * first (ties by lower id): the group of the item of ascending rank r (0-based, among items
 * `1 .. itemCount`) is `floor(r * groupCount / itemCount)`.
 *
 * @param popularity - popularity indexed by item id: `itemCount + 1` values, entry 0 (the padding
 *   id) ignored, the layout of `beyondAccuracy.popularity`
 * @param groupCount - number of groups
 * @defaultValue groupCount 10 (deciles)
 * @returns the group index of every item, indexed by item id like `popularity`; entry 0 is -1
 *   (the padding id belongs to no group). Pass it as `itemGroups`.
 * @throws GenrecError `INVALID_OPTION` for a bad `groupCount`; `INVALID_INPUT` for an empty `popularity`
 * @example
 * ```ts
 * popularityGroups([0, 5, 1, 9, 3], 2); // Int32Array [-1, 1, 0, 1, 0]: items 2 and 4 least popular
 * ```
 */
export function popularityGroups(popularity: ArrayLike<number>, groupCount = 10): Int32Array {
  if (!Number.isSafeInteger(groupCount) || groupCount <= 0) {
    throw new GenrecError('INVALID_OPTION', `groupCount must be a positive integer, got ${groupCount}`, { details: { field: 'groupCount' } });
  }
  if (popularity.length < 1) {
    throw new GenrecError('INVALID_INPUT', 'popularity must be indexed by item id (itemCount + 1 values, entry 0 ignored); got an empty array', {
      details: { field: 'popularity' },
    });
  }
  const itemCount = popularity.length - 1;
  const order = Array.from({ length: itemCount }, (_, i) => i + 1).sort((a, b) => popularity[a]! - popularity[b]! || a - b);
  const groups = new Int32Array(itemCount + 1);
  groups[0] = -1;
  order.forEach((item, rank) => (groups[item] = Math.floor((rank * groupCount) / itemCount)));
  return groups;
}
