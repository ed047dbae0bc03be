import { GenrecError } from '@genrec/core';
import type { EvaluationResult } from './evaluation-result.js';

/** Per-group means of per-user metrics. */
export interface SliceTable {
  /** Group labels. */
  labels: string[];
  /** Users per group with a value for the first metric. */
  userCounts: number[];
  /** metric key -> mean per group (NaN for an empty group). */
  means: Record<string, number[]>;
}

/** Options of {@link sliceResult}. */
export interface SliceOptions {
  /** Group labels (default `group 0`, `group 1`, …). */
  labels?: readonly string[];
  /** Metric keys (default: every per-user key). */
  metrics?: readonly string[];
}

/**
 * Slices per-user values by a group index per user (history length bucket, popularity decile of the
 * target, cold vs warm items…) and averages each group, skipping users without a value (NaN).
 *
 * @param result - a result with per-user values
 * @param groupOf - group index of every user (negative: user left out)
 * @param options - labels and metrics
 * @returns per-group means
 * @throws GenrecError `INVALID_INPUT` without per-user values; `SHAPE_MISMATCH` when `groupOf` has the wrong length
 * @example
 * ```ts
 * const table = sliceResult(result, quantileBuckets(historyLengths, 4), { labels: ['Q1', 'Q2', 'Q3', 'Q4'] });
 * ```
 */
export function sliceResult(result: EvaluationResult, groupOf: ArrayLike<number>, options: SliceOptions = {}): SliceTable {
  if (result.perUser === null) throw new GenrecError('INVALID_INPUT', 'slicing needs per-user values (evaluate with keepPerUser: true)');
  if (groupOf.length !== result.userCount) {
    throw new GenrecError('SHAPE_MISMATCH', `groupOf has ${groupOf.length} entries for ${result.userCount} users`, { details: { field: 'groupOf' } });
  }
  let groupCount = options.labels?.length ?? 0;
  for (let u = 0; u < groupOf.length; u++) {
    const g = groupOf[u]!;
    if (!Number.isInteger(g)) throw new GenrecError('INVALID_INPUT', `groupOf[${u}] = ${g} is not an integer`, { details: { field: 'groupOf' } });
    groupCount = Math.max(groupCount, g + 1);
  }
  const keys = options.metrics ? [...options.metrics] : Object.keys(result.perUser);
  const means: Record<string, number[]> = {};
  let userCounts: number[] = [];
  keys.forEach((key, index) => {
    const values = result.perUser![key];
    if (values === undefined) throw new GenrecError('INVALID_INPUT', `no per-user values for ${key}`, { details: { field: 'metrics' } });
    const sums = new Array<number>(groupCount).fill(0);
    const counts = new Array<number>(groupCount).fill(0);
    for (let u = 0; u < values.length; u++) {
      const g = groupOf[u]!;
      const v = values[u]!;
      if (g < 0 || !Number.isFinite(v)) continue;
      sums[g]! += v;
      counts[g]! += 1;
    }
    means[key] = sums.map((sum, g) => (counts[g] === 0 ? Number.NaN : sum / counts[g]!));
    if (index === 0) userCounts = counts;
  });
  const labels = Array.from({ length: groupCount }, (_, g) => options.labels?.[g] ?? `group ${g}`);
  return { labels, userCounts, means };
}

/**
 * Buckets values into `bucketCount` groups of (nearly) equal size by rank (ties by index): bucket of
 * the value of ascending rank r is `floor(r * bucketCount / n)`.
 *
 * @param values - one value per user (e.g. history length, target popularity)
 * @param bucketCount - number of buckets
 * @returns the bucket of every user
 */
export function quantileBuckets(values: ArrayLike<number>, bucketCount: number): Int32Array {
  if (!Number.isSafeInteger(bucketCount) || bucketCount <= 0) {
    throw new GenrecError('INVALID_OPTION', `bucketCount must be a positive integer, got ${bucketCount}`, { details: { field: 'bucketCount' } });
  }
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a]! - values[b]! || a - b);
  const buckets = new Int32Array(n);
  order.forEach((user, rank) => (buckets[user] = Math.floor((rank * bucketCount) / n)));
  return buckets;
}

/** Renders a slice table as Markdown (groups as rows). */
export function formatSliceTable(table: SliceTable, digits = 4): string {
  const keys = Object.keys(table.means);
  const lines = [`| group | users | ${keys.join(' | ')} |`, `|---|---:|${keys.map(() => '---:').join('|')}|`];
  table.labels.forEach((label, g) => {
    lines.push(`| ${label} | ${table.userCounts[g]} | ${keys.map((key) => (Number.isFinite(table.means[key]![g]!) ? table.means[key]![g]!.toFixed(digits) : 'n/a')).join(' | ')} |`);
  });
  return lines.join('\n');
}
