import { createMatrix, Rng, type Matrix } from '@genrec/core';

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
