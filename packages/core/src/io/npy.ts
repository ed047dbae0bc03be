import { GenrecError } from '../errors.js';
import { writeFileAtomic } from './atomic-write.js';
import { readBytes } from './read-file.js';
import { BYTES_PER_ELEMENT, bytesOf, createTensor, shapeSize, typedArrayFromBytes, type Tensor, type TensorDType } from './tensor.js';

const DESCRIPTORS: Readonly<Record<TensorDType, string>> = {
  float32: '<f4',
  float64: '<f8',
  int32: '<i4',
  int64: '<i8',
  uint8: '|u1',
};

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Encodes a tensor as the bytes of a `.npy` file (format 1.0, C order, little-endian). */
export function encodeNpy(tensor: Tensor): Uint8Array {
  const shapeText = tensor.shape.length === 1 ? `(${tensor.shape[0]},)` : `(${tensor.shape.join(', ')})`;
  let header = `{'descr': '${DESCRIPTORS[tensor.dtype]}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = MAGIC.length + 2 + 2 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const headerBytes = Buffer.from(header, 'latin1');
  const out = new Uint8Array(10 + headerBytes.byteLength + tensor.data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, headerBytes.byteLength, true);
  out.set(headerBytes, 10);
  out.set(bytesOf(tensor.data), 10 + headerBytes.byteLength);
  return out;
}

/**
 * Decodes the bytes of a `.npy` file (format 1.x–3.x, C order; float32/float64/int32/int64/uint8).
 *
 * @param source - a file name for error messages.
 * @throws GenrecError `PARSE_ERROR` on a malformed header, `UNSUPPORTED` for Fortran order or
 * another dtype, `CORRUPT_ARTIFACT` when the data is shorter than the shape says.
 */
export function decodeNpy(bytes: Uint8Array, source = '<npy>'): Tensor {
  const fail = (message: string): never => {
    throw new GenrecError('PARSE_ERROR', `not a valid .npy file: ${message}`, { details: { file: source } });
  };
  if (bytes.byteLength < 10 || MAGIC.some((value, i) => bytes[i] !== value)) fail('missing the \\x93NUMPY magic');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6]!;
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  if (headerStart + headerLength > bytes.byteLength) fail('header runs past the end of the file');
  const header = Buffer.from(bytes.subarray(headerStart, headerStart + headerLength)).toString('latin1');
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1] ?? fail('no descr in header');
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1] ?? fail('no fortran_order in header');
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1] ?? fail('no shape in header');
  if (fortran === 'True') {
    throw new GenrecError('UNSUPPORTED', 'Fortran-ordered .npy arrays are not supported; save with C order', { details: { file: source } });
  }
  const dtype = (Object.keys(DESCRIPTORS) as TensorDType[]).find((key) => DESCRIPTORS[key] === descr || (key === 'uint8' && descr === '<u1'));
  if (!dtype) throw new GenrecError('UNSUPPORTED', `unsupported .npy dtype ${descr}`, { details: { file: source } });
  const shape = shapeText
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .map((part) => Number.parseInt(part, 10));
  if (shape.some((dimension) => !Number.isInteger(dimension) || dimension < 0)) fail(`bad shape (${shapeText})`);
  const dataStart = headerStart + headerLength;
  const byteLength = shapeSize(shape) * BYTES_PER_ELEMENT[dtype];
  if (dataStart + byteLength > bytes.byteLength) {
    throw new GenrecError('CORRUPT_ARTIFACT', `the .npy data is truncated: shape (${shape.join(', ')}) needs ${byteLength} bytes, ${bytes.byteLength - dataStart} present`, { details: { file: source } });
  }
  return createTensor(typedArrayFromBytes(dtype, bytes.subarray(dataStart, dataStart + byteLength)), shape);
}

/** Reads a `.npy` file (see {@link decodeNpy}). */
export function readNpy(path: string): Tensor {
  return decodeNpy(readBytes(path), path);
}

/** Writes a tensor as a `.npy` file, atomically. */
export function writeNpy(path: string, tensor: Tensor): void {
  writeFileAtomic(path, encodeNpy(tensor));
}
