import { GenrecError } from '@genrec/core';

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

/**
 * Checks token ids before they reach an ONNX model as int64: a negative id would wrap around in the
 * model's embedding lookup (ONNX `Gather` counts negative indices from the end), so `-1` would
 * silently read the last token's embedding.
 *
 * @param upper - one past the largest valid id (the vocabulary size), when known
 * @throws GenrecError `INVALID_INPUT` naming the position and the value
 */
export function checkTokenIds(tokens: ArrayLike<number>, field: string, upper?: number): void {
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (!(token >= 0) || (upper !== undefined && token >= upper)) {
      const range = upper === undefined ? 'non-negative' : `in 0..${upper - 1}`;
      throw new GenrecError('INVALID_INPUT', `${field}[${i}] is ${token}; token ids must be ${range}`, { details: { field, position: i } });
    }
  }
}
