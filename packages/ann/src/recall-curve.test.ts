import { describe, expect, it } from 'vitest';
import { paretoFrontier, qpsAtRecall } from './recall-curve.js';

describe('qpsAtRecall', () => {
  const curve = [
    { recall: 0.8, qps: 4000 },
    { recall: 0.9, qps: 1000 },
    { recall: 0.85, qps: 900 }, // dominated by (0.9, 1000)
    { recall: 0.99, qps: 100 },
  ];

  it('keeps only the Pareto frontier, by ascending recall', () => {
    expect(paretoFrontier(curve)).toEqual([
      { recall: 0.8, qps: 4000 },
      { recall: 0.9, qps: 1000 },
      { recall: 0.99, qps: 100 },
    ]);
  });

  it('interpolates log(qps) linearly in recall (hand-computed values)', () => {
    // halfway between (0.9, 1000) and (0.99, 100): sqrt(1000 x 100) = 316.227…
    expect(qpsAtRecall(curve, 0.945)!.qps).toBeCloseTo(Math.sqrt(1000 * 100), 9);
    expect(qpsAtRecall(curve, 0.945)!.lowerBound).toBe(false);
    // a third of the way from (0.8, 4000) to (0.9, 1000): 4000 x (1/4)^(1/3)
    expect(qpsAtRecall(curve, 0.8 + 0.1 / 3)!.qps).toBeCloseTo(4000 * Math.pow(0.25, 1 / 3), 9);
    // on a measured point: that point
    expect(qpsAtRecall(curve, 0.9)).toEqual({ qps: 1000, lowerBound: false });
    expect(qpsAtRecall(curve, 0.99)).toEqual({ qps: 100, lowerBound: false });
  });

  it('below the lowest recall: the fastest point as a lower bound; above the highest: undefined', () => {
    expect(qpsAtRecall(curve, 0.5)).toEqual({ qps: 4000, lowerBound: true });
    expect(qpsAtRecall(curve, 0.8)).toEqual({ qps: 4000, lowerBound: false });
    expect(qpsAtRecall(curve, 0.995)).toBeUndefined();
    expect(qpsAtRecall([], 0.9)).toBeUndefined();
  });
});
