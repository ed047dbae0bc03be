import { extname } from 'node:path';
import { createMatrix, GenrecError, readBytes, readNpy, readSafetensors, type Matrix, type Tensor } from '@genrec/core';
import type { ItemEmbeddings } from './text-encoder.js';

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
  | { format: 'jsonl'; path: string; idField?: string; vectorField?: string };

/** Checks applied by {@link loadEmbeddings}. */
export interface EmbeddingChecks {
  /** Required vector dimension. */
  dimension?: number;
  /** Every one of these items must have a vector. */
  requiredItemIds?: ArrayLike<number>;
}

/**
 * Loads item vectors, checking that values are finite, ids are unique integers, the dimension is
 * the expected one and every required item is covered. A plain path picks the format by its
 * extension (`.npy`, `.safetensors`, `.jsonl`).
 *
 * @throws GenrecError `PARSE_ERROR` (with file and line) for malformed JSONL, `SHAPE_MISMATCH` for
 * a wrong dimension or id count, `DUPLICATE_ID` for a repeated id, `INVALID_INPUT` for non-finite
 * values or uncovered items, `NOT_FOUND` for a missing file or tensor.
 * @example
 * ```ts
 * const { itemIds, vectors } = loadEmbeddings('st-embeddings.jsonl', { dimension: 768, requiredItemIds: catalogIds });
 * ```
 */
export function loadEmbeddings(source: EmbeddingSource | string, checks: EmbeddingChecks = {}): ItemEmbeddings {
  const resolved = typeof source === 'string' ? sourceFromPath(source) : source;
  let embeddings: ItemEmbeddings;
  if (resolved.format === 'jsonl') embeddings = readJsonlEmbeddings(resolved.path, resolved.idField ?? 'id', resolved.vectorField ?? 'vector');
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
        ids = Array.from(idTensor.data as ArrayLike<number | bigint>, Number);
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
  if (tensor.shape.length !== 2) throw new GenrecError('SHAPE_MISMATCH', `embeddings must be 2-d, found shape [${tensor.shape.join(', ')}]`, { details: { file } });
  if (tensor.dtype !== 'float32' && tensor.dtype !== 'float64') throw new GenrecError('DTYPE_MISMATCH', `embeddings must be float32 or float64, found ${tensor.dtype}`, { details: { file } });
  const [rows, cols] = tensor.shape as [number, number];
  const data = tensor.data instanceof Float32Array ? tensor.data : Float32Array.from(tensor.data as Float64Array);
  if (ids && ids.length !== rows) throw new GenrecError('SHAPE_MISMATCH', `${ids.length} item ids for ${rows} embedding rows`, { details: { file } });
  const itemIds = ids ? Int32Array.from(ids) : Int32Array.from({ length: rows }, (_, i) => i + 1);
  return { itemIds, vectors: createMatrix(rows, cols, data) };
}

function readJsonlEmbeddings(path: string, idField: string, vectorField: string): ItemEmbeddings {
  const text = new TextDecoder().decode(readBytes(path));
  const ids: number[] = [];
  const chunks: Float32Array[] = [];
  let dimension = -1;
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!.trim();
    if (line === '') continue;
    const where = { file: path, line: index + 1 };
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch (error) {
      throw new GenrecError('PARSE_ERROR', `invalid JSON: ${(error as Error).message}`, { cause: error, details: where });
    }
    const id = record?.[idField];
    const vector = record?.[vectorField];
    if (typeof id !== 'number' || !Number.isInteger(id)) throw new GenrecError('PARSE_ERROR', `"${idField}" must be an integer, found ${JSON.stringify(id)}`, { details: { ...where, field: idField } });
    if (!Array.isArray(vector) || vector.some((value) => typeof value !== 'number')) {
      throw new GenrecError('PARSE_ERROR', `"${vectorField}" must be an array of numbers`, { details: { ...where, field: vectorField } });
    }
    if (dimension < 0) dimension = vector.length;
    if (vector.length !== dimension) {
      throw new GenrecError('SHAPE_MISMATCH', `vector of item ${id} has ${vector.length} values, earlier vectors have ${dimension}`, { details: { ...where, field: vectorField } });
    }
    ids.push(id);
    chunks.push(Float32Array.from(vector as number[]));
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
