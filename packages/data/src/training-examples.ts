import { GenrecError, type SequenceDataset } from '@genrec/core';

/** Left-padded training rows for a causal sequence model (see {@link paddedTrainingSequences}). */
export interface PaddedSequences {
  /** Number of rows. */
  readonly rowCount: number;
  /** Row length `L`. */
  readonly maxLength: number;
  /** Model inputs, `rowCount x maxLength` row-major, left-padded with 0. */
  readonly inputs: Int32Array;
  /** Next-item targets aligned with `inputs` (`targets[r, t]` follows `inputs[r, t]`); 0 = no loss. */
  readonly targets: Int32Array;
  /** Source row (in the training dataset) of each row. */
  readonly rows: Int32Array;
  /** Number of non-zero targets (loss positions). */
  readonly targetCount: number;
}

/** Options of {@link paddedTrainingSequences}. */
export interface PaddedSequencesOptions {
  /** Row length `L`. @defaultValue `50` */
  maxLength?: number;
}

function checkLength(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new GenrecError('INVALID_OPTION', `${field} must be a positive integer, got ${value}`, { details: { field } });
  }
  return value;
}

/**
 * Training rows for a causal (SASRec-style) model, exactly as the `sasrec_ce` peer builds them:
 * one row per training sequence with at least 2 items; with `tr` = its last `L + 1` items, the
 * input is `tr[:-1]` and the target `tr[1:]` (the next item at every position), both left-padded
 * with 0 to length `L`.
 *
 * @param train - training sequences (e.g. `leaveOneOutSplit(dataset).train`).
 * @param options - see {@link PaddedSequencesOptions}.
 * @returns `Int32Array`s of shape `rowCount x maxLength`.
 * @example
 * ```ts
 * const rows = paddedTrainingSequences(createSequenceDataset({ sequences: [[1, 2, 3]] }), { maxLength: 4 });
 * rows.inputs;  // [0, 0, 1, 2]
 * rows.targets; // [0, 0, 2, 3]
 * ```
 */
export function paddedTrainingSequences(train: SequenceDataset, options: PaddedSequencesOptions = {}): PaddedSequences {
  const maxLength = checkLength(options.maxLength ?? 50, 'maxLength');
  const { offsets, items, userCount } = train;
  let rowCount = 0;
  for (let row = 0; row < userCount; row++) if (offsets[row + 1]! - offsets[row]! >= 2) rowCount++;
  const inputs = new Int32Array(rowCount * maxLength);
  const targets = new Int32Array(rowCount * maxLength);
  const rows = new Int32Array(rowCount);
  let out = 0;
  let targetCount = 0;
  for (let row = 0; row < userCount; row++) {
    const to = offsets[row + 1]!;
    const from = Math.max(offsets[row]!, to - (maxLength + 1));
    if (to - offsets[row]! < 2) continue;
    const pairs = to - from - 1;
    const base = out * maxLength + maxLength - pairs;
    inputs.set(items.subarray(from, to - 1), base);
    targets.set(items.subarray(from + 1, to), base);
    rows[out] = row;
    targetCount += pairs;
    out++;
  }
  return { rowCount, maxLength, inputs, targets, rows, targetCount };
}

/**
 * (prefix -> next item) training pairs, stored compactly: pair `p` predicts
 * `items[offsets[rows[p]] + ends[p]]` from the items before it in that row. Expand to model input
 * with {@link fillPrefixBatch}.
 */
export interface NextItemPairs {
  /** Number of pairs. */
  readonly count: number;
  /** Source row of each pair. */
  readonly rows: Int32Array;
  /** Position of the target inside its row (the prefix is positions `0 .. ends[p] - 1`). */
  readonly ends: Int32Array;
  /** The target item of each pair. */
  readonly targets: Int32Array;
}

/** Options of {@link nextItemPairs}. */
export interface NextItemPairsOptions {
  /** Shortest prefix that makes a pair. @defaultValue `1` */
  minPrefixLength?: number;
}

/**
 * Every (prefix -> next item) pair of the training sequences: for each row and each position
 * `t >= minPrefixLength`, the prefix `s[0..t)` and the target `s[t]`, in row order then position
 * order.
 *
 * @example
 * ```ts
 * nextItemPairs(createSequenceDataset({ sequences: [[5, 6, 7]] })).targets; // [6, 7]
 * ```
 */
export function nextItemPairs(train: SequenceDataset, options: NextItemPairsOptions = {}): NextItemPairs {
  const minPrefixLength = checkLength(options.minPrefixLength ?? 1, 'minPrefixLength');
  const { offsets, items, userCount } = train;
  let count = 0;
  for (let row = 0; row < userCount; row++) count += Math.max(0, offsets[row + 1]! - offsets[row]! - minPrefixLength);
  const rows = new Int32Array(count);
  const ends = new Int32Array(count);
  const targets = new Int32Array(count);
  let p = 0;
  for (let row = 0; row < userCount; row++) {
    const from = offsets[row]!;
    const length = offsets[row + 1]! - from;
    for (let t = minPrefixLength; t < length; t++) {
      rows[p] = row;
      ends[p] = t;
      targets[p] = items[from + t]!;
      p++;
    }
  }
  return { count, rows, ends, targets };
}

/**
 * Writes the prefixes of pairs `first .. first + count - 1` into `out` as left-padded rows of
 * length `maxLength` (longer prefixes keep their last `maxLength` items), without allocating: reuse
 * one `out` buffer per batch.
 *
 * @param train - the dataset the pairs were made from.
 * @param pairs - from {@link nextItemPairs}.
 * @param first - index of the first pair of the batch.
 * @param count - number of pairs in the batch.
 * @param maxLength - row length.
 * @param out - at least `count * maxLength` values; overwritten.
 * @returns `out`.
 * @throws GenrecError `SHAPE_MISMATCH` when `out` is too small or the range exceeds the pairs.
 */
export function fillPrefixBatch(train: SequenceDataset, pairs: NextItemPairs, first: number, count: number, maxLength: number, out: Int32Array): Int32Array {
  if (out.length < count * maxLength) throw new GenrecError('SHAPE_MISMATCH', `out holds ${out.length} values, the batch needs ${count * maxLength}`);
  if (first < 0 || first + count > pairs.count) throw new GenrecError('SHAPE_MISMATCH', `pairs ${first}..${first + count - 1} exceed the ${pairs.count} pairs`);
  out.fill(0, 0, count * maxLength);
  for (let b = 0; b < count; b++) {
    const rowStart = train.offsets[pairs.rows[first + b]!]!;
    const to = rowStart + pairs.ends[first + b]!;
    const from = Math.max(rowStart, to - maxLength);
    out.set(train.items.subarray(from, to), b * maxLength + maxLength - (to - from));
  }
  return out;
}
