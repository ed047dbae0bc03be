import type { SequenceDataset } from '../contracts/dataset.js';

/**
 * Interactions per item in the training data: `counts[j]` = count of item `j + 1` (ids are
 * trusted: the data was validated before).
 *
 * @param train - the training sequences.
 * @returns `itemCount` counts.
 * @example
 * ```ts
 * itemCounts({ itemCount: 3, items: Int32Array.of(1, 3, 3) }); // Int32Array [1, 0, 2]
 * ```
 */
export function itemCounts(train: Pick<SequenceDataset, 'itemCount' | 'items'>): Int32Array {
  const counts = new Int32Array(train.itemCount);
  for (let i = 0; i < train.items.length; i++) counts[train.items[i]! - 1]!++;
  return counts;
}

/**
 * The empty-history fallback's scores of SASRec and SETRec: `log((count_j + 1) / (total +
 * itemCount))`, the log of add-one smoothed training popularity (a log-probability: every item
 * ranks, never-seen items last). Index `j` = item `j + 1`.
 *
 * @param counts - interactions per item ({@link itemCounts}).
 * @returns float32 log-probabilities, one per item.
 * @example
 * ```ts
 * popularityLogits(Int32Array.of(1, 0, 2)); // [log(2/6), log(1/6), log(3/6)]
 * ```
 */
export function popularityLogits(counts: Int32Array): Float32Array {
  let total = 0;
  for (let j = 0; j < counts.length; j++) total += counts[j]!;
  const denominator = Math.log(total + counts.length);
  const out = new Float32Array(counts.length);
  for (let j = 0; j < counts.length; j++) out[j] = Math.log(counts[j]! + 1) - denominator;
  return out;
}
