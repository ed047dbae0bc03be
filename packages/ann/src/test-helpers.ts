import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openArtifactDirectory } from '@genrec/core';
import { runScript as runScriptInChild, type ScriptRun } from '@genrec/core/testing';

/** The repository root (the child processes run there, so `tsx` and the workspace resolve). */
export const REPOSITORY_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Absolute path of a source file of this package (for child-process scripts). */
export function sourcePath(file: string): string {
  return fileURLToPath(new URL(`./${file}`, import.meta.url));
}

/** True when the long fuzz / kill runs are asked for (`GENREC_LONG_RUN=1`). */
export const LONG_RUN = process.env.GENREC_LONG_RUN === '1';

/**
 * Replaces `file` inside the current version of a saved artifact folder; with `resign` (the
 * default) its entry in `checksums.json` is updated too, so the loader's own checks are reached
 * instead of the checksum's.
 */
export function rewriteArtifactFile(path: string, file: string, content: Uint8Array | string, resign = true): void {
  const { directory } = openArtifactDirectory(path);
  const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
  writeFileSync(join(directory, file), bytes);
  if (!resign) return;
  const checksumPath = join(directory, 'checksums.json');
  const checksums = JSON.parse(readFileSync(checksumPath, 'utf8')) as { files: Record<string, { bytes: number; sha256: string }> };
  checksums.files[file] = { bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') };
  writeFileSync(checksumPath, JSON.stringify(checksums));
}

/** Reads `file` of the current version of a saved artifact folder (unchecked). */
export function readArtifactFile(path: string, file: string): Uint8Array {
  return new Uint8Array(readFileSync(join(openArtifactDirectory(path).directory, file)));
}

/**
 * Runs TypeScript `source` (an ES module; import this package's files through {@link sourcePath})
 * in a child process from the repository root: core's `runScript`, so a crash (abort, segfault,
 * out of memory) fails the calling test instead of killing the test runner. A script that writes
 * files puts them under `import.meta.dirname` (its folder, removed once the child has exited).
 */
export function runScript(source: string, timeoutMs = 60_000): ScriptRun {
  return runScriptInChild(source, { cwd: REPOSITORY_ROOT, timeoutMs, prefix: 'genrec-ann-child-' });
}

/**
 * Replaces the data file of a saved index folder and makes the whole folder consistent again: the
 * sidecar's `data` entry (bytes, SHA-256) and the checksum list (data file and sidecar) match the
 * new bytes, so only the loader's own validation stands between the file and the native code.
 */
export function replaceIndexData(path: string, file: string, bytes: Uint8Array): void {
  const sidecar = JSON.parse(new TextDecoder().decode(readArtifactFile(path, 'index.json'))) as { data: { bytes: number; sha256: string } };
  sidecar.data.bytes = bytes.byteLength;
  sidecar.data.sha256 = createHash('sha256').update(bytes).digest('hex');
  rewriteArtifactFile(path, file, bytes);
  rewriteArtifactFile(path, 'index.json', JSON.stringify(sidecar));
}

/** Offsets inside an hnswlib index file (see hnsw-file.ts for the layout), for targeted corruption. */
export interface HnswLayout {
  elementCount: number;
  /** Bytes of one level-0 record. */
  perElement: number;
  /** Bytes of one upper-level link list. */
  upperListBytes: number;
  /** Level of each element. */
  levels: number[];
  /** Byte offset of each element's level-0 record. */
  level0: number[];
  /** Byte offset of each element's level-1 list (-1 for a level-0 element). */
  upper: number[];
}

/** Parses the offsets of a valid hnswlib index file. */
export function hnswLayout(bytes: Uint8Array): HnswLayout {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const elementCount = Number(view.getBigUint64(16, true));
  const perElement = Number(view.getBigUint64(24, true));
  const upperListBytes = Number(view.getBigUint64(56, true)) * 4 + 4;
  const levels: number[] = [];
  const level0: number[] = [];
  const upper: number[] = [];
  let offset = 96 + elementCount * perElement;
  for (let element = 0; element < elementCount; element++) {
    level0.push(96 + element * perElement);
    const size = view.getUint32(offset, true);
    offset += 4;
    levels.push(size / upperListBytes);
    upper.push(size === 0 ? -1 : offset);
    offset += size;
  }
  return { elementCount, perElement, upperListBytes, levels, level0, upper };
}
