/** Writes int32 values as little-endian int64 through an Int32 view (no BigInt per element). */
export function writeInt64(values: Int32Array, target: BigInt64Array, count: number): void {
  const words = new Int32Array(target.buffer, target.byteOffset, count * 2);
  for (let i = 0; i < count; i++) {
    const value = values[i]!;
    words[2 * i] = value;
    words[2 * i + 1] = value < 0 ? -1 : 0;
  }
}

/** The values as a new int64 array. */
export function toInt64(values: Int32Array): BigInt64Array {
  const target = new BigInt64Array(values.length);
  writeInt64(values, target, values.length);
  return target;
}
