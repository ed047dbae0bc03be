import type { EvaluationSet, HistoryBatch, Recommender, SequenceDataset } from '@genrec/core';
import { evaluateRecommender } from '@genrec/eval';
import type { PreferenceModel } from '@genrec/nn';
import { LogProbScorer } from './log-prob-scorer.js';
import { klDivergence } from './pair-diagnostics.js';

/**
 * Held-out diagnostic users from training rows: each row's training sequence but its last item is
 * the history, the last item the target. Rows must have at least 2 items.
 *
 * @param train - training sequences
 * @param rows - the held-out rows
 * @returns an evaluation set (no validation or test data involved)
 * @example
 * ```ts
 * const heldOut = heldOutTrainingSet(split.train, [3, 17, 42]);
 * ```
 */
export function heldOutTrainingSet(train: SequenceDataset, rows: ArrayLike<number>): EvaluationSet {
  const size = rows.length;
  const historyOffsets = new Int32Array(size + 1);
  for (let u = 0; u < size; u++) historyOffsets[u + 1] = historyOffsets[u]! + train.offsets[rows[u]! + 1]! - train.offsets[rows[u]!]! - 1;
  const historyItems = new Int32Array(historyOffsets[size]!);
  const targetItems = new Int32Array(size);
  for (let u = 0; u < size; u++) {
    const from = train.offsets[rows[u]!]!;
    const to = train.offsets[rows[u]! + 1]!;
    historyItems.set(train.items.subarray(from, to - 1), historyOffsets[u]!);
    targetItems[u] = train.items[to - 1]!;
  }
  return {
    size,
    rows: Int32Array.from(rows),
    userIds: Int32Array.from(rows, (row) => train.userIds[row]!),
    historyOffsets,
    historyItems,
    targetOffsets: Int32Array.from({ length: size + 1 }, (_, i) => i),
    targetItems,
  };
}

/** Recommendation diagnostics of one model on one set of users (keys `ndcg@K`, `recall@K`, `coverage@K`, `popularity@K`, `gini@K`, `exposureGini`, `users`). */
export type RecommendationDiagnostics = Record<string, number>;

/**
 * Accuracy and beyond-accuracy of a model's top-K (history excluded) through `@genrec/eval`'s
 * `evaluateRecommender`: NDCG@K and Recall@K against the set's targets, catalogue coverage@K,
 * average training popularity@K of the recommended items, Gini@K of the recommendation counts, and
 * the Gini index of expected exposure (γ = 0.5) over the catalogue.
 *
 * @param model - a fitted recommender
 * @param set - users with histories and targets
 * @param k - the cut-off
 * @param popularity - training interaction counts by item id (`itemCount + 1` values)
 * @param batchSize - users per `recommend` call
 * @returns the diagnostics
 * @example
 * ```ts
 * const numbers = await recommendationDiagnostics(model, split.validation, 10, itemPopularity(split.train));
 * numbers['coverage@10'];
 * ```
 */
export async function recommendationDiagnostics(model: Recommender, set: EvaluationSet, k: number, popularity: Float64Array, batchSize = 256): Promise<RecommendationDiagnostics> {
  const result = await evaluateRecommender(model, set, { ks: [k], keepPerUser: false, batchSize, beyondAccuracy: { popularity }, exposure: {} });
  const beyond = result.beyondAccuracy ?? {};
  return {
    users: set.size,
    [`ndcg@${k}`]: result.metrics[`ndcg@${k}`]!,
    [`recall@${k}`]: result.metrics[`recall@${k}`]!,
    [`coverage@${k}`]: beyond[`coverage@${k}`]!,
    [`popularity@${k}`]: beyond[`popularity@${k}`]!,
    [`gini@${k}`]: beyond[`gini@${k}`]!,
    exposureGini: result.exposure?.itemExposureGini ?? Number.NaN,
  };
}

/**
 * Measures KL(π ‖ π_ref) over the item softmax on held-out histories: log π of every catalogue item
 * under two sets of parameter values of one preference model (dropout off), renormalised over the
 * catalogue (for token-level generative models this is the item distribution restricted to
 * existing items), averaged over users.
 * @internal
 */
export class KlMeter {
  /** log π of every item by parameter map (the reference of round t + 1 is the policy of round t). */
  private readonly cache = new WeakMap<ReadonlyMap<string, Float32Array | Float64Array>, Float32Array>();

  private constructor(
    private readonly scorer: LogProbScorer,
    private readonly histories: HistoryBatch,
    private readonly itemCount: number,
  ) {}

  static async create(hook: PreferenceModel, histories: HistoryBatch, threads: number): Promise<KlMeter> {
    const users = histories.offsets.length - 1;
    const width = hook.tokensPerItem === 1 ? hook.itemCount : Math.min(hook.itemCount, 64);
    const scorer = await LogProbScorer.create(hook, { users: Math.min(users, hook.tokensPerItem === 1 ? 32 : 8), candidates: width }, threads);
    return new KlMeter(scorer, histories, hook.itemCount);
  }

  /** log π of every item, `users x itemCount`. */
  private async allItems(values: ReadonlyMap<string, Float32Array | Float64Array>): Promise<Float32Array> {
    const cached = this.cache.get(values);
    if (cached) return cached;
    const users = this.histories.offsets.length - 1;
    const width = this.scorer.shape.candidates;
    const out = new Float32Array(users * this.itemCount);
    for (let first = 1; first <= this.itemCount; first += width) {
      const candidates = new Int32Array(users * width);
      for (let u = 0; u < users; u++) for (let j = 0; j < width; j++) candidates[u * width + j] = Math.min(first + j, this.itemCount);
      const logp = await this.scorer.run(values, this.histories, candidates);
      const count = Math.min(width, this.itemCount - first + 1);
      for (let u = 0; u < users; u++) out.set(logp.subarray(u * width, u * width + count), u * this.itemCount + first - 1);
    }
    this.cache.set(values, out);
    return out;
  }

  /** Mean KL(policy ‖ reference) in nats. */
  async measure(policy: ReadonlyMap<string, Float32Array | Float64Array>, reference: ReadonlyMap<string, Float32Array | Float64Array>): Promise<number> {
    if (this.histories.offsets.length === 1) return 0;
    const [p, q] = [await this.allItems(policy), await this.allItems(reference)];
    return klDivergence(p, q, this.itemCount);
  }

  async release(): Promise<void> {
    await this.scorer.release();
  }
}
