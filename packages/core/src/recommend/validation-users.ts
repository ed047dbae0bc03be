import { GenrecError } from '../errors.js';
import { Rng } from '../random.js';
import type { EvaluationSet } from '../contracts/dataset.js';
import type { HistoryBatch, Recommender } from '../contracts/recommender.js';

/** A ranking metric at a cut-off, as early stopping names it (`ndcg@10`). */
export interface ValidationMetric {
  /** The metric's name (`ndcg@10`). */
  name: string;
  metric: 'ndcg' | 'recall' | 'hitrate';
  k: number;
}

/** The validation users a fit scores every epoch (all, or a fixed seeded sample). */
export interface ValidationUsers {
  histories: HistoryBatch;
  targetOffsets: Int32Array;
  targetItems: Int32Array;
}

/**
 * Checks a validation set against the catalogue and selects the users that are scored: those with
 * at least one target, all of them or `sampleUsers` of them drawn with the fit's seed (the same
 * users every epoch).
 *
 * @throws GenrecError `INVALID_INPUT` for malformed offsets or ids outside `1 .. itemCount`.
 */
export function selectValidationUsers(set: EvaluationSet, itemCount: number, sampleUsers: number | undefined, seed: number): ValidationUsers {
  const { historyOffsets, historyItems, targetOffsets, targetItems, size } = set;
  const ok =
    Number.isInteger(size) &&
    historyOffsets instanceof Int32Array &&
    targetOffsets instanceof Int32Array &&
    historyItems instanceof Int32Array &&
    targetItems instanceof Int32Array &&
    historyOffsets.length === size + 1 &&
    targetOffsets.length === size + 1 &&
    historyOffsets[size] === historyItems.length &&
    targetOffsets[size] === targetItems.length;
  if (!ok) throw new GenrecError('INVALID_INPUT', 'validation must be an EvaluationSet (history and target offsets of size + 1 entries ending at their items)', { details: { field: 'validation' } });
  for (const [name, items] of [['historyItems', historyItems], ['targetItems', targetItems]] as const) {
    for (let i = 0; i < items.length; i++) {
      const id = items[i]!;
      if (!(id >= 1 && id <= itemCount)) throw new GenrecError('INVALID_INPUT', `validation.${name}[${i}] = ${id} is outside the catalogue 1..${itemCount}`, { details: { field: `validation.${name}`, position: i } });
    }
  }
  let users: number[] = [];
  for (let u = 0; u < size; u++) if (targetOffsets[u + 1]! > targetOffsets[u]!) users.push(u);
  if (sampleUsers !== undefined && sampleUsers < users.length) {
    const order = new Rng(seed).permutation(users.length);
    users = Array.from(order.subarray(0, sampleUsers), (i) => users[i]!).sort((a, b) => a - b);
  }
  const hOffsets = new Int32Array(users.length + 1);
  const tOffsets = new Int32Array(users.length + 1);
  users.forEach((u, i) => {
    hOffsets[i + 1] = hOffsets[i]! + historyOffsets[u + 1]! - historyOffsets[u]!;
    tOffsets[i + 1] = tOffsets[i]! + targetOffsets[u + 1]! - targetOffsets[u]!;
  });
  const hItems = new Int32Array(hOffsets[users.length]!);
  const tItems = new Int32Array(tOffsets[users.length]!);
  users.forEach((u, i) => {
    hItems.set(historyItems.subarray(historyOffsets[u]!, historyOffsets[u + 1]!), hOffsets[i]!);
    tItems.set(targetItems.subarray(targetOffsets[u]!, targetOffsets[u + 1]!), tOffsets[i]!);
  });
  return { histories: { offsets: hOffsets, items: hItems }, targetOffsets: tOffsets, targetItems: tItems };
}

/**
 * Validation through the model's own `recommend` (trie-constrained beam search, history excluded,
 * retired items excluded): per user the top-`K` list, then with `T` the user's targets, Recall@K =
 * hits / |T|, HitRate@K = 1[hits > 0], NDCG@K = Σ_hits 1/log2(rank + 2) / Σ_{i < min(|T|, K)}
 * 1/log2(i + 2) (binary gain, 0-based rank), averaged over users. Always reports `ndcg@10` and
 * `recall@10` (K capped at the catalogue size) and the early-stopping metric.
 */
export async function validateRecommender(model: Recommender, users: ValidationUsers, early: ValidationMetric | undefined): Promise<Record<string, number>> {
  const count = users.targetOffsets.length - 1;
  const wanted = validationMetricList(model.itemCount, early);
  const depth = Math.max(...wanted.map((w) => w.k));
  const sums = new Float64Array(wanted.length);
  if (count === 0) return Object.fromEntries(wanted.map((w) => [w.name, 0]));
  const lists = await model.recommend(users.histories, { k: depth });
  const rankOf = new Map<number, number>();
  for (let u = 0; u < count; u++) {
    rankOf.clear();
    for (let r = 0; r < lists.lengths[u]!; r++) rankOf.set(lists.items[u * depth + r]!, r);
    const ranks = Array.from(users.targetItems.subarray(users.targetOffsets[u]!, users.targetOffsets[u + 1]!), (target) => rankOf.get(target));
    wanted.forEach((w, m) => (sums[m]! += userMetricValue(w, ranks)));
  }
  return Object.fromEntries(wanted.map((w, m) => [w.name, sums[m]! / count]));
}

/**
 * The metrics every validation reports, in order: `ndcg@10`, `recall@10` (K capped at the catalogue
 * size) and the early-stopping metric when it is neither.
 */
export function validationMetricList(itemCount: number, early: ValidationMetric | undefined): ValidationMetric[] {
  const k10 = Math.min(10, itemCount);
  const wanted: ValidationMetric[] = [
    { name: 'ndcg@10', metric: 'ndcg', k: k10 },
    { name: 'recall@10', metric: 'recall', k: k10 },
  ];
  if (early && !wanted.some((w) => w.name === early.name)) wanted.push({ name: early.name, metric: early.metric, k: early.k });
  return wanted;
}

/**
 * One user's value of `metric` from the 0-based ranks of its targets in its list (`undefined`: not
 * in it), as {@link validateRecommender} defines them (binary gain; a rank at or beyond K counts
 * nothing).
 */
export function userMetricValue(metric: ValidationMetric, ranks: readonly (number | undefined)[]): number {
  let hits = 0;
  let dcg = 0;
  for (const rank of ranks) {
    if (rank !== undefined && rank < metric.k) {
      hits++;
      dcg += 1 / Math.log2(rank + 2);
    }
  }
  if (metric.metric === 'recall') return hits / ranks.length;
  if (metric.metric === 'hitrate') return hits > 0 ? 1 : 0;
  let ideal = 0;
  for (let i = 0; i < Math.min(ranks.length, metric.k); i++) ideal += 1 / Math.log2(i + 2);
  return dcg / ideal;
}
