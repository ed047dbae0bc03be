import { Rng } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { TopKSelector } from './top-k-selector.js';

describe('TopKSelector', () => {
  it('keeps the best k by score descending then flat ascending, like a full sort (random, many ties)', () => {
    const rng = new Rng(5);
    const selector = new TopKSelector(4);
    for (let trial = 0; trial < 200; trial++) {
      const count = 1 + rng.int(60);
      const k = 1 + rng.int(12);
      const candidates = Array.from({ length: count }, (_, i) => ({ score: rng.int(6) - 3 + (rng.uniform() < 0.3 ? 0.5 : 0), flat: i * 3 + rng.int(3), payload: i }));
      // Offer in a shuffled order: the result must not depend on it.
      const order = rng.permutation(count);
      selector.reset(k);
      for (const index of order) {
        const c = candidates[index]!;
        selector.offer(c.score, c.flat, c.payload, c.score * 2);
      }
      selector.finish();
      const expected = [...candidates].sort((a, b) => b.score - a.score || a.flat - b.flat).slice(0, k);
      expect(selector.size).toBe(expected.length);
      expect(Array.from(selector.flats.subarray(0, selector.size))).toEqual(expected.map((c) => c.flat));
      expect(Array.from(selector.scores.subarray(0, selector.size))).toEqual(expected.map((c) => c.score));
      expect(Array.from(selector.payloads.subarray(0, selector.size))).toEqual(expected.map((c) => c.payload));
      expect(Array.from(selector.extras.subarray(0, selector.size))).toEqual(expected.map((c) => c.score * 2));
    }
  });

  it('never keeps NaN and reports the threshold of a full selection', () => {
    const selector = new TopKSelector(2);
    selector.reset(2);
    expect(selector.offer(Number.NaN, 0, 0)).toBe(false);
    selector.offer(1, 5, 0);
    expect(selector.threshold).toBe(Number.NEGATIVE_INFINITY);
    selector.offer(3, 6, 0);
    expect(selector.threshold).toBe(1);
    expect(selector.offer(1, 7, 0)).toBe(false); // equal score, higher flat index: loses
    expect(selector.offer(1, 4, 0)).toBe(true); // equal score, lower flat index: wins
    selector.finish();
    expect(Array.from(selector.flats.subarray(0, 2))).toEqual([6, 4]);
  });
});
