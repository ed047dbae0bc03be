import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GenrecError, Rng, type VectorMetric } from '@genrec/core';
import { FlatIndex } from './flat-index.js';
import { loadVectorIndex } from './load-vector-index.js';
import { recallAtK } from './recall-throughput.js';
import { readArtifactFile, rewriteArtifactFile } from './test-helpers.js';
import { referenceScore, referenceSearch, type ReferenceEntry } from './testing/reference-search.js';
import { UsearchIndex, loadUsearchIndex } from './usearch-index.js';

const directory = mkdtempSync(join(tmpdir(), 'genrec-ann-usearch-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

// the recall set: 2,000 x 32 standard normal vectors, seeded
const width = 32;
const itemCount = 2000;
const queryCount = 100;
const rng = new Rng(2026);
const vectors = rng.fillNormal(new Float32Array(itemCount * width));
const queries = rng.fillNormal(new Float32Array(queryCount * width));
const ids = Int32Array.from({ length: itemCount }, (_, i) => 10 + 3 * i);
const entries: ReferenceEntry[] = Array.from(ids, (id, i) => ({ id, vector: vectors.subarray(i * width, (i + 1) * width) }));
const queryRow = (q: number): Float32Array => queries.subarray(q * width, (q + 1) * width);

async function exactIds(metric: VectorMetric, k: number): Promise<Int32Array> {
  const exact = new FlatIndex({ dimension: width, metric, backend: 'javascript' });
  await exact.add(ids, vectors);
  return (await exact.search(queries, k)).ids;
}

function rows(result: { ids: Int32Array; scores: Float32Array; k: number }, q: number): { ids: number[]; scores: number[] } {
  return { ids: Array.from(result.ids.subarray(q * result.k, (q + 1) * result.k)), scores: Array.from(result.scores.subarray(q * result.k, (q + 1) * result.k)) };
}

async function expectCode(action: () => unknown, code: string): Promise<GenrecError> {
  let caught: unknown;
  try {
    await action();
  } catch (error) {
    caught = error;
  }
  expect(GenrecError.isInstance(caught), `expected ${code}, got ${String(caught)}`).toBe(true);
  expect((caught as GenrecError).code).toBe(code);
  return caught as GenrecError;
}

describe('UsearchIndex', () => {
  for (const metric of ['ip', 'cosine', 'l2'] as VectorMetric[]) {
    it(`[${metric}] recall@10 against exact FlatIndex is at least 0.95 at default settings (seeded 2,000 x 32)`, async () => {
      const truth = await exactIds(metric, 10);
      const index = new UsearchIndex({ dimension: width, metric });
      expect([index.m, index.efConstruction, index.ef, index.quantization, index.threads]).toEqual([16, 200, 64, 'f32', 1]);
      await index.add(ids, vectors);
      const result = await index.search(queries, 10);
      const recall = recallAtK(result.ids, truth, queryCount, 10);
      console.log(`[usearch] ${metric} recall@10 at defaults (m 16, efConstruction 200, ef 64): ${recall.toFixed(4)}`);
      expect(recall).toBeGreaterThanOrEqual(0.95);
      // scores on the contract's scale, as the float64 reference computes them
      for (let q = 0; q < queryCount; q += 7) {
        const id = result.ids[q * 10]!;
        const reference = referenceScore(queryRow(q), entries[(id - 10) / 3]!.vector, metric);
        expect(Math.abs(result.scores[q * 10]! - reference)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(reference)));
      }
    });
  }

  it('a batched search equals one search per query (1 and 3 threads; exclusions, filter, another ef)', async () => {
    const index = new UsearchIndex({ dimension: width, metric: 'ip', m: 12, efConstruction: 100 });
    await index.add(ids, vectors);
    const exclude = Array.from({ length: queryCount }, (_, q) => (q % 3 === 0 ? [ids[q]!, ids[q + 1]!, 99] : undefined));
    const filter = (id: number) => id % 4 !== 0;
    for (const options of [{}, { threads: 3 }, { exclude }, { filter, threads: 2 }, { ef: 20, exclude, filter }]) {
      const batched = await index.search(queries, 10, options);
      for (let q = 0; q < queryCount; q++) {
        const single = await index.search(queryRow(q), 10, {
          ...options,
          ...('exclude' in options ? { exclude: [options.exclude[q]] } : {}),
        });
        expect(rows(single, 0)).toEqual(rows(batched, q));
      }
    }
  });

  it('ef: the index is built with its ef; another ef runs on a view of the graph, which writes refresh (measured)', async () => {
    const truth = await exactIds('ip', 10);
    const index = new UsearchIndex({ dimension: width, metric: 'ip', m: 8, efConstruction: 64, ef: 32 });
    await index.add(ids, vectors);
    const recall = async (ef?: number) => recallAtK((await index.search(queries, 10, ef === undefined ? {} : { ef })).ids, truth, queryCount, 10);
    const built = await recall();
    const narrow = await recall(10);
    const wide = await recall(400);
    console.log(`[usearch] recall@10 by ef on the 2,000 x 32 set (m 8): ef 10 ${narrow.toFixed(4)}, ef 32 (built) ${built.toFixed(4)}, ef 400 (view) ${wide.toFixed(4)}`);
    expect(narrow).toBeLessThan(built);
    expect(built).toBeLessThan(wide);
    expect(wide).toBeGreaterThanOrEqual(0.99);
    // the built ef asked for explicitly is the index itself: identical answer
    expect(Array.from((await index.search(queries, 10, { ef: 32 })).ids)).toEqual(Array.from((await index.search(queries, 10)).ids));
    // the ef property: a default served by a view, the same answer as the per-call ef
    const perCall = await index.search(queries, 10, { ef: 10 });
    index.ef = 10;
    expect(Array.from((await index.search(queries, 10)).ids)).toEqual(Array.from(perCall.ids));
    index.ef = 32;
    // ef at or above the size is the exhaustive graph search: exact here
    expect(recallAtK((await index.search(queries, 10, { ef: 1_000_000 })).ids, truth, queryCount, 10)).toBe(1);
    // a write drops the views: the next ef-10 search sees the new vector
    const far = queryRow(0).map((v) => 50 * v);
    await index.add([1], far);
    expect((await index.search(queryRow(0), 1, { ef: 10 })).ids[0]).toBe(1);
    await index.remove([1]);
    expect((await index.search(queryRow(0), 1, { ef: 10 })).ids[0]).not.toBe(1);
    // views leave nothing behind in the temporary folder
    expect(readdirSync(tmpdir()).filter((name) => name.startsWith('genrec-usearch-view-'))).toEqual([]);
  });

  it('exclusions and filters never return fewer ids than exist: the search widens until it has k or has seen the index', async () => {
    const index = new UsearchIndex({ dimension: width, metric: 'l2', m: 8, efConstruction: 64, ef: 16 });
    await index.add(ids, vectors);
    const accepted = new Set([ids[5]!, ids[1500]!, ids[1999]!]);
    const result = await index.search(queries.subarray(0, 4 * width), 5, { filter: (id) => accepted.has(id) });
    for (let q = 0; q < 4; q++) {
      const expected = referenceSearch(entries, queryRow(q), 5, 'l2', (id) => accepted.has(id));
      expect(rows(result, q).ids).toEqual([...expected.map((entry) => entry.id), -1, -1]);
      expect(rows(result, q).scores.slice(3)).toEqual([Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY]);
    }
    // everything but 4 ids excluded: exactly those 4, best first
    const keep = [ids[3]!, ids[700]!, ids[1200]!, ids[1800]!];
    const everythingElse = Array.from(ids).filter((id) => !keep.includes(id));
    const excluded = await index.search(queryRow(9), 6, { exclude: [everythingElse] });
    const expected = referenceSearch(entries, queryRow(9), 4, 'l2', (id) => keep.includes(id));
    expect(rows(excluded, 0).ids).toEqual([...expected.map((entry) => entry.id), -1, -1]);
  });

  it('scores: golden values for ip, cosine (a zero query scores 0) and l2, with every storage type', async () => {
    const stored = new Float32Array([3, 0, 0, 0, 0, 2, 0, 0, 1, 1, 0, 0]);
    const query = new Float32Array([2, 1, 0, 0]);
    const golden: Record<VectorMetric, [number[], number[]]> = {
      ip: [[1, 3, 2], [6, 3, 2]],
      cosine: [[3, 1, 2], [3 / Math.sqrt(10), 6 / Math.sqrt(45), 2 / Math.sqrt(20)]],
      l2: [[3, 1, 2], [-1, -2, -5]],
    };
    for (const metric of ['ip', 'cosine', 'l2'] as VectorMetric[]) {
      for (const quantization of ['f32', 'f16', 'bf16', 'i8'] as const) {
        if (quantization === 'i8' && metric !== 'cosine') continue;
        const index = new UsearchIndex({ dimension: 4, metric, quantization });
        await index.add([1, 2, 3], stored);
        const result = await index.search(query, 3);
        expect(Array.from(result.ids)).toEqual(golden[metric][0]);
        const tolerance = quantization === 'i8' ? 2e-2 : 1e-6;
        for (let j = 0; j < 3; j++) expect(Math.abs(result.scores[j]! - golden[metric][1][j]!)).toBeLessThanOrEqual(tolerance);
        if (metric === 'cosine') {
          // a zero vector has no direction: it scores 0 against any query, and a zero query against any vector
          await index.add([4], new Float32Array(4));
          const againstZero = await index.search(query, 4);
          expect([againstZero.ids[3], againstZero.scores[3]]).toEqual([4, 0]);
          expect(Array.from((await index.search(new Float32Array(4), 4)).scores)).toEqual([0, 0, 0, 0]);
        }
      }
    }
  });

  it('quantization: i8 is cosine-only, f16 refuses values it cannot store, unknown options are refused', async () => {
    for (const metric of ['ip', 'l2'] as VectorMetric[]) {
      const error = await expectCode(() => new UsearchIndex({ dimension: 4, metric, quantization: 'i8' }), 'INVALID_OPTION');
      expect(error.message).toContain('cosine');
    }
    await expectCode(() => new UsearchIndex({ dimension: 4, quantization: 'f8' as never }), 'INVALID_OPTION');
    await expectCode(() => new UsearchIndex({ dimension: 4, connectivity: 8 } as never), 'INVALID_OPTION');
    await expectCode(() => new UsearchIndex({ dimension: 4, ef: 0 }), 'INVALID_OPTION');
    await expectCode(() => new UsearchIndex({ dimension: 4, ef: 70_000 }), 'INVALID_OPTION');
    await expectCode(() => new UsearchIndex({ dimension: 4, m: 1 }), 'INVALID_OPTION');
    await expectCode(() => new UsearchIndex({ dimension: 4, threads: 0 }), 'INVALID_OPTION');
    const index = new UsearchIndex({ dimension: 4, metric: 'l2', quantization: 'f16' });
    await index.add([1], new Float32Array([65504, -65504, 1, 0])); // the largest f16 values are fine
    const error = await expectCode(() => index.add([2, 3], new Float32Array([1, 2, 3, 4, 0, 70000, 0, 0])), 'INVALID_INPUT');
    expect(error.message).toContain('row 1, column 1');
    expect([index.size, index.has(2)]).toEqual([1, false]);
    await expectCode(() => index.search(new Float32Array([0, 0, 1e6, 0]), 1), 'INVALID_INPUT');
    await expectCode(() => index.search(new Float32Array(4), 1, { threads: 0 }), 'INVALID_OPTION');
  });

  it('replace: an id present gets its new vector, an id repeated in the call keeps its last row', async () => {
    const index = new UsearchIndex({ dimension: 4, metric: 'l2' });
    const e = (c: number) => new Float32Array([0, 0, 0, 0].map((_, i) => (i === c ? 1 : 0)));
    await index.add([1, 2], new Float32Array([...e(0), ...e(1)]));
    await index.add([2, 3, 3], new Float32Array([...e(2), ...e(0), ...e(3)]), { replace: true });
    expect(index.size).toBe(3);
    for (const [axis, id] of [[0, 1], [2, 2], [3, 3]] as const) {
      const result = await index.search(e(axis), 1);
      expect([result.ids[0], result.scores[0]]).toEqual([id, -0]);
    }
    expect((await index.search(e(1), 1)).scores[0]).toBe(-2); // nothing stored on axis 1 any more
  });

  it('builds deterministically with one insert thread: the same rows in the same order give the same file', async () => {
    const digests: string[] = [];
    for (const round of [0, 1]) {
      const index = new UsearchIndex({ dimension: width, m: 8, efConstruction: 40, threads: 2 });
      // small adds that make the graph grow many times
      for (let start = 0; start < 600; start += 37) await index.add(ids.subarray(start, Math.min(600, start + 37)), vectors.subarray(start * width, Math.min(600, start + 37) * width));
      const path = join(directory, `deterministic-${round}`);
      await index.save(path);
      digests.push(createHash('sha256').update(readArtifactFile(path, 'index.usearch')).digest('hex'));
    }
    expect(digests[0]).toBe(digests[1]);
  });

  it('threads: more threads than search contexts run on as many as there are, with the same answer', async () => {
    const index = new UsearchIndex({ dimension: width, m: 8, efConstruction: 40, threads: 64, addThreads: 1 });
    // one row at a time: every growth happens inside a one-row add
    for (let i = 0; i < 300; i++) await index.add([ids[i]!], vectors.subarray(i * width, (i + 1) * width));
    // growth reserved max(threads, addThreads, cores) search contexts
    expect(index.searchContexts).toBe(64);
    const one = await index.search(queries, 10, { threads: 1 });
    for (const threads of [2, 64]) expect(Array.from((await index.search(queries, 10, { threads })).ids)).toEqual(Array.from(one.ids));
    const path = join(directory, 'threads');
    await index.save(path);
    const loaded = await loadUsearchIndex(path, { threads: 200 });
    expect(loaded.threads).toBe(200);
    expect(loaded.searchContexts).toBeGreaterThanOrEqual(1); // usearch's load: one per core
    expect(Array.from((await loaded.search(queries, 10)).ids)).toEqual(Array.from(one.ids));
    // the loaded index keeps growing and searching with several threads
    await loaded.add(ids.subarray(300, 900), vectors.subarray(300 * width, 900 * width));
    expect(loaded.searchContexts).toBe(200);
    expect((await loaded.search(queries, 10, { threads: 4 })).ids.length).toBe(queryCount * 10);
  });

  it('saves usearch file + sidecar (quantization, parameters, slot -> id map, checksum) and loads it back, quantized', async () => {
    const index = new UsearchIndex({ dimension: width, metric: 'cosine', m: 6, efConstruction: 30, ef: 20, quantization: 'f16' });
    await index.add(ids.subarray(0, 50), vectors.subarray(0, 50 * width));
    await index.remove([ids[4]!, ids[9]!]);
    const path = join(directory, 'saved');
    await index.save(path);
    const sidecar = JSON.parse(new TextDecoder().decode(readArtifactFile(path, 'index.json'))) as Record<string, unknown>;
    const data = readArtifactFile(path, 'index.usearch');
    expect(sidecar).toMatchObject({
      kind: 'genrec.usearch-index',
      formatVersion: 1,
      implementation: 'usearch',
      metric: 'cosine',
      dimension: width,
      size: 48,
      quantization: 'f16',
      parameters: { m: 6, efConstruction: 30, ef: 20 },
      data: { file: 'index.usearch', bytes: data.byteLength, sha256: createHash('sha256').update(data).digest('hex') },
    });
    expect(sidecar.ids).toEqual(Array.from(ids.subarray(0, 50), (id, slot) => (slot === 4 || slot === 9 ? -1 : id)));
    // f16 rows: 2 bytes per value
    expect(new DataView(data.buffer, data.byteOffset).getUint32(4, true)).toBe(2 * width);
    const loaded = (await loadVectorIndex(path, { dimension: width, metric: 'cosine' })) as UsearchIndex;
    expect(loaded).toBeInstanceOf(UsearchIndex);
    expect([loaded.quantization, loaded.m, loaded.efConstruction, loaded.ef, loaded.size, loaded.has(ids[4]!), loaded.has(ids[5]!)]).toEqual(['f16', 6, 30, 20, 48, false, true]);
    const original = await index.search(queries, 10);
    const restored = await loaded.search(queries, 10);
    expect(Array.from(restored.ids)).toEqual(Array.from(original.ids));
    expect(Array.from(restored.scores)).toEqual(Array.from(original.scores));
    await expectCode(() => loadUsearchIndex(path, { metric: 'ip' }), 'INVALID_INPUT');
    await expectCode(() => loadUsearchIndex(path, { threads: 0 }), 'INVALID_OPTION');
    // a sidecar that disagrees with the file, checksums regenerated: the layout check refuses it
    for (const [field, value] of [
      ['quantization', 'f32'],
      ['metric', 'ip'],
      ['ids', Array.from(ids.subarray(0, 50))],
    ] as const) {
      const copy = join(directory, `edited-${field}`);
      await index.save(copy);
      rewriteArtifactFile(copy, 'index.json', JSON.stringify({ ...sidecar, [field]: value }));
      await expectCode(() => loadUsearchIndex(copy), 'CORRUPT_ARTIFACT');
    }
    // the sidecar is covered by the checksum list: an unsigned edit fails there
    const unsigned = join(directory, 'unsigned');
    await index.save(unsigned);
    rewriteArtifactFile(unsigned, 'index.json', JSON.stringify({ ...sidecar, dimension: 16 }), false);
    await expectCode(() => loadUsearchIndex(unsigned), 'CORRUPT_ARTIFACT');
  });

  it('an empty index saves and loads; memoryBytes grows with the vectors', async () => {
    const index = new UsearchIndex({ dimension: 8 });
    expect(index.memoryBytes).toBe(0);
    const path = join(directory, 'empty');
    await index.save(path);
    const loaded = await loadUsearchIndex(path);
    expect(loaded.size).toBe(0);
    expect(Array.from((await loaded.search(new Float32Array(8).fill(1), 2)).ids)).toEqual([-1, -1]);
    await loaded.add([4], new Float32Array(8).fill(1));
    expect((await loaded.search(new Float32Array(8).fill(1), 2)).ids[0]).toBe(4);
    const filled = new UsearchIndex({ dimension: width });
    await filled.add(ids.subarray(0, 1000), vectors.subarray(0, 1000 * width));
    expect(filled.memoryBytes).toBeGreaterThan(1000 * (4 * width + 8 * 16));
    expect(filled.memoryBytes).toBeLessThan(filled.capacity * 40 + 1000 * (4 * width + 8 * 16 + 30));
  });
});
