import { GenrecError, type GenrecErrorDetails } from '../errors.js';

/** Element types that genrec's tensor files hold. */
export type TensorDType = 'float32' | 'float64' | 'int32' | 'int64' | 'uint8';

/** The typed array that holds each {@link TensorDType}. */
export interface TensorDataByDType {
  float32: Float32Array;
  float64: Float64Array;
  int32: Int32Array;
  int64: BigInt64Array;
  uint8: Uint8Array;
}

/** Any typed array a tensor may hold. */
export type TensorData = TensorDataByDType[TensorDType];

/** A dense row-major tensor with an explicit shape. */
export interface Tensor<D extends TensorDType = TensorDType> {
  readonly dtype: D;
  readonly shape: readonly number[];
  readonly data: TensorDataByDType[D];
}

/** Bytes per element of each dtype. */
export const BYTES_PER_ELEMENT: Readonly<Record<TensorDType, number>> = {
  float32: 4,
  float64: 8,
  int32: 4,
  int64: 8,
  uint8: 1,
};

/** Number of elements of a shape (1 for a scalar `[]`). */
export function shapeSize(shape: readonly number[]): number {
  let size = 1;
  for (const dimension of shape) size *= dimension;
  return size;
}

/** The dtype of a typed array, or undefined for arrays genrec does not store. */
export function dtypeOf(data: ArrayBufferView): TensorDType | undefined {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Uint8Array) return 'uint8';
  return undefined;
}

/**
 * Builds a tensor, checking that the data's length matches the shape.
 *
 * @throws GenrecError `SHAPE_MISMATCH` when it does not, `DTYPE_MISMATCH` for an unsupported array.
 */
export function createTensor<D extends TensorDType>(data: TensorDataByDType[D], shape: readonly number[]): Tensor<D> {
  const dtype = dtypeOf(data);
  if (dtype === undefined) throw new GenrecError('DTYPE_MISMATCH', `unsupported typed array ${Object.prototype.toString.call(data)}`);
  for (const dimension of shape) {
    if (!Number.isInteger(dimension) || dimension < 0) throw new GenrecError('SHAPE_MISMATCH', `invalid tensor shape [${shape.join(', ')}]`);
  }
  if (shapeSize(shape) !== data.length) {
    throw new GenrecError('SHAPE_MISMATCH', `tensor of shape [${shape.join(', ')}] needs ${shapeSize(shape)} values, got ${data.length}`);
  }
  return { dtype: dtype as D, shape: [...shape], data };
}

/** Views the bytes of a little-endian buffer as a typed array of `dtype` (copies when unaligned). */
export function typedArrayFromBytes<D extends TensorDType>(dtype: D, bytes: Uint8Array): TensorDataByDType[D] {
  const size = BYTES_PER_ELEMENT[dtype];
  if (bytes.byteLength % size !== 0) {
    throw new GenrecError('CORRUPT_ARTIFACT', `${bytes.byteLength} bytes is not a whole number of ${dtype} values`);
  }
  const aligned = bytes.byteOffset % size === 0 ? bytes : bytes.slice();
  const count = aligned.byteLength / size;
  const buffer = aligned.buffer;
  const offset = aligned.byteOffset;
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer, offset, count) as TensorDataByDType[D];
    case 'float64':
      return new Float64Array(buffer, offset, count) as TensorDataByDType[D];
    case 'int32':
      return new Int32Array(buffer, offset, count) as TensorDataByDType[D];
    case 'int64':
      return new BigInt64Array(buffer, offset, count) as TensorDataByDType[D];
    case 'uint8':
      return new Uint8Array(buffer, offset, count) as TensorDataByDType[D];
    default:
      throw new GenrecError('DTYPE_MISMATCH', `unsupported dtype ${String(dtype)}`);
  }
}

/** The raw little-endian bytes of a typed array (a view, no copy). */
export function bytesOf(data: TensorData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Throws at the first NaN or infinite value of a float tensor (integer tensors always pass). Use it
 * on every loaded tensor that must hold numbers: weights, codebooks, set ids, embeddings.
 *
 * @param tensor - the tensor to check
 * @param what - what the tensor is, for the message (e.g. `'checkpoint tensor "w1"'`)
 * @param details - where it came from (`file`, `field`) for the error's details
 * @throws GenrecError `INVALID_INPUT` naming `what`, the flat index and the value.
 * @example
 * ```ts
 * const { tensors } = readSafetensors('codebooks.safetensors');
 * for (const [name, tensor] of tensors) assertFiniteTensor(tensor, `tensor "${name}"`, { file: 'codebooks.safetensors' });
 * ```
 */
export function assertFiniteTensor(tensor: Tensor, what: string, details: GenrecErrorDetails = {}): void {
  if (tensor.dtype !== 'float32' && tensor.dtype !== 'float64') return;
  const data = tensor.data as Float32Array | Float64Array;
  for (let i = 0; i < data.length; i++) {
    const value = data[i]!;
    // value - value is 0 for finite numbers and NaN for NaN and ±Infinity: one comparison per value
    if (value - value !== 0) {
      throw new GenrecError('INVALID_INPUT', `${what} has a non-finite value ${value} at flat index ${i} (shape [${tensor.shape.join(', ')}])`, {
        details: { ...details, index: i },
      });
    }
  }
}
