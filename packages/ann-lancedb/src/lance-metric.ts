import type { VectorMetric } from '@genrec/core';

/** The LanceDB `distanceType` a {@link LanceIndex} searches and trains its IVF-PQ index with. */
export type LanceDistanceType = 'dot' | 'l2';

/**
 * How a genrec metric maps onto LanceDB. What LanceDB 0.31 returns in `_distance` (measured, see
 * `lance-metric.test.ts`) for a query `q` and a stored vector `x`:
 *
 * | `distanceType` | `_distance` | genrec score |
 * |---|---|---|
 * | `'dot'` | `1 - q·x` | `ip`: `1 - _distance` = `q·x` |
 * | `'l2'` | `‖q - x‖²` (squared, not the root) | `l2`: `-_distance` |
 * | `'cosine'` | `1 - cos(q, x)` (undefined for a zero vector: never returned) | not used |
 *
 * `cosine` is served by `'dot'` on unit vectors: the index stores every vector divided by its norm
 * and normalises each query, so `1 - _distance` is the cosine similarity, and a zero vector (kept
 * as zeros) scores 0 instead of disappearing, as in `FlatIndex`.
 *
 * @example
 * ```ts
 * distanceTypeOf('cosine'); // 'dot' (on unit vectors)
 * distanceTypeOf('l2');     // 'l2'
 * ```
 */
export function distanceTypeOf(metric: VectorMetric): LanceDistanceType {
  return metric === 'l2' ? 'l2' : 'dot';
}

/** True when the index stores unit vectors (and normalises queries): the `cosine` metric. */
export function storesUnitVectors(metric: VectorMetric): boolean {
  return metric === 'cosine';
}

/**
 * Converts LanceDB's `_distance` to the contract's score (higher is better): `-distance` for `l2`,
 * `1 - distance` for `ip` and `cosine` (both searched with `'dot'`). The subtraction runs in float64
 * on the float32 distance, so the score carries LanceDB's float32 rounding of `1 - q·x`: an absolute
 * error of about 6e-8 x max(1, |q·x|).
 *
 * @example
 * ```ts
 * scoreFromDistance('ip', -3); // 4: LanceDB's 'dot' distance is 1 - q·x
 * scoreFromDistance('l2', 1.25); // -1.25
 * ```
 */
export function scoreFromDistance(metric: VectorMetric, distance: number): number {
  // 0 - distance, not -distance: an exact match scores +0, not -0
  return metric === 'l2' ? 0 - distance : 1 - distance;
}

/**
 * Divides every row of `data` (row-major, `dimension` wide) by its Euclidean norm, in place; zero
 * rows stay zero. Norms are summed in float64.
 */
export function normalizeRowsInPlace(data: Float32Array, dimension: number): Float32Array {
  for (let offset = 0; offset < data.length; offset += dimension) {
    let norm = 0;
    for (let c = 0; c < dimension; c++) norm += data[offset + c]! * data[offset + c]!;
    if (norm === 0) continue;
    const scale = 1 / Math.sqrt(norm);
    for (let c = 0; c < dimension; c++) data[offset + c] = data[offset + c]! * scale;
  }
  return data;
}
