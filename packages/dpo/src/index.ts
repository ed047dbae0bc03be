/**
 * Preference alignment for any genrec model: DPO, cDPO, IPO and S-DPO losses over a model's
 * preference hook, pair sources (self-hard negatives, reward-model pairs, explicit feedback),
 * reward models, OneRec-style rounds and TRL-named diagnostics.
 *
 * @packageDocumentation
 * @module @genrec/dpo
 */

/** The package version this source belongs to. */
export const version = '0.0.0';

export { PREFERENCE_LOSSES, buildPreferenceLoss, mixSupervisedLoss, resolvePreferenceLoss, type PreferenceLoss, type PreferenceLossOptions, type ResolvedPreferenceLoss } from './losses.js';
export { klDivergence, preferenceDiagnostics, type PreferenceDiagnostics } from './pair-diagnostics.js';
export {
  exposureAwareReward,
  functionReward,
  itemPopularity,
  recommenderReward,
  type ExposureAwareRewardOptions,
  type RewardModel,
  type RewardRequest,
} from './reward-models.js';
export {
  PAIR_SOURCES,
  buildPreferencePairs,
  falseNegativeShare,
  sampleTrainingRows,
  type PairSource,
  type PreferencePairOptions,
  type PreferencePairs,
  type RatedSequences,
} from './preference-pairs.js';
export { LogProbScorer, computeLogProbs, type ComputeLogProbsOptions, type ScorerOutput } from './log-prob-scorer.js';
export { heldOutTrainingSet, recommendationDiagnostics, type RecommendationDiagnostics } from './model-diagnostics.js';
export type { AlignOptions, ResolvedAlignOptions } from './align-options.js';
export {
  ALIGNMENT_INPUTS,
  alignModel,
  type AlignmentData,
  type AlignmentResult,
  type AlignmentRound,
  type AlignmentStep,
  type ModelDiagnostics,
} from './align-model.js';
