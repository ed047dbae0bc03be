import { GenrecError } from '../errors.js';
import { writeFileAtomic } from './atomic-write.js';
import { scanJsonKeys } from './json-keys.js';
import { readBytes } from './read-file.js';
import { checkStoredShape, describeValue, storedByteLength } from './stored-shape.js';
import { assertFiniteTensor, bytesOf, createTensor, shapeSize, typedArrayFromBytes, type Tensor, type TensorDType } from './tensor.js';

const CODES: Readonly<Record<TensorDType, string>> = {
  float32: 'F32',
  float64: 'F64',
  int32: 'I32',
  int64: 'I64',
  uint8: 'U8',
};

const DTYPE_OF_CODE: ReadonlyMap<string, TensorDType> = new Map((Object.entries(CODES) as [TensorDType, string][]).map(([dtype, code]) => [code, dtype]));

/** The header-size limit of the reference implementation (the `safetensors` crate): 100 MB. */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000;

const ENTRY_FIELDS = new Set(['dtype', 'shape', 'data_offsets']);

/** Tensors by name plus the string-to-string `__metadata__` of a safetensors file. */
export interface SafetensorsContent {
  /** The tensors, in the header's order. */
  tensors: Map<string, Tensor>;
  /** The `__metadata__` map (`{}` when the file has none). */
  metadata: Record<string, string>;
}

/** Options of {@link decodeSafetensors} and {@link readSafetensors}. */
export interface SafetensorsReadOptions {
  /** Refuse NaN and ±Infinity in float tensors (`INVALID_INPUT` naming the tensor). @defaultValue false */
  requireFinite?: boolean;
}

/**
 * Encodes named tensors in the safetensors format (8-byte little-endian header length, JSON
 * header padded with spaces to a multiple of 8 bytes, raw little-endian data in header order),
 * readable by the `safetensors` Python package and PyTorch.
 *
 * @param tensors - the tensors by name, written in this order
 * @param metadata - the `__metadata__` map (string to string)
 * @returns the file's content as chunks (the data chunks are views of the tensors)
 * @throws GenrecError `INVALID_INPUT` for a tensor named `__metadata__` or a non-string metadata
 * value, `SHAPE_MISMATCH` when a tensor's data disagrees with its shape.
 * @example
 * ```ts
 * const chunks = encodeSafetensors({ w: createTensor(new Float32Array([1, 2]), [1, 2]) }, { epoch: '3' });
 * ```
 */
export function encodeSafetensors(tensors: ReadonlyMap<string, Tensor> | Record<string, Tensor>, metadata: Record<string, string> = {}): Uint8Array[] {
  const entries: [string, Tensor][] = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const parts: string[] = [];
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') throw new GenrecError('INVALID_INPUT', `safetensors metadata values must be strings; "${key}" is ${typeof value}`, { details: { field: key } });
  }
  if (Object.keys(metadata).length > 0) parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  let offset = 0;
  for (const [name, tensor] of entries) {
    if (name === '__metadata__') throw new GenrecError('INVALID_INPUT', 'a tensor cannot be named __metadata__');
    if (shapeSize(tensor.shape) !== tensor.data.length) {
      throw new GenrecError('SHAPE_MISMATCH', `tensor "${name}" of shape [${tensor.shape.join(', ')}] needs ${shapeSize(tensor.shape)} values, got ${tensor.data.length}`, {
        details: { field: name },
      });
    }
    const info = { dtype: CODES[tensor.dtype], shape: [...tensor.shape], data_offsets: [offset, offset + tensor.data.byteLength] };
    // built by hand, not with JSON.stringify of an object, so integer-like names keep their order
    parts.push(`${JSON.stringify(name)}:${JSON.stringify(info)}`);
    offset += tensor.data.byteLength;
  }
  let json = `{${parts.join(',')}}`;
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  return [prefix, headerBytes, ...entries.map(([, tensor]) => bytesOf(tensor.data))];
}

interface PlannedTensor {
  name: string;
  dtype: TensorDType;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * Decodes a safetensors file's bytes, checked against the format's specification before anything
 * is allocated:
 * - the header length is at most {@link SAFETENSORS_MAX_HEADER_BYTES} and within the file;
 * - the header is UTF-8 JSON starting with `{`, with no key repeated in any object (`JSON.parse`
 *   would keep the last one silently);
 * - `__metadata__`, when present, maps strings to strings;
 * - every other entry is `{dtype, shape, data_offsets}` and nothing else, with a known dtype, a
 *   shape of integers in `[0, 2^31 - 1]`, and offsets `[begin, end]` whose length is the shape's
 *   byte size;
 * - the offsets are contiguous and cover the data exactly: sorted, they start at 0, each starts
 *   where the previous ends (no gap, no overlap), the last ends at the end of the file.
 *
 * @param bytes - the file's content
 * @param source - a file name for error messages
 * @param options - {@link SafetensorsReadOptions}
 * @returns the tensors in header order and the metadata
 * @throws GenrecError `PARSE_ERROR` on a malformed header, `UNSUPPORTED` for dtypes other than
 * F32/F64/I32/I64/U8, `CORRUPT_ARTIFACT` when offsets, shapes and the file's length disagree,
 * `INVALID_INPUT` for a non-finite value with `requireFinite`.
 * @example
 * ```ts
 * const { tensors, metadata } = decodeSafetensors(readFileSync('model.safetensors'), 'model.safetensors');
 * ```
 */
export function decodeSafetensors(bytes: Uint8Array, source = '<safetensors>', options: SafetensorsReadOptions = {}): SafetensorsContent {
  const details = { file: source };
  const parseError = (message: string, field?: string): never => {
    throw new GenrecError('PARSE_ERROR', `not a valid safetensors file: ${message}`, { details: field === undefined ? details : { ...details, field } });
  };
  const corrupt = (message: string, field?: string): never => {
    throw new GenrecError('CORRUPT_ARTIFACT', `the safetensors file is corrupt: ${message}`, { details: field === undefined ? details : { ...details, field } });
  };
  if (bytes.byteLength < 8) parseError('shorter than 8 bytes');
  const declared = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (declared > BigInt(SAFETENSORS_MAX_HEADER_BYTES)) parseError(`the header length ${declared} is above the limit of ${SAFETENSORS_MAX_HEADER_BYTES} bytes`);
  const headerLength = Number(declared);
  if (8 + headerLength > bytes.byteLength) corrupt(`the header (${headerLength} bytes) runs past the end of the file (${bytes.byteLength} bytes)`);
  const headerBytes = bytes.subarray(8, 8 + headerLength);
  if (headerBytes[0] !== 0x7b) parseError('the header does not start with "{"');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    return parseError('the header is not valid UTF-8');
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    return parseError(`the header is not valid JSON: ${(error as Error).message}`);
  }
  const { topLevelKeys, duplicate } = scanJsonKeys(text);
  if (duplicate) parseError(`the header repeats the key ${JSON.stringify(duplicate.key)}${duplicate.path.length > 0 ? ` in ${JSON.stringify(duplicate.path.join('.'))}` : ''}`, duplicate.key);

  const dataLength = bytes.byteLength - 8 - headerLength;
  let metadata: Record<string, string> = {};
  const planned: PlannedTensor[] = [];
  for (const name of topLevelKeys) {
    const value = Object.getOwnPropertyDescriptor(header, name)?.value as unknown;
    if (name === '__metadata__') {
      metadata = checkMetadata(value, parseError);
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) parseError(`tensor "${name}" is not an object`, name);
    const entry = value as Record<string, unknown>;
    const extra = Object.keys(entry).filter((key) => !ENTRY_FIELDS.has(key));
    if (extra.length > 0) parseError(`tensor "${name}" has unknown fields ${extra.map((key) => JSON.stringify(key)).join(', ')}`, name);
    for (const field of ENTRY_FIELDS) if (!(field in entry)) parseError(`tensor "${name}" lacks ${field}`, name);
    if (typeof entry.dtype !== 'string') return parseError(`tensor "${name}" has dtype ${describeValue(entry.dtype)}, not a string`, name);
    const dtype = DTYPE_OF_CODE.get(entry.dtype);
    if (dtype === undefined) {
      throw new GenrecError('UNSUPPORTED', `tensor "${name}" has dtype ${describeValue(entry.dtype)} (genrec reads ${[...DTYPE_OF_CODE.keys()].join(', ')})`, { details: { ...details, field: name } });
    }
    const checked = checkStoredShape(entry.shape);
    if ('problem' in checked) return parseError(`tensor "${name}": ${checked.problem}`, name);
    const offsets = entry.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((offset) => typeof offset === 'number' && Number.isSafeInteger(offset) && offset >= 0)) {
      return parseError(`tensor "${name}" has data_offsets ${describeValue(offsets)}; expected [begin, end], non-negative integers`, name);
    }
    const [begin, end] = offsets as [number, number];
    if (end < begin) corrupt(`tensor "${name}" has data_offsets [${begin}, ${end}] that end before they begin`, name);
    if (end > dataLength) corrupt(`tensor "${name}" has data_offsets [${begin}, ${end}] past the end of the data (${dataLength} bytes): the file is truncated`, name);
    const needed = storedByteLength(checked.shape, dtype);
    if (BigInt(end - begin) !== needed) {
      corrupt(`tensor "${name}" of ${entry.dtype} [${checked.shape.join(', ')}] needs ${needed} bytes, its data_offsets [${begin}, ${end}] hold ${end - begin}`, name);
    }
    planned.push({ name, dtype, shape: checked.shape, begin, end });
  }
  // the data must be covered exactly: no gap (a place to hide content), no overlap, nothing after
  const sorted = [...planned].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: string | undefined;
  for (const tensor of sorted) {
    if (tensor.begin > covered) corrupt(`bytes [${covered}, ${tensor.begin}) of the data belong to no tensor (a gap before "${tensor.name}")`, tensor.name);
    if (tensor.begin < covered) corrupt(`tensor "${tensor.name}" [${tensor.begin}, ${tensor.end}] overlaps "${previous}" (which ends at ${covered})`, tensor.name);
    covered = tensor.end;
    previous = tensor.name;
  }
  if (covered !== dataLength) corrupt(`the tensors cover ${covered} bytes of data, the file holds ${dataLength}: ${dataLength - covered} bytes belong to no tensor`);

  const tensors = new Map<string, Tensor>();
  const dataStart = 8 + headerLength;
  for (const { name, dtype, shape, begin, end } of planned) {
    const tensor = createTensor(typedArrayFromBytes(dtype, bytes.subarray(dataStart + begin, dataStart + end)), shape);
    if (options.requireFinite) assertFiniteTensor(tensor, `tensor "${name}"`, { ...details, field: name });
    tensors.set(name, tensor);
  }
  return { tensors, metadata };
}

function checkMetadata(value: unknown, parseError: (message: string, field?: string) => never): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return parseError(`__metadata__ is ${describeValue(value)}, not an object`, '__metadata__');
  const entries = Object.entries(value as Record<string, unknown>);
  for (const [key, item] of entries) {
    if (typeof item !== 'string') parseError(`__metadata__ maps strings to strings; "${key}" holds ${describeValue(item)}`, `__metadata__.${key}`);
  }
  // fromEntries defines own properties, so a "__proto__" key stays data
  return Object.fromEntries(entries) as Record<string, string>;
}

/**
 * Reads a safetensors file (see {@link decodeSafetensors}).
 *
 * @param path - the file
 * @param options - {@link SafetensorsReadOptions}
 * @returns the tensors and metadata
 * @throws GenrecError as {@link decodeSafetensors}, and `NOT_FOUND` / `IO_ERROR` for the file.
 * @example
 * ```ts
 * const { tensors } = readSafetensors('codebooks.safetensors', { requireFinite: true });
 * ```
 */
export function readSafetensors(path: string, options: SafetensorsReadOptions = {}): SafetensorsContent {
  return decodeSafetensors(readBytes(path), path, options);
}

/**
 * Writes named tensors as a safetensors file, atomically (see {@link encodeSafetensors}).
 *
 * @param path - the file
 * @param tensors - the tensors by name
 * @param metadata - the `__metadata__` map
 * @throws GenrecError `IO_ERROR` when writing fails, and as {@link encodeSafetensors}.
 * @example
 * ```ts
 * writeSafetensors('model.safetensors', new Map([['w', createTensor(new Float32Array(6), [2, 3])]]));
 * ```
 */
export function writeSafetensors(path: string, tensors: ReadonlyMap<string, Tensor> | Record<string, Tensor>, metadata: Record<string, string> = {}): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}
