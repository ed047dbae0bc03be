import { describe, expect, it } from 'vitest';
import { GenrecError, type ValidationMetric } from '@genrec/core';
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

/** Naive: sort every candidate (history excluded, ties to the lower id) and read each target's rank. */
function naiveValues(cf: Float64Array, semantic: Float64Array, history: Set<number>, targets: number[], beta: number): number[] {
  const n = cf.length;
  const ids = Array.from({ length: n }, (_, j) => j + 1).filter((id) => !history.has(id));
  const score = (id: number) => (1 - beta) * cf[id - 1]! + beta * semantic[id - 1]!;
  ids.sort((a, b) => score(b) - score(a) || a - b);
  return METRICS.map((m) => {
    let hits = 0;
    let dcg = 0;
    for (const target of targets) {
      const rank = history.has(target) ? -1 : ids.indexOf(target);
      if (rank >= 0 && rank < m.k) {
        hits++;
        dcg += 1 / Math.log2(rank + 2);
      }
    }
    if (m.metric === 'recall') return hits / targets.length;
    if (m.metric === 'hitrate') return hits > 0 ? 1 : 0;
    let ideal = 0;
    for (let i = 0; i < Math.min(targets.length, m.k); i++) ideal += 1 / Math.log2(i + 2);
    return dcg / ideal;
  });
}

describe('the one-pass β search over several metrics', () => {
  it('adds every metric of every β as a naive full sort would (ties to the lower id, history excluded)', () => {
    const random = stream(11);
    const n = 60;
    const users = 40;
    const stamp = new Int32Array(n + 1).fill(-1);
    const sums = new Float64Array(GRID.length * METRICS.length);
    const expected = new Float64Array(GRID.length * METRICS.length);
    for (let u = 0; u < users; u++) {
      // coarse scores (eighths): many exact ties, so the lower-id rule decides
      const cf = Float64Array.from({ length: n }, () => Math.floor(random() * 8) / 8);
      const semantic = Float64Array.from({ length: n }, () => Math.floor(random() * 8) / 8);
      const history = new Set(Array.from({ length: 1 + Math.floor(random() * 6) }, () => 1 + Math.floor(random() * n)));
      const targets = Array.from({ length: 1 + (u % 3) }, () => 1 + Math.floor(random() * n));
      for (const id of history) stamp[id] = u;
      // the scores of two users side by side: `base` selects the second
      const both = (a: Float64Array) => Float64Array.from([...new Float64Array(n).fill(9), ...a]);
      addBetaRanks(both(cf), both(semantic), n, n, stamp, u, targets, GRID, METRICS, sums);
      GRID.forEach((beta, g) => naiveValues(cf, semantic, history, targets, beta).forEach((v, m) => (expected[g * METRICS.length + m]! += v)));
    }
    for (let i = 0; i < sums.length; i++) expect(sums[i]).toBeCloseTo(expected[i]!, 12);
    // the metrics are not all equal: the test tells them apart
    expect(new Set(Array.from(expected.subarray(0, METRICS.length), (v) => v.toFixed(6))).size).toBeGreaterThan(2);

    const candidates = betaCandidates(GRID, METRICS, METRICS[1]!, sums, users);
    candidates.forEach((c, g) => {
      expect(c.beta).toBe(GRID[g]);
      expect(c.users).toBe(users);
      expect(c.value).toBeCloseTo(expected[g * METRICS.length + 1]! / users, 12);
      METRICS.forEach((m, i) => expect(c.metrics[m.name]).toBeCloseTo(expected[g * METRICS.length + i]! / users, 12));
    });
  });

  it('bestBeta keeps the first of equal values; an unknown selection metric is an error', () => {
    const sums = Float64Array.of(0.1, 0.3, 0.3, 0.2);
    const candidates = betaCandidates([0, 0.1, 0.2, 0.3], [METRICS[0]!], METRICS[0]!, sums, 1);
    expect(bestBeta(candidates).beta).toBe(0.1);
    expect(() => betaCandidates([0], [METRICS[0]!], METRICS[1]!, new Float64Array(1), 1)).toThrow(GenrecError);
  });
});
