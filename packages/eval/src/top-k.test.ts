import { Rng } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { TopKSelector } from './top-k.js';

describe('TopKSelector', () => {
  it('equals a full sort (score desc, tie rank desc, id asc) on random rows with ties; returns the ids offered (1..n)', () => {
    const rng = new Rng(4);
    for (const k of [1, 3, 10, 64, 200]) {
      const selector = new TopKSelector(k);
      const out = new Int32Array(k);
      for (let trial = 0; trial < 50; trial++) {
        const n = 1 + rng.int(trial < 25 ? 100 : 3000);
        const scores = Array.from({ length: n }, () => (trial % 2 === 0 ? rng.int(6) - 2 : rng.normal()));
        const ties = Array.from({ length: n }, () => rng.int(2));
        selector.reset();
        for (let i = 0; i < n; i++) selector.offer(scores[i]!, ties[i]!, i + 1); // column i is item i + 1
        const count = selector.drain(out);
        const expected = Array.from({ length: n }, (_, i) => i + 1)
          .sort((a, b) => scores[b - 1]! - scores[a - 1]! || ties[b - 1]! - ties[a - 1]! || a - b)
          .slice(0, k);
        expect(Array.from(out.subarray(0, count))).toEqual(expected);
      }
    }
  });
});
