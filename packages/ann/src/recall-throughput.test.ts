import { describe, expect, it } from 'vitest';
import { Rng, createMatrix } from '@genrec/core';
import { FlatIndex } from './flat-index.js';
import { HnswIndex } from './hnsw-index.js';
import { UsearchIndex } from './usearch-index.js';
import { measureRecallThroughput, recallAtK } from './recall-throughput.js';

describe('recallAtK', () => {
  it('matches hand-computed values, padding included', () => {
    // query 0: truth {2, 9}, found {1, 2} -> 1/2; query 1: truth {3, 4}, found {4, 3} -> 1
    expect(recallAtK(new Int32Array([1, 2, 4, 3]), new Int32Array([2, 9, 3, 4]), 2, 2)).toBe(0.75);
    // truth with one real id: found it -> 1; a query with no truth is not counted
    expect(recallAtK(new Int32Array([5, -1, 0, 0]), new Int32Array([5, -1, -1, -1]), 2, 2)).toBe(1);
    // wider rows than k: only the first k count
    expect(recallAtK(new Int32Array([1, 2, 3]), new Int32Array([3, 1, 2]), 1, 1, 3, 3)).toBe(0);
  });
});

describe('measureRecallThroughput', () => {
  const rng = new Rng(2);
  const base = createMatrix(800, 8, rng.fillNormal(new Float32Array(800 * 8)));
  const queries = createMatrix(50, 8, rng.fillNormal(new Float32Array(50 * 8)));

  it('reports recall 1 for an exact index and a sensible curve for HNSW', async () => {
    const exact = await measureRecallThroughput({ base, queries, createIndex: (dimension, metric) => new FlatIndex({ dimension, metric }), efValues: [8], reps: 1 });
    expect(exact.points).toHaveLength(1);
    expect(exact.points[0]!.recall).toBe(1);
    expect(exact.points[0]!.recallTieAware).toBe(1);
    expect(exact.flat!.qps).toBeGreaterThan(0);
    expect(exact.indexBytes).toBeGreaterThan(800 * 8 * 4 - 1);

    const report = await measureRecallThroughput({
      base,
      queries,
      metric: 'l2',
      k: 5,
      reps: 1,
      efValues: [5, 100],
      parallelThreads: 2,
      createIndex: (dimension, metric) => new HnswIndex({ dimension, metric, m: 4, efConstruction: 20 }),
    });
    expect(report.points.map((point) => point.ef)).toEqual([5, 100]);
    expect(report.points[1]!.recall).toBeGreaterThanOrEqual(report.points[0]!.recall);
    expect(report.points[1]!.recall).toBeGreaterThan(0.9);
    for (const point of report.points) {
      expect(point.recallTieAware).toBeGreaterThanOrEqual(point.recall - 1e-12);
      expect(point.qps).toBeGreaterThan(0);
      expect(point.qpsParallel).toBeGreaterThan(0);
    }
    expect(exact.points[0]!.qpsParallel).toBeUndefined(); // only HNSW indexes are measured in workers
    expect(report.buildSeconds).toBeGreaterThan(0);
    await expect(measureRecallThroughput({ base, queries, truth: new Int32Array(3), createIndex: () => new FlatIndex({ dimension: 8 }) })).rejects.toMatchObject({
      code: 'SHAPE_MISMATCH',
    });
  });

  it('measures UsearchIndex too: an ef sweep (views) with native-thread qps, against given ground truth', async () => {
    const exact = new FlatIndex({ dimension: 8, metric: 'cosine' });
    await exact.add(Int32Array.from({ length: 800 }, (_, i) => i), base);
    const truth = (await exact.search(queries, 10)).ids;
    const report = await measureRecallThroughput({
      base,
      queries,
      metric: 'cosine',
      truth,
      reps: 1,
      efValues: [4, 200],
      parallelThreads: 2,
      createIndex: (dimension, metric) => new UsearchIndex({ dimension, metric, m: 4, efConstruction: 20, quantization: 'i8' }),
    });
    expect(report.flat).toBeUndefined(); // truth given: no exact pass
    expect(report.indexBytes).toBeGreaterThan(800 * 8);
    expect(report.points[1]!.recall).toBeGreaterThan(report.points[0]!.recall);
    expect(report.points[1]!.recall).toBeGreaterThan(0.85); // i8: direction rounded to 1/127 per component
    for (const point of report.points) expect(point.qpsParallel).toBeGreaterThan(0);
  });
});
