import { Rng } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { logSumExpRow } from './log-sum-exp.js';

describe('logSumExpRow', () => {
  it('matches the Math.exp formula to 1e-13 on random rows of several scales, with -Infinity entries', () => {
    const rng = new Rng(1);
    for (const scale of [0.1, 1, 10, 100]) {
      const values = new Float32Array(787);
      for (let trial = 0; trial < 20; trial++) {
        for (let i = 0; i < values.length; i++) values[i] = rng.uniform() < 0.05 ? Number.NEGATIVE_INFINITY : (rng.uniform() - 0.5) * scale;
        let max = Number.NEGATIVE_INFINITY;
        for (const v of values) max = Math.max(max, v);
        let sum = 0;
        for (const v of values) sum += Math.exp(v - max);
        expect(Math.abs(logSumExpRow(values, 0, values.length, max) - (max + Math.log(sum)))).toBeLessThan(1e-13);
      }
    }
  });

  it('reads only its slice', () => {
    const values = Float32Array.of(100, 0, Math.log(3), 100);
    const max = values[2]!; // log(3) rounded to float32
    expect(logSumExpRow(values, 1, 2, max)).toBeCloseTo(Math.log(1 + Math.exp(max)), 14);
  });
});
