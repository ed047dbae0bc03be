import { mkdtempSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GenrecError, Rng, type VectorMetric } from '@genrec/core';
import { FlatIndex } from './flat-index.js';
import { HnswIndex, loadHnswIndex } from './hnsw-index.js';
import { recallAtK } from './recall-throughput.js';
import { readArtifactFile, rewriteArtifactFile } from './test-helpers.js';
import { referenceScore } from './testing/reference-search.js';

const directory = mkdtempSync(join(tmpdir(), 'genrec-ann-hnsw-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const width = 16;
const itemCount = 3000;
const queryCount = 100;
const rng = new Rng(21);
// 30 clusters: a realistic, not adversarial, distribution
const centres = rng.fillNormal(new Float32Array(30 * width));
const vectors = new Float32Array(itemCount * width);
for (let i = 0; i < itemCount; i++) {
  const centre = rng.int(30);
  for (let c = 0; c < width; c++) vectors[i * width + c] = centres[centre * width + c]! + rng.normal(0, 0.5);
}
const queries = rng.fillNormal(new Float32Array(queryCount * width));
const ids = Int32Array.from({ length: itemCount }, (_, i) => i);

describe('HnswIndex', () => {
  for (const metric of ['ip', 'cosine', 'l2'] as VectorMetric[]) {
    it(`[${metric}] reaches recall@10 >= 0.98 against FlatIndex at ef 200, and ef changes the search`, async () => {
      const exact = new FlatIndex({ dimension: width, metric });
      await exact.add(ids, vectors);
      const truth = (await exact.search(queries, 10)).ids;
      const index = new HnswIndex({ dimension: width, metric, m: 12, efConstruction: 100, ef: 10, initialCapacity: 16 });
      await index.add(ids, vectors);
      expect(index.capacity).toBe(4096); // 16 doubled until 3000 fit
      const wide = await index.search(queries, 10, { ef: 200 });
      const narrow = await index.search(queries, 10, { ef: 10 });
      expect(index.ef).toBe(10); // the per-search ef does not stick
      const wideRecall = recallAtK(wide.ids, truth, queryCount, 10);
      const narrowRecall = recallAtK(narrow.ids, truth, queryCount, 10);
      expect(wideRecall).toBeGreaterThanOrEqual(0.98);
      expect(wideRecall).toBeGreaterThan(narrowRecall);
      // scores are the metric's, as the float64 reference computes them
      for (let q = 0; q < queryCount; q += 9) {
        const id = wide.ids[q * 10]!;
        const reference = referenceScore(queries.subarray(q * width, (q + 1) * width), vectors.subarray(id * width, (id + 1) * width), metric);
        expect(Math.abs(wide.scores[q * 10]! - reference)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(reference)));
      }
    });
  }

  it('the same seed and insertion order build the same graph', async () => {
    const a = new HnswIndex({ dimension: width, m: 8, efConstruction: 40, seed: 7 });
    const b = new HnswIndex({ dimension: width, m: 8, efConstruction: 40, seed: 7 });
    await a.add(ids.subarray(0, 1000), vectors.subarray(0, 1000 * width));
    await b.add(ids.subarray(0, 1000), vectors.subarray(0, 1000 * width));
    const ra = await a.search(queries, 10, { ef: 12 });
    const rb = await b.search(queries, 10, { ef: 12 });
    expect(Array.from(ra.ids)).toEqual(Array.from(rb.ids));
    expect(Array.from(ra.scores)).toEqual(Array.from(rb.scores));
  });

  it('reuses the slots of removed ids instead of growing', async () => {
    const index = new HnswIndex({ dimension: width, initialCapacity: 100 });
    await index.add(ids.subarray(0, 100), vectors.subarray(0, 100 * width));
    await index.remove(Array.from(ids.subarray(0, 50)));
    await index.add(Int32Array.from({ length: 50 }, (_, i) => 5000 + i), vectors.subarray(100 * width, 150 * width));
    expect(index.size).toBe(100);
    expect(index.capacity).toBe(100);
    await index.add([9999], vectors.subarray(0, width));
    expect(index.capacity).toBe(200);
  });

  it('a selective filter still finds the exact best accepted id', async () => {
    const index = new HnswIndex({ dimension: width, metric: 'l2', m: 12, efConstruction: 100, ef: 100 });
    await index.add(ids, vectors);
    const accept = (id: number) => id % 50 === 7; // 60 of 3000 ids
    const exact = new FlatIndex({ dimension: width, metric: 'l2' });
    await exact.add(ids, vectors);
    const truth = await exact.search(queries, 3, { filter: accept });
    const result = await index.search(queries, 3, { filter: accept });
    let agree = 0;
    for (let q = 0; q < queryCount; q++) {
      for (let j = 0; j < 3; j++) expect(accept(result.ids[q * 3 + j]!)).toBe(true);
      if (result.ids[q * 3] === truth.ids[q * 3]) agree++;
    }
    expect(agree).toBeGreaterThanOrEqual(95);
  });

  it('saves hnswlib file + sidecar with parameters, id map and checksum; refuses a sidecar that disagrees with the graph', async () => {
    const index = new HnswIndex({ dimension: width, metric: 'cosine', m: 6, efConstruction: 30, ef: 25, seed: 3, initialCapacity: 64 });
    await index.add([40, 41, 42], vectors.subarray(0, 3 * width));
    await index.remove([41]);
    const path = join(directory, 'sidecar');
    await index.save(path);
    const sidecar = JSON.parse(new TextDecoder().decode(readArtifactFile(path, 'index.json')));
    expect(sidecar).toMatchObject({
      kind: 'genrec.hnsw-index',
      formatVersion: 1,
      implementation: 'hnsw',
      metric: 'cosine',
      dimension: width,
      size: 2,
      parameters: { m: 6, efConstruction: 30, ef: 25, seed: 3, capacity: 64 },
      ids: [40, -1, 42],
    });
    const bytes = readArtifactFile(path, 'index.hnsw');
    expect(sidecar.data).toEqual({ file: 'index.hnsw', bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') });
    const loaded = await loadHnswIndex(path, { dimension: width });
    expect(loaded.ef).toBe(25);
    expect(loaded.m).toBe(6);
    expect(loaded.has(41)).toBe(false);
    // the freed label is reused after loading too
    await loaded.add([77], vectors.subarray(5 * width, 6 * width));
    expect(loaded.capacity).toBe(64);

    const tampered = (patch: Record<string, unknown>) => rewriteArtifactFile(path, 'index.json', JSON.stringify({ ...sidecar, ...patch }));
    tampered({ parameters: { ...sidecar.parameters, capacity: 128 } });
    await expect(loadHnswIndex(path)).rejects.toMatchObject({ code: 'CORRUPT_ARTIFACT' });
    tampered({ ids: [40, 42, 42], size: 3 });
    await expect(loadHnswIndex(path)).rejects.toMatchObject({ code: 'CORRUPT_ARTIFACT' });
    tampered({ ids: [40, -1] });
    await expect(loadHnswIndex(path)).rejects.toMatchObject({ code: 'CORRUPT_ARTIFACT' });
    tampered({ metric: 'manhattan' });
    await expect(loadHnswIndex(path)).rejects.toMatchObject({ code: 'CORRUPT_ARTIFACT' });
  });

  it('the checksum list covers the sidecar: an edited dimension or metric fails to load (issue 11)', async () => {
    const index = new HnswIndex({ dimension: width, metric: 'ip', m: 6, efConstruction: 30, seed: 3 });
    await index.add([1, 2, 3, 4], vectors.subarray(0, 4 * width));
    const path = join(directory, 'edited-sidecar');
    await index.save(path);
    const original = new TextDecoder().decode(readArtifactFile(path, 'index.json'));
    const sidecar = JSON.parse(original);
    // before: dimension 8 gave NaN or 1e23 scores, another metric loaded silently
    for (const patch of [{ dimension: width / 2 }, { dimension: width * 2 }, { metric: 'l2' }, { metric: 'cosine' }]) {
      rewriteArtifactFile(path, 'index.json', JSON.stringify({ ...sidecar, ...patch }), false);
      await expect(loadHnswIndex(path)).rejects.toMatchObject({ code: 'CORRUPT_ARTIFACT' });
    }
    // and with a regenerated checksum an edited dimension still cannot reach hnswlib: the file's layout disagrees
    rewriteArtifactFile(path, 'index.json', JSON.stringify({ ...sidecar, dimension: width / 2 }));
    await expect(loadHnswIndex(path)).rejects.toMatchObject({ code: 'CORRUPT_ARTIFACT', message: expect.stringContaining('sizeDataPerElement') });
    rewriteArtifactFile(path, 'index.json', original);
    const loaded = await loadHnswIndex(path);
    expect(loaded.size).toBe(4);
    expect(Array.from((await loaded.search(vectors.subarray(0, width), 4)).ids).sort()).toEqual([1, 2, 3, 4]);
  });

  it('hnswlib failing midway through an add: RUNTIME_ERROR, the rows before it added, the failing row and those after it not', async () => {
    const index = new HnswIndex({ dimension: width, metric: 'l2', m: 6, efConstruction: 30, seed: 3, initialCapacity: 8 });
    await index.add([10, 11], vectors.subarray(0, 2 * width));
    await index.remove([11]); // a free (deleted) label, reused by the next fresh id
    const graph = (index as unknown as { graph: { addPoint: (point: number[], label: number) => void } }).graph;
    const addPoint = graph.addPoint.bind(graph);
    let calls = 0;
    // hnswlib-node's methods are read-only on the prototype: shadow it with an own property
    Object.defineProperty(graph, 'addPoint', {
      configurable: true,
      value: (point: number[], label: number) => {
        if (++calls === 3) throw new Error('simulated hnswlib failure');
        addPoint(point, label);
      },
    });
    // 20 reuses the free label, 21 takes a new one, 22 fails (a new label), 23 is never reached
    const failed = await index.add([20, 21, 22, 23], vectors.subarray(2 * width, 6 * width)).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(GenrecError.isInstance(failed) && failed.code).toBe('RUNTIME_ERROR');
    expect([10, 11, 20, 21, 22, 23].map((id) => index.has(id))).toEqual([true, false, true, true, false, false]);
    expect(index.size).toBe(3);
    // the failing row's label was given back: the next adds take it, and save/load agree
    delete (graph as { addPoint?: unknown }).addPoint;
    await index.add([22, 23], vectors.subarray(4 * width, 6 * width));
    expect(index.size).toBe(5);
    const path = join(directory, 'failed-add');
    await index.save(path);
    const loaded = await loadHnswIndex(path);
    expect(loaded.size).toBe(5);
    const top = await loaded.search(vectors.subarray(4 * width, 5 * width), 5, { ef: 50 });
    expect(Array.from(top.ids).sort((a, b) => a - b)).toEqual([10, 20, 21, 22, 23]);
    expect(top.ids[0]).toBe(22);
  });

  it('rejects bad options', () => {
    for (const options of [{ dimension: 0 }, { dimension: 4, m: 1 }, { dimension: 4, ef: 0 }, { dimension: 4, efConstruction: 1.5 }, { dimension: 4, initialCapacity: 0 }]) {
      let caught: unknown;
      try {
        new HnswIndex(options);
      } catch (error) {
        caught = error;
      }
      expect(GenrecError.isInstance(caught) && caught.code).toBe('INVALID_OPTION');
    }
    const index = new HnswIndex({ dimension: 2 });
    expect(() => {
      index.ef = -3;
    }).toThrow(/ef must be an integer/);
  });
});
