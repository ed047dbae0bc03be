import { GenrecError, checkEnumOption, checkKnownOptions, checkNumberOption, type HistoryBatch, type Recommender, type SequenceDataset } from '@genrec/core';

/**
 * What a reward model scores: for each user a history and the current model's candidate list
 * (best first). Built by the reward-model pair source from the training part of the data only.
 */
export interface RewardRequest {
  /** Each user's history (a prefix of the user's training sequence), oldest first. */
  readonly histories: HistoryBatch;
  /** `users x candidatesPerUser` item ids, row-major, each row the current model's ranking. */
  readonly candidates: Int32Array;
  /** Candidates per user. */
  readonly candidatesPerUser: number;
  /** Item ids are `1 .. itemCount`. */
  readonly itemCount: number;
}

/**
 * A reward model: it simulates the user (OneRec's IPA) and scores candidates; higher is better.
 * Only the order of a user's candidates matters to pair building (chosen = highest, rejected =
 * lowest). Never judge alignment by the reward model it optimised (judge on held-out interactions).
 */
export interface RewardModel {
  /** A name for reports (`'recommender:sasrec'`, `'exposure-aware(…)'`). */
  readonly name: string;
  /**
   * Scores every candidate of the request.
   * @returns one finite reward per candidate, `users x candidatesPerUser` row-major
   */
  score(request: RewardRequest): Promise<Float64Array>;
}

function requestLists(request: RewardRequest): Int32Array[] {
  const users = request.histories.offsets.length - 1;
  return Array.from({ length: users }, (_, u) => request.candidates.subarray(u * request.candidatesPerUser, (u + 1) * request.candidatesPerUser));
}

function checkRewards(rewards: ArrayLike<number>, expected: number, name: string): Float64Array {
  if (rewards.length !== expected) {
    throw new GenrecError('SHAPE_MISMATCH', `reward model ${name} returned ${rewards.length} rewards for ${expected} candidates`, { details: { field: 'rewardModel' } });
  }
  const out = Float64Array.from(rewards);
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i]!)) throw new GenrecError('INVALID_INPUT', `reward model ${name} returned ${out[i]} for candidate ${i}`, { details: { field: 'rewardModel', position: i } });
  }
  return out;
}

/**
 * A reward model from a fitted `Recommender`: the reward of a candidate is the recommender's
 * `score` for it given the history (e.g. a SASRec trained on the training part only).
 *
 * @param recommender - a fitted model over the same catalogue
 * @returns the reward model (it does not own the recommender: dispose it yourself)
 * @example
 * ```ts
 * const judge = await fitSasrec({ train: split.train }, { epochs: 5 });
 * const reward = recommenderReward(judge);
 * ```
 */
export function recommenderReward(recommender: Recommender): RewardModel {
  if (typeof recommender?.score !== 'function') throw new GenrecError('INVALID_INPUT', 'recommenderReward takes a fitted Recommender', { details: { field: 'recommender' } });
  const name = `recommender:${recommender.kind}`;
  return {
    name,
    async score(request) {
      if (recommender.itemCount < request.itemCount) {
        throw new GenrecError('SHAPE_MISMATCH', `the reward recommender knows ${recommender.itemCount} items, the candidates come from ${request.itemCount}`, { details: { field: 'rewardModel' } });
      }
      const scores = await recommender.score(request.histories, requestLists(request));
      return checkRewards(scores, request.candidates.length, name);
    },
  };
}

/**
 * A reward model from a function of the request (the user's own reward, a rule such as "1 for
 * the target", a simulator).
 *
 * @param reward - returns one reward per candidate, `users x candidatesPerUser` row-major
 * @param name - a name for reports. @defaultValue 'function'
 * @returns the reward model
 * @example
 * ```ts
 * const preferItem7 = functionReward((request) => Array.from(request.candidates, (item) => (item === 7 ? 1 : 0)));
 * ```
 */
export function functionReward(reward: (request: RewardRequest) => ArrayLike<number> | Promise<ArrayLike<number>>, name = 'function'): RewardModel {
  if (typeof reward !== 'function') throw new GenrecError('INVALID_INPUT', 'functionReward takes a function', { details: { field: 'reward' } });
  return {
    name,
    async score(request) {
      return checkRewards(await reward(request), request.candidates.length, name);
    },
  };
}

/** Options of {@link exposureAwareReward}. */
export interface ExposureAwareRewardOptions {
  /** λ: penalty weight (0 = the relevance alone). @defaultValue 0.5 */
  weight?: number;
  /**
   * `'popularity'`: the item's training interaction count divided by the largest count;
   * `'exposure'`: how many of the request's candidate lists (the current model's recommendations
   * to the sampled users) contain the item, divided by the largest such count.
   * @defaultValue 'popularity'
   */
  penalty?: 'popularity' | 'exposure';
  /** Training interaction counts, indexed by item id (`itemCount + 1` values); required for `'popularity'` (see {@link itemPopularity}). */
  popularity?: ArrayLike<number>;
  /**
   * Standardise each user's relevance over the user's candidates (z-scores) before subtracting the
   * penalty, so that λ is in units of a standard deviation whatever the relevance scale.
   * @defaultValue true
   */
  standardize?: boolean;
}

/**
 * Interaction counts per item id of a training set (`itemCount + 1` values, entry 0 unused).
 *
 * @param train - training sequences
 * @returns the counts
 * @example
 * ```ts
 * const popularity = itemPopularity(split.train);
 * ```
 */
export function itemPopularity(train: SequenceDataset): Float64Array {
  const counts = new Float64Array(train.itemCount + 1);
  for (const item of train.items) if (item >= 1 && item <= train.itemCount) counts[item]!++;
  return counts;
}

/**
 * An exposure-aware reward: `relevance − λ · penalty`, with the relevance of another reward model
 * (standardised per user by default) and a popularity or exposure penalty in [0, 1]. Preferring
 * less exposed items in the pairs pushes the aligned model's recommendations away from the head;
 * measure the accuracy it costs on held-out data.
 *
 * @param relevance - the relevance reward (e.g. {@link recommenderReward})
 * @param options - λ, penalty kind, popularity counts
 * @returns the reward model
 * @throws GenrecError `INVALID_OPTION` for a bad λ or penalty, a missing or mis-sized popularity array.
 * @example
 * ```ts
 * const reward = exposureAwareReward(recommenderReward(judge), { weight: 1, popularity: itemPopularity(split.train) });
 * ```
 */
export function exposureAwareReward(relevance: RewardModel, options: ExposureAwareRewardOptions = {}): RewardModel {
  checkKnownOptions(options, ['weight', 'penalty', 'popularity', 'standardize'], 'exposureAwareReward');
  if (typeof relevance?.score !== 'function') throw new GenrecError('INVALID_INPUT', 'exposureAwareReward takes a RewardModel', { details: { field: 'relevance' } });
  const weight = checkNumberOption(options.weight ?? 0.5, 'weight', 0);
  const penalty = checkEnumOption(options.penalty ?? 'popularity', 'penalty', ['popularity', 'exposure'] as const);
  const standardize = options.standardize ?? true;
  if (typeof standardize !== 'boolean') throw new GenrecError('INVALID_OPTION', 'standardize must be true or false', { details: { field: 'standardize' } });
  let popularity: Float64Array | undefined;
  if (penalty === 'popularity') {
    if (options.popularity === undefined || typeof options.popularity.length !== 'number') {
      throw new GenrecError('INVALID_OPTION', "penalty 'popularity' needs options.popularity (itemPopularity(train))", { details: { field: 'popularity' } });
    }
    popularity = Float64Array.from(options.popularity);
    for (let i = 1; i < popularity.length; i++) {
      if (!(popularity[i]! >= 0) || !Number.isFinite(popularity[i]!)) throw new GenrecError('INVALID_OPTION', `popularity of item ${i} is ${popularity[i]}`, { details: { field: 'popularity' } });
    }
  }
  return {
    name: `exposure-aware(${relevance.name}, ${penalty}, λ=${weight})`,
    async score(request) {
      const rewards = checkRewards(await relevance.score(request), request.candidates.length, relevance.name);
      const n = request.candidatesPerUser;
      const users = rewards.length / n;
      if (standardize) {
        for (let u = 0; u < users; u++) {
          let mean = 0;
          for (let j = 0; j < n; j++) mean += rewards[u * n + j]! / n;
          let variance = 0;
          for (let j = 0; j < n; j++) variance += (rewards[u * n + j]! - mean) ** 2 / n;
          const std = Math.sqrt(variance);
          for (let j = 0; j < n; j++) rewards[u * n + j] = std > 0 ? (rewards[u * n + j]! - mean) / std : 0;
        }
      }
      let counts: Float64Array;
      if (popularity) {
        if (popularity.length !== request.itemCount + 1) {
          throw new GenrecError('SHAPE_MISMATCH', `popularity has ${popularity.length} values; the catalogue needs itemCount + 1 = ${request.itemCount + 1}`, { details: { field: 'popularity' } });
        }
        counts = popularity;
      } else {
        counts = new Float64Array(request.itemCount + 1);
        for (const item of request.candidates) counts[item]!++;
      }
      let largest = 0;
      for (let i = 1; i < counts.length; i++) largest = Math.max(largest, counts[i]!);
      if (largest > 0) for (let i = 0; i < rewards.length; i++) rewards[i] = rewards[i]! - (weight * counts[request.candidates[i]!]!) / largest;
      return rewards;
    },
  };
}
