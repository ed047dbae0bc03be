import type { EvaluationSet, FitData, HistoryBatch, ItemCatalog, Recommender, SequenceDataset } from '@genrec/core';
import { generateSyntheticDataset, leaveOneOutSplit, type DatasetSplit } from '@genrec/data';

/** A split data set the conformance suite fits models on. */
export interface ConformanceData {
  /** What it is, for messages. */
  name: string;
  /** The leave-one-out split (histories cut to the 50 most recent items). */
  split: DatasetSplit;
  /** The item catalogue. */
  catalog: ItemCatalog;
  /** `{ train, validation, catalog }` as `fit` takes it. */
  fitData: FitData;
}

const cache = new Map<string, ConformanceData>();

function build(name: string, options: Parameters<typeof generateSyntheticDataset>[0]): ConformanceData {
  const cached = cache.get(name);
  if (cached !== undefined) return cached;
  const synthetic = generateSyntheticDataset(options);
  const split = leaveOneOutSplit(synthetic.dataset, { maxHistoryLength: 50 });
  const data: ConformanceData = { name, split, catalog: synthetic.catalog, fitData: { train: split.train, validation: split.validation, catalog: synthetic.catalog } };
  cache.set(name, data);
  return data;
}

/**
 * The synthetic default data set of `@genrec/data` (5,000 users, 2,000 items, seed 42), split
 * leave-one-out: the data of the quality case (built once, then cached).
 *
 * @returns the split, its catalogue and `fitData`.
 * @example
 * ```ts
 * const { fitData, split } = qualityData();
 * const model = await fitMarkov(fitData);
 * console.log(await hitRate(model, split.test, 10), popularityHitRate(split.train, split.test, 10));
 * ```
 */
export function qualityData(): ConformanceData {
  return build('the synthetic default (5,000 users x 2,000 items), leave-one-out', {});
}

/**
 * A small synthetic data set (300 users, 120 items, seed 7), split leave-one-out: the data of
 * every mechanical case, so that models that train by epochs stay cheap (built once, then cached).
 *
 * @returns the split, its catalogue and `fitData`.
 * @example
 * ```ts
 * const { split } = smallData();
 * const histories = historySlice(split.test, 0, 40);
 * ```
 */
export function smallData(): ConformanceData {
  return build('a small synthetic set (300 users x 120 items), leave-one-out', { seed: 7, userCount: 300, itemCount: 120, topicCount: 4, subtopicsPerTopic: 3 });
}

/**
 * Users `from .. to - 1` of an evaluation set as a history batch (offsets rebased to 0).
 *
 * @returns a `HistoryBatch` for `recommend` / `score`.
 * @example
 * ```ts
 * const result = await model.recommend(historySlice(split.test, 0, 100), { k: 10 });
 * ```
 */
export function historySlice(set: EvaluationSet, from: number, to: number): HistoryBatch {
  const base = set.historyOffsets[from]!;
  const offsets = new Int32Array(to - from + 1);
  for (let u = from; u <= to; u++) offsets[u - from] = set.historyOffsets[u]! - base;
  return { offsets, items: set.historyItems.slice(base, set.historyOffsets[to]!) };
}

/**
 * The history of user `u` of a batch.
 *
 * @returns a view of `batch.items` (no copy).
 * @example
 * ```ts
 * const first = historyOf(historySlice(split.test, 0, 10), 0);
 * ```
 */
export function historyOf(batch: HistoryBatch, u: number): Int32Array {
  return batch.items.subarray(batch.offsets[u]!, batch.offsets[u + 1]!);
}

/**
 * HitRate@k of a model on an evaluation set, computed from `recommend` (history excluded, full
 * ranking): the share of users whose first target is among their top `k`.
 *
 * @param batchUsers - users per `recommend` call
 * @returns a share in [0, 1]
 * @example
 * ```ts
 * const hit = await hitRate(model, split.test, 10);
 * ```
 */
export async function hitRate(model: Recommender, set: EvaluationSet, k: number, batchUsers = 1000): Promise<number> {
  let hits = 0;
  for (let from = 0; from < set.size; from += batchUsers) {
    const to = Math.min(set.size, from + batchUsers);
    const result = await model.recommend(historySlice(set, from, to), { k });
    for (let u = from; u < to; u++) {
      const target = set.targetItems[set.targetOffsets[u]!]!;
      for (let r = 0; r < result.lengths[u - from]!; r++) if (result.items[(u - from) * k + r] === target) hits++;
    }
  }
  return set.size === 0 ? 0 : hits / set.size;
}

/**
 * NDCG@k of a model on an evaluation set (first target, history excluded, full ranking):
 * `1 / log2(rank + 1)` for a hit at 1-based `rank`, 0 otherwise, averaged over users.
 *
 * @param batchUsers - users per `recommend` call
 * @returns a value in [0, 1]
 * @example
 * ```ts
 * const gain = await ndcg(model, split.validation, 10);
 * ```
 */
export async function ndcg(model: Recommender, set: EvaluationSet, k: number, batchUsers = 1000): Promise<number> {
  let gain = 0;
  for (let from = 0; from < set.size; from += batchUsers) {
    const to = Math.min(set.size, from + batchUsers);
    const result = await model.recommend(historySlice(set, from, to), { k });
    for (let u = from; u < to; u++) {
      const target = set.targetItems[set.targetOffsets[u]!]!;
      for (let r = 0; r < result.lengths[u - from]!; r++) if (result.items[(u - from) * k + r] === target) gain += 1 / Math.log2(r + 2);
    }
  }
  return set.size === 0 ? 0 : gain / set.size;
}

/**
 * Item ids by training count, descending, ties to the lower id (a naive popularity ranking).
 *
 * @returns every item id once
 * @example
 * ```ts
 * const topTen = popularityRanking(split.train).slice(0, 10);
 * ```
 */
export function popularityRanking(train: SequenceDataset): number[] {
  const counts = new Float64Array(train.itemCount + 1);
  for (const item of train.items) counts[item]!++;
  const ids = Array.from({ length: train.itemCount }, (_, j) => j + 1);
  return ids.sort((a, b) => counts[b]! - counts[a]! || a - b);
}

/**
 * HitRate@k of naive popularity (history excluded), computed independently of any model package.
 *
 * @returns a share in [0, 1]
 * @example
 * ```ts
 * const reference = popularityHitRate(split.train, split.test, 10);
 * ```
 */
export function popularityHitRate(train: SequenceDataset, set: EvaluationSet, k: number): number {
  const ranking = popularityRanking(train);
  let hits = 0;
  for (let u = 0; u < set.size; u++) {
    const history = new Set(set.historyItems.subarray(set.historyOffsets[u]!, set.historyOffsets[u + 1]!));
    const target = set.targetItems[set.targetOffsets[u]!]!;
    let taken = 0;
    for (const id of ranking) {
      if (taken === k) break;
      if (history.has(id)) continue;
      if (id === target) {
        hits++;
        break;
      }
      taken++;
    }
  }
  return set.size === 0 ? 0 : hits / set.size;
}
