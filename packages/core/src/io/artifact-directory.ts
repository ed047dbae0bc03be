import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { GenrecError } from '../errors.js';
import { fsyncDirectory, writeFileAtomic } from './atomic-write.js';
import { pathsInProgress, removeLeftovers } from './leftovers.js';
import { readBytes } from './read-file.js';

/**
 * Layout of an artifact folder written by {@link writeArtifactDirectory}:
 *
 * ```text
 * model/                 the path the user names
 *   CURRENT              one line: the name of the version folder that holds the artifact
 *   v<time>-<pid>-<n>/   the files written by `fill`, plus checksums.json
 * ```
 *
 * `CURRENT` is replaced atomically (write, fsync, rename), so at every instant the path names one
 * complete version: the previous one until the switch, the new one after it. Staging and obsolete
 * version folders of writers that were killed are removed by the next save or load.
 */
export const ARTIFACT_POINTER_FILE = 'CURRENT';

/** Name of the file listing every file of a version with its size and SHA-256. */
export const ARTIFACT_CHECKSUM_FILE = 'checksums.json';

const VERSION_PATTERN = /^v[0-9a-z]+-(\d+)-\d+$/;
const STAGING_PATTERN = /^\.staging-(\d+)-\d+$/;

/** Size and SHA-256 (hex) of one file of an artifact. */
export interface ArtifactFileEntry {
  bytes: number;
  sha256: string;
}

/** The content of `checksums.json`. */
interface ArtifactChecksums {
  kind: 'genrec.checksums';
  formatVersion: 1;
  /** Paths relative to the version folder, `/`-separated. */
  files: Record<string, ArtifactFileEntry>;
}

let counter = 0;

function hashFile(path: string): ArtifactFileEntry {
  const hash = createHash('sha256');
  const chunk = Buffer.allocUnsafe(1 << 20);
  const descriptor = openSync(path, 'r');
  let bytes = 0;
  try {
    for (;;) {
      const read = readSync(descriptor, chunk, 0, chunk.length, null);
      if (read === 0) break;
      hash.update(chunk.subarray(0, read));
      bytes += read;
    }
  } finally {
    closeSync(descriptor);
  }
  return { bytes, sha256: hash.digest('hex') };
}

function listFiles(root: string, folder = root, out: string[] = []): string[] {
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) listFiles(root, path, out);
    else if (entry.isFile()) out.push(relative(root, path).split(sep).join('/'));
    else throw new GenrecError('IO_ERROR', `an artifact may hold only files and folders; ${path} is neither`, { details: { file: path } });
  }
  return out.sort();
}

function readPointer(path: string): string | undefined {
  const pointerPath = join(path, ARTIFACT_POINTER_FILE);
  if (!existsSync(pointerPath)) return undefined;
  const name = new TextDecoder().decode(readBytes(pointerPath)).trim();
  if (!VERSION_PATTERN.test(name)) {
    throw new GenrecError('CORRUPT_ARTIFACT', `${ARTIFACT_POINTER_FILE} does not name a version folder (found ${JSON.stringify(name.slice(0, 80))})`, {
      details: { file: pointerPath },
    });
  }
  return name;
}

/**
 * Removes staging folders of dead writers, and version folders other than `current` of dead
 * writers. Version folders are removed only when `current` names an existing folder: with a
 * missing or damaged pointer nothing but staging folders is touched, so a complete version is never
 * deleted on the word of a bad pointer.
 */
function cleanLeftovers(path: string, current: string | undefined): void {
  removeLeftovers(path, STAGING_PATTERN);
  if (current === undefined || !existsSync(join(path, current))) return;
  removeLeftovers(path, VERSION_PATTERN, (name) => name === current);
}

/**
 * Writes an artifact folder atomically. `fill` writes the artifact's files into a fresh staging
 * folder inside `path`; genrec then records every file's size and SHA-256 in `checksums.json`,
 * moves the staging folder to a new version folder and switches `path/CURRENT` to it with one
 * atomic rename. At every instant `path` holds a complete version (the old one until the switch);
 * a failure inside `fill` leaves the previous version untouched; the previous version and the
 * leftovers of killed saves are removed afterwards.
 *
 * Read such a folder with {@link openArtifactDirectory}.
 *
 * @param path - the artifact's folder (created when missing)
 * @param fill - writes the files; may create sub-folders; may be async
 * @throws GenrecError `IO_ERROR` when writing fails; whatever `fill` throws (a GenrecError as is)
 * @example
 * ```ts
 * await writeArtifactDirectory('out/model', (dir) => {
 *   writeManifest(join(dir, 'manifest.json'), { kind: 'genrec.example', formatVersion: 1 });
 * });
 * const artifact = openArtifactDirectory('out/model');
 * const manifest = artifact.readJson('manifest.json');
 * ```
 */
export async function writeArtifactDirectory(path: string, fill: (directory: string) => void | Promise<void>): Promise<void> {
  try {
    mkdirSync(path, { recursive: true });
  } catch (error) {
    throw new GenrecError('IO_ERROR', `could not create ${path}: ${(error as Error).message}`, { cause: error, details: { file: path } });
  }
  let previous: string | undefined;
  try {
    previous = readPointer(path);
  } catch {
    previous = undefined; // a damaged pointer is replaced by this save
  }
  cleanLeftovers(path, previous);
  counter += 1;
  const staging = join(path, `.staging-${process.pid}-${counter}`);
  const versionName = `v${Date.now().toString(36)}-${process.pid}-${counter}`;
  const version = join(path, versionName);
  pathsInProgress.add(staging);
  pathsInProgress.add(version);
  try {
    mkdirSync(staging);
    try {
      await fill(staging);
    } catch (error) {
      throw GenrecError.isInstance(error)
        ? error
        : new GenrecError('IO_ERROR', `could not write ${path}: ${(error as Error).message}`, { cause: error, details: { file: path } });
    }
    try {
      const files: Record<string, ArtifactFileEntry> = {};
      for (const file of listFiles(staging)) {
        if (file === ARTIFACT_CHECKSUM_FILE) throw new Error(`${ARTIFACT_CHECKSUM_FILE} is reserved for genrec's checksum list`);
        files[file] = hashFile(join(staging, file));
      }
      const checksums: ArtifactChecksums = { kind: 'genrec.checksums', formatVersion: 1, files };
      writeFileAtomic(join(staging, ARTIFACT_CHECKSUM_FILE), JSON.stringify(checksums, null, 1) + '\n');
      renameSync(staging, version);
      fsyncDirectory(path);
      writeFileAtomic(join(path, ARTIFACT_POINTER_FILE), versionName + '\n');
      fsyncDirectory(path);
    } catch (error) {
      throw GenrecError.isInstance(error)
        ? error
        : new GenrecError('IO_ERROR', `could not write ${path}: ${(error as Error).message}`, { cause: error, details: { file: path } });
    }
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    rmSync(version, { recursive: true, force: true });
    throw error;
  } finally {
    pathsInProgress.delete(staging);
    pathsInProgress.delete(version);
  }
  if (previous !== undefined && previous !== versionName) rmSync(join(path, previous), { recursive: true, force: true });
  cleanLeftovers(path, versionName);
}

/** An artifact folder opened for reading (see {@link openArtifactDirectory}). */
export interface ArtifactDirectory {
  /** The path the caller named. */
  readonly path: string;
  /** The folder holding the current version's files (`path` itself for a folder without `CURRENT`). */
  readonly directory: string;
  /**
   * Whether a checksum list covers the files: true for every folder written by
   * {@link writeArtifactDirectory}; false for a plain folder (written by hand or by another tool),
   * whose files are read unchecked.
   */
  readonly verified: boolean;
  /** Files of the artifact (relative, `/`-separated), when `verified`. */
  readonly files: readonly string[];
  /** Absolute path of one file (its content checked first when `verified`: size and SHA-256). */
  verifiedPath(file: string): string;
  /** Reads one file, checking its size and SHA-256 when `verified`. */
  readFile(file: string): Uint8Array;
  /** Reads and parses one JSON file (checked like {@link ArtifactDirectory.readFile}). */
  readJson(file: string): unknown;
  /** Whether the artifact holds this file. */
  has(file: string): boolean;
}

/**
 * Opens an artifact folder for reading: follows `CURRENT` to the complete version it names, reads
 * its checksum list, and removes leftovers of killed saves. Files are checked (size and SHA-256)
 * as they are read, so loaders read every file before they build anything. A folder without
 * `CURRENT` is read as it is (unverified), so hand-made folders still load.
 *
 * @throws GenrecError `NOT_FOUND` when `path` is missing, `CORRUPT_ARTIFACT` when the pointer,
 * the checksum list or a file disagrees (a file edited after the save, truncated, or missing).
 */
export function openArtifactDirectory(path: string): ArtifactDirectory {
  if (!existsSync(path)) throw new GenrecError('NOT_FOUND', `no artifact at ${path}`, { details: { file: path } });
  if (!statSync(path).isDirectory()) throw new GenrecError('INVALID_INPUT', `${path} is not a folder`, { details: { file: path } });
  const current = readPointer(path);
  if (current === undefined) {
    cleanLeftovers(path, undefined);
    return plainDirectory(path);
  }
  const directory = join(path, current);
  if (!existsSync(directory)) {
    throw new GenrecError('CORRUPT_ARTIFACT', `${ARTIFACT_POINTER_FILE} names ${current}, which does not exist`, { details: { file: join(path, ARTIFACT_POINTER_FILE) } });
  }
  cleanLeftovers(path, current);
  const checksumPath = join(directory, ARTIFACT_CHECKSUM_FILE);
  if (!existsSync(checksumPath)) {
    throw new GenrecError('CORRUPT_ARTIFACT', `${ARTIFACT_POINTER_FILE} names ${current}, which has no ${ARTIFACT_CHECKSUM_FILE}`, { details: { file: checksumPath } });
  }
  const files = parseChecksums(checksumPath);
  const corrupt = (file: string, message: string): GenrecError => new GenrecError('CORRUPT_ARTIFACT', message, { details: { file: join(directory, file) } });
  const entry = (file: string): ArtifactFileEntry => {
    const found = files.get(file);
    if (found === undefined) throw new GenrecError('NOT_FOUND', `the artifact at ${path} has no file ${file}`, { details: { file: join(directory, file) } });
    return found;
  };
  const check = (file: string, bytes: number, sha256: () => string): void => {
    const expected = entry(file);
    if (bytes !== expected.bytes) throw corrupt(file, `${file} holds ${bytes} bytes, the checksum list says ${expected.bytes}: it was changed or truncated after the save`);
    if (sha256() !== expected.sha256) throw corrupt(file, `${file} does not match its SHA-256 in ${ARTIFACT_CHECKSUM_FILE}: it was changed after the save`);
  };
  const readFile = (file: string): Uint8Array => {
    entry(file);
    const bytes = readBytes(join(directory, file));
    check(file, bytes.byteLength, () => createHash('sha256').update(bytes).digest('hex'));
    return bytes;
  };
  return {
    path,
    directory,
    verified: true,
    files: [...files.keys()],
    has: (file) => files.has(file),
    verifiedPath(file) {
      entry(file);
      const filePath = join(directory, file);
      if (!existsSync(filePath)) throw corrupt(file, `${file} is listed in ${ARTIFACT_CHECKSUM_FILE} but missing`);
      const actual = hashFile(filePath);
      check(file, actual.bytes, () => actual.sha256);
      return filePath;
    },
    readFile,
    readJson: (file) => parseJson(readFile(file), join(directory, file)),
  };
}

function plainDirectory(path: string): ArtifactDirectory {
  const readFile = (file: string): Uint8Array => readBytes(join(path, file));
  return {
    path,
    directory: path,
    verified: false,
    files: [],
    has: (file) => existsSync(join(path, file)),
    verifiedPath(file) {
      const filePath = join(path, file);
      if (!existsSync(filePath)) throw new GenrecError('NOT_FOUND', `the artifact at ${path} has no file ${file}`, { details: { file: filePath } });
      return filePath;
    },
    readFile,
    readJson: (file) => parseJson(readFile(file), join(path, file)),
  };
}

function parseJson(bytes: Uint8Array, file: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as unknown;
  } catch (error) {
    throw new GenrecError('PARSE_ERROR', `invalid JSON: ${(error as Error).message}`, { cause: error, details: { file } });
  }
}

function parseChecksums(checksumPath: string): Map<string, ArtifactFileEntry> {
  const parsed = parseJson(readBytes(checksumPath), checksumPath) as Partial<ArtifactChecksums> | null;
  const corrupt = (message: string): GenrecError => new GenrecError('CORRUPT_ARTIFACT', message, { details: { file: checksumPath } });
  if (typeof parsed !== 'object' || parsed === null || parsed.kind !== 'genrec.checksums') throw corrupt('not a genrec checksum list');
  if (parsed.formatVersion !== 1) {
    throw new GenrecError('FORMAT_VERSION', `checksum list format version ${String(parsed.formatVersion)} is not supported (supported: 1)`, { details: { file: checksumPath } });
  }
  const files = new Map<string, ArtifactFileEntry>();
  if (typeof parsed.files !== 'object' || parsed.files === null || Array.isArray(parsed.files)) throw corrupt('the checksum list has no files object');
  for (const [file, value] of Object.entries(parsed.files)) {
    const entry = value as Partial<ArtifactFileEntry> | null;
    const safeName = file.length > 0 && !file.startsWith('/') && !file.split('/').some((part) => part === '' || part === '.' || part === '..');
    if (!safeName || typeof entry !== 'object' || entry === null || !Number.isSafeInteger(entry.bytes) || (entry.bytes as number) < 0 || typeof entry.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(entry.sha256)) {
      throw corrupt(`the checksum list's entry ${JSON.stringify(file)} is malformed`);
    }
    files.set(file, { bytes: entry.bytes as number, sha256: entry.sha256 });
  }
  return files;
}
