import { GenrecError } from '../errors.js';
import { writeFileAtomic } from './atomic-write.js';
import { readBytes } from './read-file.js';
import { BYTES_PER_ELEMENT, bytesOf, createTensor, shapeSize, typedArrayFromBytes, type Tensor, type TensorDType } from './tensor.js';

const CODES: Readonly<Record<TensorDType, string>> = {
  float32: 'F32',
  float64: 'F64',
  int32: 'I32',
  int64: 'I64',
  uint8: 'U8',
};

/** Tensors by name plus the string-to-string `__metadata__` of a safetensors file. */
export interface SafetensorsContent {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

/**
 * Encodes named tensors in the safetensors format (8-byte little-endian header length, JSON
 * header, raw little-endian data), readable by the `safetensors` Python package and PyTorch.
 */
export function encodeSafetensors(tensors: ReadonlyMap<string, Tensor> | Record<string, Tensor>, metadata: Record<string, string> = {}): Uint8Array[] {
  const entries: [string, Tensor][] = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, tensor] of entries) {
    if (name === '__metadata__') throw new GenrecError('INVALID_INPUT', 'a tensor cannot be named __metadata__');
    header[name] = { dtype: CODES[tensor.dtype], shape: [...tensor.shape], data_offsets: [offset, offset + tensor.data.byteLength] };
    offset += tensor.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  return [prefix, headerBytes, ...entries.map(([, tensor]) => bytesOf(tensor.data))];
}

/**
 * Decodes a safetensors file's bytes.
 *
 * @throws GenrecError `PARSE_ERROR` on a malformed header, `UNSUPPORTED` for dtypes other than
 * F32/F64/I32/I64/U8, `CORRUPT_ARTIFACT` when offsets and shapes disagree or the file is truncated.
 */
export function decodeSafetensors(bytes: Uint8Array, source = '<safetensors>'): SafetensorsContent {
  const details = { file: source };
  if (bytes.byteLength < 8) throw new GenrecError('PARSE_ERROR', 'not a safetensors file: shorter than 8 bytes', { details });
  const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (8 + headerLength > bytes.byteLength) throw new GenrecError('CORRUPT_ARTIFACT', `the safetensors header (${headerLength} bytes) runs past the end of the file`, { details });
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + headerLength)).toString('utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new GenrecError('PARSE_ERROR', `the safetensors header is not valid JSON: ${(error as Error).message}`, { cause: error, details });
  }
  const dataStart = 8 + headerLength;
  const tensors = new Map<string, Tensor>();
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = value as Record<string, string>;
      continue;
    }
    const entry = value as { dtype?: string; shape?: number[]; data_offsets?: [number, number] };
    const dtype = (Object.keys(CODES) as TensorDType[]).find((key) => CODES[key] === entry.dtype);
    if (!dtype) throw new GenrecError('UNSUPPORTED', `tensor "${name}" has unsupported dtype ${String(entry.dtype)}`, { details });
    const shape = entry.shape;
    const offsets = entry.data_offsets;
    if (!Array.isArray(shape) || !Array.isArray(offsets) || offsets.length !== 2) {
      throw new GenrecError('PARSE_ERROR', `tensor "${name}" lacks shape or data_offsets`, { details });
    }
    const [begin, end] = offsets;
    if (end - begin !== shapeSize(shape) * BYTES_PER_ELEMENT[dtype] || dataStart + end > bytes.byteLength || begin < 0) {
      throw new GenrecError('CORRUPT_ARTIFACT', `tensor "${name}" of shape [${shape.join(', ')}] has inconsistent offsets [${begin}, ${end}] (file ${bytes.byteLength} bytes)`, { details });
    }
    tensors.set(name, createTensor(typedArrayFromBytes(dtype, bytes.subarray(dataStart + begin, dataStart + end)), shape));
  }
  return { tensors, metadata };
}

/** Reads a safetensors file (see {@link decodeSafetensors}). */
export function readSafetensors(path: string): SafetensorsContent {
  return decodeSafetensors(readBytes(path), path);
}

/** Writes named tensors as a safetensors file, atomically. */
export function writeSafetensors(path: string, tensors: ReadonlyMap<string, Tensor> | Record<string, Tensor>, metadata: Record<string, string> = {}): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}
