import { open, type FileHandle } from 'node:fs/promises';
import { extname } from 'node:path';
import { checkIntegerOption, createMatrix, GenrecError, readNpy, readSafetensors, type Matrix, type Tensor } from '@genrec/core';
import type { ItemEmbeddings } from './text-encoder.js';

/** Longest JSONL line {@link loadEmbeddings} reads (bytes): 64 MiB, about 3 million numbers. */
export const MAX_JSONL_LINE_BYTES = 64 << 20;

/**
 * Where item vectors computed elsewhere (a sentence-transformer, an API) come from:
 * - `npy`: a 2-d float32/float64 array; row `r` is `itemIds[r]` (ids `1..rows` by default);
 * - `safetensors`: tensor `tensor` (default: `embeddings`, or the only 2-d float tensor), ids
 *   from the int tensor `idsTensor` (default `ids`) when present, else `itemIds`, else `1..rows`;
 * - `jsonl`: one `{"id": 12, "vector": [..]}` object per line (field names configurable).
 */
export type EmbeddingSource =
  | { format: 'npy'; path: string; itemIds?: ArrayLike<number> }
  | { format: 'safetensors'; path: string; tensor?: string; idsTensor?: string; itemIds?: ArrayLike<number> }
  | { format: 'jsonl'; path: string; idField?: string; vectorField?: string; /** Longest line read. @defaultValue 64 MiB */ maxLineBytes?: number };

/** Checks applied by {@link loadEmbeddings}. */
export interface EmbeddingChecks {
  /** Required vector dimension. */
  dimension?: number;
  /** Every one of these items must have a vector. */
  requiredItemIds?: ArrayLike<number>;
}

/**
 * Loads item vectors, checking that values are finite (after the conversion to float32), ids are
 * unique integers in `[1, 2^31-1]` (never wrapped: `2^53` is an error, not item 0), the dimension is
 * the expected one and every required item is covered. A plain path picks the format by its
 * extension (`.npy`, `.safetensors`, `.jsonl`). JSONL is streamed line by line; a line longer
 * than `maxLineBytes` (64 MiB) is a `PARSE_ERROR`, never an exception outside the promise.
 *
 * Asynchronous since 1.0, like every genrec artifact load.
 *
 * @throws GenrecError `PARSE_ERROR` (with file and line) for malformed JSONL or an id outside the
 * range, `SHAPE_MISMATCH` for a wrong dimension or id count, `DUPLICATE_ID` for a repeated id,
 * `INVALID_INPUT` for non-finite values, bad ids or uncovered items, `NOT_FOUND` for a missing file
 * or tensor; what core's `.npy`/safetensors readers throw for a malformed file.
 * @example
 * ```ts
 * const { itemIds, vectors } = await loadEmbeddings('st-embeddings.jsonl', { dimension: 768, requiredItemIds: catalogIds });
 * ```
 */
export async function loadEmbeddings(source: EmbeddingSource | string, checks: EmbeddingChecks = {}): Promise<ItemEmbeddings> {
  const resolved = typeof source === 'string' ? sourceFromPath(source) : source;
  if (checks.dimension !== undefined) checkIntegerOption(checks.dimension, 'dimension', 1);
  let embeddings: ItemEmbeddings;
  if (resolved.format === 'jsonl') {
    const maxLineBytes = checkIntegerOption(resolved.maxLineBytes ?? MAX_JSONL_LINE_BYTES, 'maxLineBytes', 1, MAX_JSONL_LINE_BYTES);
    embeddings = await readJsonlEmbeddings(resolved.path, resolved.idField ?? 'id', resolved.vectorField ?? 'vector', maxLineBytes);
  }
  else {
    let tensor: Tensor;
    let ids: ArrayLike<number> | undefined = resolved.itemIds;
    if (resolved.format === 'npy') tensor = readNpy(resolved.path);
    else {
      const { tensors } = readSafetensors(resolved.path);
      const name = resolved.tensor ?? (tensors.has('embeddings') ? 'embeddings' : [...tensors].filter(([, t]) => t.shape.length === 2 && t.dtype.startsWith('float')).map(([n]) => n)[0]);
      const found = name === undefined ? undefined : tensors.get(name);
      if (!found) throw new GenrecError('NOT_FOUND', `no embedding tensor ${name ?? '(2-d float)'} in the file (has: ${[...tensors.keys()].join(', ')})`, { details: { file: resolved.path } });
      tensor = found;
      const idTensor = tensors.get(resolved.idsTensor ?? 'ids');
      if (idTensor && !ids) {
        if (idTensor.dtype !== 'int32' && idTensor.dtype !== 'int64') throw new GenrecError('DTYPE_MISMATCH', `ids tensor must be int32 or int64, found ${idTensor.dtype}`, { details: { file: resolved.path } });
        ids = checkedIds(idTensor.data as ArrayLike<number | bigint>, resolved.path);
      }
    }
    embeddings = fromTensor(tensor, ids, resolved.path);
  }
  checkEmbeddings(embeddings, checks, resolved.path);
  return embeddings;
}

/**
 * The vectors of `itemIds`, in that order (a new matrix).
 *
 * @throws GenrecError `UNKNOWN_ID` for an item without a vector.
 */
export function alignEmbeddings(embeddings: ItemEmbeddings, itemIds: ArrayLike<number>): Matrix {
  const rowOf = new Map<number, number>();
  embeddings.itemIds.forEach((id, row) => rowOf.set(id, row));
  const d = embeddings.vectors.cols;
  const out = createMatrix(itemIds.length, d);
  for (let i = 0; i < itemIds.length; i++) {
    const row = rowOf.get(itemIds[i]!);
    if (row === undefined) throw new GenrecError('UNKNOWN_ID', `item ${itemIds[i]} has no vector`);
    out.data.set(embeddings.vectors.data.subarray(row * d, row * d + d), i * d);
  }
  return out;
}

function sourceFromPath(path: string): EmbeddingSource {
  const extension = extname(path).toLowerCase();
  if (extension === '.npy') return { format: 'npy', path };
  if (extension === '.safetensors') return { format: 'safetensors', path };
  if (extension === '.jsonl' || extension === '.ndjson') return { format: 'jsonl', path };
  throw new GenrecError('UNSUPPORTED', `cannot tell the embedding format of "${path}" (use .npy, .safetensors or .jsonl, or pass { format })`, { details: { file: path } });
}

function fromTensor(tensor: Tensor, ids: ArrayLike<number> | undefined, file: string): ItemEmbeddings {
  if (tensor.shape.length !== 2 || tensor.shape[1] === 0) throw new GenrecError('SHAPE_MISMATCH', `embeddings must be 2-d with at least one column, found shape [${tensor.shape.join(', ')}]`, { details: { file } });
  if (tensor.dtype !== 'float32' && tensor.dtype !== 'float64') throw new GenrecError('DTYPE_MISMATCH', `embeddings must be float32 or float64, found ${tensor.dtype}`, { details: { file } });
  const [rows, cols] = tensor.shape as [number, number];
  const data = tensor.data instanceof Float32Array ? tensor.data : Float32Array.from(tensor.data as Float64Array);
  if (ids && ids.length !== rows) throw new GenrecError('SHAPE_MISMATCH', `${ids.length} item ids for ${rows} embedding rows`, { details: { file } });
  const itemIds = ids ? Int32Array.from(checkedIds(ids, file)) : Int32Array.from({ length: rows }, (_, i) => i + 1);
  return { itemIds, vectors: createMatrix(rows, cols, data) };
}

/** Item ids are dense ids `1..N` (0 is padding) stored in an Int32Array: the largest is 2^31 - 1. */
const MAX_ITEM_ID = 2 ** 31 - 1;

/**
 * Checks item ids from a file or the caller before they go into an Int32Array, which would wrap
 * anything above 2^31 - 1 silently (2^53 would become 0).
 */
function checkedIds(ids: ArrayLike<number | bigint>, file: string): number[] {
  const out = new Array<number>(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    const valid = typeof id === 'bigint' ? id >= 1n && id <= BigInt(MAX_ITEM_ID) : Number.isInteger(id) && id >= 1 && id <= MAX_ITEM_ID;
    if (!valid) {
      throw new GenrecError('INVALID_INPUT', `item id ${String(id)} (row ${i}) is outside the item id range [1, ${MAX_ITEM_ID}]`, { details: { file, row: i } });
    }
    out[i] = Number(id);
  }
  return out;
}

/**
 * The lines of a file, streamed (1 MiB reads), each decoded as strict UTF-8; a line longer than
 * `maxLineBytes` is a PARSE_ERROR naming the file and line, before it is ever held as a string.
 */
async function* fileLines(path: string, maxLineBytes: number): AsyncGenerator<{ text: string; line: number }> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new GenrecError(code === 'ENOENT' ? 'NOT_FOUND' : 'IO_ERROR', `cannot read ${path}: ${(error as Error).message}`, { cause: error, details: { file: path } });
  }
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const decode = (bytes: Uint8Array, line: number): string => {
    try {
      return decoder.decode(bytes);
    } catch (error) {
      throw new GenrecError('PARSE_ERROR', 'the line is not valid UTF-8', { cause: error, details: { file: path, line } });
    }
  };
  try {
    const buffer = Buffer.allocUnsafe(1 << 20);
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let line = 1;
    for (;;) {
      let read: number;
      try {
        ({ bytesRead: read } = await handle.read(buffer, 0, buffer.length, null));
      } catch (error) {
        throw new GenrecError('IO_ERROR', `cannot read ${path}: ${(error as Error).message}`, { cause: error, details: { file: path, line } });
      }
      if (read === 0) break;
      let start = 0;
      for (;;) {
        const newline = buffer.indexOf(0x0a, start);
        const end = newline < 0 || newline >= read ? read : newline;
        if (pendingBytes + (end - start) > maxLineBytes) {
          throw new GenrecError('PARSE_ERROR', `line too long: more than ${maxLineBytes} bytes`, { details: { file: path, line } });
        }
        if (end === read) {
          if (end > start) {
            pending.push(Buffer.from(buffer.subarray(start, end)));
            pendingBytes += end - start;
          }
          break;
        }
        const piece = buffer.subarray(start, end);
        const bytes = pending.length === 0 ? piece : Buffer.concat([...pending, piece]);
        yield { text: decode(bytes, line), line };
        pending = [];
        pendingBytes = 0;
        line++;
        start = end + 1;
      }
    }
    if (pendingBytes > 0) yield { text: decode(Buffer.concat(pending), line), line };
  } finally {
    await handle.close();
  }
}

async function readJsonlEmbeddings(path: string, idField: string, vectorField: string, maxLineBytes: number): Promise<ItemEmbeddings> {
  const ids: number[] = [];
  const chunks: Float32Array[] = [];
  let dimension = -1;
  for await (const { text, line } of fileLines(path, maxLineBytes)) {
    const trimmed = text.trim();
    if (trimmed === '') continue;
    const where = { file: path, line };
    let record: unknown;
    try {
      record = JSON.parse(trimmed) as unknown;
    } catch (error) {
      throw new GenrecError('PARSE_ERROR', `invalid JSON: ${(error as Error).message}`, { cause: error, details: where });
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      throw new GenrecError('PARSE_ERROR', 'each line must be a JSON object', { details: where });
    }
    const id = (record as Record<string, unknown>)[idField];
    const vector = (record as Record<string, unknown>)[vectorField];
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 1 || id > MAX_ITEM_ID) {
      throw new GenrecError('PARSE_ERROR', `"${idField}" must be an integer item id in [1, ${MAX_ITEM_ID}], found ${JSON.stringify(id) ?? String(id)}`, { details: { ...where, field: idField } });
    }
    if (!Array.isArray(vector) || vector.length === 0 || vector.some((value) => typeof value !== 'number')) {
      throw new GenrecError('PARSE_ERROR', `"${vectorField}" must be a non-empty array of numbers`, { details: { ...where, field: vectorField } });
    }
    if (dimension < 0) dimension = vector.length;
    if (vector.length !== dimension) {
      throw new GenrecError('SHAPE_MISMATCH', `vector of item ${id} has ${vector.length} values, earlier vectors have ${dimension}`, { details: { ...where, field: vectorField } });
    }
    const values = Float32Array.from(vector as number[]);
    for (let c = 0; c < values.length; c++) {
      // 1e39 is a finite double but Infinity in float32: checked after the conversion
      if (!Number.isFinite(values[c]!)) {
        throw new GenrecError('INVALID_INPUT', `the vector of item ${id} has a value ${String(vector[c])} that is not a finite float32`, { details: { ...where, field: vectorField } });
      }
    }
    ids.push(id);
    chunks.push(values);
  }
  const vectors = createMatrix(ids.length, Math.max(0, dimension));
  chunks.forEach((chunk, row) => vectors.data.set(chunk, row * dimension));
  return { itemIds: Int32Array.from(ids), vectors };
}

function checkEmbeddings(embeddings: ItemEmbeddings, checks: EmbeddingChecks, file: string): void {
  const { itemIds, vectors } = embeddings;
  if (checks.dimension !== undefined && vectors.cols !== checks.dimension) {
    throw new GenrecError('SHAPE_MISMATCH', `expected ${checks.dimension}-d embeddings, found ${vectors.cols}-d`, { details: { file } });
  }
  const seen = new Set<number>();
  for (const id of itemIds) {
    if (seen.has(id)) throw new GenrecError('DUPLICATE_ID', `item ${id} has more than one vector`, { details: { file } });
    seen.add(id);
  }
  for (let i = 0; i < vectors.data.length; i++) {
    if (!Number.isFinite(vectors.data[i]!)) {
      const row = Math.floor(i / vectors.cols);
      throw new GenrecError('INVALID_INPUT', `the vector of item ${itemIds[row]} has a non-finite value ${vectors.data[i]}`, { details: { file } });
    }
  }
  if (checks.requiredItemIds) {
    const missing: number[] = [];
    for (let i = 0; i < checks.requiredItemIds.length; i++) if (!seen.has(checks.requiredItemIds[i]!)) missing.push(checks.requiredItemIds[i]!);
    if (missing.length > 0) {
      throw new GenrecError('INVALID_INPUT', `${missing.length} of ${checks.requiredItemIds.length} required items have no vector (first: ${missing.slice(0, 5).join(', ')})`, { details: { file } });
    }
  }
}
