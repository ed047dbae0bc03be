/**
 * Recommendation metrics, protocols, significance tests and reports for genrec: accuracy at any
 * cut-offs (HitRate, Recall, Precision, NDCG, MRR, MAP, AUC), beyond-accuracy and expected-exposure
 * fairness, generative decoding diagnostics, full-ranking protocols with every choice recorded,
 * one evaluation path for every `Recommender` (`evaluateRecommender`), paired significance tests
 * and Markdown/JSON reports.
 *
 * Item ids are `@genrec/data`'s dense ids `1 .. itemCount` in every API (0 is padding, never an
 * item); a score matrix has `itemCount` columns, column `j` holding item `j + 1`; per-item arrays
 * (popularity, item groups, item exposure) are indexed by item id with `itemCount + 1` entries.
 *
 * @packageDocumentation
 * @module @genrec/eval
 */

export {
  CUTOFF_METRICS,
  type ApDenominator,
  type CommonEvaluationOptions,
  type CutoffMetric,
  type EvaluationProtocol,
  type GainForm,
  type InvalidIdPolicy,
  type TiePolicy,
  type UsersWithoutRelevant,
} from './protocol.js';
export {
  createRankedLists,
  listLength,
  rankedListOf,
  rankedListsFromArrays,
  rankedListsFromRecommendations,
  type RankedLists,
} from './ranked-lists.js';
export { itemSetsFromArrays, itemSetsFromPadded, validateItemSets, type UserItemSets } from './item-sets.js';
export type { DecodingDiagnostics, EvaluationResult } from './evaluation-result.js';
export { evaluateRankedLists, type RankedListEvaluationOptions } from './evaluate-ranked-lists.js';
export { DEFAULT_RECOMMENDER_KS, evaluateRecommender, type RecommenderEvaluationOptions } from './evaluate-recommender.js';
export { evaluateScores, scoreBlocks, type ScoreEvaluationOptions, type ScoreEvaluationResult, type ScoreSource } from './evaluate-scores.js';
export type { BeyondAccuracyOptions, BeyondAccuracyProtocol } from './beyond-accuracy.js';
export { evaluateExposure, popularityGroups, type ExposureOptions, type ExposureResult } from './exposure.js';
export { giniIndex, shannonEntropy } from './inequality.js';
export { TopKSelector } from './top-k.js';
export {
  holmAdjust,
  pairedBootstrap,
  pairedTTest,
  wilcoxonSignedRank,
  type PairedBootstrapOptions,
  type PairedTestResult,
} from './significance.js';
export { evaluationResultFromJSON, evaluationResultToJSON, type ResultJsonOptions } from './result-json.js';
export {
  compareResults,
  describeProtocol,
  formatComparisonTable,
  formatResultTable,
  type Comparison,
  type ComparisonCell,
  type ComparisonOptions,
  type ComparisonTest,
  type TableOptions,
} from './report.js';
export { formatSliceTable, quantileBuckets, sliceResult, type SliceOptions, type SliceTable } from './slice.js';
export { splitmix64Halves, uint64Mod, type Uint64Halves } from './splitmix64-fast.js';
export {
  PEER_LIST_LENGTH,
  PEER_MAX_RELEVANT,
  generatePeerMetricsData,
  type PeerMetricsData,
  type PeerMetricsDataOptions,
} from './synthetic-peer-data.js';

/** The package version this source belongs to. */
export const version = '0.0.0';
