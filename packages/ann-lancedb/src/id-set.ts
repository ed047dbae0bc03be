/**
 * Ids below this are kept in a bitset (1 bit per id value, grown by doubling up to 2^27 bits =
 * 16 MiB); ids at or above it in a JavaScript `Set`.
 */
export const BITSET_ID_LIMIT = 2 ** 27;

const MIN_WORDS = 1024;

/**
 * The set of ids a {@link LanceIndex} holds, kept in memory so that `has` and `size` stay
 * synchronous (the contract's) and duplicate checks need no query of the table.
 *
 * Memory: one bit per id value up to the largest id below 2^27 (rounded up to a power of two: 1.25
 * to 2 MiB for 10 million dense ids 1..10^7, at most 16 MiB), plus a `Set` entry (about 20 to 40
 * bytes; V8 caps a `Set` at 2^24 entries) per id at or above 2^27. genrec's dense item ids 1..N stay
 * in the bitset.
 *
 * @example
 * ```ts
 * const ids = new IdSet();
 * ids.add(7); // true: newly added
 * ids.has(7); // true
 * ids.size;   // 1
 * ```
 */
export class IdSet {
  private words = new Uint32Array(0);
  private readonly large = new Set<number>();
  private count = 0;

  /** Number of ids in the set. */
  get size(): number {
    return this.count;
  }

  /** Bytes held by the bitset (the `Set` of large ids is not counted). */
  get bitsetBytes(): number {
    return this.words.byteLength;
  }

  /** True when `id` (an integer in [0, 2^31 - 1]) is in the set. */
  has(id: number): boolean {
    if (id < BITSET_ID_LIMIT) {
      const word = this.words[id >>> 5];
      return word !== undefined && ((word >>> (id & 31)) & 1) === 1;
    }
    return this.large.has(id);
  }

  /**
   * Adds an id.
   *
   * @returns true when the id was not in the set before.
   */
  add(id: number): boolean {
    if (id >= BITSET_ID_LIMIT) {
      if (this.large.has(id)) return false;
      this.large.add(id);
      this.count++;
      return true;
    }
    const index = id >>> 5;
    if (index >= this.words.length) this.grow(index + 1);
    const bit = 1 << (id & 31);
    const word = this.words[index]!;
    if ((word & bit) !== 0) return false;
    this.words[index] = word | bit;
    this.count++;
    return true;
  }

  /**
   * Removes an id.
   *
   * @returns true when the id was in the set.
   */
  delete(id: number): boolean {
    if (id >= BITSET_ID_LIMIT) {
      if (!this.large.delete(id)) return false;
      this.count--;
      return true;
    }
    const index = id >>> 5;
    const word = this.words[index];
    const bit = 1 << (id & 31);
    if (word === undefined || (word & bit) === 0) return false;
    this.words[index] = word & ~bit;
    this.count--;
    return true;
  }

  private grow(words: number): void {
    let length = Math.max(MIN_WORDS, this.words.length);
    while (length < words) length *= 2;
    length = Math.min(length, BITSET_ID_LIMIT / 32);
    const next = new Uint32Array(length);
    next.set(this.words);
    this.words = next;
  }
}
