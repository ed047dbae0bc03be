import { GenrecError } from '@genrec/core';

/**
 * Partial top-k selection over rows of scores with a reusable bounded min-heap: O(n + m log k) for
 * a row of n scores of which m enter the heap (for random data m is about k·ln(n/k)); the common case
 * costs one comparison per score. Nothing is allocated per row.
 *
 * Order: higher score first; equal scores by lower index first. NaN scores are skipped.
 *
 * @example
 * ```ts
 * const heap = new TopKHeap(3);
 * const count = heap.select(new Float32Array([0.1, 0.9, 0.5, 0.9]), 0, 4, 3);
 * const indices = new Int32Array(3), scores = new Float32Array(3);
 * heap.write(indices, scores, 0); // indices [1, 3, 2], scores [0.9, 0.9, 0.5]
 * ```
 */
export class TopKHeap {
  private heapScores: Float32Array;
  private heapIndices: Int32Array;
  private count = 0;

  /** @param capacity - the largest `k` expected (the heap grows when a larger one comes). */
  constructor(capacity = 16) {
    this.heapScores = new Float32Array(Math.max(1, capacity));
    this.heapIndices = new Int32Array(Math.max(1, capacity));
  }

  /**
   * Selects the `k` best of `scores[offset .. offset + length)`; the indices kept are relative to
   * `offset`. Call {@link TopKHeap.write} to read them out, best first.
   *
   * @param accept - optional predicate on the relative index; rejected entries are skipped.
   * @returns the number selected, `min(k, accepted entries)`.
   * @throws GenrecError `INVALID_INPUT` when `k` is not a positive integer.
   */
  select(scores: Float32Array, offset: number, length: number, k: number, accept?: (index: number) => boolean): number {
    if (!Number.isInteger(k) || k < 1) throw new GenrecError('INVALID_INPUT', `top-k selection: k must be a positive integer, got ${k}`);
    this.reserve(k);
    const heapScores = this.heapScores;
    const heapIndices = this.heapIndices;
    let count = 0;
    let index = 0;
    // Phase 1: fill the heap with the first k acceptable entries.
    for (; index < length && count < k; index++) {
      const score = scores[offset + index]!;
      if (score !== score) continue; // NaN
      if (accept !== undefined && !accept(index)) continue;
      heapScores[count] = score;
      heapIndices[count] = index;
      count++;
      this.siftUp(count - 1);
    }
    // Phase 2: an entry enters only when strictly better than the worst kept one (entries come in
    // increasing index order, so an equal score with a larger index never wins the tie).
    if (count === k) {
      let worst = heapScores[0]!;
      if (accept === undefined) {
        for (; index < length; index++) {
          const score = scores[offset + index]!;
          if (score > worst) {
            heapScores[0] = score;
            heapIndices[0] = index;
            this.siftDown(0, k);
            worst = heapScores[0]!;
          }
        }
      } else {
        for (; index < length; index++) {
          const score = scores[offset + index]!;
          if (score > worst && accept(index)) {
            heapScores[0] = score;
            heapIndices[0] = index;
            this.siftDown(0, k);
            worst = heapScores[0]!;
          }
        }
      }
    }
    this.count = count;
    return count;
  }

  /**
   * Writes the selection of the last {@link TopKHeap.select}, best first, at `outOffset`. Empties
   * the heap.
   *
   * @param mapIndex - optional map from the relative index to the id written (e.g. row -> item id).
   * @returns the number written.
   */
  write(outIndices: Int32Array, outScores: Float32Array, outOffset: number, mapIndex?: (index: number) => number): number {
    const written = this.count;
    // Pop the worst repeatedly and fill from the back.
    for (let size = written; size > 0; size--) {
      const index = this.heapIndices[0]!;
      outIndices[outOffset + size - 1] = mapIndex === undefined ? index : mapIndex(index);
      outScores[outOffset + size - 1] = this.heapScores[0]!;
      this.heapScores[0] = this.heapScores[size - 1]!;
      this.heapIndices[0] = this.heapIndices[size - 1]!;
      this.siftDown(0, size - 1);
    }
    this.count = 0;
    return written;
  }

  private reserve(k: number): void {
    if (this.heapScores.length >= k) return;
    this.heapScores = new Float32Array(k);
    this.heapIndices = new Int32Array(k);
  }

  /** True when entry a is worse than entry b (lower score, or equal score and larger index). */
  private worse(a: number, b: number): boolean {
    const scoreA = this.heapScores[a]!;
    const scoreB = this.heapScores[b]!;
    return scoreA < scoreB || (scoreA === scoreB && this.heapIndices[a]! > this.heapIndices[b]!);
  }

  private swap(a: number, b: number): void {
    const score = this.heapScores[a]!;
    this.heapScores[a] = this.heapScores[b]!;
    this.heapScores[b] = score;
    const index = this.heapIndices[a]!;
    this.heapIndices[a] = this.heapIndices[b]!;
    this.heapIndices[b] = index;
  }

  private siftUp(position: number): void {
    while (position > 0) {
      const parent = (position - 1) >> 1;
      if (!this.worse(position, parent)) return;
      this.swap(position, parent);
      position = parent;
    }
  }

  private siftDown(position: number, size: number): void {
    for (;;) {
      const left = 2 * position + 1;
      if (left >= size) return;
      const right = left + 1;
      const child = right < size && this.worse(right, left) ? right : left;
      if (!this.worse(child, position)) return;
      this.swap(child, position);
      position = child;
    }
  }
}
