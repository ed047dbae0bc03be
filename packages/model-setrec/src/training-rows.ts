import { Rng, type SequenceDataset } from '@genrec/core';

/**
 * The training rows: one per training sequence with at least 2 items, its last `maxLength + 1`
 * items; inputs are all but the last, and every input column's target is the next item (the
 * SASRec peer's rows). Row `r` has `lengths[r]` input columns, stored from `starts[r]` in `items`
 * (`lengths[r] + 1` items: inputs then the last target).
 */
export interface TrainingRows {
  readonly count: number;
  readonly starts: Int32Array;
  readonly lengths: Int32Array;
  readonly items: Int32Array;
}

/** The rows of `train` (see {@link TrainingRows}). */
export function trainingRows(train: SequenceDataset, maxLength: number): TrainingRows {
  const starts: number[] = [];
  const lengths: number[] = [];
  for (let u = 0; u < train.userCount; u++) {
    const from = train.offsets[u]!;
    const to = train.offsets[u + 1]!;
    if (to - from < 2) continue;
    const start = Math.max(from, to - maxLength - 1);
    starts.push(start);
    lengths.push(to - start - 1);
  }
  return { count: starts.length, starts: Int32Array.from(starts), lengths: Int32Array.from(lengths), items: train.items };
}

/** One training step: its length bucket and rows. */
export interface TrainingBatch {
  readonly length: number;
  readonly rows: Int32Array;
}

/**
 * Length-bucketed batches of one epoch: rows in a seeded random order, grouped by the smallest
 * length bucket that holds them (the order kept inside a bucket), cut into batches of
 * `floor(batchPositions / bucket)` rows (the last of a bucket partial), and the batches shuffled.
 * The same generator state gives the same epoch.
 */
export function epochBatches(rows: TrainingRows, buckets: readonly number[], batchPositions: number, rng: Rng): TrainingBatch[] {
  const order = rng.permutation(rows.count);
  const grouped = new Map<number, number[]>(buckets.map((b) => [b, []]));
  for (const r of order) grouped.get(buckets.find((b) => b >= rows.lengths[r]!)!)!.push(r);
  const batches: TrainingBatch[] = [];
  for (const bucket of buckets) {
    const members = grouped.get(bucket)!;
    const size = rowsPerStep(bucket, batchPositions);
    for (let from = 0; from < members.length; from += size) batches.push({ length: bucket, rows: Int32Array.from(members.slice(from, from + size)) });
  }
  return rng.shuffle(batches);
}

/** Rows per step of a length bucket. */
export function rowsPerStep(bucket: number, batchPositions: number): number {
  return Math.max(1, Math.floor(batchPositions / bucket));
}

/** Steps of one epoch (the same for every epoch). */
export function stepsPerEpoch(rows: TrainingRows, buckets: readonly number[], batchPositions: number): number {
  const counts = new Map<number, number>(buckets.map((b) => [b, 0]));
  for (let r = 0; r < rows.count; r++) {
    const bucket = buckets.find((b) => b >= rows.lengths[r]!)!;
    counts.set(bucket, counts.get(bucket)! + 1);
  }
  let steps = 0;
  for (const bucket of buckets) steps += Math.ceil(counts.get(bucket)! / rowsPerStep(bucket, batchPositions));
  return steps;
}

/**
 * The feeds of one batch padded to `rowsPerStep(length)` rows: `seq` `[rows, length]` (left-padded
 * with 0) and `labels` `[rows·length]` (the next item's id − 1, or −100 for padding).
 */
export function batchFeeds(rows: TrainingRows, batch: TrainingBatch, batchPositions: number): { seq: BigInt64Array; labels: BigInt64Array } {
  const length = batch.length;
  const size = rowsPerStep(length, batchPositions);
  const seq = new BigInt64Array(size * length);
  const labels = new BigInt64Array(size * length).fill(-100n);
  batch.rows.forEach((r, i) => {
    const n = rows.lengths[r]!;
    const start = rows.starts[r]!;
    const base = i * length + length - n;
    for (let c = 0; c < n; c++) {
      seq[base + c] = BigInt(rows.items[start + c]!);
      labels[base + c] = BigInt(rows.items[start + c + 1]! - 1);
    }
  });
  return { seq, labels };
}
