import { GenrecError, Rng } from '@genrec/core';
import { normalUpperTail, studentTTwoSided } from './special-functions.js';

/** Result of a paired test between systems A and B on the same users (difference = A - B). */
export interface PairedTestResult {
  /** Which test. */
  test: 'paired-t' | 'wilcoxon' | 'bootstrap';
  /** Number of paired users used (users with a value in both systems). */
  n: number;
  /** Mean of A - B. */
  meanDifference: number;
  /** The test statistic: t, Wilcoxon's min(W+, W-), or the observed mean difference for the bootstrap. */
  statistic: number;
  /** Two-sided p-value. */
  pValue: number;
  /** Extra facts of the test (degrees of freedom, method, interval…). */
  details: Record<string, number | string>;
}

/** Pairs the finite values of two per-user arrays (a user counted in only one system is dropped). */
function pairedDifferences(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  if (a.length !== b.length) {
    throw new GenrecError('SHAPE_MISMATCH', `paired tests need one value per user in both systems, got ${a.length} and ${b.length}`, { details: { field: 'values' } });
  }
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (Number.isFinite(x) && Number.isFinite(y)) out.push(x - y);
  }
  return Float64Array.from(out);
}

function mean(values: Float64Array): number {
  let sum = 0;
  for (const v of values) sum += v;
  return values.length === 0 ? Number.NaN : sum / values.length;
}

/**
 * Paired two-sided t-test on per-user values (scipy.stats.ttest_rel).
 *
 * @param a - per-user values of system A (NaN: user not counted)
 * @param b - per-user values of system B, same users
 * @returns t, degrees of freedom n-1, two-sided p (1 when every difference is 0)
 * @throws GenrecError `SHAPE_MISMATCH` when the arrays differ in length
 * @example
 * ```ts
 * pairedTTest(resultA.perUser!['ndcg@10']!, resultB.perUser!['ndcg@10']!).pValue;
 * ```
 */
export function pairedTTest(a: ArrayLike<number>, b: ArrayLike<number>): PairedTestResult {
  const d = pairedDifferences(a, b);
  const n = d.length;
  const m = mean(d);
  let ss = 0;
  for (const v of d) ss += (v - m) * (v - m);
  const sd = n > 1 ? Math.sqrt(ss / (n - 1)) : Number.NaN;
  let t: number;
  let p: number;
  if (n < 2) {
    t = Number.NaN;
    p = Number.NaN;
  } else if (sd === 0) {
    t = m === 0 ? 0 : Math.sign(m) * Infinity;
    p = m === 0 ? 1 : 0;
  } else {
    t = m / (sd / Math.sqrt(n));
    p = studentTTwoSided(t, n - 1);
  }
  return { test: 'paired-t', n, meanDifference: m, statistic: t, pValue: p, details: { degreesOfFreedom: n - 1, standardDeviation: sd } };
}

/** Probability mass of W+ for n untied ranks 1..n (all 2^n sign patterns equally likely). */
function wilcoxonExactDistribution(n: number): Float64Array {
  const maxSum = (n * (n + 1)) / 2;
  let counts = new Float64Array(maxSum + 1);
  counts[0] = 1;
  for (let rank = 1; rank <= n; rank++) {
    const next = counts.slice();
    for (let s = rank; s <= maxSum; s++) next[s] = next[s]! + counts[s - rank]!;
    counts = next;
  }
  const total = 2 ** n;
  for (let s = 0; s <= maxSum; s++) counts[s] = counts[s]! / total;
  return counts;
}

/**
 * Wilcoxon signed-rank test, two-sided, zero differences dropped (Wilcoxon's method, scipy's default
 * `zero_method='wilcox'`). Exact null distribution when at most 50 non-zero differences remain, none
 * was zero and no |difference| is tied; otherwise the normal approximation with the tie correction
 * of the variance and no continuity correction (scipy's `correction=False`).
 *
 * @param a - per-user values of system A
 * @param b - per-user values of system B
 * @returns statistic min(W+, W-), p-value and the method used
 * @throws GenrecError `SHAPE_MISMATCH` when the arrays differ in length
 */
export function wilcoxonSignedRank(a: ArrayLike<number>, b: ArrayLike<number>): PairedTestResult {
  const all = pairedDifferences(a, b);
  const m = mean(all);
  const zeros = all.filter((v) => v === 0).length;
  const d = all.filter((v) => v !== 0);
  const n = d.length;
  if (n === 0) {
    return { test: 'wilcoxon', n: all.length, meanDifference: m, statistic: 0, pValue: 1, details: { method: 'all differences zero', nonZero: 0 } };
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => Math.abs(d[x]!) - Math.abs(d[y]!));
  const ranks = new Float64Array(n);
  let tieTerm = 0;
  let ties = false;
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && Math.abs(d[order[end]!]!) === Math.abs(d[order[start]!]!)) end++;
    const averageRank = (start + 1 + end) / 2;
    for (let i = start; i < end; i++) ranks[order[i]!] = averageRank;
    const size = end - start;
    if (size > 1) {
      ties = true;
      tieTerm += size * (size * size - 1);
    }
    start = end;
  }
  let plus = 0;
  let minus = 0;
  for (let i = 0; i < n; i++) {
    if (d[i]! > 0) plus += ranks[i]!;
    else minus += ranks[i]!;
  }
  const statistic = Math.min(plus, minus);
  if (n <= 50 && zeros === 0 && !ties) {
    const pmf = wilcoxonExactDistribution(n);
    const centre = (pmf.length - 1) / 2;
    let p: number;
    if (plus === centre) p = 1;
    else {
      let less = 0;
      let greater = 0;
      for (let s = 0; s <= plus; s++) less += pmf[s]!;
      for (let s = plus; s < pmf.length; s++) greater += pmf[s]!;
      p = Math.min(1, 2 * Math.min(less, greater));
    }
    return { test: 'wilcoxon', n: all.length, meanDifference: m, statistic, pValue: p, details: { method: 'exact', nonZero: n, wPlus: plus } };
  }
  const expected = (n * (n + 1)) / 4;
  const variance = (n * (n + 1) * (2 * n + 1)) / 24 - tieTerm / 48;
  const z = variance > 0 ? (statistic - expected) / Math.sqrt(variance) : 0;
  const p = Math.min(1, 2 * normalUpperTail(Math.abs(z)));
  return { test: 'wilcoxon', n: all.length, meanDifference: m, statistic, pValue: p, details: { method: 'normal', nonZero: n, wPlus: plus, z } };
}

/** Options of {@link pairedBootstrap}. */
export interface PairedBootstrapOptions {
  /**
   * Bootstrap resamples.
   * @defaultValue 10000
   */
  resamples?: number;
  /**
   * Confidence level of the percentile interval.
   * @defaultValue 0.95
   */
  confidence?: number;
  /**
   * Seed of the resampling.
   * @defaultValue 0
   */
  seed?: number;
}

/**
 * Paired bootstrap over users: resamples users with replacement, recomputes the mean difference,
 * and reports the percentile confidence interval and a two-sided p-value
 * (`2 * min(share of resampled means <= 0, share >= 0)`, capped at 1).
 *
 * @param a - per-user values of system A
 * @param b - per-user values of system B
 * @param options - resamples, confidence, seed
 * @returns mean difference, interval (`details.lower`, `details.upper`) and p-value
 * @throws GenrecError `SHAPE_MISMATCH` when the arrays differ in length; `INVALID_OPTION` for bad options
 */
export function pairedBootstrap(a: ArrayLike<number>, b: ArrayLike<number>, options: PairedBootstrapOptions = {}): PairedTestResult {
  const resamples = options.resamples ?? 10_000;
  const confidence = options.confidence ?? 0.95;
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(resamples) || resamples <= 0) {
    throw new GenrecError('INVALID_OPTION', `resamples must be a positive integer, got ${resamples}`, { details: { field: 'resamples' } });
  }
  if (!(confidence > 0 && confidence < 1)) {
    throw new GenrecError('INVALID_OPTION', `confidence must be in (0, 1), got ${confidence}`, { details: { field: 'confidence' } });
  }
  const d = pairedDifferences(a, b);
  const n = d.length;
  const observed = mean(d);
  if (n === 0) {
    return { test: 'bootstrap', n, meanDifference: Number.NaN, statistic: Number.NaN, pValue: Number.NaN, details: { resamples, confidence, seed } };
  }
  const rng = new Rng(seed);
  const means = new Float64Array(resamples);
  let atOrBelow = 0;
  let atOrAbove = 0;
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += d[rng.int(n)]!;
    const value = sum / n;
    means[r] = value;
    if (value <= 0) atOrBelow++;
    if (value >= 0) atOrAbove++;
  }
  means.sort();
  const alpha = 1 - confidence;
  const quantile = (q: number): number => {
    const position = q * (resamples - 1);
    const low = Math.floor(position);
    const high = Math.min(resamples - 1, low + 1);
    return means[low]! + (means[high]! - means[low]!) * (position - low);
  };
  const pValue = Math.min(1, (2 * Math.min(atOrBelow, atOrAbove)) / resamples);
  return {
    test: 'bootstrap',
    n,
    meanDifference: observed,
    statistic: observed,
    pValue,
    details: { lower: quantile(alpha / 2), upper: quantile(1 - alpha / 2), resamples, confidence, seed },
  };
}

/**
 * Holm's step-down adjustment of p-values for several comparisons (controls the family-wise error):
 * the i-th smallest p becomes `max_{j <= i} min(1, (m - j + 1) p_(j))`.
 *
 * @param pValues - raw p-values (NaN stays NaN and is not counted in m)
 * @returns adjusted p-values in the input order
 * @example
 * ```ts
 * holmAdjust([0.01, 0.04, 0.03]); // [0.03, 0.06, 0.06]
 * ```
 */
export function holmAdjust(pValues: readonly number[]): number[] {
  const indices = pValues.map((_, i) => i).filter((i) => !Number.isNaN(pValues[i]!));
  indices.sort((x, y) => pValues[x]! - pValues[y]!);
  const m = indices.length;
  const adjusted = pValues.map(() => Number.NaN);
  let running = 0;
  indices.forEach((index, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * pValues[index]!));
    adjusted[index] = running;
  });
  return adjusted;
}
