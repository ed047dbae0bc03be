import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMatrix, openArtifactDirectory, Rng, type Matrix } from '@genrec/core';

/** Random standard-normal matrix (test data). */
export function gaussianMatrix(rows: number, cols: number, seed: number, scale = 1): Matrix {
  const rng = new Rng(seed);
  const out = createMatrix(rows, cols);
  for (let i = 0; i < out.data.length; i++) out.data[i] = rng.normal() * scale;
  return out;
}

/**
 * Points `coarse[a] + fine[b]` for every (a, b), each combination `repeat` times, in a shuffled
 * order; returns the points and the planted (a, b) of each row.
 */
export function plantedResidualData(
  coarseCount: number,
  fineCount: number,
  dimension: number,
  repeat: number,
  seed: number,
): { points: Matrix; coarse: Int32Array; fine: Int32Array } {
  const coarseCentres = gaussianMatrix(coarseCount, dimension, seed, 100);
  const fineOffsets = gaussianMatrix(fineCount, dimension, seed + 1, 1);
  const n = coarseCount * fineCount * repeat;
  const order = new Rng(seed + 2).permutation(n);
  const points = createMatrix(n, dimension);
  const coarse = new Int32Array(n);
  const fine = new Int32Array(n);
  for (let index = 0; index < n; index++) {
    const row = order[index]!;
    const a = Math.floor(index / (fineCount * repeat));
    const b = Math.floor(index / repeat) % fineCount;
    coarse[row] = a;
    fine[row] = b;
    for (let t = 0; t < dimension; t++) {
      points.data[row * dimension + t] = coarseCentres.data[a * dimension + t]! + fineOffsets.data[b * dimension + t]!;
    }
  }
  return { points, coarse, fine };
}

/** True when `found` is a relabelling of `planted` (a bijection between label sets). */
export function samePartition(planted: ArrayLike<number>, found: ArrayLike<number>): boolean {
  const forward = new Map<number, number>();
  const backward = new Map<number, number>();
  for (let i = 0; i < planted.length; i++) {
    const a = planted[i]!;
    const b = found[i]!;
    if ((forward.get(a) ?? b) !== b || (backward.get(b) ?? a) !== a) return false;
    forward.set(a, b);
    backward.set(b, a);
  }
  return true;
}

/** True when the long fuzz / kill runs are asked for (`GENREC_LONG_RUN=1`). */
export const LONG_RUN = process.env.GENREC_LONG_RUN === '1';

/** Absolute path of a source file of this package (for child-process scripts). */
export function sourcePath(file: string): string {
  return fileURLToPath(new URL(`./${file}`, import.meta.url));
}

/** Reads `file` of the current version of a saved artifact folder (unchecked). */
export function readArtifactFile(path: string, file: string): Uint8Array {
  return new Uint8Array(readFileSync(join(openArtifactDirectory(path).directory, file)));
}

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
