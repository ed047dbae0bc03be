import { createMatrix, GenrecError, Rng, type Matrix } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { kMeans, kMeansPlusPlusInit } from './kmeans.js';
import { matMulTransposed, matMulTransposedJs } from './kernels.js';
import { gaussianMatrix, samePartition } from './test-helpers.js';

/** Plain Lloyd with full distance scans (the reference the bounded version must match). */
function naiveLloyd(points: Matrix, initial: Matrix, iterations: number): { labels: Int32Array; centroids: Float32Array; iterations: number } {
  const { rows: n, cols: d } = points;
  const k = initial.rows;
  const centroids = initial.data.slice();
  const labels = new Int32Array(n).fill(-1);
  const assign = (): number => {
    let changed = 0;
    for (let i = 0; i < n; i++) {
      let best = Infinity;
      let bestIndex = 0;
      for (let j = 0; j < k; j++) {
        let sum = 0;
        for (let t = 0; t < d; t++) sum += (points.data[i * d + t]! - centroids[j * d + t]!) ** 2;
        if (sum < best) {
          best = sum;
          bestIndex = j;
        }
      }
      if (labels[i] !== bestIndex) changed++;
      labels[i] = bestIndex;
    }
    return changed;
  };
  assign();
  let done = 0;
  for (let iteration = 1; iteration <= iterations; iteration++) {
    const sums = new Float64Array(k * d);
    const counts = new Int32Array(k);
    for (let i = 0; i < n; i++) {
      counts[labels[i]!]!++;
      for (let t = 0; t < d; t++) sums[labels[i]! * d + t]! += points.data[i * d + t]!;
    }
    for (let j = 0; j < k; j++) {
      if (counts[j] === 0) throw new Error('reference hit an empty cluster');
      for (let t = 0; t < d; t++) centroids[j * d + t] = sums[j * d + t]! / counts[j]!;
    }
    done = iteration;
    if (assign() === 0) break;
  }
  return { labels, centroids, iterations: done };
}

describe('matMulTransposedJs', () => {
  it('matches a naive triple loop on odd shapes', () => {
    const a = gaussianMatrix(7, 5, 1);
    const b = gaussianMatrix(9, 5, 2);
    const product = matMulTransposedJs(a, b);
    for (let i = 0; i < 7; i++) {
      for (let j = 0; j < 9; j++) {
        let sum = 0;
        for (let t = 0; t < 5; t++) sum += a.data[i * 5 + t]! * b.data[j * 5 + t]!;
        expect(product.data[i * 9 + j]).toBeCloseTo(sum, 5);
      }
    }
  });
});

describe('matMulTransposed', () => {
  it('gives the same product on onnxruntime (through @genrec/nn) as the typed-array fallback', async () => {
    const a = gaussianMatrix(300, 40, 5);
    const b = gaussianMatrix(70, 40, 6);
    const viaNn = await matMulTransposed(a, b, 'auto');
    const viaJs = await matMulTransposed(a, b, 'js');
    for (let i = 0; i < viaJs.data.length; i++) expect(viaNn.data[i]).toBeCloseTo(viaJs.data[i]!, 4);
  });
});

describe('kMeans', () => {
  it('gives the same labels as plain Lloyd from the same initialisation (bounds skip work, not results)', async () => {
    // Overlapping blobs, so that many iterations happen and bounds matter.
    const points = gaussianMatrix(600, 6, 3);
    const rng = new Rng(11);
    for (let i = 0; i < 600; i++) points.data[i * 6] = points.data[i * 6]! + (i % 5) * 2 + rng.normal() * 0.1;
    const seed = 5;
    const result = await kMeans(points, { clusterCount: 12, seed, maxIterations: 40, backend: 'js' });
    const reference = naiveLloyd(points, await kMeansPlusPlusInit(points, 12, 2048, new Rng(seed), 'js', 2 + Math.floor(Math.log(12))), 40);
    expect(result.iterations).toBe(reference.iterations);
    expect(Array.from(result.labels)).toEqual(Array.from(reference.labels));
    for (let i = 0; i < reference.centroids.length; i++) expect(result.centroids.data[i]).toBeCloseTo(reference.centroids[i]!, 4);
    expect(result.skippedFraction).toBeGreaterThan(0.2);
  });

  it('finds well-separated planted clusters exactly', async () => {
    const centres = gaussianMatrix(10, 8, 7, 50);
    const points = createMatrix(500, 8);
    const planted = new Int32Array(500);
    const noise = new Rng(8);
    for (let i = 0; i < 500; i++) {
      planted[i] = i % 10;
      for (let t = 0; t < 8; t++) points.data[i * 8 + t] = centres.data[(i % 10) * 8 + t]! + noise.normal() * 0.5;
    }
    for (const seed of [0, 1, 2]) {
      const result = await kMeans(points, { clusterCount: 10, seed, backend: 'js' });
      expect(samePartition(planted, result.labels)).toBe(true);
      expect(result.converged).toBe(true);
    }
  });

  it('repairs empty clusters: more clusters than distinct points still uses every cluster once possible', async () => {
    // 30 points at 3 locations plus 7 singletons: 10 distinct locations for 10 clusters.
    const points = createMatrix(37, 2);
    for (let i = 0; i < 30; i++) points.data[i * 2] = (i % 3) * 10;
    for (let i = 30; i < 37; i++) {
      points.data[i * 2] = 100 + i;
      points.data[i * 2 + 1] = 50;
    }
    const result = await kMeans(points, { clusterCount: 10, seed: 3, init: 'random', backend: 'js' });
    expect(new Set(result.labels).size).toBe(10);
  });

  it('balanced assignment respects the capacity', async () => {
    const points = gaussianMatrix(400, 4, 9);
    for (let i = 0; i < 300; i++) for (let t = 0; t < 4; t++) points.data[i * 4 + t] = points.data[i * 4 + t]! * 0.01;
    const result = await kMeans(points, { clusterCount: 8, seed: 1, balance: true, backend: 'js' });
    const counts = new Array<number>(8).fill(0);
    for (const label of result.labels) counts[label]!++;
    expect(Math.max(...counts)).toBe(50);
    // The candidate-list variant (used for large inputs) respects the capacity too.
    const listed = await kMeans(points, { clusterCount: 8, seed: 1, balance: { candidates: 2 }, backend: 'js' });
    const listedCounts = new Array<number>(8).fill(0);
    for (const label of listed.labels) listedCounts[label]!++;
    expect(Math.max(...listedCounts)).toBe(50);
    const free = await kMeans(points, { clusterCount: 8, seed: 1, backend: 'js' });
    const freeCounts = new Array<number>(8).fill(0);
    for (const label of free.labels) freeCounts[label]!++;
    expect(Math.max(...freeCounts)).toBeGreaterThan(50);
  });

  it('rejects NaN input, too few points and bad options with a GenrecError', async () => {
    const points = gaussianMatrix(20, 3, 1);
    await expect(kMeans(points, { clusterCount: 21 })).rejects.toSatisfy((error) => GenrecError.isInstance(error) && error.code === 'INVALID_INPUT');
    points.data[7] = Number.NaN;
    await expect(kMeans(points, { clusterCount: 4 })).rejects.toSatisfy((error) => GenrecError.isInstance(error) && /non-finite/.test(error.message));
    await expect(kMeans(gaussianMatrix(20, 3, 1), { clusterCount: 4, balance: { capacityFactor: 0.5 } })).rejects.toSatisfy(
      (error) => GenrecError.isInstance(error) && error.code === 'INVALID_OPTION',
    );
  });
});
