import { describe, expect, it } from 'vitest';
import { GenrecError } from '@genrec/core';
import { lorenzCurve, meanAndSpread } from './statistics.js';

describe('meanAndSpread', () => {
  it('gives the mean and the sample standard deviation', () => {
    const { mean, std, n } = meanAndSpread([0.2, 0.3, 0.4]);
    expect(mean).toBeCloseTo(0.3, 15);
    expect(std).toBeCloseTo(0.1, 15);
    expect(n).toBe(3);
    expect(meanAndSpread([2, 4, 4, 4, 5, 5, 7, 9]).std).toBeCloseTo(Math.sqrt(32 / 7), 14);
    expect(meanAndSpread([0.25])).toEqual({ mean: 0.25, std: 0, n: 1 });
  });

  it('refuses empty and non-finite input', () => {
    expect(() => meanAndSpread([])).toThrow(GenrecError);
    expect(() => meanAndSpread([1, Number.NaN])).toThrow(/value 1 is NaN/);
  });
});

describe('lorenzCurve', () => {
  it('matches hand-computed points, interpolating inside an item', () => {
    const curve = lorenzCurve([3, 0, 1, 0], 5); // sorted 0 0 1 3, total 4
    expect(curve.map((p) => p.x)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(curve.map((p) => p.y)).toEqual([0, 0, 0, 0.25, 1]);
    const nine = lorenzCurve([0, 0, 1, 3], 9); // x = 0.625: 2.5 items = 0 + 0 + half of 1
    expect(nine[5]!.y).toBeCloseTo(0.5 / 4, 15);
  });

  it('is the diagonal for equal amounts and for all zeros, and rises monotonically', () => {
    for (const amounts of [[5, 5, 5, 5], [0, 0, 0]]) {
      for (const { x, y } of lorenzCurve(amounts, 11)) expect(y).toBeCloseTo(x, 12);
    }
    const random = Array.from({ length: 200 }, (_, i) => ((i * 7919) % 101) ** 2);
    const curve = lorenzCurve(random);
    expect(curve).toHaveLength(101);
    for (let i = 1; i < curve.length; i++) {
      expect(curve[i]!.y).toBeGreaterThanOrEqual(curve[i - 1]!.y);
      expect(curve[i]!.y).toBeLessThanOrEqual(curve[i]!.x + 1e-12); // below the diagonal
    }
    expect(curve.at(-1)!.y).toBe(1);
  });

  it('refuses negative amounts, no items and too few points', () => {
    expect(() => lorenzCurve([1, -1])).toThrow(/amount 1 is -1/);
    expect(() => lorenzCurve([])).toThrow(GenrecError);
    expect(() => lorenzCurve([1], 1)).toThrow(/points must be/);
  });
});
