import { describe, expect, it } from 'vitest';
import { GenrecError, validateRecommender, type HistoryBatch, type Recommendations, type Recommender, type ValidationMetric, type ValidationUsers } from '@genrec/core';
import { addBetaRanks, betaCandidates, bestBeta } from './validation.js';

/** A seeded stream in [0, 1). */
function stream(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const METRICS: ValidationMetric[] = [
  { name: 'ndcg@10', metric: 'ndcg', k: 10 },
  { name: 'recall@10', metric: 'recall', k: 10 },
  { name: 'hitrate@3', metric: 'hitrate', k: 3 },
  { name: 'ndcg@25', metric: 'ndcg', k: 25 },
];
const GRID = [0, 0.25, 0.5, 1];

/**
 * The reference: a recommender whose lists are a full sort of `(1 − β) cf + β semantic` (history
 * excluded, ties to the lower id), measured by core's `validateRecommender`.
 */
function sortingRecommender(cf: Float64Array[], semantic: Float64Array[], beta: number): Recommender {
  const n = cf[0]!.length;
  const recommend = async (histories: HistoryBatch, options: { k: number }): Promise<Recommendations> => {
    const size = histories.offsets.length - 1;
    const items = new Int32Array(size * options.k);
    const lengths = new Int32Array(size);
    for (let u = 0; u < size; u++) {
      const history = new Set(histories.items.subarray(histories.offsets[u]!, histories.offsets[u + 1]!));
      const score = (id: number) => (1 - beta) * cf[u]![id - 1]! + beta * semantic[u]![id - 1]!;
      const ids = Array.from({ length: n }, (_, j) => j + 1).filter((id) => !history.has(id));
      ids.sort((a, b) => score(b) - score(a) || a - b);
      const top = ids.slice(0, options.k);
      items.set(top, u * options.k);
      lengths[u] = top.length;
    }
    return { size, k: options.k, items, scores: new Float32Array(size * options.k), lengths };
  };
  return { itemCount: n, recommend } as unknown as Recommender;
}

describe('the one-pass β search over several metrics', () => {
  it('adds every metric of every β as validateRecommender measures a full sort (ties to the lower id, history excluded)', async () => {
    const random = stream(11);
    const n = 60;
    const userCount = 40;
    const cf: Float64Array[] = [];
    const semantic: Float64Array[] = [];
    const histories: number[][] = [];
    const targets: number[][] = [];
    for (let u = 0; u < userCount; u++) {
      // coarse scores (eighths): many exact ties, so the lower-id rule decides
      cf.push(Float64Array.from({ length: n }, () => Math.floor(random() * 8) / 8));
      semantic.push(Float64Array.from({ length: n }, () => Math.floor(random() * 8) / 8));
      histories.push([...new Set(Array.from({ length: 1 + Math.floor(random() * 6) }, () => 1 + Math.floor(random() * n)))]);
      // 1–3 targets, now and then one of the history (never recommended) or a repeat
      targets.push(Array.from({ length: 1 + (u % 3) }, () => 1 + Math.floor(random() * n)));
    }
    const stamp = new Int32Array(n + 1).fill(-1);
    const sums = new Float64Array(GRID.length * METRICS.length);
    for (let u = 0; u < userCount; u++) {
      for (const id of histories[u]!) stamp[id] = u;
      // the scores of two users side by side: `base` selects the second
      const both = (a: Float64Array) => Float64Array.from([...new Float64Array(n).fill(9), ...a]);
      addBetaRanks(both(cf[u]!), both(semantic[u]!), n, n, stamp, u, targets[u]!, GRID, METRICS, sums);
    }
    const offsets = (rows: number[][]) => Int32Array.from([0, ...rows.map((_, u) => rows.slice(0, u + 1).reduce((t, r) => t + r.length, 0))]);
    const users: ValidationUsers = {
      histories: { offsets: offsets(histories), items: Int32Array.from(histories.flat()) },
      targetOffsets: offsets(targets),
      targetItems: Int32Array.from(targets.flat()),
    };
    const candidates = betaCandidates(GRID, METRICS, METRICS[1]!, sums, userCount);
    const seen = new Set<string>();
    for (const [g, beta] of GRID.entries()) {
      const reference = sortingRecommender(cf, semantic, beta);
      expect(candidates[g]!.beta).toBe(beta);
      expect(candidates[g]!.users).toBe(userCount);
      for (const metric of METRICS) {
        const expected = (await validateRecommender(reference, users, metric))[metric.name]!;
        expect(candidates[g]!.metrics[metric.name], `β ${beta} ${metric.name}`).toBeCloseTo(expected, 12);
        seen.add(expected.toFixed(6));
      }
      expect(candidates[g]!.value).toBe(candidates[g]!.metrics['recall@10']);
    }
    // the metrics and βs are not all equal: the test tells them apart
    expect(seen.size).toBeGreaterThan(6);
  });

  it('bestBeta keeps the first of equal values; an unknown selection metric is an error', () => {
    const sums = Float64Array.of(0.1, 0.3, 0.3, 0.2);
    const candidates = betaCandidates([0, 0.1, 0.2, 0.3], [METRICS[0]!], METRICS[0]!, sums, 1);
    expect(bestBeta(candidates).beta).toBe(0.1);
    expect(() => betaCandidates([0], [METRICS[0]!], METRICS[1]!, new Float64Array(1), 1)).toThrow(GenrecError);
  });
});
