import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GenrecError, Rng, createMatrix, type VectorMetric } from '@genrec/core';
import { FlatIndex, loadFlatIndex } from './flat-index.js';
import { HnswIndex } from './hnsw-index.js';
import { loadVectorIndex } from './load-vector-index.js';
import { readArtifactFile, rewriteArtifactFile } from './test-helpers.js';
import { referenceScore, referenceSearch } from './testing/reference-search.js';

const directory = mkdtempSync(join(tmpdir(), 'genrec-ann-flat-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

function randomData(seed: number, rows: number, width: number): Float32Array {
  return new Rng(seed).fillNormal(new Float32Array(rows * width));
}

function catchError(action: () => unknown): GenrecError {
  try {
    action();
  } catch (error) {
    if (GenrecError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a GenrecError');
}

describe('FlatIndex', () => {
  const width = 24;
  const itemCount = 2000;
  const queryCount = 70;
  const vectors = randomData(1, itemCount, width);
  const queries = randomData(2, queryCount, width);
  const ids = Int32Array.from({ length: itemCount }, (_, i) => 3 * i + 1);
  const entries = Array.from(ids, (id, i) => ({ id, vector: vectors.subarray(i * width, (i + 1) * width) }));

  for (const metric of ['ip', 'cosine', 'l2'] as VectorMetric[]) {
    it(`[${metric}] onnxruntime and JavaScript products give the naive reference's top-k, in several query blocks, with exclusion and filter`, async () => {
      // 16 queries per block: 70 queries take 5 blocks, the last one partial
      const onnx = new FlatIndex({ dimension: width, metric, backend: 'onnxruntime', prepare: 'never', intraOpNumThreads: 1, scoreBlockSize: 16 * itemCount, initialCapacity: 3 });
      const javascript = new FlatIndex({ dimension: width, metric, backend: 'javascript', scoreBlockSize: 16 * itemCount });
      // the stored vectors compiled into their own session at the first search
      const compiled = new FlatIndex({ dimension: width, metric, backend: 'onnxruntime', prepare: 'always', intraOpNumThreads: 1, scoreBlockSize: 16 * itemCount });
      await onnx.add(ids, vectors);
      await javascript.add(ids, createMatrix(itemCount, width, vectors));
      await compiled.add(ids, vectors);
      const k = 15;
      const rng = new Rng(3);
      // each query excludes 30 of its 60 best ids (a long user history near the top) plus unknown ids
      const exclude = Array.from({ length: queryCount }, (_, q) => {
        const top = referenceSearch(entries, queries.subarray(q * width, (q + 1) * width), 60, metric).map((entry) => entry.id);
        return new Set([...top.filter(() => rng.uniform() < 0.5), 2, 5]);
      });
      const filter = (id: number) => id % 4 !== 0;
      const selective = (id: number) => id % 97 === 0; // ~20 of 2000 ids: the candidates never suffice
      for (const options of [{}, { exclude }, { filter }, { exclude, filter }, { filter: selective }, { exclude, filter: selective }]) {
        const a = await onnx.search(queries, k, options);
        const b = await javascript.search(queries, k, options);
        const c = await compiled.search(queries, k, options);
        expect(Array.from(c.ids)).toEqual(Array.from(a.ids));
        expect(Array.from(c.scores)).toEqual(Array.from(a.scores));
        for (let q = 0; q < queryCount; q++) {
          const query = queries.subarray(q * width, (q + 1) * width);
          const excluded = 'exclude' in options ? exclude[q]! : new Set<number>();
          const accept = (id: number) => !excluded.has(id) && (options.filter === undefined || options.filter(id));
          const reference = referenceSearch(entries, query, k, metric, accept);
          expect(Array.from(a.ids.subarray(q * k, (q + 1) * k))).toEqual(reference.map((entry) => entry.id));
          expect(Array.from(b.ids.subarray(q * k, (q + 1) * k))).toEqual(reference.map((entry) => entry.id));
          for (let j = 0; j < k; j++) {
            const tolerance = metric === 'l2' ? 1e-4 * Math.abs(reference[j]!.score) + 1e-4 : 1e-4;
            expect(Math.abs(a.scores[q * k + j]! - reference[j]!.score)).toBeLessThanOrEqual(tolerance);
            expect(Math.abs(b.scores[q * k + j]! - reference[j]!.score)).toBeLessThanOrEqual(tolerance);
          }
        }
      }
      expect(onnx.compiled).toBe(false);
      expect(compiled.compiled).toBe(true);
      const compiledBytes = compiled.memoryBytes;
      await compiled.dispose();
      expect(compiled.compiled).toBe(false);
      // the session's copy of the vectors is counted while it lives
      expect(compiledBytes - compiled.memoryBytes).toBe(itemCount * (metric === 'l2' ? width + 1 : width) * 4);
    });
  }

  it('a compiled index of 70,000 items (chunked form without a filter, whole-row with one) gives the uncompiled and naive top-k, with exclusions and filters, and counts both sessions', async () => {
    const many = 70_000;
    const narrow = 8;
    const manyVectors = randomData(7, many, narrow);
    const manyIds = Int32Array.from({ length: many }, (_, i) => i + 1);
    const manyQueries = randomData(8, 48, narrow);
    const manyEntries = Array.from(manyIds, (id, i) => ({ id, vector: manyVectors.subarray(i * narrow, (i + 1) * narrow) }));
    const rng = new Rng(9);
    // 12 + at most 20 excluded ids a query: the chunked form's k (exclusions included) stays at most 32
    const exclude = Array.from({ length: 48 }, () => new Set(Array.from({ length: 20 }, () => 1 + rng.int(many))));
    const filter = (id: number) => id % 3 !== 0;
    for (const metric of ['ip', 'cosine', 'l2'] as VectorMetric[]) {
      // uncompiled: 3 queries a block (all 70,000 scores per row); compiled: 16 (one 16,384-column chunk)
      const options = { dimension: narrow, metric, backend: 'onnxruntime' as const, intraOpNumThreads: 1, scoreBlockSize: 16 * 16384 };
      const never = new FlatIndex({ ...options, prepare: 'never' });
      const always = new FlatIndex({ ...options, prepare: 'always' });
      await never.add(manyIds, manyVectors);
      await always.add(manyIds, manyVectors);
      await always.search(manyQueries.subarray(0, narrow), 1); // compiles
      expect(always.compiled).toBe(true);
      // no filter: the chunked form; with a filter (64+ candidates): the whole-row form
      for (const searchOptions of [{}, { exclude }, { exclude, filter }]) {
        const a = await never.search(manyQueries, 12, searchOptions);
        const b = await always.search(manyQueries, 12, searchOptions);
        expect(Array.from(b.ids)).toEqual(Array.from(a.ids));
        b.scores.forEach((score, i) => expect(score).toBeCloseTo(a.scores[i]!, 4));
        for (const q of [0, 17, 47]) {
          const excluded = 'exclude' in searchOptions ? exclude[q]! : new Set<number>();
          const accept = (id: number) => !excluded.has(id) && (!('filter' in searchOptions) || filter(id));
          const reference = referenceSearch(manyEntries, manyQueries.subarray(q * narrow, (q + 1) * narrow), 12, metric, accept);
          expect(Array.from(b.ids.subarray(q * 12, (q + 1) * 12))).toEqual(reference.map((entry) => entry.id));
        }
      }
      // both forms compiled: two sessions, each a copy of the vectors
      const stride = metric === 'l2' ? narrow + 1 : narrow;
      expect(always.memoryBytes - never.memoryBytes).toBe(2 * many * stride * 4);
      await always.dispose();
      expect(always.memoryBytes).toBe(never.memoryBytes);
    }
  }, 60_000);

  it('a compiled index follows every write: added and removed vectors are seen at once', async () => {
    const index = new FlatIndex({ dimension: width, backend: 'onnxruntime', prepare: 'always', intraOpNumThreads: 1 });
    await index.add(ids, vectors);
    const query = queries.subarray(0, width);
    const first = await index.search(query, 3);
    expect(index.compiled).toBe(true);
    await index.add([99_999], query.map((v) => 10 * v)); // far the best match
    expect(index.compiled).toBe(false);
    const second = await index.search(query, 3);
    expect(Array.from(second.ids)).toEqual([99_999, first.ids[0], first.ids[1]]);
    await index.remove([99_999, first.ids[0]!]);
    const third = await index.search(query, 2);
    expect(Array.from(third.ids)).toEqual([first.ids[1], first.ids[2]]);
    // released while a multi-block search is pending: it finishes (uncompiled after the release),
    // and the next search compiles again
    const kept = entries.filter((entry) => entry.id !== first.ids[0]);
    const reference = new FlatIndex({ dimension: width, backend: 'javascript' });
    for (const entry of kept) await reference.add([entry.id], entry.vector);
    const blocks = new FlatIndex({ dimension: width, backend: 'onnxruntime', prepare: 'always', intraOpNumThreads: 1, scoreBlockSize: 8 * itemCount });
    for (const entry of kept) await blocks.add([entry.id], entry.vector);
    await blocks.search(query, 1);
    expect(blocks.compiled).toBe(true);
    const pending = blocks.search(queries, 4); // 9 blocks of 8 queries
    await blocks.dispose();
    expect(blocks.compiled).toBe(false);
    const want = await reference.search(queries, 4);
    expect(Array.from((await pending).ids)).toEqual(Array.from(want.ids));
    expect(blocks.compiled).toBe(false); // the pending search did not compile again
    expect(Array.from((await blocks.search(queries, 4)).ids)).toEqual(Array.from(want.ids));
    expect(blocks.compiled).toBe(true);
    await blocks.dispose();
    await index.dispose();
  });

  it("prepare 'never' never compiles; a bad prepare is INVALID_OPTION", async () => {
    const never = new FlatIndex({ dimension: width, backend: 'onnxruntime', prepare: 'never', intraOpNumThreads: 1 });
    await never.add(ids, vectors);
    for (let i = 0; i < 20; i++) await never.search(queries, 7);
    expect(never.compiled).toBe(false);
    expect(catchError(() => new FlatIndex({ dimension: 2, prepare: 'sometimes' as 'auto' })).code).toBe('INVALID_OPTION');
  });

  it('backend auto gives the same answer as the naive reference on a batch large enough for onnxruntime', async () => {
    const index = new FlatIndex({ dimension: width, metric: 'ip' });
    await index.add(ids, vectors);
    const result = await index.search(queries, 5); // 70 x 2000 x 24 multiply-adds: onnxruntime
    for (let q = 0; q < queryCount; q += 7) {
      const reference = referenceSearch(entries, queries.subarray(q * width, (q + 1) * width), 5, 'ip');
      expect(Array.from(result.ids.subarray(q * 5, q * 5 + 5))).toEqual(reference.map((entry) => entry.id));
    }
  });

  it('concurrent searches do not disturb each other', async () => {
    const index = new FlatIndex({ dimension: width, metric: 'cosine', backend: 'onnxruntime', scoreBlockSize: 8 * itemCount });
    await index.add(ids, vectors);
    const half = queries.subarray(0, 35 * width);
    const other = queries.subarray(35 * width);
    const [a, b] = await Promise.all([index.search(half, 5), index.search(other, 5)]);
    const both = await index.search(queries, 5);
    expect([...a.ids, ...b.ids]).toEqual(Array.from(both.ids));
  });

  it('l2 scores are the exact squared distances even for vectors far from the origin', async () => {
    const rng = new Rng(4);
    const far = new Float32Array(200 * 8).map(() => 50 + rng.normal());
    const index = new FlatIndex({ dimension: 8, metric: 'l2', backend: 'javascript' });
    await index.add(Int32Array.from({ length: 200 }, (_, i) => i), far);
    const query = far.slice(8 * 17, 8 * 18).map((v) => v + 0.001);
    const result = await index.search(query, 3);
    expect(result.ids[0]).toBe(17);
    expect(result.scores[0]!).toBeCloseTo(referenceScore(query, far.subarray(8 * 17, 8 * 18), 'l2'), 6);
  });

  it('cosine: a zero vector scores 0, and a zero query scores every item 0', async () => {
    const index = new FlatIndex({ dimension: 2, metric: 'cosine', backend: 'javascript' });
    await index.add([1, 2, 3], new Float32Array([3, 4, 0, 0, -1, 0]));
    const result = await index.search(new Float32Array([6, 8]), 3);
    expect(Array.from(result.ids)).toEqual([1, 2, 3]);
    expect(Array.from(result.scores)).toEqual([1, 0, Math.fround(-0.6)]);
    const zero = await index.search(new Float32Array([0, 0]), 3);
    expect(Array.from(zero.scores)).toEqual([0, 0, 0]);
  });

  it('grows past its initial capacity and keeps storage dense after removals', async () => {
    const index = new FlatIndex({ dimension: 3, initialCapacity: 1 });
    for (let i = 0; i < 10; i++) await index.add([i], new Float32Array([i, 1, 0]));
    expect(index.size).toBe(10);
    await index.remove([2, 9, 2]); // a repeated id is removed once
    expect(Array.from(index.ids())).toEqual([0, 1, 8, 3, 4, 5, 6, 7]); // 8 moved into 2's slot
    const result = await index.search(new Float32Array([1, 0, 0]), 2);
    expect(Array.from(result.ids)).toEqual([8, 7]);
    expect(Array.from(result.scores)).toEqual([8, 7]);
  });

  it('rejects bad options', () => {
    expect(catchError(() => new FlatIndex({ dimension: 0 })).code).toBe('INVALID_OPTION');
    expect(catchError(() => new FlatIndex({ dimension: 2, metric: 'dot' as VectorMetric })).code).toBe('INVALID_OPTION');
    expect(catchError(() => new FlatIndex({ dimension: 2, backend: 'gpu' as 'auto' })).code).toBe('INVALID_OPTION');
    expect(catchError(() => new FlatIndex({ dimension: 2, intraOpNumThreads: -1 })).code).toBe('INVALID_OPTION');
  });

  it('writes a checksummed sidecar and refuses other versions and kinds', async () => {
    const index = new FlatIndex({ dimension: 2, metric: 'l2' });
    await index.add([7, 3], new Float32Array([1, 2, 3, 4]));
    const path = join(directory, 'sidecar');
    await index.save(path);
    const sidecar = JSON.parse(new TextDecoder().decode(readArtifactFile(path, 'index.json')));
    expect(sidecar).toMatchObject({ kind: 'genrec.flat-index', formatVersion: 1, implementation: 'flat', metric: 'l2', dimension: 2, size: 2, ids: [7, 3] });
    expect(sidecar.data.file).toBe('vectors.f32');
    expect(sidecar.data.bytes).toBe(16);
    expect(sidecar.data.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(Array.from(new Float32Array(readArtifactFile(path, 'vectors.f32').slice().buffer))).toEqual([1, 2, 3, 4]);
    expect(await loadVectorIndex(path)).toBeInstanceOf(FlatIndex);
    await expect(loadFlatIndex(path, { metric: 'ip' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });

    // edits with a regenerated checksum list reach the sidecar's own checks
    const tampered = (patch: Record<string, unknown>) => rewriteArtifactFile(path, 'index.json', JSON.stringify({ ...sidecar, ...patch }));
    tampered({ formatVersion: 99 });
    await expect(loadFlatIndex(path)).rejects.toMatchObject({ code: 'FORMAT_VERSION' });
    tampered({ kind: 'genrec.other-index' });
    await expect(loadVectorIndex(path)).rejects.toMatchObject({ code: 'FORMAT_VERSION' });
    tampered({ ids: [7, 7] });
    await expect(loadFlatIndex(path)).rejects.toMatchObject({ code: 'CORRUPT_ARTIFACT' });
    tampered({ size: 3, ids: [7, 3, 4] });
    await expect(loadFlatIndex(path)).rejects.toMatchObject({ code: 'CORRUPT_ARTIFACT' }); // 16 bytes cannot hold 3 x 2 floats
    tampered({ data: { ...sidecar.data, file: 'index.json' } });
    await expect(loadFlatIndex(path)).rejects.toMatchObject({ code: 'CORRUPT_ARTIFACT' });
  });

  it('the checksum list covers the sidecar: an edited dimension or metric fails to load (issue 11)', async () => {
    const index = new FlatIndex({ dimension: 2, metric: 'ip' });
    await index.add([1, 2, 3, 4], new Float32Array([1, 0, 0, 1, 1, 1, -1, 0]));
    const path = join(directory, 'edited-sidecar');
    await index.save(path);
    const original = new TextDecoder().decode(readArtifactFile(path, 'index.json'));
    const sidecar = JSON.parse(original);
    // dimension 4 x size 2 also fits the 32 bytes of vectors.f32: only the checksum can tell
    for (const patch of [{ dimension: 4, size: 2, ids: [1, 2] }, { metric: 'l2' }, { metric: 'cosine' }]) {
      rewriteArtifactFile(path, 'index.json', JSON.stringify({ ...sidecar, ...patch }), false);
      await expect(loadFlatIndex(path)).rejects.toMatchObject({ code: 'CORRUPT_ARTIFACT' });
      await expect(loadVectorIndex(path)).rejects.toMatchObject({ code: 'CORRUPT_ARTIFACT' });
    }
    rewriteArtifactFile(path, 'index.json', original, false);
    expect((await loadFlatIndex(path)).size).toBe(4);
  });

  it('a filter callback that throws rejects the search with its own error, on both backends', async () => {
    const boom = new Error('boom');
    for (const backend of ['javascript', 'onnxruntime'] as const) {
      const index = new FlatIndex({ dimension: width, backend });
      await index.add(ids, vectors);
      await expect(index.search(queries, 3, { filter: () => { throw boom; } })).rejects.toBe(boom);
      expect((await index.search(queries, 3)).ids.length).toBe(3 * queryCount);
    }
  });

  it('loadVectorIndex dispatches on the saved kind', async () => {
    const hnsw = new HnswIndex({ dimension: 2 });
    await hnsw.add([1], new Float32Array([1, 0]));
    await hnsw.save(join(directory, 'dispatch-hnsw'));
    expect(await loadVectorIndex(join(directory, 'dispatch-hnsw'))).toBeInstanceOf(HnswIndex);
    await expect(loadFlatIndex(join(directory, 'dispatch-hnsw'))).rejects.toMatchObject({ code: 'FORMAT_VERSION' });
  });
});
