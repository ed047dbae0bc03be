import { describe, expect, it } from 'vitest';
import { Rng, createMatrix } from '@genrec/core';
import { HnswIndex } from './hnsw-index.js';
import { measureHnswParallelQps } from './parallel-throughput.js';

describe('measureHnswParallelQps', () => {
  it('searches every query once across the workers, on the saved graph', async () => {
    const rng = new Rng(8);
    const index = new HnswIndex({ dimension: 6, metric: 'l2', m: 6, efConstruction: 20 });
    await index.add(Int32Array.from({ length: 300 }, (_, i) => i), rng.fillNormal(new Float32Array(300 * 6)));
    await index.remove([0, 1, 2]);
    const queries = createMatrix(37, 6, rng.fillNormal(new Float32Array(37 * 6)));
    const result = await measureHnswParallelQps(index, queries, { threads: 3, k: 4, ef: 20, reps: 1 });
    expect(result.threads).toBe(3);
    expect(result.ef).toBe(20);
    expect(result.resultsFound).toBe(37 * 4);
    expect(result.qps).toBeCloseTo(37 / result.seconds, 6);
    await expect(measureHnswParallelQps(index, createMatrix(1, 5), { threads: 1 })).rejects.toMatchObject({ code: 'SHAPE_MISMATCH' });
    await expect(measureHnswParallelQps(index, queries, { threads: 0 })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
  });
});
