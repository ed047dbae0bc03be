import { closeSync, constants, cpSync, existsSync, fsyncSync, openSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative, resolve, isAbsolute } from 'node:path';
import { GenrecError, checkManifest, fsyncDirectory, processIsAlive, removeStaleTemporaryFiles, writeFileAtomic, type ArtifactManifest, type VectorMetric } from '@genrec/core';
import { MAX_DIMENSION, MAX_ITEM_ID } from '@genrec/ann/index-input';
import type { LanceDistanceType } from './lance-metric.js';

/**
 * Layout of a LanceIndex folder:
 *
 * ```text
 * items.lance/                 the path the caller names
 *   index.json                 the sidecar: kind, metric, dimension, size, the table version and
 *                              the snapshot folder that holds it; replaced atomically by every save
 *   lance-<time>-<pid>-<n>/    the snapshot: a LanceDB database with one table, vectors.lance/
 * ```
 *
 * `index.json` is the only pointer: a save to the index's own folder rewrites it with the current
 * table version (one atomic rename), a save to another folder copies the snapshot into a fresh
 * `lance-…` folder there and then switches that folder's `index.json` to it. At every instant the
 * folder names one complete, consistent table version.
 */
export const SIDECAR_FILE = 'index.json';

/** The sidecar's `kind`. */
export const LANCE_INDEX_KIND = 'genrec.lancedb-index';

/** The sidecar's format version this package writes and reads. */
export const LANCE_FORMAT_VERSION = 1;

const SNAPSHOT_PATTERN = /^lance-[0-9a-z]+-(\d+)-\d+$/;
const STAGING_PATTERN = /^\.lance-staging-(\d+)-\d+$/;
const SIDECAR_TEMPORARY_PATTERN = /^\.index\.json\.\d+\.\d+\.tmp$/;

/** The IVF-PQ parameters a sidecar records (those LanceIndex passed to LanceDB; absent = LanceDB's default). */
export interface LanceVectorIndexParameters {
  type: 'IVF_PQ';
  numPartitions?: number;
  numSubVectors?: number;
  numBits?: number;
  maxIterations?: number;
  sampleRate?: number;
}

/** The content of `index.json`. */
export interface LanceIndexSidecar extends ArtifactManifest {
  /** Always {@link LANCE_INDEX_KIND}. */
  kind: typeof LANCE_INDEX_KIND;
  /** {@link LANCE_FORMAT_VERSION}; a loader refuses any other with `FORMAT_VERSION`. */
  formatVersion: number;
  /** The index's `kind`: `'lancedb'`. */
  implementation: 'lancedb';
  metric: VectorMetric;
  dimension: number;
  /** Vectors in the saved table version. */
  size: number;
  /** The snapshot folder (a LanceDB database) inside the index folder. */
  snapshot: string;
  /** The table inside the snapshot. */
  table: string;
  /** The saved LanceDB table version: what a load opens. */
  version: number;
  /** The LanceDB distance type searches and the IVF-PQ index use (`'dot'` for ip and cosine). */
  distanceType: LanceDistanceType;
  /** True when the table holds unit vectors (the cosine metric). */
  normalized: boolean;
  /** The IVF-PQ index of the saved version, or null (brute-force search). */
  vectorIndex: LanceVectorIndexParameters | null;
}

let counter = 0;

/** A fresh snapshot folder name: `lance-<time base 36>-<pid>-<n>`. */
export function newSnapshotName(): string {
  counter += 1;
  return `lance-${Date.now().toString(36)}-${process.pid}-${counter}`;
}

/** A fresh staging folder name (inside the target folder, removed or renamed by the save). */
export function newStagingName(): string {
  counter += 1;
  return `.lance-staging-${process.pid}-${counter}`;
}

/** Snapshot folders of open LanceIndex handles in this process (never removed as leftovers). */
const liveSnapshots = new Map<string, number>();
/** Staging and snapshot folders this process is writing right now. */
const inProgress = new Set<string>();

/** Registers an open handle on a snapshot folder. */
export function acquireSnapshot(directory: string): void {
  liveSnapshots.set(directory, (liveSnapshots.get(directory) ?? 0) + 1);
}

/** Unregisters an open handle on a snapshot folder. */
export function releaseSnapshot(directory: string): void {
  const count = liveSnapshots.get(directory) ?? 0;
  if (count <= 1) liveSnapshots.delete(directory);
  else liveSnapshots.set(directory, count - 1);
}

/** Marks a path as being written by this process (or no longer). */
export function markInProgress(path: string, writing: boolean): void {
  if (writing) inProgress.add(path);
  else inProgress.delete(path);
}

function isLeftover(path: string, pid: number): boolean {
  if (pid === process.pid) return !inProgress.has(path) && !liveSnapshots.has(path);
  return !processIsAlive(pid);
}

/**
 * Removes what killed or superseded saves left in an index folder: staging folders and snapshot
 * folders other than `current` whose writer process is gone (or is this one, with no open handle
 * on them), and temporary sidecar files. Snapshots are removed only when `current` names an
 * existing folder, so a damaged sidecar never costs a complete snapshot. Best effort: never throws.
 */
export function removeLeftovers(root: string, current: string | undefined): void {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return;
  }
  const currentExists = current !== undefined && existsSync(join(root, current));
  for (const name of names) {
    const staging = STAGING_PATTERN.exec(name);
    const snapshot = currentExists && name !== current ? SNAPSHOT_PATTERN.exec(name) : null;
    const match = staging ?? snapshot;
    if (match === null) continue;
    const path = join(root, name);
    if (!isLeftover(path, Number(match[1]))) continue;
    try {
      rmSync(path, { recursive: true, force: true });
    } catch {
      // best effort
    }
  }
  removeStaleTemporaryFiles(join(root, SIDECAR_FILE));
}

function corrupt(root: string, message: string, cause?: unknown): GenrecError {
  const file = join(root, SIDECAR_FILE);
  return new GenrecError('CORRUPT_ARTIFACT', message, cause === undefined ? { details: { file } } : { cause, details: { file } });
}

function isCount(value: unknown, maximum: number, minimum = 0): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= minimum && value <= maximum;
}

/** What a caller expects of a saved index (the loaders' `expected` options). */
export interface ExpectedIndex {
  /** Fail with `SHAPE_MISMATCH` unless the saved index has this dimension. */
  dimension?: number;
  /** Fail with `INVALID_INPUT` unless the saved index uses this metric. */
  metric?: VectorMetric;
}

/**
 * Reads and validates the sidecar of a LanceIndex folder and checks it against the caller's
 * expectations. Nothing of LanceDB is opened yet.
 *
 * @throws GenrecError `NOT_FOUND` when the folder or its `index.json` is missing, `INVALID_INPUT`
 * when `root` is not a folder, `PARSE_ERROR` for malformed JSON, `FORMAT_VERSION` for another kind
 * or version, `CORRUPT_ARTIFACT` for a field out of range or a missing snapshot folder,
 * `SHAPE_MISMATCH` / `INVALID_INPUT` when the dimension / metric is not the expected one.
 */
export function readSidecar(root: string, expected: ExpectedIndex = {}): LanceIndexSidecar {
  if (!existsSync(root)) throw new GenrecError('NOT_FOUND', `no LanceIndex at ${root}: the folder does not exist`, { details: { file: root } });
  if (!statSync(root).isDirectory()) throw new GenrecError('INVALID_INPUT', `${root} is not a folder`, { details: { file: root } });
  const file = join(root, SIDECAR_FILE);
  if (!existsSync(file)) throw new GenrecError('NOT_FOUND', `no LanceIndex at ${root}: it has no ${SIDECAR_FILE}`, { details: { file } });
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(readFileSync(file)));
  } catch (error) {
    throw new GenrecError('PARSE_ERROR', `${file} is not valid JSON: ${(error as Error).message}`, { cause: error, details: { file } });
  }
  const sidecar = checkManifest<LanceIndexSidecar>(parsed, LANCE_INDEX_KIND, [LANCE_FORMAT_VERSION], file);
  if (sidecar.implementation !== 'lancedb') throw corrupt(root, `the sidecar's implementation ${String(sidecar.implementation)} is not lancedb`);
  if (!['ip', 'cosine', 'l2'].includes(sidecar.metric)) throw corrupt(root, `the sidecar's metric ${String(sidecar.metric)} is not one of ip, cosine, l2`);
  if (!isCount(sidecar.dimension, MAX_DIMENSION, 1)) throw corrupt(root, `the sidecar's dimension ${String(sidecar.dimension)} is not an integer in 1..${MAX_DIMENSION}`);
  if (!isCount(sidecar.size, MAX_ITEM_ID + 1)) throw corrupt(root, `the sidecar's size ${String(sidecar.size)} is not an integer in 0..2^31`);
  if (!isCount(sidecar.version, Number.MAX_SAFE_INTEGER, 1)) throw corrupt(root, `the sidecar's table version ${String(sidecar.version)} is not a positive integer`);
  if (typeof sidecar.snapshot !== 'string' || !SNAPSHOT_PATTERN.test(sidecar.snapshot)) throw corrupt(root, `the sidecar's snapshot ${JSON.stringify(sidecar.snapshot)} is not a lance-… folder name`);
  if (sidecar.table !== 'vectors') throw corrupt(root, `the sidecar's table ${JSON.stringify(sidecar.table)} is not "vectors"`);
  const distanceType = sidecar.metric === 'l2' ? 'l2' : 'dot';
  if (sidecar.distanceType !== distanceType) throw corrupt(root, `the sidecar's distance type ${String(sidecar.distanceType)} does not serve metric ${sidecar.metric} (expected ${distanceType})`);
  if (sidecar.normalized !== (sidecar.metric === 'cosine')) throw corrupt(root, `the sidecar's normalized flag ${String(sidecar.normalized)} does not fit metric ${sidecar.metric}`);
  checkVectorIndexEntry(root, sidecar.vectorIndex);
  if (expected.dimension !== undefined && expected.dimension !== sidecar.dimension) {
    throw new GenrecError('SHAPE_MISMATCH', `the index at ${root} was written for dimension ${sidecar.dimension}, expected ${expected.dimension}`, {
      details: { file, field: 'dimension' },
    });
  }
  if (expected.metric !== undefined && expected.metric !== sidecar.metric) {
    throw new GenrecError('INVALID_INPUT', `the index at ${root} uses metric ${sidecar.metric}, expected ${expected.metric}`, { details: { file, field: 'metric' } });
  }
  const snapshot = join(root, sidecar.snapshot);
  if (!existsSync(snapshot) || !statSync(snapshot).isDirectory()) throw corrupt(root, `the sidecar names snapshot ${sidecar.snapshot}, which does not exist in ${root}`);
  return sidecar;
}

function checkVectorIndexEntry(root: string, entry: unknown): void {
  if (entry === null) return;
  if (typeof entry !== 'object' || entry === undefined || Array.isArray(entry)) throw corrupt(root, "the sidecar's vectorIndex is neither null nor an object");
  const record = entry as Record<string, unknown>;
  if (record.type !== 'IVF_PQ') throw corrupt(root, `the sidecar's vectorIndex type ${String(record.type)} is not IVF_PQ`);
  for (const name of ['numPartitions', 'numSubVectors', 'numBits', 'maxIterations', 'sampleRate']) {
    const value = record[name];
    if (value !== undefined && !isCount(value, MAX_ITEM_ID, 1)) throw corrupt(root, `the sidecar's vectorIndex.${name} ${String(value)} is not a positive integer`);
  }
}

/** The snapshot a folder's sidecar names, or undefined when it has no readable sidecar. */
export function currentSnapshot(root: string): string | undefined {
  try {
    const parsed = JSON.parse(readFileSync(join(root, SIDECAR_FILE), 'utf8')) as { kind?: unknown; snapshot?: unknown } | null;
    if (parsed === null || parsed.kind !== LANCE_INDEX_KIND || typeof parsed.snapshot !== 'string' || !SNAPSHOT_PATTERN.test(parsed.snapshot)) return undefined;
    return parsed.snapshot;
  } catch {
    return undefined;
  }
}

/** Writes the sidecar atomically (temporary file, fsync, rename). */
export function writeSidecar(root: string, sidecar: LanceIndexSidecar): void {
  writeFileAtomic(join(root, SIDECAR_FILE), JSON.stringify(sidecar, null, 1) + '\n');
}

/**
 * Checks that `root` may receive a LanceIndex: missing, empty, or a LanceIndex folder (its sidecar,
 * snapshots and leftovers, nothing else). Saving over another kind of folder would leave files that
 * other loaders read first (a `CURRENT` pointer of a FlatIndex folder, say).
 *
 * @throws GenrecError `INVALID_INPUT` naming the entries that do not belong.
 */
export function checkIndexTarget(root: string): void {
  if (!existsSync(root)) return;
  if (!statSync(root).isDirectory()) throw new GenrecError('INVALID_INPUT', `${root} exists and is not a folder`, { details: { file: root } });
  const foreign = readdirSync(root).filter((name) => !(name === SIDECAR_FILE || SNAPSHOT_PATTERN.test(name) || STAGING_PATTERN.test(name) || SIDECAR_TEMPORARY_PATTERN.test(name)));
  if (foreign.length > 0) {
    throw new GenrecError('INVALID_INPUT', `refusing to write a LanceIndex into ${root}: it holds other files (${foreign.slice(0, 5).join(', ')}${foreign.length > 5 ? ', …' : ''})`, {
      details: { file: root },
    });
  }
  if (existsSync(join(root, SIDECAR_FILE)) && currentSnapshot(root) === undefined) {
    throw new GenrecError('INVALID_INPUT', `refusing to write a LanceIndex into ${root}: its ${SIDECAR_FILE} is not a LanceIndex sidecar`, { details: { file: join(root, SIDECAR_FILE) } });
  }
}

/** True when `inner` is strictly inside `outer` (both absolute). */
export function isStrictlyInside(inner: string, outer: string): boolean {
  const path = relative(outer, inner);
  return path !== '' && !path.startsWith('..') && !isAbsolute(path);
}

/** The absolute form of a path. */
export function absolutePath(path: string): string {
  return resolve(path);
}

/**
 * Copies a snapshot folder (copy-on-write clones where the file system supports them: LanceDB's
 * data files are immutable, so a clone is as good as a copy) and fsyncs every copied file and
 * folder.
 */
export function copySnapshot(source: string, target: string): void {
  cpSync(source, target, { recursive: true, mode: constants.COPYFILE_FICLONE, errorOnExist: true, force: false });
  fsyncTree(target);
}

function fsyncTree(path: string): void {
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) fsyncTree(child);
    else if (entry.isFile()) fsyncFile(child);
  }
  fsyncDirectory(path);
}

function fsyncFile(path: string): void {
  const descriptor = openSync(path, 'r');
  try {
    fsyncSync(descriptor);
  } finally {
    closeSync(descriptor);
  }
}

/** Total bytes of the files under `path` (a snapshot's disk size). */
export function folderBytes(path: string): number {
  let total = 0;
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) total += folderBytes(child);
    else if (entry.isFile()) total += statSync(child).size;
  }
  return total;
}
