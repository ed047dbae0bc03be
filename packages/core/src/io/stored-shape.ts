import { BYTES_PER_ELEMENT, type TensorDType } from './tensor.js';

/**
 * The largest dimension genrec reads from a file (2^31 - 1). No file a reader can hold has a
 * larger non-empty dimension, and the bound keeps empty arrays such as `[0, 2^50]` from sizing
 * loops or allocations downstream.
 */
export const MAX_STORED_DIMENSION = 2 ** 31 - 1;

/** The most dimensions a stored tensor may have (numpy's limit, `NPY_MAXDIMS`, is 64). */
export const MAX_STORED_RANK = 64;

/**
 * Checks a shape read from a file: at most {@link MAX_STORED_RANK} integers in `[0, MAX_STORED_DIMENSION]`.
 *
 * @returns the shape, or a sentence saying what is wrong with it
 */
export function checkStoredShape(value: unknown): { shape: number[] } | { problem: string } {
  if (!Array.isArray(value)) return { problem: `the shape is not a list (found ${describeValue(value)})` };
  if (value.length > MAX_STORED_RANK) return { problem: `the shape has ${value.length} dimensions, more than ${MAX_STORED_RANK}` };
  const shape: number[] = [];
  for (const dimension of value as unknown[]) {
    if (typeof dimension !== 'number' || !Number.isInteger(dimension) || dimension < 0 || dimension > MAX_STORED_DIMENSION) {
      return { problem: `the shape has dimension ${describeValue(dimension)}; dimensions are integers in [0, ${MAX_STORED_DIMENSION}]` };
    }
    shape.push(dimension);
  }
  return { shape };
}

/** The exact byte length of a `dtype` tensor of `shape` (a bigint: products of file-sized dimensions overflow doubles). */
export function storedByteLength(shape: readonly number[], dtype: TensorDType): bigint {
  let bytes = BigInt(BYTES_PER_ELEMENT[dtype]);
  for (const dimension of shape) bytes *= BigInt(dimension);
  return bytes;
}

/** A short, safe rendering of an untrusted value for an error message. */
export function describeValue(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'bigint' ? `${value}n` : (JSON.stringify(value) ?? String(value));
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
