import { Rng } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { holmAdjust, pairedBootstrap, pairedTTest, wilcoxonSignedRank } from './significance.js';
import { normalQuantile, normalUpperTail, studentTTwoSided } from './special-functions.js';

/*
 * Reference values from scipy 1.10.1 (/usr/bin/python3, Debian 12):
 *   stats.ttest_rel(a, b); stats.wilcoxon(a, b); stats.wilcoxon(c, d, method='approx');
 *   stats.norm.sf(1.96), stats.norm.sf(5.0), 2 * stats.t.sf(2.5, 7), stats.norm.ppf(0.975), stats.norm.ppf(1e-6)
 */
const a = [0.5, 0.2, 0.9, 0.4, 0.7, 0.1, 0.65, 0.3];
const b = [0.41, 0.23, 0.62, 0.33, 0.5, 0.06, 0.59, 0.12]; // |a - b| all distinct
// 80 users (numpy default_rng(3), rounded to 3 digits): ttest_rel and wilcoxon (normal approximation, tie-corrected)
const x80 = [
  0.086, 0.237, 0.801, 0.582, 0.094, 0.433, 0.479, 0.16, 0.735, 0.114, 0.391, 0.517, 0.431, 0.587, 0.738, 0.956, 0.284, 0.649, 0.696, 0.293, 0.001,
  0.973, 0.298, 0.314, 0.892, 0.585, 0.471, 0.773, 0.03, 0.707, 0.374, 0.091, 0.661, 0.931, 0.207, 0.63, 0.298, 0.742, 0.722, 0.219, 0.83, 0.658,
  0.683, 0.82, 0.429, 0.759, 0.878, 0.102, 0.85, 0.394, 0.48, 0.146, 0.698, 0.292, 0.871, 0.275, 0.562, 0.4, 0.613, 0.197, 0.18, 0.747, 0.752, 0.567,
  0.921, 0.206, 0.851, 0.169, 0.964, 0.624, 0.607, 0.971, 0.787, 0.79, 0.054, 0.369, 0.085, 0.194, 0.214, 0.859,
];
const y80 = [
  0.034, 0.15, 0.579, 0.7, 0.119, 0.458, 0.543, 0.145, 0.621, -0.016, 0.261, 0.604, 0.235, 0.477, 0.656, 0.928, 0.292, 0.474, 0.473, 0.243, 0.072,
  0.999, 0.27, 0.232, 0.871, 0.511, 0.503, 0.644, -0.007, 0.646, 0.378, 0.063, 0.866, 1.031, 0.307, 0.376, 0.214, 0.631, 0.725, -0.059, 0.897, 0.715,
  0.503, 0.672, 0.299, 0.713, 0.892, 0.257, 0.78, 0.421, 0.446, 0.272, 0.722, 0.379, 0.713, 0.206, 0.431, 0.5, 0.629, 0.116, 0.085, 0.745, 0.632,
  0.424, 0.919, 0.402, 0.776, 0.063, 0.797, 0.44, 0.609, 1.006, 0.738, 0.773, 0.016, 0.333, -0.118, 0.098, 0.175, 0.731,
];

describe('special functions', () => {
  it('match scipy', () => {
    expect(normalUpperTail(1.96)).toBeCloseTo(0.024997895148220435, 14);
    expect(normalUpperTail(5) / 2.866515718791933e-7).toBeCloseTo(1, 10);
    expect(studentTTwoSided(2.5, 7)).toBeCloseTo(0.040992218585752874, 13);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 12);
    expect(normalQuantile(1e-6)).toBeCloseTo(-4.753424308822899, 10);
  });
});

describe('paired tests', () => {
  it('paired t-test equals scipy.stats.ttest_rel', () => {
    const small = pairedTTest(a, b);
    expect(small.statistic).toBeCloseTo(3.1268655161789, 12);
    expect(small.pValue).toBeCloseTo(0.016682683167819762, 13);
    expect(small.details['degreesOfFreedom']).toBe(7);
    const large = pairedTTest(x80, y80);
    expect(large.statistic).toBeCloseTo(3.931005415528177, 11);
    expect(large.pValue / 0.00018031666391042398).toBeCloseTo(1, 9);
  });

  it('Wilcoxon signed-rank equals scipy.stats.wilcoxon (exact and normal approximation)', () => {
    const exact = wilcoxonSignedRank(a, b);
    expect(exact.details['method']).toBe('exact');
    expect(exact.statistic).toBe(1);
    expect(exact.pValue).toBeCloseTo(0.015625, 15);
    const approximate = wilcoxonSignedRank(x80, y80);
    expect(approximate.details['method']).toBe('normal');
    expect(approximate.statistic).toBe(851);
    expect(approximate.pValue / 0.0002256799693304308).toBeCloseTo(1, 9);
    const c = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
    const d = [0, 0, 1, 1, 6, 2, 3, 3, 10, 7, 8, 11];
    const tied = wilcoxonSignedRank(c, d);
    expect(tied.statistic).toBe(5);
    expect(tied.pValue).toBeCloseTo(0.007280240887515309, 13);
  });

  it('drops users missing in either system (NaN) and handles identical systems', () => {
    const withSkipped = pairedTTest([...a, Number.NaN], [...b, 0.3]);
    expect(withSkipped.n).toBe(8);
    expect(withSkipped.pValue).toBeCloseTo(0.016682683167819762, 13);
    expect(pairedTTest(a, a).pValue).toBe(1);
    expect(wilcoxonSignedRank(a, a).pValue).toBe(1);
    expect(() => pairedTTest([1, 2], [1])).toThrow(/one value per user/);
  });

  it('paired bootstrap: seeded, interval around the mean difference, p-value consistent with the t-test', () => {
    const first = pairedBootstrap(x80, y80, { resamples: 4000, seed: 3 });
    const second = pairedBootstrap(x80, y80, { resamples: 4000, seed: 3 });
    expect(second).toEqual(first);
    const t = pairedTTest(x80, y80);
    expect(first.meanDifference).toBeCloseTo(t.meanDifference, 15);
    const lower = first.details['lower'] as number;
    const upper = first.details['upper'] as number;
    expect(lower).toBeLessThan(first.meanDifference);
    expect(upper).toBeGreaterThan(first.meanDifference);
    expect(lower).toBeGreaterThan(0); // significant difference: interval excludes 0
    // The percentile interval is close to mean +- 1.96 standard errors here.
    const se = (t.details['standardDeviation'] as number) / Math.sqrt(80);
    expect(Math.abs(upper - lower - 2 * 1.96 * se)).toBeLessThan(0.25 * 2 * 1.96 * se);
    expect(first.pValue).toBeLessThan(0.01);
    // Under the null (symmetric noise), the p-value is not small.
    const rng = new Rng(1);
    const noise = Array.from({ length: 200 }, () => rng.normal());
    const zeros = noise.map(() => 0);
    expect(pairedBootstrap(noise, zeros, { resamples: 2000 }).pValue).toBeGreaterThan(pairedTTest(noise, zeros).pValue * 0.5);
  });

  it('Holm adjustment by hand', () => {
    expect(holmAdjust([0.01, 0.04, 0.03])).toEqual([0.03, 0.06, 0.06]);
    const adjusted = holmAdjust([0.2, Number.NaN, 0.001, 0.6]);
    expect(adjusted[0]).toBeCloseTo(0.4, 15);
    expect(Number.isNaN(adjusted[1]!)).toBe(true);
    expect(adjusted[2]).toBeCloseTo(0.003, 15);
    expect(adjusted[3]).toBeCloseTo(0.6, 15);
  });
});
