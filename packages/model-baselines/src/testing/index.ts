/**
 * Test helpers of `@genrec/model-baselines`: the conformance suite every `Recommender`
 * implementation runs (`describeRecommenderConformance`, for vitest) and the data and metric
 * helpers it uses (synthetic splits, HitRate / NDCG from `recommend`, naive popularity).
 *
 * @packageDocumentation
 * @module @genrec/model-baselines/testing
 */

export {
  RECOMMENDER_CONFORMANCE_CASES,
  describeRecommenderConformance,
  onePassFitOptions,
  type ConformanceFitOptions,
  type RecommenderConformanceCase,
  type RecommenderConformanceFactory,
} from './conformance.js';
export {
  historyOf,
  historySlice,
  hitRate,
  ndcg,
  popularityHitRate,
  popularityRanking,
  qualityData,
  smallData,
  type ConformanceData,
} from './conformance-data.js';
