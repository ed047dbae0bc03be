import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GenrecError, Rng, createMatrix, type Matrix, type VectorIndex, type VectorMetric, type VectorSearchResult } from '@genrec/core';
import { referenceScore, referenceSearch, type ReferenceEntry } from './reference-search.js';

/** What the suite asks of an implementation. */
export interface VectorIndexConformanceOptions {
  /** Creates an empty index. */
  create: (init: { dimension: number; metric: VectorMetric }) => VectorIndex | Promise<VectorIndex>;
  /** Loads what `save` wrote; `expected` carries the dimension the caller expects (must be checked). */
  load: (path: string, expected?: { dimension?: number; metric?: VectorMetric }) => Promise<VectorIndex>;
  /** Metrics to run every case with. @defaultValue ['ip', 'cosine', 'l2'] */
  metrics?: readonly VectorMetric[];
  /** True for exact indexes: then every top-k must equal the naive reference, not only the top-1. @defaultValue false */
  exact?: boolean;
  /**
   * Arms a one-shot failure of the next `save` midway through writing (see `armSaveFault`); returns a
   * disarm function. Without it the "failed save" case is skipped (say why in `skip`).
   */
  armSaveFault?: () => () => void;
  /** Cases to skip, by name, each with the reason (printed). */
  skip?: Readonly<Record<string, string>>;
  /** Absolute tolerance on scores compared with the float64 reference. @defaultValue 1e-4 */
  scoreTolerance?: number;
}

/** Names of the suite's cases (keys of {@link VectorIndexConformanceOptions.skip}). */
export const CONFORMANCE_CASES = [
  'top-1 matches exact search on easy data',
  'k larger than the index pads with -1 and -Infinity',
  'empty index returns only padding',
  'duplicate ids throw unless replace',
  'exclusion sets are honoured',
  'filter predicate is honoured',
  'removed ids are never returned and can be re-added',
  'a rejected add or remove leaves the index unchanged',
  'writes issued without await apply in call order',
  'remove of a missing id rejects with UNKNOWN_ID and removes nothing',
  'save/load round trip gives identical results',
  'bad input gives a clear GenrecError',
  'loading an index written for another dimension fails',
  'a corrupt or mismatched saved index fails to load',
  'a failed save leaves the previous index intact',
] as const;

const DIMENSION = 12;
const BASE_COUNT = 240;
const QUERY_COUNT = 40;

interface EasyData {
  entries: ReferenceEntry[];
  ids: Int32Array;
  vectors: Float32Array;
  queries: Float32Array;
}

/** Vectors with random directions and norms in [0.5, 1.5]; queries are stored vectors plus small noise. */
function easyData(seed: number): EasyData {
  const rng = new Rng(seed);
  const vectors = new Float32Array(BASE_COUNT * DIMENSION);
  const ids = new Int32Array(BASE_COUNT);
  const entries: ReferenceEntry[] = [];
  for (let i = 0; i < BASE_COUNT; i++) {
    ids[i] = 1000 + 7 * i; // sparse, non-contiguous ids
    const row = vectors.subarray(i * DIMENSION, (i + 1) * DIMENSION);
    rng.fillNormal(row);
    let norm = 0;
    for (const v of row) norm += v * v;
    const scale = rng.uniformIn(0.5, 1.5) / Math.sqrt(norm);
    for (let c = 0; c < DIMENSION; c++) row[c] = row[c]! * scale;
    entries.push({ id: ids[i]!, vector: row.slice() });
  }
  const queries = new Float32Array(QUERY_COUNT * DIMENSION);
  for (let q = 0; q < QUERY_COUNT; q++) {
    const source = rng.int(BASE_COUNT);
    for (let c = 0; c < DIMENSION; c++) queries[q * DIMENSION + c] = vectors[source * DIMENSION + c]! + rng.normal(0, 0.02);
  }
  return { entries, ids, vectors, queries };
}

function queryRow(queries: Float32Array, q: number): Float32Array {
  return queries.subarray(q * DIMENSION, (q + 1) * DIMENSION);
}

async function expectGenrecErrorAsync(action: () => Promise<unknown>, code: string | readonly string[]): Promise<GenrecError> {
  let caught: unknown;
  try {
    await action();
  } catch (error) {
    caught = error;
  }
  expect(GenrecError.isInstance(caught), `expected a GenrecError ${String(code)}, got ${String(caught)}`).toBe(true);
  const codes = typeof code === 'string' ? [code] : code;
  expect(codes).toContain((caught as GenrecError).code);
  return caught as GenrecError;
}

/**
 * Runs a write (`add` / `remove`) and expects its promise to reject with a `GenrecError` of `code`
 * and a real message. A synchronous throw fails the case: the contract reports bad input of a
 * write as a rejection.
 */
async function expectRejectedWrite(write: () => Promise<unknown>, code: string): Promise<GenrecError> {
  let pending: Promise<unknown>;
  try {
    pending = write();
  } catch (error) {
    throw new Error(`expected a rejected promise, the write threw synchronously: ${String(error)}`);
  }
  expect(pending).toBeInstanceOf(Promise);
  const error = await expectGenrecErrorAsync(() => pending, code);
  expect(error.message.length).toBeGreaterThan(10);
  return error;
}

function rowIds(result: VectorSearchResult, q: number): number[] {
  return Array.from(result.ids.subarray(q * result.k, (q + 1) * result.k));
}

function rowScores(result: VectorSearchResult, q: number): number[] {
  return Array.from(result.scores.subarray(q * result.k, (q + 1) * result.k));
}

/** Checks shape, padding, descending scores, and (for real ids) scores equal to the reference's. */
function checkWellFormed(result: VectorSearchResult, queryCount: number, k: number, queries: Float32Array, byId: Map<number, Float32Array>, metric: VectorMetric, tolerance: number): void {
  expect(result.queryCount).toBe(queryCount);
  expect(result.k).toBe(k);
  expect(result.ids).toBeInstanceOf(Int32Array);
  expect(result.scores).toBeInstanceOf(Float32Array);
  expect(result.ids.length).toBe(queryCount * k);
  expect(result.scores.length).toBe(queryCount * k);
  for (let q = 0; q < queryCount; q++) {
    const ids = rowIds(result, q);
    const scores = rowScores(result, q);
    let padded = false;
    const seen = new Set<number>();
    for (let j = 0; j < k; j++) {
      if (ids[j] === -1) {
        padded = true;
        expect(scores[j]).toBe(Number.NEGATIVE_INFINITY);
        continue;
      }
      expect(padded, 'a real id after padding').toBe(false);
      expect(seen.has(ids[j]!), `id ${ids[j]} returned twice`).toBe(false);
      seen.add(ids[j]!);
      const vector = byId.get(ids[j]!);
      expect(vector, `returned id ${ids[j]} is not in the index`).toBeDefined();
      expect(Math.abs(scores[j]! - referenceScore(queryRow(queries, q), vector!, metric))).toBeLessThanOrEqual(tolerance);
      if (j > 0) expect(scores[j]!).toBeLessThanOrEqual(scores[j - 1]! + 1e-6);
    }
  }
}

/**
 * Registers the behaviour every `VectorIndex` must have as a vitest `describe` block: same top-1 as
 * an exact search on easy data (the whole top-k for exact indexes), `k` larger than the index,
 * empty index, duplicate-id policy, exclusion and filter, remove then search, the asynchronous
 * writes (a rejected `add`/`remove` leaves search results identical, writes issued without `await`
 * apply in call order, `remove` of a missing id rejects with `UNKNOWN_ID`), save/load round trip
 * with identical results, clear `GenrecError`s for bad input (rejections, never synchronous throws,
 * for writes), loading for another dimension, corrupt or mismatched files, and a failed save
 * leaving the previous index intact. Each case runs for every metric in `options.metrics`.
 *
 * @example
 * ```ts
 * import { describeVectorIndexConformance, armSaveFault } from '@genrec/ann/testing';
 * describeVectorIndexConformance('HnswIndex', {
 *   create: ({ dimension, metric }) => new HnswIndex({ dimension, metric }),
 *   load: (path, expected) => loadHnswIndex(path, expected),
 *   armSaveFault,
 * });
 * ```
 */
export function describeVectorIndexConformance(name: string, options: VectorIndexConformanceOptions): void {
  const metrics = options.metrics ?? (['ip', 'cosine', 'l2'] as const);
  const tolerance = options.scoreTolerance ?? 1e-4;
  const skip = options.skip ?? {};
  const directories: string[] = [];
  const temporary = (): string => {
    const directory = mkdtempSync(join(tmpdir(), 'genrec-ann-conformance-'));
    directories.push(directory);
    return directory;
  };

  describe(`VectorIndex conformance: ${name}`, () => {
    afterAll(() => {
      for (const directory of directories) rmSync(directory, { recursive: true, force: true });
    });

    for (const metric of metrics) {
      const data = easyData(metric === 'ip' ? 11 : metric === 'cosine' ? 12 : 13);
      const byId = new Map(data.entries.map((entry) => [entry.id, entry.vector] as const));
      const filled = async (): Promise<VectorIndex> => {
        const index = await options.create({ dimension: DIMENSION, metric });
        await index.add(data.ids, data.vectors);
        return index;
      };
      const test = (caseName: (typeof CONFORMANCE_CASES)[number], body: () => Promise<void>): void => {
        const reason = skip[caseName];
        if (reason !== undefined) {
          it.skip(`[${metric}] ${caseName} — skipped: ${reason}`, () => undefined);
          return;
        }
        it(`[${metric}] ${caseName}`, body);
      };

      test('top-1 matches exact search on easy data', async () => {
        const index = await filled();
        expect(index.size).toBe(BASE_COUNT);
        expect(index.dimension).toBe(DIMENSION);
        expect(index.metric).toBe(metric);
        const k = 10;
        const result = await index.search(data.queries, k);
        checkWellFormed(result, QUERY_COUNT, k, data.queries, byId, metric, tolerance);
        for (let q = 0; q < QUERY_COUNT; q++) {
          const reference = referenceSearch(data.entries, queryRow(data.queries, q), k, metric);
          expect(rowIds(result, q)[0]).toBe(reference[0]!.id);
          if (options.exact) expect(rowIds(result, q)).toEqual(reference.map((entry) => entry.id));
        }
        // a Matrix is accepted as well as a Float32Array, with the same answer
        const again = await index.search(createMatrix(QUERY_COUNT, DIMENSION, data.queries), k);
        expect(Array.from(again.ids)).toEqual(Array.from(result.ids));
      });

      test('k larger than the index pads with -1 and -Infinity', async () => {
        const index = await options.create({ dimension: DIMENSION, metric });
        await index.add(data.ids.subarray(0, 5), data.vectors.subarray(0, 5 * DIMENSION));
        const k = 8;
        const result = await index.search(data.queries.subarray(0, 3 * DIMENSION), k);
        checkWellFormed(result, 3, k, data.queries, byId, metric, tolerance);
        for (let q = 0; q < 3; q++) {
          const ids = rowIds(result, q);
          expect([...ids.slice(0, 5)].sort((a, b) => a - b)).toEqual(Array.from(data.ids.subarray(0, 5)));
          expect(ids.slice(5)).toEqual([-1, -1, -1]);
          expect(rowScores(result, q).slice(5)).toEqual([Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY]);
          const reference = referenceSearch(data.entries.slice(0, 5), queryRow(data.queries, q), 5, metric);
          expect(ids.slice(0, 5)).toEqual(reference.map((entry) => entry.id));
        }
      });

      test('empty index returns only padding', async () => {
        const index = await options.create({ dimension: DIMENSION, metric });
        expect(index.size).toBe(0);
        expect(index.has(data.ids[0]!)).toBe(false);
        const result = await index.search(data.queries.subarray(0, 2 * DIMENSION), 4, { exclude: [new Set([1]), undefined], filter: () => true });
        expect(Array.from(result.ids)).toEqual(new Array(8).fill(-1));
        expect(Array.from(result.scores)).toEqual(new Array(8).fill(Number.NEGATIVE_INFINITY));
        const none = await index.search(new Float32Array(0), 3);
        expect(none.queryCount).toBe(0);
        expect(none.ids.length).toBe(0);
      });

      test('duplicate ids throw unless replace', async () => {
        const index = await options.create({ dimension: DIMENSION, metric });
        const first = data.vectors.subarray(0, DIMENSION);
        const second = data.vectors.subarray(DIMENSION, 2 * DIMENSION);
        const third = data.vectors.subarray(2 * DIMENSION, 3 * DIMENSION);
        await index.add([1, 2], data.vectors.subarray(0, 2 * DIMENSION));
        await expectRejectedWrite(() => index.add([2], third), 'DUPLICATE_ID');
        await expectRejectedWrite(() => index.add([3, 3], data.vectors.subarray(0, 2 * DIMENSION)), 'DUPLICATE_ID');
        await expectRejectedWrite(() => index.add([4, 1], data.vectors.subarray(0, 2 * DIMENSION)), 'DUPLICATE_ID');
        expect(index.size).toBe(2);
        expect(index.has(3)).toBe(false);
        expect(index.has(4)).toBe(false);
        const before = await index.search(second, 1);
        expect(before.ids[0]).toBe(2);
        // replace: id 2 now holds the third vector
        await index.add([2], third, { replace: true });
        expect(index.size).toBe(2);
        const entries = [
          { id: 1, vector: first.slice() },
          { id: 2, vector: third.slice() },
        ];
        const after = await index.search(third, 2);
        expect(rowIds(after, 0)).toEqual(referenceSearch(entries, third, 2, metric).map((entry) => entry.id));
        expect(Math.abs(after.scores[after.ids[0] === 2 ? 0 : 1]! - referenceScore(third, third, metric))).toBeLessThanOrEqual(tolerance);
      });

      test('exclusion sets are honoured', async () => {
        const index = await filled();
        const k = 5;
        const exclude: (Set<number> | number[] | undefined)[] = [];
        for (let q = 0; q < QUERY_COUNT; q++) {
          const top = referenceSearch(data.entries, queryRow(data.queries, q), 3, metric).map((entry) => entry.id);
          // mix the accepted forms: Set, array, nothing; include an id that is not in the index
          exclude.push(q % 3 === 0 ? new Set([...top, 7]) : q % 3 === 1 ? [...top, 7] : undefined);
        }
        const result = await index.search(data.queries, k, { exclude });
        checkWellFormed(result, QUERY_COUNT, k, data.queries, byId, metric, tolerance);
        for (let q = 0; q < QUERY_COUNT; q++) {
          const excluded = new Set(exclude[q] ?? []);
          const ids = rowIds(result, q);
          for (const id of ids) expect(excluded.has(id), `query ${q} returned excluded id ${id}`).toBe(false);
          const reference = referenceSearch(data.entries, queryRow(data.queries, q), k, metric, (id) => !excluded.has(id));
          expect(ids[0]).toBe(reference[0]!.id);
          if (options.exact) expect(ids).toEqual(reference.map((entry) => entry.id));
        }
        // excluding everything leaves only padding
        const all = await index.search(data.queries.subarray(0, DIMENSION), 3, { exclude: [new Set(data.ids)] });
        expect(Array.from(all.ids)).toEqual([-1, -1, -1]);
      });

      test('filter predicate is honoured', async () => {
        const index = await filled();
        const k = 6;
        const filter = (id: number): boolean => id % 3 === 0;
        const result = await index.search(data.queries, k, { filter });
        checkWellFormed(result, QUERY_COUNT, k, data.queries, byId, metric, tolerance);
        for (let q = 0; q < QUERY_COUNT; q++) {
          const ids = rowIds(result, q);
          for (const id of ids) if (id !== -1) expect(filter(id), `query ${q} returned filtered-out id ${id}`).toBe(true);
          const reference = referenceSearch(data.entries, queryRow(data.queries, q), k, metric, filter);
          expect(ids[0]).toBe(reference[0]!.id);
          if (options.exact) expect(ids).toEqual(reference.map((entry) => entry.id));
        }
        // filter and exclusion together; a filter that accepts 2 ids fills 2 slots and pads the rest
        const two = new Set([data.ids[3]!, data.ids[9]!]);
        const narrow = await index.search(data.queries.subarray(0, 2 * DIMENSION), 4, { filter: (id) => two.has(id), exclude: [[data.ids[3]!], undefined] });
        expect(rowIds(narrow, 0)).toEqual([data.ids[9]!, -1, -1, -1]);
        expect(rowIds(narrow, 1).slice(0, 2).sort((a, b) => a - b)).toEqual([...two].sort((a, b) => a - b));
        expect(rowIds(narrow, 1).slice(2)).toEqual([-1, -1]);
      });

      test('removed ids are never returned and can be re-added', async () => {
        const index = await filled();
        const removed = Array.from(data.ids.filter((_, i) => i % 2 === 0));
        await index.remove(removed);
        expect(index.size).toBe(BASE_COUNT - removed.length);
        for (const id of removed) expect(index.has(id)).toBe(false);
        const kept = data.entries.filter((_, i) => i % 2 === 1);
        const k = 10;
        const result = await index.search(data.queries, k);
        checkWellFormed(result, QUERY_COUNT, k, data.queries, byId, metric, tolerance);
        const removedSet = new Set(removed);
        for (let q = 0; q < QUERY_COUNT; q++) {
          const ids = rowIds(result, q);
          for (const id of ids) expect(removedSet.has(id), `query ${q} returned removed id ${id}`).toBe(false);
          const reference = referenceSearch(kept, queryRow(data.queries, q), k, metric);
          expect(ids[0]).toBe(reference[0]!.id);
          if (options.exact) expect(ids).toEqual(reference.map((entry) => entry.id));
        }
        // an unknown id fails and removes nothing
        await expectRejectedWrite(() => index.remove([data.ids[1]!, 5]), 'UNKNOWN_ID');
        expect(index.has(data.ids[1]!)).toBe(true);
        await expectRejectedWrite(() => index.remove([removed[0]!]), 'UNKNOWN_ID');
        // a removed id can come back, with a new vector
        // (scaled up so that it is its own best match under every metric, inner product included)
        const fresh = queryRow(data.queries, 0).map((v) => 10 * v);
        await index.add([removed[0]!], fresh);
        expect(index.has(removed[0]!)).toBe(true);
        const back = await index.search(fresh, 1);
        expect(back.ids[0]).toBe(removed[0]!);
        // removing everything empties the index
        await index.remove([...kept.map((entry) => entry.id), removed[0]!]);
        expect(index.size).toBe(0);
        const empty = await index.search(fresh, 2);
        expect(Array.from(empty.ids)).toEqual([-1, -1]);
      });

      test('a rejected add or remove leaves the index unchanged', async () => {
        const index = await filled();
        const k = 10;
        const snapshot = async () => {
          const result = await index.search(data.queries, k);
          return { size: index.size, ids: Array.from(result.ids), scores: Array.from(result.scores) };
        };
        const before = await snapshot();
        const present = data.ids[3]!;
        const absent = 7; // stored ids are 1000 + 7 i
        const row = data.vectors.subarray(0, DIMENSION);
        // the direction of query 0, scaled: it would change query 0's answer under every metric but l2
        const far = queryRow(data.queries, 0).map((v) => 10 * v);
        const nan = row.slice();
        nan[5] = Number.NaN;
        const rows = (...parts: Float32Array[]): Float32Array => Float32Array.from(parts.flatMap((part) => Array.from(part)));
        const rejected: [string, () => Promise<void>, string][] = [
          ['a fresh id before a duplicate', () => index.add([absent, present], rows(far, row)), 'DUPLICATE_ID'],
          ['an id repeated in the call', () => index.add([absent, absent], rows(far, far)), 'DUPLICATE_ID'],
          ['a NaN in the second row', () => index.add([absent, 8], rows(far, nan)), 'INVALID_INPUT'],
          ['a negative second id', () => index.add([absent, -1], rows(far, row)), 'INVALID_INPUT'],
          ['too few values', () => index.add([absent, 8], far), 'SHAPE_MISMATCH'],
          ['replace with a NaN in the second row', () => index.add([present, absent], rows(far, nan), { replace: true }), 'INVALID_INPUT'],
          ['remove of a present and a missing id', () => index.remove([data.ids[0]!, absent]), 'UNKNOWN_ID'],
          ['remove of a present and a negative id', () => index.remove([data.ids[0]!, -3]), 'INVALID_INPUT'],
        ];
        for (const [what, write, code] of rejected) {
          await expectRejectedWrite(write, code);
          expect(await snapshot(), `after the rejected write "${what}"`).toEqual(before);
          expect(index.has(absent)).toBe(false);
          expect(index.has(data.ids[0]!)).toBe(true);
        }
        // the index still takes writes afterwards
        await index.add([absent], far);
        expect(index.size).toBe(BASE_COUNT + 1);
        expect(index.has(absent)).toBe(true);
      });

      test('writes issued without await apply in call order', async () => {
        const index = await options.create({ dimension: DIMENSION, metric });
        const row = (i: number): Float32Array => data.vectors.subarray(i * DIMENSION, (i + 1) * DIMENSION);
        const buffer = row(6).slice();
        const writes = [
          index.add([1, 2], data.vectors.subarray(0, 2 * DIMENSION)),
          index.add([2, 3], data.vectors.subarray(2 * DIMENSION, 4 * DIMENSION)), // 2 was added by the first: DUPLICATE_ID
          index.add([3], row(4)), // the second was rejected, so 3 is new
          index.remove([1]),
          index.add([1], row(5)), // sees the removal
          index.remove([1, 4]), // 4 was never added: UNKNOWN_ID, 1 stays
          index.add([6], buffer), // the buffer is reused as soon as add returns
        ];
        buffer.set(row(7));
        const outcomes = await Promise.allSettled(writes);
        expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
        const codes = outcomes.map((outcome) => (outcome.status === 'rejected' ? (outcome.reason as GenrecError).code : undefined));
        expect(codes).toEqual([undefined, 'DUPLICATE_ID', undefined, undefined, undefined, 'UNKNOWN_ID', undefined]);
        for (const outcome of outcomes) if (outcome.status === 'rejected') expect(GenrecError.isInstance(outcome.reason)).toBe(true);
        expect(index.size).toBe(4);
        for (const id of [1, 2, 3, 6]) expect(index.has(id)).toBe(true);
        expect(index.has(4)).toBe(false);
        // every stored vector is the one of the write that applied last
        const entries: ReferenceEntry[] = [
          { id: 1, vector: row(5).slice() },
          { id: 2, vector: row(1).slice() },
          { id: 3, vector: row(4).slice() },
          { id: 6, vector: row(6).slice() },
        ];
        const stored = new Map(entries.map((entry) => [entry.id, entry.vector] as const));
        const result = await index.search(data.queries, 4);
        checkWellFormed(result, QUERY_COUNT, 4, data.queries, stored, metric, tolerance);
        for (let q = 0; q < QUERY_COUNT; q++) {
          const reference = referenceSearch(entries, queryRow(data.queries, q), 4, metric);
          expect(rowIds(result, q)[0]).toBe(reference[0]!.id);
          if (options.exact) expect(rowIds(result, q)).toEqual(reference.map((entry) => entry.id));
        }
      });

      test('remove of a missing id rejects with UNKNOWN_ID and removes nothing', async () => {
        const index = await filled();
        const present = data.ids[0]!;
        const missing = 5; // stored ids are 1000 + 7 i
        await expectRejectedWrite(() => index.remove([missing]), 'UNKNOWN_ID');
        await expectRejectedWrite(() => index.remove([present, missing]), 'UNKNOWN_ID');
        expect(index.size).toBe(BASE_COUNT);
        expect(index.has(present)).toBe(true);
        // a repeated id is removed once; removing it again is a missing id
        await index.remove([present, present]);
        expect(index.size).toBe(BASE_COUNT - 1);
        expect(index.has(present)).toBe(false);
        await expectRejectedWrite(() => index.remove([present]), 'UNKNOWN_ID');
        expect(index.size).toBe(BASE_COUNT - 1);
        // an empty list removes nothing and resolves
        await index.remove([]);
        expect(index.size).toBe(BASE_COUNT - 1);
      });

      test('save/load round trip gives identical results', async () => {
        const index = await filled();
        await index.remove(Array.from(data.ids.subarray(0, 10)));
        const path = join(temporary(), 'index');
        await index.save(path);
        const loaded = await options.load(path, { dimension: DIMENSION, metric });
        expect(loaded.kind).toBe(index.kind);
        expect(loaded.metric).toBe(metric);
        expect(loaded.dimension).toBe(DIMENSION);
        expect(loaded.size).toBe(index.size);
        expect(loaded.has(data.ids[0]!)).toBe(false);
        expect(loaded.has(data.ids[10]!)).toBe(true);
        const exclude = Array.from({ length: QUERY_COUNT }, (_, q) => (q % 2 === 0 ? [data.ids[11 + q]!] : undefined));
        for (const searchOptions of [{}, { exclude }, { filter: (id: number) => id % 2 === 0 }]) {
          const original = await index.search(data.queries, 10, searchOptions);
          const restored = await loaded.search(data.queries, 10, searchOptions);
          expect(Array.from(restored.ids)).toEqual(Array.from(original.ids));
          expect(Array.from(restored.scores)).toEqual(Array.from(original.scores));
        }
        // the loaded index keeps working: add, then save over the old folder
        const far = queryRow(data.queries, 1).map((v) => 10 * v);
        await loaded.add([5], far);
        await loaded.save(path);
        const second = await options.load(path);
        expect(second.size).toBe(index.size + 1);
        expect((await second.search(far, 1)).ids[0]).toBe(5);
      });

      test('bad input gives a clear GenrecError', async () => {
        const index = await filled();
        const wrongWidth = new Float32Array(2 * (DIMENSION + 1));
        await expectRejectedWrite(() => index.add([1, 2], createMatrix(2, DIMENSION + 1, wrongWidth)), 'SHAPE_MISMATCH');
        await expectRejectedWrite(() => index.add([1, 2], new Float32Array(DIMENSION)), 'SHAPE_MISMATCH');
        const nan = new Float32Array(DIMENSION);
        nan[3] = Number.NaN;
        await expectRejectedWrite(() => index.add([1], nan), 'INVALID_INPUT');
        const infinite = new Float32Array(DIMENSION);
        infinite[0] = Number.POSITIVE_INFINITY;
        await expectRejectedWrite(() => index.add([1], infinite), 'INVALID_INPUT');
        await expectRejectedWrite(() => index.add([-1], new Float32Array(DIMENSION)), 'INVALID_INPUT');
        await expectRejectedWrite(() => index.add([1.5], new Float32Array(DIMENSION)), 'INVALID_INPUT');
        expect(index.size).toBe(BASE_COUNT);
        expect(index.has(1)).toBe(false);
        await expectRejectedWrite(() => index.remove([123456789]), 'UNKNOWN_ID');
        await expectGenrecErrorAsync(() => index.search(createMatrix(1, DIMENSION - 1), 3), 'SHAPE_MISMATCH');
        await expectGenrecErrorAsync(() => index.search(new Float32Array(DIMENSION + 1), 3), 'SHAPE_MISMATCH');
        await expectGenrecErrorAsync(() => index.search(infinite, 3), 'INVALID_INPUT');
        await expectGenrecErrorAsync(() => index.search(nan, 3), 'INVALID_INPUT');
        // k follows core's checkResultSize: INVALID_OPTION, checked before the result is allocated
        await expectGenrecErrorAsync(() => index.search(data.queries, 0), 'INVALID_OPTION');
        await expectGenrecErrorAsync(() => index.search(data.queries, 2.5), 'INVALID_OPTION');
        await expectGenrecErrorAsync(() => index.search(data.queries, 2 ** 31 - 1), 'INVALID_OPTION');
        await expectGenrecErrorAsync(() => index.search(data.queries, 3, { exclude: [undefined] }), 'SHAPE_MISMATCH');
        await expectGenrecErrorAsync(() => options.load(join(temporary(), 'missing')), 'NOT_FOUND');
      });

      test('loading an index written for another dimension fails', async () => {
        const index = await filled();
        const path = join(temporary(), 'index');
        await index.save(path);
        const error = await expectGenrecErrorAsync(() => options.load(path, { dimension: DIMENSION / 2 }), 'SHAPE_MISMATCH');
        expect(error.message).toContain(String(DIMENSION));
      });

      test('a corrupt or mismatched saved index fails to load', async () => {
        const index = await filled();
        const root = temporary();
        const path = join(root, 'index');
        await index.save(path);
        if (!statSync(path).isDirectory()) return; // a single-file format: nothing to pair up
        const other = await options.create({ dimension: DIMENSION, metric });
        await other.add(data.ids.subarray(0, 20), data.vectors.subarray(0, 20 * DIMENSION));
        const otherPath = join(root, 'other');
        await other.save(otherPath);
        const files = readdirSync(path).filter((file) => statSync(join(path, file)).isFile());
        const dataFiles = files.filter((file) => !file.endsWith('.json'));
        expect(dataFiles.length).toBeGreaterThan(0);
        for (const file of dataFiles) {
          // one flipped byte in the data file
          const flipped = join(root, `flipped-${file}`);
          cpSync(path, flipped, { recursive: true });
          const bytes = readFileSync(join(flipped, file));
          bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0xff;
          writeFileSync(join(flipped, file), bytes);
          await expectGenrecErrorAsync(() => options.load(flipped), 'CORRUPT_ARTIFACT');
          // the data file of another save next to this sidecar
          const mixed = join(root, `mixed-${file}`);
          cpSync(path, mixed, { recursive: true });
          cpSync(join(otherPath, file), join(mixed, file));
          await expectGenrecErrorAsync(() => options.load(mixed), 'CORRUPT_ARTIFACT');
          // truncated
          const truncated = join(root, `truncated-${file}`);
          cpSync(path, truncated, { recursive: true });
          writeFileSync(join(truncated, file), bytes.subarray(0, bytes.length >> 1));
          await expectGenrecErrorAsync(() => options.load(truncated), 'CORRUPT_ARTIFACT');
        }
        for (const file of files.filter((name) => name.endsWith('.json'))) {
          const broken = join(root, `broken-${file}`);
          cpSync(path, broken, { recursive: true });
          writeFileSync(join(broken, file), '{"kind": ');
          await expectGenrecErrorAsync(() => options.load(broken), ['PARSE_ERROR', 'CORRUPT_ARTIFACT']);
        }
      });

      test('a failed save leaves the previous index intact', async () => {
        if (options.armSaveFault === undefined) {
          console.warn(`${name}: no armSaveFault given, the failed-save case cannot be provoked`);
          return;
        }
        const index = await filled();
        const path = join(temporary(), 'index');
        await index.save(path);
        const before = await (await options.load(path)).search(data.queries, 5);
        await index.remove(Array.from(data.ids.subarray(0, 100)));
        const disarm = options.armSaveFault();
        try {
          await expectGenrecErrorAsync(() => index.save(path), 'IO_ERROR');
        } finally {
          disarm();
        }
        const reloaded = await options.load(path);
        expect(reloaded.size).toBe(BASE_COUNT);
        const after = await reloaded.search(data.queries, 5);
        expect(Array.from(after.ids)).toEqual(Array.from(before.ids));
        expect(Array.from(after.scores)).toEqual(Array.from(before.scores));
        expect(readdirSync(join(path, '..')).filter((entry) => entry.endsWith('.tmp') || entry.includes('.tmp.'))).toEqual([]);
        // and the next save works
        await index.save(path);
        expect((await options.load(path)).size).toBe(BASE_COUNT - 100);
      });
    }
  });
}

/** Re-exported for implementations that build their own data: the matrix the suite's cases use. */
export function conformanceData(seed: number): { ids: Int32Array; vectors: Matrix; queries: Matrix } {
  const data = easyData(seed);
  return { ids: data.ids, vectors: createMatrix(BASE_COUNT, DIMENSION, data.vectors), queries: createMatrix(QUERY_COUNT, DIMENSION, data.queries) };
}
