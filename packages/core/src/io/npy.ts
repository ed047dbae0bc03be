import { GenrecError } from '../errors.js';
import { writeFileAtomic } from './atomic-write.js';
import { parsePythonLiteral, PythonLiteralError, type PythonValue } from './python-literal.js';
import { readBytes } from './read-file.js';
import { MAX_STORED_DIMENSION, MAX_STORED_RANK, storedByteLength } from './stored-shape.js';
import { assertFiniteTensor, bytesOf, createTensor, shapeSize, typedArrayFromBytes, type Tensor, type TensorDType } from './tensor.js';

const DESCRIPTORS: Readonly<Record<TensorDType, string>> = {
  float32: '<f4',
  float64: '<f8',
  int32: '<i4',
  int64: '<i8',
  uint8: '|u1',
};

/** The descriptors genrec reads: the ones numpy writes for its dtypes (`<u1` is an older spelling of `|u1`). */
const DTYPE_OF_DESCRIPTOR: ReadonlyMap<string, TensorDType> = new Map([
  ...(Object.entries(DESCRIPTORS) as [TensorDType, string][]).map(([dtype, descr]) => [descr, dtype] as const),
  ['<u1', 'uint8'],
]);

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** numpy's own limit (`np.load(max_header_size=10000)`): longer headers are refused unless trusted. */
export const NPY_MAX_HEADER_CHARACTERS = 10_000;

/** Options of {@link decodeNpy} and {@link readNpy}. */
export interface NpyReadOptions {
  /** Refuse NaN and ±Infinity in float arrays (`INVALID_INPUT`). @defaultValue false */
  requireFinite?: boolean;
}

/**
 * Encodes a tensor as the bytes of a `.npy` file (C order, little-endian): format 1.0 as numpy
 * writes it, or 2.0 when the header does not fit 1.0's 16-bit length.
 *
 * @param tensor - the tensor to encode
 * @returns the file's bytes
 * @throws GenrecError `SHAPE_MISMATCH` when the data's length disagrees with the shape.
 * @example
 * ```ts
 * const bytes = encodeNpy(createTensor(new Float32Array([1, 2, 3, 4]), [2, 2]));
 * ```
 */
export function encodeNpy(tensor: Tensor): Uint8Array {
  if (shapeSize(tensor.shape) !== tensor.data.length) {
    throw new GenrecError('SHAPE_MISMATCH', `tensor of shape [${tensor.shape.join(', ')}] needs ${shapeSize(tensor.shape)} values, got ${tensor.data.length}`);
  }
  const shapeText = tensor.shape.length === 1 ? `(${tensor.shape[0]},)` : `(${tensor.shape.join(', ')})`;
  const dict = `{'descr': '${DESCRIPTORS[tensor.dtype]}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // numpy's writer: format 1.0 when the padded header fits a 16-bit length, else 2.0
  let major = 1;
  let prefix = MAGIC.length + 2 + 2;
  let header = pad(dict, prefix);
  if (header.length > 0xffff) {
    major = 2;
    prefix = MAGIC.length + 2 + 4;
    header = pad(dict, prefix);
  }
  const headerBytes = Buffer.from(header, 'latin1');
  const out = new Uint8Array(prefix + headerBytes.byteLength + tensor.data.byteLength);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, headerBytes.byteLength, true);
  else view.setUint32(8, headerBytes.byteLength, true);
  out.set(headerBytes, prefix);
  out.set(bytesOf(tensor.data), prefix + headerBytes.byteLength);
  return out;
}

/** Pads a header dict with spaces and a newline so that the data starts at a multiple of 64. */
function pad(dict: string, prefix: number): string {
  const unpadded = prefix + dict.length + 1;
  return dict + ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
}

/**
 * Decodes the bytes of a `.npy` file, checked against the NPY format specification as numpy
 * implements it (`numpy.lib.format`):
 * - the magic `\x93NUMPY` and a format version 1.0, 2.0 or 3.0 (others: `FORMAT_VERSION`);
 * - a header length (2 bytes in 1.0, 4 in 2.0/3.0) within the file and at most
 *   {@link NPY_MAX_HEADER_CHARACTERS} characters, latin-1 (1.0/2.0) or UTF-8 (3.0);
 * - a header that is a Python dict literal with exactly the keys `descr`, `fortran_order` and
 *   `shape` (a key given twice counts once, its last value wins, as with numpy's
 *   `ast.literal_eval`); `shape` a tuple of at most 64 integers in `[0, 2^31 - 1]` (`(2.9, 3)` is an error),
 *   `fortran_order` `True` or `False`;
 * - enough bytes after the header for the shape (extra bytes after the data are ignored, as numpy
 *   ignores them).
 *
 * Only the descriptors numpy writes for genrec's dtypes are read (`<f4`, `<f8`, `<i4`, `<i8`,
 * `|u1`/`<u1`), in C order. Header syntax numpy would accept but never writes (escapes in strings,
 * `0x` or `1_000` numbers, the Python 2 `L` suffix, `True` as a dimension) is refused: whatever
 * this reader accepts, numpy reads as the same array.
 *
 * @param bytes - the file's content
 * @param source - a file name for error messages
 * @param options - {@link NpyReadOptions}
 * @returns the tensor (a view of `bytes` when its data is aligned, else a copy)
 * @throws GenrecError `PARSE_ERROR` on a malformed header, `FORMAT_VERSION` for an unknown
 * format version, `UNSUPPORTED` for Fortran order or another dtype, `CORRUPT_ARTIFACT` when the
 * data is shorter than the shape says, `INVALID_INPUT` for a non-finite value with `requireFinite`.
 * @example
 * ```ts
 * const tensor = decodeNpy(readFileSync('vectors.npy'), 'vectors.npy');
 * ```
 */
export function decodeNpy(bytes: Uint8Array, source = '<npy>', options: NpyReadOptions = {}): Tensor {
  const details = { file: source };
  const fail = (message: string): never => {
    throw new GenrecError('PARSE_ERROR', `not a valid .npy file: ${message}`, { details });
  };
  if (bytes.byteLength < 8 || MAGIC.some((value, i) => bytes[i] !== value)) fail('missing the \\x93NUMPY magic');
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if ((major !== 1 && major !== 2 && major !== 3) || minor !== 0) {
    throw new GenrecError('FORMAT_VERSION', `.npy format version ${major}.${minor} is not supported (supported: 1.0, 2.0, 3.0)`, { details });
  }
  const headerStart = major === 1 ? 10 : 12;
  if (bytes.byteLength < headerStart) fail('the header length is cut off');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (headerStart + headerLength > bytes.byteLength) fail(`the header (${headerLength} bytes) runs past the end of the file (${bytes.byteLength} bytes)`);
  const headerBytes = bytes.subarray(headerStart, headerStart + headerLength);
  let header: string;
  if (major === 3) {
    try {
      header = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
    } catch {
      return fail('the version 3.0 header is not valid UTF-8');
    }
  } else {
    header = Buffer.from(headerBytes.buffer, headerBytes.byteOffset, headerBytes.byteLength).toString('latin1');
  }
  if (header.length > NPY_MAX_HEADER_CHARACTERS) fail(`the header holds ${header.length} characters, more than numpy's limit of ${NPY_MAX_HEADER_CHARACTERS}`);
  let literal: PythonValue;
  try {
    literal = parsePythonLiteral(header);
  } catch (error) {
    if (error instanceof PythonLiteralError) return fail(`the header is not a Python literal genrec reads: ${error.message}`);
    throw error;
  }
  const fields = headerFields(literal, fail);
  const fortran = fields.get('fortran_order')!;
  if (fortran.kind !== 'bool') return fail(`fortran_order must be True or False, found ${render(fortran)}`);
  const shape = shapeOf(fields.get('shape')!, fail);
  const descr = fields.get('descr')!;
  if (descr.kind !== 'str' && descr.kind !== 'list' && descr.kind !== 'tuple') return fail(`descr must be a dtype descriptor, found ${render(descr)}`);
  if (fortran.value) {
    throw new GenrecError('UNSUPPORTED', 'Fortran-ordered .npy arrays are not supported; save with C order (np.ascontiguousarray)', { details });
  }
  const dtype = descr.kind === 'str' ? DTYPE_OF_DESCRIPTOR.get(descr.value) : undefined;
  if (dtype === undefined) {
    throw new GenrecError('UNSUPPORTED', `unsupported .npy dtype ${render(descr)} (supported: ${[...DTYPE_OF_DESCRIPTOR.keys()].join(', ')})`, { details });
  }
  const dataStart = headerStart + headerLength;
  const byteLength = storedByteLength(shape, dtype);
  if (BigInt(dataStart) + byteLength > BigInt(bytes.byteLength)) {
    throw new GenrecError('CORRUPT_ARTIFACT', `the .npy data is truncated: shape (${shape.join(', ')}) of ${dtype} needs ${byteLength} bytes, ${bytes.byteLength - dataStart} present`, {
      details,
    });
  }
  const tensor = createTensor(typedArrayFromBytes(dtype, bytes.subarray(dataStart, dataStart + Number(byteLength))), shape);
  if (options.requireFinite) assertFiniteTensor(tensor, 'the .npy array', details);
  return tensor;
}

/** The header dict's values by key: exactly descr, fortran_order and shape; a repeated key's last value wins. */
function headerFields(literal: PythonValue, fail: (message: string) => never): Map<string, PythonValue> {
  if (literal.kind !== 'dict') return fail(`the header is not a dict (found ${render(literal)})`);
  const fields = new Map<string, PythonValue>();
  for (const [key, value] of literal.entries) {
    if (key.kind !== 'str') return fail(`the header has a key that is not a string: ${render(key)}`);
    fields.set(key.value, value);
  }
  const keys = [...fields.keys()].sort();
  if (keys.join(',') !== 'descr,fortran_order,shape') {
    return fail(`the header must have exactly the keys descr, fortran_order and shape, found ${keys.map((key) => JSON.stringify(key)).join(', ') || 'none'}`);
  }
  return fields;
}

function shapeOf(value: PythonValue, fail: (message: string) => never): number[] {
  if (value.kind !== 'tuple') return fail(`shape must be a tuple, found ${render(value)}`);
  if (value.items.length > MAX_STORED_RANK) return fail(`shape has ${value.items.length} dimensions, more than numpy's ${MAX_STORED_RANK}`);
  return value.items.map((item) => {
    if (item.kind !== 'int') return fail(`shape ${render(value)} holds ${render(item)}, not an integer`);
    if (item.value > BigInt(MAX_STORED_DIMENSION)) return fail(`shape ${render(value)} has a dimension above ${MAX_STORED_DIMENSION}`);
    return Number(item.value);
  });
}

function render(value: PythonValue): string {
  const text = ((): string => {
    switch (value.kind) {
      case 'str':
        return `'${value.value}'`;
      case 'int':
        return String(value.value);
      case 'bool':
        return value.value ? 'True' : 'False';
      case 'none':
        return 'None';
      case 'tuple':
        return `(${value.items.map(render).join(', ')}${value.items.length === 1 ? ',' : ''})`;
      case 'list':
        return `[${value.items.map(render).join(', ')}]`;
      case 'dict':
        return `{${value.entries.map(([key, item]) => `${render(key)}: ${render(item)}`).join(', ')}}`;
    }
  })();
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * Reads a `.npy` file (see {@link decodeNpy}).
 *
 * @param path - the file
 * @param options - {@link NpyReadOptions}
 * @returns the tensor
 * @throws GenrecError as {@link decodeNpy}, and `NOT_FOUND` / `IO_ERROR` for the file.
 * @example
 * ```ts
 * const embeddings = readNpy('embeddings.npy', { requireFinite: true });
 * ```
 */
export function readNpy(path: string, options: NpyReadOptions = {}): Tensor {
  return decodeNpy(readBytes(path), path, options);
}

/**
 * Writes a tensor as a `.npy` file, atomically (see {@link encodeNpy}).
 *
 * @param path - the file
 * @param tensor - the tensor
 * @throws GenrecError `IO_ERROR` when writing fails, `SHAPE_MISMATCH` for an inconsistent tensor.
 * @example
 * ```ts
 * writeNpy('embeddings.npy', createTensor(vectors.data, [vectors.rows, vectors.cols]));
 * ```
 */
export function writeNpy(path: string, tensor: Tensor): void {
  writeFileAtomic(path, encodeNpy(tensor));
}
