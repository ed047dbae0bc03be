/**
 * Partial selection of the best `k` candidates out of a stream, with preallocated buffers (no
 * allocation per candidate or per reset). Order: score descending, then `flat` ascending (the
 * tie rule of the beam search: flat index = beam x vocabulary + token). A candidate carries an
 * integer `payload` (e.g. the trie node it leads to).
 *
 * Internally a binary heap whose root is the worst kept candidate, so a rejected candidate costs
 * one comparison with {@link TopKSelector.threshold}.
 *
 * @example
 * ```ts
 * const selector = new TopKSelector(2);
 * selector.reset(2);
 * selector.offer(0.5, 7, 0); selector.offer(0.9, 3, 0); selector.offer(0.5, 1, 0);
 * selector.finish(); // sorted best first
 * selector.flats.subarray(0, selector.size); // Int32Array [3, 1]
 * ```
 */
export class TopKSelector {
  /** Kept scores; best first after {@link TopKSelector.finish}. */
  scores: Float64Array;
  /** Kept flat indices, parallel to `scores`. */
  flats: Int32Array;
  /** Kept payloads, parallel to `scores`. */
  payloads: Int32Array;
  /** Extra per-candidate values (e.g. an unpenalised log-probability), parallel to `scores`. */
  extras: Float64Array;
  /** Number of candidates kept so far (at most `k`). */
  size = 0;
  /**
   * Score a new candidate must reach to be considered: `-Infinity` until `k` are kept, then the
   * worst kept score (a candidate equal to it still wins with a lower flat index).
   */
  threshold = Number.NEGATIVE_INFINITY;
  #k = 0;

  /** @param capacity - The largest `k` this selector will be reset to (it grows on demand). */
  constructor(capacity: number) {
    this.scores = new Float64Array(capacity);
    this.flats = new Int32Array(capacity);
    this.payloads = new Int32Array(capacity);
    this.extras = new Float64Array(capacity);
  }

  /** Starts a new selection of the best `k`. */
  reset(k: number): void {
    if (k > this.scores.length) {
      this.scores = new Float64Array(k);
      this.flats = new Int32Array(k);
      this.payloads = new Int32Array(k);
      this.extras = new Float64Array(k);
    }
    this.#k = k;
    this.size = 0;
    this.threshold = k > 0 ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }

  /** Offers one candidate; returns true when it was kept (for now). NaN scores are never kept. */
  offer(score: number, flat: number, payload: number, extra = 0): boolean {
    const k = this.#k;
    if (!(score >= this.threshold)) return false;
    const scores = this.scores;
    const flats = this.flats;
    if (this.size < k) {
      // Sift up from the end (root = worst).
      let index = this.size++;
      while (index > 0) {
        const parent = (index - 1) >> 1;
        const parentScore = scores[parent]!;
        if (parentScore < score || (parentScore === score && flats[parent]! > flat)) break;
        this.#move(parent, index);
        index = parent;
      }
      this.#put(index, score, flat, payload, extra);
      if (this.size === k) this.threshold = scores[0]!;
      return true;
    }
    if (score === scores[0]! && flat > flats[0]!) return false;
    // Replace the root (worst) and sift down.
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= k) break;
      let worst = left;
      const right = left + 1;
      if (right < k && (scores[right]! < scores[left]! || (scores[right] === scores[left] && flats[right]! > flats[left]!))) worst = right;
      const worstScore = scores[worst]!;
      if (score < worstScore || (score === worstScore && flat > flats[worst]!)) break;
      this.#move(worst, index);
      index = worst;
    }
    this.#put(index, score, flat, payload, extra);
    this.threshold = scores[0]!;
    return true;
  }

  /** Sorts the kept candidates best first (in place; heap order is lost). */
  finish(): void {
    // Heap sort with the worst at the root: repeatedly move the root to the end.
    const scores = this.scores;
    const flats = this.flats;
    for (let end = this.size - 1; end > 0; end--) {
      this.#swap(0, end);
      let index = 0;
      for (;;) {
        const left = 2 * index + 1;
        if (left >= end) break;
        let worst = left;
        const right = left + 1;
        if (right < end && (scores[right]! < scores[left]! || (scores[right] === scores[left] && flats[right]! > flats[left]!))) worst = right;
        if (scores[index]! < scores[worst]! || (scores[index] === scores[worst] && flats[index]! > flats[worst]!)) break;
        this.#swap(index, worst);
        index = worst;
      }
    }
  }

  #move(from: number, to: number): void {
    this.scores[to] = this.scores[from]!;
    this.flats[to] = this.flats[from]!;
    this.payloads[to] = this.payloads[from]!;
    this.extras[to] = this.extras[from]!;
  }

  #put(index: number, score: number, flat: number, payload: number, extra: number): void {
    this.scores[index] = score;
    this.flats[index] = flat;
    this.payloads[index] = payload;
    this.extras[index] = extra;
  }

  #swap(a: number, b: number): void {
    const score = this.scores[a]!;
    const flat = this.flats[a]!;
    const payload = this.payloads[a]!;
    const extra = this.extras[a]!;
    this.#move(b, a);
    this.#put(b, score, flat, payload, extra);
  }
}
