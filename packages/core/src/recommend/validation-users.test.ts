import { describe, expect, it } from 'vitest';
import { userMetricValue, validationMetricList, type ValidationMetric } from './validation-users.js';

describe('the validation metrics', () => {
  it('lists ndcg@10 and recall@10 (K capped at the catalogue) and the early-stopping metric when it is neither', () => {
    expect(validationMetricList(500, undefined)).toEqual([
      { name: 'ndcg@10', metric: 'ndcg', k: 10 },
      { name: 'recall@10', metric: 'recall', k: 10 },
    ]);
    expect(validationMetricList(6, { name: 'hitrate@5', metric: 'hitrate', k: 5 }).map((m) => `${m.name}:${m.k}`)).toEqual(['ndcg@10:6', 'recall@10:6', 'hitrate@5:5']);
    expect(validationMetricList(500, { name: 'ndcg@10', metric: 'ndcg', k: 10 })).toHaveLength(2);
  });

  it("gives one user's value from its targets' ranks (golden values)", () => {
    const at = (metric: ValidationMetric['metric'], k: number): ValidationMetric => ({ name: `${metric}@${k}`, metric, k });
    // targets at ranks 0 and 3, a third not listed; K = 3 cuts the second
    const ranks = [0, 3, undefined];
    expect(userMetricValue(at('recall', 10), ranks)).toBeCloseTo(2 / 3, 15);
    expect(userMetricValue(at('recall', 3), ranks)).toBeCloseTo(1 / 3, 15);
    expect(userMetricValue(at('hitrate', 3), ranks)).toBe(1);
    expect(userMetricValue(at('hitrate', 3), [5, undefined])).toBe(0);
    // DCG 1 + 1/log2(5) = 1.4306765581; ideal over min(3, 10) targets: 1 + 1/log2(3) + 1/2 = 2.1309297536
    expect(userMetricValue(at('ndcg', 10), ranks)).toBeCloseTo(1.4306765580733931 / 2.1309297535714578, 12);
    // ideal over min(3, 2) = 2 positions
    expect(userMetricValue(at('ndcg', 2), ranks)).toBeCloseTo(1 / (1 + 1 / Math.log2(3)), 12);
    expect(userMetricValue(at('ndcg', 10), [undefined])).toBe(0);
  });
});
