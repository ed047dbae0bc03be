import { GenrecError } from '../errors.js';
import type { ArtifactDirectory } from './artifact-directory.js';
import { writeFileAtomic } from './atomic-write.js';
import { readBytes } from './read-file.js';

/** The fields every genrec artifact manifest carries. */
export interface ArtifactManifest {
  /** What kind of artifact this is, e.g. `'genrec.flat-index'`. */
  kind: string;
  /** Format version of that kind; readers accept exactly the versions they know. */
  formatVersion: number;
  [field: string]: unknown;
}

/**
 * Checks a parsed manifest: its `kind` must equal `expectedKind` and its `formatVersion` must be
 * one of `supportedVersions`.
 *
 * @throws GenrecError `FORMAT_VERSION` naming both versions (or kinds) and `source`.
 */
export function checkManifest<T extends ArtifactManifest>(
  manifest: unknown,
  expectedKind: string,
  supportedVersions: readonly number[],
  source: string,
): T {
  if (typeof manifest !== 'object' || manifest === null) {
    throw new GenrecError('CORRUPT_ARTIFACT', 'the manifest is not a JSON object', { details: { file: source } });
  }
  const { kind, formatVersion } = manifest as Partial<ArtifactManifest>;
  if (kind !== expectedKind) {
    throw new GenrecError('FORMAT_VERSION', `expected an artifact of kind "${expectedKind}", found "${String(kind)}"`, { details: { file: source } });
  }
  if (typeof formatVersion !== 'number' || !supportedVersions.includes(formatVersion)) {
    const newest = Math.max(...supportedVersions);
    const hint = typeof formatVersion === 'number' && formatVersion > newest ? ': it was written by a newer genrec; upgrade to read it' : '';
    throw new GenrecError(
      'FORMAT_VERSION',
      `"${expectedKind}" format version ${String(formatVersion)} is not supported by this version of genrec (supported: ${supportedVersions.join(', ')})${hint}`,
      { details: { file: source, found: formatVersion, supported: [...supportedVersions] } },
    );
  }
  return manifest as T;
}

/** Reads and checks a JSON manifest file (see {@link checkManifest}). */
export function readManifest<T extends ArtifactManifest>(path: string, expectedKind: string, supportedVersions: readonly number[]): T {
  return checkManifest<T>(readJsonFile(path), expectedKind, supportedVersions, path);
}

/**
 * Reads and checks the manifest of an artifact folder opened with `openArtifactDirectory` (its
 * content covered by the folder's checksums).
 *
 * @param file - the manifest's file name inside the artifact @defaultValue `'manifest.json'`
 * @throws GenrecError `NOT_FOUND`, `CORRUPT_ARTIFACT`, `PARSE_ERROR`, `FORMAT_VERSION` (another kind, or a version this genrec does not read).
 */
export function readArtifactManifest<T extends ArtifactManifest>(
  artifact: ArtifactDirectory,
  expectedKind: string,
  supportedVersions: readonly number[],
  file = 'manifest.json',
): T {
  return checkManifest<T>(artifact.readJson(file), expectedKind, supportedVersions, `${artifact.directory}/${file}`);
}

/** Writes a manifest atomically as pretty JSON. */
export function writeManifest(path: string, manifest: ArtifactManifest): void {
  writeFileAtomic(path, JSON.stringify(manifest, null, 2) + '\n');
}

/**
 * Reads a JSON file (UTF-8; a regular file only, see {@link readBytes}).
 *
 * @throws GenrecError `NOT_FOUND` when it is missing, `IO_ERROR` when it cannot be read,
 * `PARSE_ERROR` when it is not valid UTF-8 JSON.
 */
export function readJsonFile(path: string): unknown {
  const bytes = readBytes(path);
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as unknown;
  } catch (error) {
    throw new GenrecError('PARSE_ERROR', `invalid JSON: ${(error as Error).message}`, { cause: error, details: { file: path } });
  }
}
