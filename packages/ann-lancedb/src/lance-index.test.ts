import { cpSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GenrecError, Rng, type VectorMetric, type VectorSearchResult } from '@genrec/core';
import { FlatIndex, loadVectorIndex, recallAtK } from '@genrec/ann';
import { referenceScore, referenceSearch, type ReferenceEntry } from '@genrec/ann/testing';
import { LanceIndex, isLanceIndexFolder, loadLanceIndex } from './lance-index.js';
import { armSaveFault } from '@genrec/ann/testing';
import { TemporaryFolders } from '@genrec/core/testing';

const temporary = new TemporaryFolders();
afterAll(() => temporary.removeAll());
const root = temporary.create('genrec-lance-index-');
let folders = 0;
const folder = (): string => join(root, `index-${++folders}`);
// LanceDB's index builds spill into the process's temporary folder and leave it there (`.tmpXXXXXX`
// with shuffle files): this file's own, removed with the others
temporary.useAsTmpdir('genrec-lance-index-tmp-');

/** Seeded clustered vectors: `centres` Gaussian centres, each point = a random centre + `spread` x N(0, 1) noise. */
function clustered(seed: number, dimension: number, centreCount: number): (count: number, spread: number) => Float32Array {
  const rng = new Rng(seed);
  const centres = rng.fillNormal(new Float32Array(centreCount * dimension));
  return (count, spread) => {
    const vectors = new Float32Array(count * dimension);
    for (let i = 0; i < count; i++) {
      const centre = rng.int(centreCount);
      for (let c = 0; c < dimension; c++) vectors[i * dimension + c] = centres[centre * dimension + c]! + spread * rng.normal();
    }
    return vectors;
  };
}

function entriesOf(ids: Int32Array, vectors: Float32Array, dimension: number): ReferenceEntry[] {
  return Array.from(ids, (id, i) => ({ id, vector: vectors.slice(i * dimension, (i + 1) * dimension) }));
}

function row(result: VectorSearchResult, q: number): number[] {
  return Array.from(result.ids.subarray(q * result.k, (q + 1) * result.k));
}

async function rejection(action: () => Promise<unknown>): Promise<GenrecError> {
  let caught: unknown;
  try {
    await action();
  } catch (error) {
    caught = error;
  }
  expect(GenrecError.isInstance(caught), `expected a GenrecError, got ${String(caught)}`).toBe(true);
  return caught as GenrecError;
}

describe('LanceIndex before buildIndex (brute force): exclusion, filter, where', () => {
  const dimension = 16;
  const count = 2000;
  const metric: VectorMetric = 'ip';
  const draw = clustered(21, dimension, 20);
  const vectors = draw(count, 0.5);
  const ids = Int32Array.from({ length: count }, (_, i) => i + 1);
  const entries = entriesOf(ids, vectors, dimension);
  const queries = draw(20, 0.5);
  const query = (q: number): Float32Array => queries.subarray(q * dimension, (q + 1) * dimension);
  let index: LanceIndex;

  beforeAll(async () => {
    index = await LanceIndex.create({ path: folder(), dimension, metric });
    await index.add(ids, vectors);
  });

  it('exclusion lists longer than k: over-fetched, never short, equal to the reference', async () => {
    const k = 10;
    const exclude = Array.from({ length: 20 }, (_, q) => [...referenceSearch(entries, query(q), 30, metric).map((entry) => entry.id), 999_999, 5_000_000]);
    const result = await index.search(queries, k, { exclude });
    for (let q = 0; q < 20; q++) {
      const excluded = new Set(exclude[q]);
      expect(row(result, q)).toEqual(referenceSearch(entries, query(q), k, metric, (id) => !excluded.has(id)).map((entry) => entry.id));
    }
  });

  it('a selective filter callback still fills k (fetching more until enough), and pads when fewer exist', async () => {
    const k = 10;
    const filter = (id: number): boolean => id % 97 === 0; // 20 of 2000 ids
    const result = await index.search(queries, k, { filter });
    for (let q = 0; q < 20; q++) expect(row(result, q)).toEqual(referenceSearch(entries, query(q), k, metric, filter).map((entry) => entry.id));
    const three = new Set([5, 500, 1500]);
    const padded = await index.search(query(0), 6, { filter: (id) => three.has(id) });
    expect(row(padded, 0).slice(0, 3).sort((a, b) => a - b)).toEqual([5, 500, 1500]);
    expect(row(padded, 0).slice(3)).toEqual([-1, -1, -1]);
    expect(Array.from(padded.scores.subarray(3))).toEqual([-Infinity, -Infinity, -Infinity]);
  });

  it('a throwing filter rejects the search with its own error; the index keeps working', async () => {
    const failure = new Error('filter failed');
    await expect(
      index.search(queries, 5, {
        filter: () => {
          throw failure;
        },
      }),
    ).rejects.toBe(failure);
    expect((await index.search(query(0), 1)).ids[0]).toBe(referenceSearch(entries, query(0), 1, metric)[0]!.id);
  });

  it('where is an SQL prefilter over id, combined with exclusion and filter', async () => {
    const k = 8;
    const result = await index.search(queries, k, { where: 'id % 5 = 0' });
    for (let q = 0; q < 20; q++) expect(row(result, q)).toEqual(referenceSearch(entries, query(q), k, metric, (id) => id % 5 === 0).map((entry) => entry.id));
    const exclude = Array.from({ length: 20 }, (_, q) => referenceSearch(entries, query(q), 3, metric, (id) => id % 5 === 0).map((entry) => entry.id));
    const combined = await index.search(queries, k, { where: 'id % 5 = 0', exclude, filter: (id) => id % 2 === 0 });
    for (let q = 0; q < 20; q++) {
      const excluded = new Set(exclude[q]);
      const accept = (id: number): boolean => id % 10 === 0 && !excluded.has(id);
      expect(row(combined, q)).toEqual(referenceSearch(entries, query(q), k, metric, accept).map((entry) => entry.id));
    }
    const few = await index.search(query(0), 5, { where: 'id BETWEEN 10 AND 12' });
    expect(row(few, 0).slice(0, 3).sort((a, b) => a - b)).toEqual([10, 11, 12]);
    expect(row(few, 0).slice(3)).toEqual([-1, -1]);
  });

  it('a where filter LanceDB cannot plan is INVALID_OPTION before any search', async () => {
    expect((await rejection(() => index.search(queries, 3, { where: 'idd > 3' }))).code).toBe('INVALID_OPTION');
    expect((await rejection(() => index.search(queries, 3, { where: 'id >>> 3' }))).code).toBe('INVALID_OPTION');
    expect((await rejection(() => index.search(queries, 3, { where: 42 as unknown as string }))).code).toBe('INVALID_OPTION');
    expect((await rejection(() => index.search(queries, 3, { nprobes: 0 }))).code).toBe('INVALID_OPTION');
    expect((await rejection(() => index.search(queries, 3, { refineFactor: -1 }))).code).toBe('INVALID_OPTION');
  });

  it('replace with an id repeated in the call keeps its last vector (one merge-insert)', async () => {
    const small = await LanceIndex.create({ path: folder(), dimension: 2, metric: 'l2' });
    await small.add([1, 2], new Float32Array([0, 0, 5, 5]));
    await small.add([2, 2, 3], new Float32Array([9, 9, 1, 1, 7, 7]), { replace: true });
    expect(small.size).toBe(3);
    const result = await small.search(new Float32Array([1, 1]), 3);
    expect(row(result, 0)).toEqual([2, 1, 3]);
    expect(Array.from(result.scores)).toEqual([0, -2, -72]);
    await small.close();
    expect((await rejection(() => small.add([4], new Float32Array([0, 0])))).code).toBe('RUNTIME_ERROR');
  });
});

describe('LanceIndex with an IVF-PQ index (seeded clustered 20,000 x 32)', () => {
  const dimension = 32;
  const count = 20_000;
  const queryCount = 100;
  const k = 10;
  const metric: VectorMetric = 'l2';
  // 256 overlapping clusters over 64 IVF partitions: true neighbours straddle partitions, so nprobes matters
  const draw = clustered(7, dimension, 256);
  const vectors = draw(count, 1);
  const ids = Int32Array.from({ length: count }, (_, i) => i + 1);
  const queries = draw(queryCount, 1);
  const query = (q: number): Float32Array => queries.subarray(q * dimension, (q + 1) * dimension);
  let index: LanceIndex;
  let truth: VectorSearchResult;

  beforeAll(async () => {
    index = await LanceIndex.create({ path: folder(), dimension, metric });
    for (let start = 0; start < count; start += 5000) await index.add(ids.subarray(start, start + 5000), vectors.subarray(start * dimension, (start + 5000) * dimension));
    const exact = new FlatIndex({ dimension, metric, backend: 'javascript' });
    await exact.add(ids, vectors);
    truth = await exact.search(queries, k);
    const parameters = await index.buildIndex({ numPartitions: 64, numSubVectors: 8 });
    expect(parameters).toEqual({ type: 'IVF_PQ', numPartitions: 64, numSubVectors: 8, numBits: 8 });
  });

  it('recall@10 >= 0.9 against exact search at the defaults (nprobes 20 of 64 partitions, refineFactor 4), with exact scores', async () => {
    const result = await index.search(queries, k);
    expect(Array.from((await index.search(queries, k, { nprobes: 20, refineFactor: 4 })).ids)).toEqual(Array.from(result.ids));
    const recall = recallAtK(result.ids, truth.ids, queryCount, k);
    expect(recall).toBeGreaterThanOrEqual(0.9);
    for (let q = 0; q < queryCount; q++) {
      for (let j = 0; j < k; j++) {
        const id = result.ids[q * k + j]!;
        const score = referenceScore(query(q), vectors.subarray((id - 1) * dimension, id * dimension), metric);
        expect(Math.abs(result.scores[q * k + j]! - score)).toBeLessThanOrEqual(1e-3 * Math.max(1, Math.abs(score)));
      }
    }
    // fewer partitions probed: lower recall (the option reaches LanceDB); exact: the ground truth
    const narrow = await index.search(queries, k, { nprobes: 1, refineFactor: 4 });
    expect(recallAtK(narrow.ids, truth.ids, queryCount, k)).toBeLessThan(recall);
    const exact = await index.search(queries, k, { exact: true });
    expect(Array.from(exact.ids)).toEqual(Array.from(truth.ids));
  });

  it('refineFactor 0 returns LanceDB PQ-approximate scores; larger refine factors raise recall', async () => {
    const approximate = await index.search(queries, k, { refineFactor: 0 });
    let largestError = 0;
    for (let q = 0; q < queryCount; q++) {
      const id = approximate.ids[q * k]!;
      const score = referenceScore(query(q), vectors.subarray((id - 1) * dimension, id * dimension), metric);
      largestError = Math.max(largestError, Math.abs(approximate.scores[q * k]! - score));
    }
    expect(largestError).toBeGreaterThan(1e-3);
    const refined = await index.search(queries, k, { refineFactor: 10 });
    const base = await index.search(queries, k, { refineFactor: 1 });
    expect(recallAtK(refined.ids, truth.ids, queryCount, k)).toBeGreaterThan(recallAtK(base.ids, truth.ids, queryCount, k) + 0.1);
  });

  it('a narrow where, a long exclusion list and a selective filter never come back short with nprobes 1', async () => {
    const where = await index.search(queries, 15, { where: 'id % 1000 = 7', nprobes: 1 }); // 20 rows match
    for (let q = 0; q < queryCount; q++) {
      const found = row(where, q);
      expect(found.every((id) => id % 1000 === 7)).toBe(true);
      expect(new Set(found).size).toBe(15);
    }
    const exclude = Array.from({ length: queryCount }, (_, q) => row(truth, q).concat(row(where, q)));
    const excluded = await index.search(queries, k, { exclude, nprobes: 1 });
    for (let q = 0; q < queryCount; q++) {
      const found = row(excluded, q);
      expect(found.every((id) => id > 0 && !exclude[q]!.includes(id))).toBe(true);
    }
    // 10 ids pass: the query is repeated with more rows and more partitions until all 10 are found
    const filtered = await index.search(queries.subarray(0, 20 * dimension), k, { filter: (id) => id % 1999 === 0, nprobes: 1 });
    for (let q = 0; q < 20; q++) expect(row(filtered, q).sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => 1999 * (i + 1)));
  });

  it('rows added after the index are found; removed rows are never returned', async () => {
    // near-copies of the queries, added after buildIndex: each must be its query's best match
    const fresh = Int32Array.from({ length: queryCount }, (_, q) => 100_001 + q);
    const near = queries.map((value, i) => value + 1e-3 * ((i % 7) - 3));
    await index.add(fresh, near);
    const found = await index.search(queries, 1);
    expect(Array.from(found.ids)).toEqual(Array.from(fresh));
    // remove every query's near-copy and its exact top 3: none may come back, index or not
    const removed = new Set<number>(fresh);
    for (let q = 0; q < queryCount; q++) for (const id of row(truth, q).slice(0, 3)) removed.add(id);
    await index.remove([...removed]);
    expect(index.size).toBe(count + queryCount - removed.size);
    for (const options of [{}, { refineFactor: 0 }, { nprobes: 64 }, { exact: true }]) {
      const result = await index.search(queries, k, options);
      for (const id of result.ids) expect(removed.has(id)).toBe(false);
    }
  });

  it('optimize folds new rows into the index; a checkpoint save and load reproduce the searches', async () => {
    await index.add([200_001], query(0));
    const before = await index.search(queries, k);
    const stats = await index.optimize();
    expect(stats.fragmentsRemoved).toBeGreaterThan(0);
    const after = await index.search(queries, k);
    expect(recallAtK(after.ids, before.ids, queryCount, k)).toBeGreaterThan(0.95);
    expect(after.ids[0]).toBe(200_001);
    await index.save(index.path);
    const loaded = await loadLanceIndex(index.path, { dimension, metric });
    expect(loaded.vectorIndex).toEqual(index.vectorIndex);
    expect(loaded.size).toBe(index.size);
    const again = await loaded.search(queries, k);
    expect(Array.from(again.ids)).toEqual(Array.from(after.ids));
    expect(Array.from(again.scores)).toEqual(Array.from(after.scores));
    await loaded.close();
  });
});

describe('LanceIndex when every indexed row is removed', () => {
  it('LanceDB drops the IVF-PQ index; the index says so, saves null, and loads', async () => {
    const path = folder();
    const index = await LanceIndex.create({ path, dimension: 8, metric: 'l2' });
    const rng = new Rng(99);
    const ids = Int32Array.from({ length: 300 }, (_, i) => 50_000_000 + i);
    await index.add(ids, rng.fillNormal(new Float32Array(300 * 8)));
    await index.buildIndex({ numPartitions: 4, numSubVectors: 4 });
    await index.add([1], new Float32Array(8).fill(0.5));
    expect(index.vectorIndex).not.toBeNull();
    await index.remove(ids);
    expect(index.vectorIndex).toBeNull();
    expect((await index.search(new Float32Array(8), 3)).ids[0]).toBe(1);
    await index.save(path);
    await index.close();
    const loaded = await loadLanceIndex(path);
    expect([loaded.size, loaded.vectorIndex]).toEqual([1, null]);
    await loaded.close();
  });
});

describe('LanceIndex saves: checkpoints in place, consistent copies elsewhere', () => {
  const dimension = 4;
  const rows = (...values: number[][]): Float32Array => Float32Array.from(values.flat());

  it('a load opens the last checkpoint; writes after it are discarded unless keepUnsavedWrites', async () => {
    const path = folder();
    const index = await LanceIndex.create({ path, dimension, metric: 'cosine' });
    await index.add([1, 2], rows([1, 0, 0, 0], [0, 1, 0, 0]));
    await index.save(path);
    const saved = index.savedVersion;
    await index.add([3], rows([0, 0, 1, 0]));
    await index.remove([1]);
    expect(await index.tableVersion()).toBeGreaterThan(saved);
    await index.close();

    const kept = await loadLanceIndex(path, { keepUnsavedWrites: true });
    expect([kept.has(1), kept.has(2), kept.has(3), kept.size]).toEqual([false, true, true, 2]);
    await kept.close();

    const reopened = await loadLanceIndex(path);
    expect([reopened.has(1), reopened.has(2), reopened.has(3), reopened.size]).toEqual([true, true, false, 2]);
    expect((await reopened.search(rows([0, 0, 1, 0]), 3)).ids[2]).toBe(-1);
    // the first write restores the saved version as the latest and goes on from there
    await reopened.add([4], rows([0, 0, 0, 1]));
    expect((await reopened.search(rows([0, 0, 0, 2]), 1)).ids[0]).toBe(4);
    await reopened.save(path);
    await reopened.close();
    const third = await loadLanceIndex(path);
    expect([third.has(1), third.has(2), third.has(3), third.has(4)]).toEqual([true, true, false, true]);
    const sidecar = JSON.parse(readFileSync(join(path, 'index.json'), 'utf8')) as { size: number; version: number; metric: string };
    expect(sidecar.size).toBe(3);
    expect(sidecar.version).toBe(third.savedVersion);
    await third.close();
  });

  it('a save to another folder is a snapshot: later writes stay out, a second save replaces it', async () => {
    const path = folder();
    const copy = folder();
    const index = await LanceIndex.create({ path, dimension, metric: 'l2' });
    await index.add([1, 2], rows([1, 0, 0, 0], [0, 1, 0, 0]));
    await index.save(copy);
    await index.add([3], rows([0, 0, 1, 0]));
    const first = await loadLanceIndex(copy);
    expect([first.size, first.has(3)]).toEqual([2, false]);
    await first.close();
    const entries = readdirSync(copy);
    expect(entries.filter((name) => name !== 'index.json')).toHaveLength(1);
    await index.save(copy);
    const second = await loadLanceIndex(copy);
    expect([second.size, second.has(3)]).toEqual([3, true]);
    await second.close();
    // the previous snapshot is gone (no handle reads it any more); nothing else was left behind
    const after = readdirSync(copy);
    expect(after).toHaveLength(2);
    expect(after.filter((name) => name.startsWith('lance-'))).toHaveLength(1);
    expect(after.filter((name) => entries.includes(name) && name !== 'index.json')).toEqual([]);
    // the original still lives in its own folder, unchanged by the copies
    expect(index.path).toBe(path);
    expect(index.savedVersion).toBeLessThan(await index.tableVersion());
    await index.close();
  });

  it('a failed copy leaves the target as it was, without staging folders', async () => {
    const path = folder();
    const target = folder();
    const index = await LanceIndex.create({ path, dimension, metric: 'ip' });
    await index.add([1], rows([1, 2, 3, 4]));
    await index.save(target);
    const before = readdirSync(target).sort();
    await index.add([2], rows([4, 3, 2, 1]));
    const disarm = armSaveFault();
    try {
      expect((await rejection(() => index.save(target))).code).toBe('IO_ERROR');
    } finally {
      disarm();
    }
    expect(readdirSync(target).sort()).toEqual(before);
    const loaded = await loadLanceIndex(target);
    expect(loaded.size).toBe(1);
    await loaded.close();
    await index.close();
  });

  it('refuses folders that are not empty or not LanceIndex folders, and nested targets', async () => {
    const busy = folder();
    mkdirSync(busy);
    writeFileSync(join(busy, 'notes.txt'), 'hello');
    expect((await rejection(() => LanceIndex.create({ path: busy, dimension }))).code).toBe('INVALID_INPUT');
    const path = folder();
    const index = await LanceIndex.create({ path, dimension });
    await index.add([1], rows([1, 1, 1, 1]));
    expect((await rejection(() => index.save(busy))).code).toBe('INVALID_INPUT');
    expect(readdirSync(busy)).toEqual(['notes.txt']);
    expect((await rejection(() => index.save(join(path, 'inner')))).code).toBe('INVALID_INPUT');
    expect((await rejection(() => index.save(join(path, '..')))).code).toBe('INVALID_INPUT');
    expect((await rejection(() => LanceIndex.create({ path: folder(), dimension: 0 }))).code).toBe('INVALID_OPTION');
    expect((await rejection(() => LanceIndex.create({ path: folder(), dimension, metric: 'dot' as VectorMetric }))).code).toBe('INVALID_OPTION');
    expect((await rejection(() => index.buildIndex({ numSubVectors: 3 }))).code).toBe('INVALID_OPTION');
    expect((await rejection(() => index.buildIndex())).message).toContain('at least 256 vectors');
    await index.close();
  });
});

describe('loadLanceIndex checks the sidecar and the table before trusting them', () => {
  const dimension = 4;
  let saved: string;
  let other: string;

  beforeAll(async () => {
    saved = folder();
    const index = await LanceIndex.create({ path: saved, dimension, metric: 'ip' });
    await index.add([1, 2, 3], Float32Array.from({ length: 12 }, (_, i) => i));
    await index.save(saved);
    await index.close();
    other = folder();
    const second = await LanceIndex.create({ path: other, dimension, metric: 'ip' });
    await second.add([7], new Float32Array([1, 1, 1, 1]));
    await second.save(other);
    await second.close();
  });

  function variant(edit: (path: string, sidecar: Record<string, unknown>) => void): string {
    const path = folder();
    cpSync(saved, path, { recursive: true });
    const sidecar = JSON.parse(readFileSync(join(path, 'index.json'), 'utf8')) as Record<string, unknown>;
    edit(path, sidecar);
    return path;
  }
  const withSidecar = (change: Record<string, unknown>) =>
    variant((path, sidecar) => writeFileSync(join(path, 'index.json'), JSON.stringify({ ...sidecar, ...change })));

  it('loads the intact folder; isLanceIndexFolder tells it apart', async () => {
    const index = await loadLanceIndex(saved, { dimension, metric: 'ip' });
    expect(index.size).toBe(3);
    await index.close();
    expect(isLanceIndexFolder(saved)).toBe(true);
    expect(isLanceIndexFolder(root)).toBe(false);
  });

  it.each([
    ['a missing folder', () => join(root, 'missing'), 'NOT_FOUND'],
    ['a folder without index.json', () => variant((path) => rmSync(join(path, 'index.json'))), 'NOT_FOUND'],
    ['malformed JSON', () => variant((path) => writeFileSync(join(path, 'index.json'), '{"kind": ')), 'PARSE_ERROR'],
    ['another kind', () => withSidecar({ kind: 'genrec.flat-index' }), 'FORMAT_VERSION'],
    ['a newer format version', () => withSidecar({ formatVersion: 2 }), 'FORMAT_VERSION'],
    ['an edited metric (l2 would need the l2 distance)', () => withSidecar({ metric: 'l2' }), 'CORRUPT_ARTIFACT'],
    ['an edited dimension', () => withSidecar({ dimension: 8 }), 'CORRUPT_ARTIFACT'],
    ['an edited size', () => withSidecar({ size: 4 }), 'CORRUPT_ARTIFACT'],
    ['a table version beyond the latest', () => withSidecar({ version: 999 }), 'CORRUPT_ARTIFACT'],
    ['an IVF-PQ entry without an index', () => withSidecar({ vectorIndex: { type: 'IVF_PQ' } }), 'CORRUPT_ARTIFACT'],
    ['a snapshot name that is not there', () => withSidecar({ snapshot: 'lance-abc-1-1' }), 'CORRUPT_ARTIFACT'],
    ['a snapshot name outside the pattern', () => withSidecar({ snapshot: '../elsewhere' }), 'CORRUPT_ARTIFACT'],
    [
      'the snapshot of another save under this name',
      () =>
        variant((path, sidecar) => {
          const name = String(sidecar.snapshot);
          rmSync(join(path, name), { recursive: true });
          const otherName = readdirSync(other).find((entry) => entry.startsWith('lance-'))!;
          cpSync(join(other, otherName), join(path, name), { recursive: true });
        }),
      'CORRUPT_ARTIFACT',
    ],
    [
      'truncated manifests',
      () =>
        variant((path, sidecar) => {
          const versions = join(path, String(sidecar.snapshot), 'vectors.lance', '_versions');
          for (const file of readdirSync(versions)) if (file.endsWith('.manifest')) truncateSync(join(versions, file), 10);
        }),
      'CORRUPT_ARTIFACT',
    ],
    [
      'no table in the snapshot',
      () =>
        variant((path, sidecar) => {
          const snapshot = join(path, String(sidecar.snapshot));
          renameSync(join(snapshot, 'vectors.lance'), join(snapshot, 'renamed.lance'));
        }),
      'CORRUPT_ARTIFACT',
    ],
  ] as const)('%s fails with %s', async (_, make, code) => {
    const error = await rejection(() => loadLanceIndex(make()));
    expect(error.code).toBe(code);
    expect(error.message.length).toBeGreaterThan(20);
  });

  it('an expected dimension or metric that differs fails like the other indexes', async () => {
    const shape = await rejection(() => loadLanceIndex(saved, { dimension: 8 }));
    expect(shape.code).toBe('SHAPE_MISMATCH');
    expect(shape.message).toContain('dimension 4');
    expect((await rejection(() => loadLanceIndex(saved, { metric: 'cosine' }))).code).toBe('INVALID_INPUT');
  });

  it("@genrec/ann's loadVectorIndex names the kind it does not know", async () => {
    const error = await rejection(() => loadVectorIndex(saved));
    expect(error.code).toBe('FORMAT_VERSION');
    expect(error.message).toContain('genrec.lancedb-index');
  });
});
