import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { GenrecError, checkManifest, readBytes, writeFileAtomic, type ArtifactDirectory, type ArtifactManifest, type VectorMetric } from '@genrec/core';
import type { VectorIndex } from '@genrec/core';
import { MAX_DIMENSION, MAX_ITEM_ID, checkMetric } from './index-input.js';

/** File name of the JSON sidecar inside a saved index folder. */
export const SIDECAR_FILE = 'index.json';

/** The sidecar's description of the index's data file. */
export interface SidecarDataFile {
  /** File name inside the index folder. */
  file: string;
  /** Size in bytes. */
  bytes: number;
  /** SHA-256 of the file, hex. */
  sha256: string;
}

/**
 * The JSON sidecar every saved index carries (`index.json` in the index folder): what it is, how
 * it was built, its id map, and a checksum of its data file.
 */
export interface IndexSidecar extends ArtifactManifest {
  /** `'genrec.flat-index'`, `'genrec.hnsw-index'` or `'genrec.usearch-index'`. */
  kind: string;
  formatVersion: number;
  /** The index's {@link VectorIndex.kind}: `'flat'`, `'hnsw'` or `'usearch'`. */
  implementation: string;
  metric: VectorMetric;
  dimension: number;
  /** Number of vectors in the index. */
  size: number;
  /** Implementation parameters (HNSW: m, efConstruction, ef, seed, capacity; usearch: m, efConstruction, ef). */
  parameters: Record<string, number>;
  /** Per row (flat), per hnswlib label (HNSW) or per usearch slot: the item id, -1 for a free label or slot. */
  ids: number[];
  data: SidecarDataFile;
}

/** Options of the loaders: what the caller expects the saved index to be. */
export interface LoadIndexOptions {
  /** Fail with `SHAPE_MISMATCH` unless the saved index has this dimension. */
  dimension?: number;
  /** Fail with `INVALID_INPUT` unless the saved index uses this metric. */
  metric?: VectorMetric;
}

/** SHA-256 of bytes, hex. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Flushes a file written by a library that does not fsync (hnswlib). */
export function fsyncFile(path: string): void {
  const descriptor = openSync(path, 'r+');
  try {
    fsyncSync(descriptor);
  } finally {
    closeSync(descriptor);
  }
}

/** Describes a data file already written inside `directory`. */
export function describeDataFile(directory: string, file: string): SidecarDataFile {
  const bytes = readBytes(join(directory, file));
  return { file, bytes: bytes.byteLength, sha256: sha256Hex(bytes) };
}

/** Writes the sidecar into a (temporary) index folder. */
export function writeSidecar(directory: string, sidecar: IndexSidecar): void {
  writeFileAtomic(join(directory, SIDECAR_FILE), JSON.stringify(sidecar) + '\n');
}

/**
 * Reads the raw sidecar of an opened index folder (kind not checked); in a versioned folder the
 * checksum list covers it, so an edited `dimension` or `metric` fails with `CORRUPT_ARTIFACT`.
 */
export function readSidecarJson(artifact: ArtifactDirectory): unknown {
  return artifact.readJson(SIDECAR_FILE);
}

function corrupt(path: string, message: string): GenrecError {
  return new GenrecError('CORRUPT_ARTIFACT', message, { details: { file: join(path, SIDECAR_FILE) } });
}

/**
 * Reads and validates the sidecar of an opened index folder of `kind`, checks it against the
 * caller's expectations, and returns it with the verified bytes of its data file (checked against
 * the folder's checksum list and the sidecar's own size and SHA-256).
 *
 * @throws GenrecError `NOT_FOUND` when the folder or a file is missing, `FORMAT_VERSION` for another
 * kind or version, `CORRUPT_ARTIFACT` when a field is malformed or the data file's size or checksum
 * disagrees with the sidecar, `SHAPE_MISMATCH` / `INVALID_INPUT` when the dimension / metric is not
 * the expected one.
 */
export function readSidecar(
  artifact: ArtifactDirectory,
  kind: string,
  versions: readonly number[],
  expected: LoadIndexOptions = {},
): { sidecar: IndexSidecar; bytes: Uint8Array; dataPath: string } {
  const path = artifact.directory;
  const sidecarPath = join(path, SIDECAR_FILE);
  const sidecar = checkManifest<IndexSidecar>(readSidecarJson(artifact), kind, versions, sidecarPath);
  try {
    checkMetric(sidecar.metric);
  } catch {
    throw corrupt(path, `the sidecar's metric ${String(sidecar.metric)} is not one of ip, cosine, l2`);
  }
  if (!Number.isInteger(sidecar.dimension) || sidecar.dimension < 1 || sidecar.dimension > MAX_DIMENSION) {
    throw corrupt(path, `the sidecar's dimension ${String(sidecar.dimension)} is not an integer in 1..${MAX_DIMENSION}`);
  }
  if (!Number.isInteger(sidecar.size) || sidecar.size < 0) throw corrupt(path, `the sidecar's size ${String(sidecar.size)} is not a non-negative integer`);
  if (!Array.isArray(sidecar.ids)) throw corrupt(path, 'the sidecar has no ids array');
  for (const id of sidecar.ids) {
    if (!Number.isInteger(id) || id < -1 || id > MAX_ITEM_ID) throw corrupt(path, `the sidecar's id map holds an invalid id ${String(id)}`);
  }
  if (typeof sidecar.parameters !== 'object' || sidecar.parameters === null || Array.isArray(sidecar.parameters)) throw corrupt(path, 'the sidecar has no parameters object');
  const data = sidecar.data;
  if (typeof data !== 'object' || data === null || typeof data.file !== 'string' || !/^[\w.-]+$/.test(data.file) || data.file.startsWith('.') || typeof data.sha256 !== 'string' || !Number.isSafeInteger(data.bytes)) {
    throw corrupt(path, 'the sidecar has no valid data entry {file, bytes, sha256}');
  }
  if (expected.dimension !== undefined && expected.dimension !== sidecar.dimension) {
    throw new GenrecError('SHAPE_MISMATCH', `the index at ${artifact.path} was written for dimension ${sidecar.dimension}, expected ${expected.dimension}`, {
      details: { file: sidecarPath, field: 'dimension' },
    });
  }
  if (expected.metric !== undefined && expected.metric !== sidecar.metric) {
    throw new GenrecError('INVALID_INPUT', `the index at ${artifact.path} uses metric ${sidecar.metric}, expected ${expected.metric}`, {
      details: { file: sidecarPath, field: 'metric' },
    });
  }
  const dataPath = join(path, data.file);
  let size: number;
  try {
    size = statSync(dataPath).size;
  } catch (error) {
    throw new GenrecError('NOT_FOUND', `the index data file ${dataPath} named by the sidecar is missing`, { cause: error, details: { file: dataPath } });
  }
  if (size !== data.bytes) {
    throw new GenrecError('CORRUPT_ARTIFACT', `${data.file} has ${size} bytes, its sidecar says ${data.bytes}: the pair does not belong together or the file is truncated`, {
      details: { file: dataPath },
    });
  }
  // checked against the folder's checksum list (when versioned) and against the sidecar's own entry
  const bytes = artifact.readFile(data.file);
  const digest = sha256Hex(bytes);
  if (digest !== data.sha256) {
    throw new GenrecError('CORRUPT_ARTIFACT', `${data.file} does not match its sidecar's checksum (sha256 ${digest.slice(0, 12)}…, expected ${data.sha256.slice(0, 12)}…): corrupt, or from another save`, {
      details: { file: dataPath },
    });
  }
  return { sidecar, bytes, dataPath };
}
