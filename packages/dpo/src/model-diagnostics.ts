import { GenrecError, type EvaluationSet, type HistoryBatch, type Recommender, type SequenceDataset } from '@genrec/core';
import { evaluateRecommender } from '@genrec/eval';
import type { PreferenceModel } from '@genrec/nn';
import { LogProbScorer } from './log-prob-scorer.js';
import { klDivergence, rowKlDivergence } from './pair-diagnostics.js';

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

type Values = ReadonlyMap<string, Float32Array | Float64Array>;

/** The token-level KL's fixed part: each user's candidate (its held-out target) and the allowed logits. */
interface TokenSegments {
  /** The candidate of each user. */
  targets: Int32Array;
  /** Indices into the `users x tokensPerItem x vocabularySize` logits of the allowed tokens, segment after segment. */
  indices: Int32Array;
  /** Segment `s` (one user's position with at least one allowed token) is `indices[offsets[s] .. offsets[s + 1])`. */
  offsets: Int32Array;
}

/**
 * Measures KL(π ‖ π_ref) on held-out users under two sets of parameter values of one preference
 * model (dropout off), averaged over users.
 *
 * - Token-level models (the hook has `buildTokenLogits` and `tokenMask`, `tokensPerItem > 1`): at
 *   token level over the constrained next-token distributions — for each user, the held-out
 *   target is teacher-forced (one candidate row per user), and KL = the sum over its positions `l`
 *   of KL(π_l ‖ π_ref,l), π_l the softmax of position `l`'s logits restricted to the tokens the
 *   model's constrained decoding allows after the target's first `l` tokens (renormalised over
 *   them); positions where none is allowed are skipped.
 * - Item-level models: over the item softmax — log π of every catalogue item, renormalised over
 *   the catalogue.
 * @internal
 */
export class KlMeter {
  /** What the KL is computed from, by parameter map (the reference of round t + 1 is the policy of round t): log π of every item, or the allowed tokens' logits. */
  private readonly cache = new WeakMap<Values, Float32Array>();

  private constructor(
    private readonly scorer: LogProbScorer,
    private readonly histories: HistoryBatch,
    private readonly itemCount: number,
    private readonly tokens: TokenSegments | undefined,
  ) {}

  /**
   * @param hook - the model's preference hook
   * @param histories - the KL users' histories
   * @param targets - their held-out targets (one per user; read at token level only)
   * @param threads - onnxruntime threads per operator
   * @throws GenrecError `SHAPE_MISMATCH` when the targets, the token mask or the logits disagree with the users, `tokensPerItem` or `vocabularySize`.
   */
  static async create(hook: PreferenceModel, histories: HistoryBatch, targets: Int32Array, threads: number): Promise<KlMeter> {
    const users = histories.offsets.length - 1;
    if (targets.length !== users) throw new GenrecError('SHAPE_MISMATCH', `KlMeter: ${targets.length} targets for ${users} users`, { details: { field: 'targets' } });
    const width = hook.tokensPerItem;
    if (hook.buildTokenLogits !== undefined && hook.tokenMask !== undefined && width > 1) {
      const v = hook.vocabularySize ?? 0;
      const mask = hook.tokenMask(targets);
      if (v < 1 || mask.length !== users * width * v) {
        throw new GenrecError('SHAPE_MISMATCH', `KlMeter: the ${hook.kind} hook's token mask holds ${mask.length} values for ${users} candidates x ${width} tokens x vocabulary ${hook.vocabularySize}`, { details: { field: 'tokenMask' } });
      }
      const scorer = await LogProbScorer.create(hook, { users: Math.max(1, Math.min(users, 32)), candidates: 1 }, threads, 'token-logits');
      if (scorer.valuesPerCandidate !== width * v) {
        await scorer.release();
        throw new GenrecError('SHAPE_MISMATCH', `KlMeter: the ${hook.kind} hook's token logits hold ${scorer.valuesPerCandidate} values per candidate, not ${width} x ${v}`, { details: { field: 'buildTokenLogits' } });
      }
      const indices: number[] = [];
      const offsets: number[] = [0];
      for (let row = 0; row < users * width; row++) {
        for (let t = 0; t < v; t++) if (mask[row * v + t] === 1) indices.push(row * v + t);
        if (indices.length > offsets.at(-1)!) offsets.push(indices.length);
      }
      return new KlMeter(scorer, histories, hook.itemCount, { targets: Int32Array.from(targets), indices: Int32Array.from(indices), offsets: Int32Array.from(offsets) });
    }
    const candidates = width === 1 ? hook.itemCount : Math.min(hook.itemCount, 64);
    const scorer = await LogProbScorer.create(hook, { users: Math.max(1, Math.min(users, width === 1 ? 32 : 8)), candidates }, threads);
    return new KlMeter(scorer, histories, hook.itemCount, undefined);
  }

  /** Whether KL is measured at token level. */
  get tokenLevel(): boolean {
    return this.tokens !== undefined;
  }

  /** log π of every item, `users x itemCount`. */
  private async allItems(values: Values): Promise<Float32Array> {
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
    return out;
  }

  /** The logits of the allowed tokens at every position of every user's target, segment after segment. */
  private async allowedLogits(values: Values, tokens: TokenSegments): Promise<Float32Array> {
    const logits = await this.scorer.run(values, this.histories, tokens.targets);
    return Float32Array.from(tokens.indices, (i) => logits[i]!);
  }

  private async inputs(values: Values): Promise<Float32Array> {
    const cached = this.cache.get(values);
    if (cached) return cached;
    const out = this.tokens ? await this.allowedLogits(values, this.tokens) : await this.allItems(values);
    this.cache.set(values, out);
    return out;
  }

  /** Mean KL(policy ‖ reference) in nats. */
  async measure(policy: Values, reference: Values): Promise<number> {
    const users = this.histories.offsets.length - 1;
    if (users === 0) return 0;
    const [p, q] = [await this.inputs(policy), await this.inputs(reference)];
    if (!this.tokens) return klDivergence(p, q, this.itemCount);
    const offsets = this.tokens.offsets;
    let total = 0;
    for (let s = 0; s + 1 < offsets.length; s++) total += rowKlDivergence(p, q, offsets[s]!, offsets[s + 1]! - offsets[s]!);
    return total / users;
  }

  async release(): Promise<void> {
    await this.scorer.release();
  }
}
