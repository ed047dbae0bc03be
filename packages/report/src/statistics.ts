import { GenrecError } from '@genrec/core';
import type { SeedSummary } from './report-input.js';

/**
 * The mean and the sample standard deviation (n - 1 in the denominator) of one metric over seeds.
 *
 * @param values - one value per seed (finite numbers)
 * @returns `{ mean, std, n }`; `std` is 0 for a single value
 * @throws GenrecError `INVALID_INPUT` for an empty list or a non-finite value
 * @example
 * ```ts
 * meanAndSpread([0.2, 0.3, 0.4]); // { mean: 0.3, std: 0.1, n: 3 }
 * ```
 */
export function meanAndSpread(values: readonly number[]): SeedSummary {
  if (values.length === 0) throw new GenrecError('INVALID_INPUT', 'meanAndSpread needs at least one value', { details: { field: 'values' } });
  values.forEach((value, index) => {
    if (!Number.isFinite(value)) throw new GenrecError('INVALID_INPUT', `value ${index} is ${value}, not a finite number`, { details: { field: 'values', index } });
  });
  const n = values.length;
  const mean = values.reduce((sum, value) => sum + value, 0) / n;
  if (n === 1) return { mean, std: 0, n };
  const squares = values.reduce((sum, value) => sum + (value - mean) ** 2, 0);
  return { mean, std: Math.sqrt(squares / (n - 1)), n };
}

/**
 * The Lorenz curve of non-negative amounts (item exposure, interaction counts): items sorted from
 * the least to the most, x = share of items, y = share of the total held by them. Sampled at
 * `points` evenly spaced x values from 0 to 1 (linear interpolation between items), so curves of
 * catalogues of any size have the same number of points.
 *
 * @param amounts - one non-negative finite amount per item
 * @param points - points of the curve, at least 2 @defaultValue 101
 * @returns `points` points from (0, 0) to (1, 1); the diagonal when every amount is 0
 * @throws GenrecError `INVALID_INPUT` for a negative or non-finite amount or no item, `INVALID_OPTION` for `points` < 2
 * @example
 * ```ts
 * lorenzCurve([0, 0, 1, 3], 5); // x 0, .25, .5, .75, 1 → y 0, 0, 0, .25, 1
 * ```
 */
export function lorenzCurve(amounts: ArrayLike<number>, points = 101): { x: number; y: number }[] {
  if (!Number.isSafeInteger(points) || points < 2) throw new GenrecError('INVALID_OPTION', `points must be an integer >= 2, got ${points}`, { details: { field: 'points' } });
  const n = amounts.length;
  if (n === 0) throw new GenrecError('INVALID_INPUT', 'lorenzCurve needs at least one item', { details: { field: 'amounts' } });
  const sorted = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const value = amounts[i]!;
    if (!Number.isFinite(value) || value < 0) throw new GenrecError('INVALID_INPUT', `amount ${i} is ${value}, not a non-negative finite number`, { details: { field: 'amounts', index: i } });
    sorted[i] = value;
  }
  sorted.sort();
  // cumulative[i] = sum of the i smallest amounts
  const cumulative = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) cumulative[i + 1] = cumulative[i]! + sorted[i]!;
  const total = cumulative[n]!;
  const curve: { x: number; y: number }[] = [];
  for (let p = 0; p < points; p++) {
    const x = p / (points - 1);
    if (total === 0) {
      curve.push({ x, y: x });
      continue;
    }
    const position = x * n;
    const whole = Math.min(n - 1, Math.floor(position));
    const held = cumulative[whole]! + (position - whole) * sorted[whole]!;
    curve.push({ x, y: Math.min(1, held / total) });
  }
  return curve;
}
