/**
 * Partial top-K selection over one score row with a bounded binary heap in typed arrays (no sort of
 * the row): O(n + m log K) where m is the number of heap replacements. Order: higher score first,
 * then higher `tieRank` (the tie policy), then lower item id. Reuse one instance across rows.
 *
 * The selector keeps whatever integer `item` it is offered. Offer item ids (`1 .. itemCount`, as
 * `evaluateScores` does: score column `j` is item `j + 1`), so that `drain` returns item ids.
 *
 * @example
 * ```ts
 * const row = new Float32Array([0.2, 0.9, 0.5]); // scores of items 1, 2, 3
 * const selector = new TopKSelector(2);
 * for (let j = 0; j < row.length; j++) selector.offer(row[j]!, 0, j + 1);
 * const top = new Int32Array(2);
 * selector.drain(top); // 2; top = [2, 3]
 * ```
 */
export class TopKSelector {
  private readonly heapScore: Float64Array;
  private readonly heapTie: Int32Array;
  private readonly heapItem: Int32Array;
  private size = 0;

  /**
   * @param k - how many items to keep (0 keeps none)
   */
  constructor(readonly k: number) {
    this.heapScore = new Float64Array(Math.max(1, k));
    this.heapTie = new Int32Array(Math.max(1, k));
    this.heapItem = new Int32Array(Math.max(1, k));
  }

  /** Empties the heap for a new row. */
  reset(): void {
    this.size = 0;
  }

  /** True when candidate (s, t, i) ranks below heap slot `h`. */
  private worse(s: number, t: number, i: number, h: number): boolean {
    const hs = this.heapScore[h]!;
    if (s !== hs) return s < hs;
    const ht = this.heapTie[h]!;
    if (t !== ht) return t < ht;
    return i > this.heapItem[h]!;
  }

  /** The score of the worst kept item once the heap is full, else -Infinity (a fast reject bound). */
  threshold(): number {
    return this.size < this.k ? -Infinity : this.heapScore[0]!;
  }

  /** Offers `item` (an item id) with its score and tie rank (higher ranks first among equal scores). */
  offer(score: number, tieRank: number, item: number): void {
    if (this.k === 0) return;
    if (this.size < this.k) {
      let child = this.size++;
      while (child > 0) {
        const parent = (child - 1) >> 1;
        if (!this.worse(score, tieRank, item, parent)) break;
        this.move(parent, child);
        child = parent;
      }
      this.put(child, score, tieRank, item);
      return;
    }
    if (this.worse(score, tieRank, item, 0)) return;
    // Replace the root (the worst kept) and sift down.
    let parent = 0;
    const size = this.size;
    for (;;) {
      const left = 2 * parent + 1;
      if (left >= size) break;
      const right = left + 1;
      let smaller = left;
      if (right < size && this.slotWorse(right, left)) smaller = right;
      if (!this.slotWorse(smaller, -1, score, tieRank, item)) break;
      this.move(smaller, parent);
      parent = smaller;
    }
    this.put(parent, score, tieRank, item);
  }

  /** True when slot a ranks below slot b (or below the candidate when b = -1). */
  private slotWorse(a: number, b: number, s = 0, t = 0, i = 0): boolean {
    if (b >= 0) return this.worse(this.heapScore[a]!, this.heapTie[a]!, this.heapItem[a]!, b);
    const as = this.heapScore[a]!;
    if (as !== s) return as < s;
    const at = this.heapTie[a]!;
    if (at !== t) return at < t;
    return this.heapItem[a]! > i;
  }

  private move(from: number, to: number): void {
    this.heapScore[to] = this.heapScore[from]!;
    this.heapTie[to] = this.heapTie[from]!;
    this.heapItem[to] = this.heapItem[from]!;
  }

  private put(slot: number, score: number, tieRank: number, item: number): void {
    this.heapScore[slot] = score;
    this.heapTie[slot] = tieRank;
    this.heapItem[slot] = item;
  }

  /** Writes the kept items best first into `out` and returns how many; empties the heap. */
  drain(out: Int32Array): number {
    const count = this.size;
    for (let position = count - 1; position >= 0; position--) {
      out[position] = this.heapItem[0]!;
      const last = --this.size;
      if (last === 0) break;
      const score = this.heapScore[last]!;
      const tieRank = this.heapTie[last]!;
      const item = this.heapItem[last]!;
      let parent = 0;
      for (;;) {
        const left = 2 * parent + 1;
        if (left >= last) break;
        const right = left + 1;
        let smaller = left;
        if (right < last && this.slotWorse(right, left)) smaller = right;
        if (!this.slotWorse(smaller, -1, score, tieRank, item)) break;
        this.move(smaller, parent);
        parent = smaller;
      }
      this.put(parent, score, tieRank, item);
    }
    this.size = 0;
    return count;
  }
}
