/**
 * Append-only typed-array buffers that double their capacity when full, so readers can collect
 * millions of values without a JavaScript array per value. Internal to the package.
 */
export class Int32Buffer {
  private data: Int32Array;
  /** Number of values appended so far. */
  length = 0;

  constructor(initialCapacity = 1024) {
    this.data = new Int32Array(Math.max(16, initialCapacity));
  }

  /** Appends one value. */
  push(value: number): void {
    if (this.length === this.data.length) this.grow();
    this.data[this.length++] = value;
  }

  /** The value at `index` (unchecked). */
  at(index: number): number {
    return this.data[index]!;
  }

  /** A copy trimmed to `length`. */
  toArray(): Int32Array {
    return this.data.slice(0, this.length);
  }

  private grow(): void {
    const next = new Int32Array(this.data.length * 2);
    next.set(this.data);
    this.data = next;
  }
}

/** Append-only Float64Array buffer; see {@link Int32Buffer}. */
export class Float64Buffer {
  private data: Float64Array;
  /** Number of values appended so far. */
  length = 0;

  constructor(initialCapacity = 1024) {
    this.data = new Float64Array(Math.max(16, initialCapacity));
  }

  /** Appends one value. */
  push(value: number): void {
    if (this.length === this.data.length) this.grow();
    this.data[this.length++] = value;
  }

  /** A copy trimmed to `length`. */
  toArray(): Float64Array {
    return this.data.slice(0, this.length);
  }

  private grow(): void {
    const next = new Float64Array(this.data.length * 2);
    next.set(this.data);
    this.data = next;
  }
}
