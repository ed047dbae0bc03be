import type { SequenceDataset } from '@genrec/core';

/** Interactions per item in the training data: `counts[j]` = count of item `j + 1`. */
export function itemCounts(train: Pick<SequenceDataset, 'itemCount' | 'items'>): Int32Array {
  const counts = new Int32Array(train.itemCount);
  for (let i = 0; i < train.items.length; i++) counts[train.items[i]! - 1]!++;
  return counts;
}

/**
 * The empty-history fallback's scores: `log((count_j + 1) / (total + itemCount))`, the log of
 * add-one smoothed training popularity (a log-probability: every item ranks, never-seen items
 * last). Index `j` = item `j + 1`.
 */
export function popularityLogits(counts: Int32Array): Float32Array {
  let total = 0;
  for (let j = 0; j < counts.length; j++) total += counts[j]!;
  const denominator = Math.log(total + counts.length);
  const out = new Float32Array(counts.length);
  for (let j = 0; j < counts.length; j++) out[j] = Math.log(counts[j]! + 1) - denominator;
  return out;
}
