import { describe, expect, it } from 'vitest';
import { itemCounts, popularityLogits } from './popularity.js';

describe('popularity fallback', () => {
  it('counts interactions per item and scores add-one smoothed log-probabilities', () => {
    const counts = itemCounts({ itemCount: 4, items: Int32Array.of(1, 3, 3, 3, 1) });
    expect(counts).toEqual(Int32Array.of(2, 0, 3, 0));
    const logits = popularityLogits(counts);
    // (count + 1) / (5 + 4)
    expect(Array.from(logits)).toEqual([3 / 9, 1 / 9, 4 / 9, 1 / 9].map((p) => Math.fround(Math.log(p))));
    const total = Array.from(logits).reduce((sum, value) => sum + Math.exp(value), 0);
    expect(total).toBeCloseTo(1, 6);
  });
});
