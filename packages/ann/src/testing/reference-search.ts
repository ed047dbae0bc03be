import type { VectorMetric } from '@genrec/core';

/** One stored vector of the reference: its id and values. */
export interface ReferenceEntry {
  id: number;
  vector: Float32Array;
}

/**
 * Exact score of `vector` for `query` under `metric`, in float64: inner product, cosine (0 when
 * either vector is zero), or minus the squared Euclidean distance.
 */
export function referenceScore(query: ArrayLike<number>, vector: ArrayLike<number>, metric: VectorMetric): number {
  let dot = 0;
  let queryNorm = 0;
  let vectorNorm = 0;
  let distance = 0;
  for (let c = 0; c < query.length; c++) {
    const a = query[c]!;
    const b = vector[c]!;
    dot += a * b;
    queryNorm += a * a;
    vectorNorm += b * b;
    distance += (a - b) * (a - b);
  }
  if (metric === 'l2') return -distance;
  if (metric === 'cosine') return queryNorm > 0 && vectorNorm > 0 ? dot / Math.sqrt(queryNorm * vectorNorm) : 0;
  return dot;
}

/**
 * The naive exact search the conformance suite checks indexes against: scores every entry in
 * float64 and sorts (score descending, then id ascending). Entries rejected by `accept` are skipped.
 *
 * @returns up to `k` `{id, score}` pairs, best first.
 */
export function referenceSearch(
  entries: readonly ReferenceEntry[],
  query: ArrayLike<number>,
  k: number,
  metric: VectorMetric,
  accept: (id: number) => boolean = () => true,
): { id: number; score: number }[] {
  const scored = entries.filter((entry) => accept(entry.id)).map((entry) => ({ id: entry.id, score: referenceScore(query, entry.vector, metric) }));
  scored.sort((a, b) => b.score - a.score || a.id - b.id);
  return scored.slice(0, k);
}
