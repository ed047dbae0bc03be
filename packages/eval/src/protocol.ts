import { GenrecError } from '@genrec/core';

/** Accuracy metrics computed at every cut-off K. */
export type CutoffMetric = 'hitrate' | 'recall' | 'precision' | 'ndcg' | 'mrr' | 'map';

/** Every cut-off metric, in report order. */
export const CUTOFF_METRICS: readonly CutoffMetric[] = ['hitrate', 'recall', 'precision', 'ndcg', 'mrr', 'map'];

/**
 * How equal scores are ordered when ranking from a score matrix: `pessimistic` puts relevant items
 * after every non-relevant item of equal score, `optimistic` before them, and `expected` reports the
 * exact expectation of each metric over a uniformly random order within every group of equal scores
 * (McSherry & Najork, ECIR 2008).
 */
export type TiePolicy = 'pessimistic' | 'optimistic' | 'expected';

/** NDCG gain of an item with relevance grade `g > 0`: `binary` 1, `linear` g, `exponential` 2^g - 1. */
export type GainForm = 'binary' | 'linear' | 'exponential';

/** Users that have no relevant item: left out of the means (`skip`) or counted with every metric 0 (`zero`). */
export type UsersWithoutRelevant = 'skip' | 'zero';

/**
 * Item ids outside `1 .. itemCount` (0 included: inside a list's length it is not padding) in a
 * ranked list: `error` throws, `drop` removes them before cutting at K, `miss` keeps their slot as a
 * non-relevant item (the lists as generated).
 */
export type InvalidIdPolicy = 'error' | 'drop' | 'miss';

/** Denominator of average precision at K: `min(|relevant|, K)` (RecBole) or `|relevant|`. */
export type ApDenominator = 'min-relevant-k' | 'relevant';

/** Options common to both protocols (score matrices and ranked lists). */
export interface CommonEvaluationOptions {
  /**
   * Catalogue size: valid item ids are `@genrec/data`'s `1 .. itemCount` (0 is padding, never an
   * item); a score matrix has `itemCount` columns, column `j` holding item `j + 1`.
   */
  itemCount: number;
  /** Cut-offs K (positive integers, any order, deduplicated and sorted in the result). */
  ks: readonly number[];
  /**
   * NDCG gain form; `binary` ignores grades (every relevant item has gain 1).
   * @defaultValue 'binary'
   */
  gain?: GainForm;
  /**
   * Users without a relevant item.
   * @defaultValue 'skip'
   */
  usersWithoutRelevant?: UsersWithoutRelevant;
  /**
   * Average-precision denominator.
   * @defaultValue 'min-relevant-k'
   */
  apDenominator?: ApDenominator;
  /**
   * Whether history items (given in `history`) are removed from the ranking. Relevant items are
   * never removed, even when they are also in the history.
   * @defaultValue false
   */
  maskHistory?: boolean;
  /**
   * Keep one value per user and metric (for slicing and significance tests).
   * @defaultValue true
   */
  keepPerUser?: boolean;
  /** A name for the system, carried into reports. */
  system?: string;
}

/** The protocol a result was computed under: every choice that changes a number. */
export interface EvaluationProtocol {
  /**
   * Where the rankings came from: a score matrix ranked by the evaluator (`evaluateScores`), ranked
   * lists given to the evaluator (`evaluateRankedLists`), or lists produced by a model's
   * `Recommender.recommend` (`evaluateRecommender`).
   */
  source: 'score-matrix' | 'ranked-lists' | 'recommender';
  /** Catalogue size: item ids `1 .. itemCount`. */
  itemCount: number;
  /** Sorted distinct cut-offs. */
  ks: number[];
  /** NDCG gain form; IDCG always uses the best `min(|relevant|, K)` gains. */
  gain: GainForm;
  /** Tie policy (score matrices), or `none` for ranked lists, which are already totally ordered. */
  tiePolicy: TiePolicy | 'none';
  /**
   * How much of each ranking was read: `whole-list` (score matrices: the full catalogue ranking;
   * ranked lists: every entry) or `max-k` (ranked lists read until max K entries survive filtering).
   */
  listDepth: 'whole-list' | 'max-k';
  /**
   * Whether history items were removed from the rankings. `score-matrix` and `ranked-lists`: by
   * the evaluator, which never removes a relevant item. `recommender`: by the model itself
   * (`recommend(…, { excludeHistory })`), which removes every history item, relevant ones included.
   */
  maskHistory: boolean;
  /** Ranked lists: whether repeated ids were removed (`false`: a repeat keeps its slot and never counts as a hit). */
  dedupe: boolean;
  /** Ranked lists: what happened to ids outside the catalogue `1 .. itemCount`. */
  invalidIds: InvalidIdPolicy;
  /** Users without relevant items. */
  usersWithoutRelevant: UsersWithoutRelevant;
  /** Average-precision denominator. */
  apDenominator: ApDenominator;
  /** Fixed definitions, spelled out so that a number never travels without them. */
  definitions: {
    /** Precision@K divides by K, also for lists shorter than K. */
    precision: 'hits / K';
    /** Recall@K divides by the number of relevant items (not by min(|relevant|, K)). */
    recall: 'hits / |relevant|';
    /** mrr@K is 0 when the first relevant item is below K; mrr@full has no cut-off. */
    mrr: 'mrr@K cut at K; mrr@full uncut (whole ranking or whole list)';
    /** AUC over (relevant, non-relevant, not masked) pairs, ties by the tie policy. */
    auc: 'pairs relevant vs non-relevant unmasked items; ties 0 / 1 / 0.5 for pessimistic / optimistic / expected';
  };
}

/** Checks and normalises the cut-offs. */
export function normaliseKs(ks: readonly number[]): number[] {
  if (!Array.isArray(ks) || ks.length === 0) {
    throw new GenrecError('INVALID_OPTION', 'ks must be a non-empty list of positive integers', { details: { field: 'ks' } });
  }
  for (const k of ks) {
    if (!Number.isSafeInteger(k) || k <= 0) {
      throw new GenrecError('INVALID_OPTION', `every cut-off K must be a positive integer, got ${k}`, { details: { field: 'ks' } });
    }
  }
  return Array.from(new Set(ks)).sort((a, b) => a - b);
}

/** Checks the catalogue size. */
export function checkItemCount(itemCount: number): void {
  if (!Number.isSafeInteger(itemCount) || itemCount <= 0 || itemCount > 2 ** 31 - 1) {
    throw new GenrecError('INVALID_OPTION', `itemCount must be a positive integer below 2^31, got ${itemCount}`, {
      details: { field: 'itemCount' },
    });
  }
}

/** Checks a string option against its allowed values. */
export function checkChoice<T extends string>(value: T, allowed: readonly T[], field: string): T {
  if (!allowed.includes(value)) {
    throw new GenrecError('INVALID_OPTION', `${field} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got '${String(value)}'`, {
      details: { field },
    });
  }
  return value;
}

/** The fixed definitions block of every protocol. */
export const PROTOCOL_DEFINITIONS: EvaluationProtocol['definitions'] = {
  precision: 'hits / K',
  recall: 'hits / |relevant|',
  mrr: 'mrr@K cut at K; mrr@full uncut (whole ranking or whole list)',
  auc: 'pairs relevant vs non-relevant unmasked items; ties 0 / 1 / 0.5 for pessimistic / optimistic / expected',
};
