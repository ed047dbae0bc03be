/**
 * Small sparse-structure helpers shared by the Markov and item-kNN baselines.
 *
 * @module
 */

/**
 * The permutation that sorts tuples `(columns[0][i], columns[1][i], …)` ascending in
 * lexicographic order, by least-significant-digit counting sort (stable, `O(columns x (count + radix))`).
 *
 * @param columns - one array per tuple position, each of length at least `count`
 * @param radix - every value is in `0 .. radix - 1`
 */
export function lexicographicOrder(columns: readonly Int32Array[], count: number, radix: number): Int32Array {
  let order = new Int32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  let scratch = new Int32Array(count);
  const starts = new Int32Array(radix + 1);
  for (let c = columns.length - 1; c >= 0; c--) {
    const column = columns[c]!;
    starts.fill(0);
    for (let i = 0; i < count; i++) starts[column[i]! + 1]!++;
    for (let v = 0; v < radix; v++) starts[v + 1]! += starts[v]!;
    for (let i = 0; i < count; i++) {
      const index = order[i]!;
      scratch[starts[column[index]!]!++] = index;
    }
    const swap = order;
    order = scratch;
    scratch = swap;
  }
  return order;
}

/** Index of `id` in the ascending `ids[from .. to)`, or -1. */
export function findSorted(ids: Int32Array, from: number, to: number, id: number): number {
  let low = from;
  let high = to - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const value = ids[middle]!;
    if (value < id) low = middle + 1;
    else if (value > id) high = middle - 1;
    else return middle;
  }
  return -1;
}

/** A growable array of doubles (amortised doubling). */
export class Float64Buffer {
  private data: Float64Array;
  /** Values written so far. */
  length = 0;

  constructor(capacity = 1024) {
    this.data = new Float64Array(Math.max(1, capacity));
  }

  /** Appends one value. */
  push(value: number): void {
    if (this.length === this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = value;
  }

  /** The values written, as a view (valid until the next push). */
  view(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}
