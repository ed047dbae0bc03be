import { GenrecError, Rng, createMatrix, type Matrix, type SetIdTable, type VectorIndex, type VectorSearchOptions, type VectorSearchResult } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { FlatIndex, HnswIndex, recallAtK } from '@genrec/ann';
import { SetIdDecoder, addSetIdTableToIndex } from './set-id-decoder.js';

/** A continuous set table with random slot vectors. */
function randomSetTable(seed: number, itemCount: number, slotDimensions: number[], weights: number[]): SetIdTable {
  const rng = new Rng(seed);
  const slots = slotDimensions.map((d) => {
    const m = createMatrix(itemCount, d);
    rng.fillNormal(m.data);
    return m;
  });
  const itemIds = Int32Array.from({ length: itemCount }, (_, i) => 5 + i * 3);
  const total = slotDimensions.reduce((a, b) => a + b, 0);
  return {
    variant: 'continuous',
    slotCount: slotDimensions.length,
    slotDimensions,
    slotWeights: Float32Array.from(weights),
    itemCount,
    itemIds,
    slotVectors: (slot) => slots[slot]!,
    flatten() {
      const flat = createMatrix(itemCount, total);
      for (let i = 0; i < itemCount; i++) {
        let column = 0;
        slots.forEach((m, s) => {
          for (let c = 0; c < m.cols; c++) flat.data[i * total + column + c] = weights[s]! * m.data[i * m.cols + c]!;
          column += m.cols;
        });
      }
      return flat;
    },
  };
}

/** A small exact implementation of the VectorIndex contract (inner product, float64 scores). */
class ExactTestIndex implements VectorIndex {
  readonly kind = 'exact-test';
  readonly metric = 'ip' as const;
  readonly dimension: number;
  readonly #vectors = new Map<number, Float32Array>();
  constructor(dimension: number) {
    this.dimension = dimension;
  }
  get size(): number {
    return this.#vectors.size;
  }
  async add(ids: ArrayLike<number>, vectors: Matrix | Float32Array): Promise<void> {
    const data = vectors instanceof Float32Array ? vectors : vectors.data;
    for (let i = 0; i < ids.length; i++) this.#vectors.set(ids[i]!, data.slice(i * this.dimension, (i + 1) * this.dimension));
  }
  async remove(ids: ArrayLike<number>): Promise<void> {
    for (let i = 0; i < ids.length; i++) this.#vectors.delete(ids[i]!);
  }
  has(id: number): boolean {
    return this.#vectors.has(id);
  }
  async search(queries: Matrix | Float32Array, k: number, options: VectorSearchOptions = {}): Promise<VectorSearchResult> {
    const data = queries instanceof Float32Array ? queries : queries.data;
    const queryCount = data.length / this.dimension;
    const ids = new Int32Array(queryCount * k).fill(-1);
    const scores = new Float32Array(queryCount * k).fill(Number.NEGATIVE_INFINITY);
    for (let q = 0; q < queryCount; q++) {
      const excluded = new Set(Array.from((options.exclude?.[q] as Iterable<number> | undefined) ?? []));
      const ranked = [...this.#vectors]
        .filter(([id]) => !excluded.has(id))
        .map(([id, v]) => ({ id, score: v.reduce((sum, x, c) => sum + x * data[q * this.dimension + c]!, 0) }))
        .sort((a, b) => b.score - a.score || a.id - b.id)
        .slice(0, k);
      ranked.forEach((r, j) => {
        ids[q * k + j] = r.id;
        scores[q * k + j] = r.score;
      });
    }
    return { ids, scores, queryCount, k };
  }
  async save(): Promise<void> {}
}

/** Naive reference: score = sum_s w_s <q_s, v_s(item)>, computed slot by slot in float64. */
function naiveTopK(table: SetIdTable, slotQueries: Matrix[], user: number, k: number, exclude: Set<number>): number[] {
  const scored: Array<{ id: number; score: number }> = [];
  for (let i = 0; i < table.itemCount; i++) {
    if (exclude.has(table.itemIds[i]!)) continue;
    let score = 0;
    for (let s = 0; s < table.slotCount; s++) {
      const v = table.slotVectors(s);
      const q = slotQueries[s]!;
      let dot = 0;
      for (let c = 0; c < v.cols; c++) dot += q.data[user * q.cols + c]! * v.data[i * v.cols + c]!;
      score += table.slotWeights[s]! * dot;
    }
    scored.push({ id: table.itemIds[i]!, score });
  }
  return scored.sort((a, b) => b.score - a.score).slice(0, k).map((e) => e.id);
}

describe('SetIdDecoder', () => {
  const table = randomSetTable(1, 300, [8, 6, 6, 6], [0.4, 0.2, 0.2, 0.2]);
  const rng = new Rng(2);
  const slotQueries = table.slotDimensions.map((d) => {
    const m = createMatrix(7, d);
    rng.fillNormal(m.data);
    return m;
  });
  const exclude = Array.from({ length: 7 }, (_, u) => new Set(u % 2 === 0 ? [5 + 3 * u, 5 + 3 * (10 + u), 5 + 3 * 100] : []));

  it('exact grounding equals the naive slot-by-slot weighted score, with history excluded', async () => {
    const decoder = new SetIdDecoder(table);
    const queries = decoder.concatenateSlots(slotQueries);
    expect(queries.cols).toBe(26);
    // Exclude each user's naive best items so that exclusion is exercised for real.
    const histories = exclude.map((set, u) => new Set([...set, ...naiveTopK(table, slotQueries, u, 2, new Set())]));
    const result = await decoder.decode(queries, { k: 10, exclude: histories });
    for (let u = 0; u < 7; u++) {
      expect(Array.from(result.ids.subarray(u * 10, (u + 1) * 10))).toEqual(naiveTopK(table, slotQueries, u, 10, histories[u]!));
      for (const id of result.ids.subarray(u * 10, (u + 1) * 10)) expect(histories[u]!.has(id)).toBe(false);
    }
  });

  it('grounding through a VectorIndex gives the same result as the exact product', async () => {
    const index = new ExactTestIndex(26);
    await addSetIdTableToIndex(table, index);
    expect(index.size).toBe(300);
    const exact = new SetIdDecoder(table);
    const indexed = new SetIdDecoder(table, { index });
    const queries = exact.concatenateSlots(slotQueries);
    const a = await exact.decode(queries, { k: 10, exclude });
    const b = await indexed.decode(queries, { k: 10, exclude });
    expect(Array.from(b.ids)).toEqual(Array.from(a.ids));
    for (let i = 0; i < a.scores.length; i++) expect(b.scores[i]).toBeCloseTo(a.scores[i]!, 4);
    const forcedExact = await indexed.decode(queries, { k: 10, exclude, method: 'exact' });
    expect(Array.from(forcedExact.ids)).toEqual(Array.from(a.ids));
  });

  it('rejects wrong shapes and options', async () => {
    const decoder = new SetIdDecoder(table);
    const code = async (promise: Promise<unknown>): Promise<unknown> => promise.then(() => undefined, (e: unknown) => (GenrecError.isInstance(e) ? e.code : e));
    expect(await code(decoder.decode(createMatrix(2, 25), { k: 3 }))).toBe('SHAPE_MISMATCH');
    expect(await code(decoder.decode(createMatrix(2, 26), { k: 0 }))).toBe('INVALID_OPTION');
    expect(await code(decoder.decode(createMatrix(2, 26), { k: 3, method: 'index' }))).toBe('INVALID_OPTION');
    const bad = createMatrix(1, 26);
    bad.data[3] = Number.NaN;
    expect(await code(decoder.decode(bad, { k: 3 }))).toBe('INVALID_INPUT');
    expect(() => new SetIdDecoder(table, { index: new ExactTestIndex(5) })).toThrow(GenrecError);
    // filling an index of the wrong width rejects (no synchronous throw) and adds nothing
    const narrow = new ExactTestIndex(5);
    expect(await code(addSetIdTableToIndex(table, narrow))).toBe('SHAPE_MISMATCH');
    expect(narrow.size).toBe(0);
    expect(() => decoder.concatenateSlots(slotQueries.slice(1))).toThrow(GenrecError);
  });
});

/** A discrete set table: random codes per slot, codewords random vectors. */
function randomDiscreteTable(seed: number, itemCount: number, codebookSizes: number[], weights: number[]): SetIdTable {
  const rng = new Rng(seed);
  const codes = codebookSizes.map((size) => Int32Array.from({ length: itemCount }, () => rng.int(size)));
  // items 0 and 1 share every code (an exact tie)
  for (const slot of codes) slot[1] = slot[0]!;
  const codewords = codebookSizes.map((size) => {
    const m = createMatrix(size, 2);
    rng.fillNormal(m.data);
    return m;
  });
  const vectors = codes.map((slot, s) => {
    const m = createMatrix(itemCount, 2);
    for (let i = 0; i < itemCount; i++) m.data.set(codewords[s]!.data.subarray(slot[i]! * 2, slot[i]! * 2 + 2), i * 2);
    return m;
  });
  const continuous = randomSetTable(seed, itemCount, codebookSizes.map(() => 2), weights);
  return {
    ...continuous,
    variant: 'discrete',
    codebookSizes,
    slotCodes: (slot) => codes[slot]!,
    slotVectors: (slot) => vectors[slot]!,
  };
}

describe('SetIdDecoder.decodeCodeDistributions', () => {
  const sizes = [4, 5, 3];
  const weights = [0.5, 1, 2];
  const table = randomDiscreteTable(3, 40, sizes, weights);
  const decoder = new SetIdDecoder(table);
  const rng = new Rng(9);
  const users = 6;
  const logits = sizes.map((size) => {
    const m = createMatrix(users, size);
    rng.fillNormal(m.data);
    return m;
  });

  /** Every item scored in float64 and sorted (score descending, then table row). */
  function naive(user: number, exclude: ReadonlySet<number> | undefined, k: number): Array<{ id: number; score: number }> {
    const logp = logits.map((m) => {
      const row = Array.from(m.data.subarray(user * m.cols, (user + 1) * m.cols));
      const normalizer = Math.log(row.reduce((sum, v) => sum + Math.exp(v), 0));
      return row.map((v) => v - normalizer);
    });
    const all = Array.from({ length: table.itemCount }, (_, i) => ({
      row: i,
      id: table.itemIds[i]!,
      score: sizes.reduce((sum, _, s) => sum + weights[s]! * logp[s]![table.slotCodes!(s)[i]!]!, 0),
    }));
    return all
      .filter((entry) => !exclude?.has(entry.id))
      .sort((a, b) => b.score - a.score || a.row - b.row)
      .slice(0, k);
  }

  it('scores every item by its codes’ weighted log-probabilities, exactly, history excluded', () => {
    const exclude = Array.from({ length: users }, (_, u) => (u % 2 === 0 ? new Set([table.itemIds[u]!, table.itemIds[u + 7]!]) : undefined));
    const result = decoder.decodeCodeDistributions(logits, { k: 7, exclude });
    for (let u = 0; u < users; u++) {
      const expected = naive(u, exclude[u], 7);
      expect(Array.from(result.ids.subarray(u * 7, (u + 1) * 7))).toEqual(expected.map((entry) => entry.id));
      expected.forEach((entry, j) => expect(result.scores[u * 7 + j]).toBeCloseTo(entry.score, 5));
    }
  });

  it('gives the same result for log-probabilities as for logits, and orders an exact tie by table row', () => {
    const logProbabilities = logits.map((m) => {
      const out = createMatrix(m.rows, m.cols);
      for (let u = 0; u < m.rows; u++) {
        const row = m.data.subarray(u * m.cols, (u + 1) * m.cols);
        const normalizer = Math.log(Array.from(row).reduce((sum, v) => sum + Math.exp(v), 0));
        for (let c = 0; c < m.cols; c++) out.data[u * m.cols + c] = row[c]! - normalizer;
      }
      return out;
    });
    const k = table.itemCount;
    const a = decoder.decodeCodeDistributions(logits, { k });
    const b = decoder.decodeCodeDistributions(logProbabilities, { k });
    expect(Array.from(b.ids)).toEqual(Array.from(a.ids));
    for (let u = 0; u < users; u++) {
      const ranked = Array.from(a.ids.subarray(u * k, (u + 1) * k));
      expect(ranked.indexOf(table.itemIds[0]!)).toBe(ranked.indexOf(table.itemIds[1]!) - 1); // same codes: row 0 just before row 1
    }
  });

  it('rejects continuous tables, wrong widths and NaN scores', () => {
    const code = (run: () => unknown): string | undefined => {
      try {
        run();
      } catch (error) {
        return GenrecError.isInstance(error) ? error.code : String(error);
      }
      return undefined;
    };
    expect(code(() => new SetIdDecoder(randomSetTable(1, 5, [2, 2], [1, 1])).decodeCodeDistributions([createMatrix(1, 2), createMatrix(1, 2)], { k: 1 }))).toBe('UNSUPPORTED');
    expect(code(() => decoder.decodeCodeDistributions([logits[0]!, logits[1]!], { k: 1 }))).toBe('SHAPE_MISMATCH');
    expect(code(() => decoder.decodeCodeDistributions([logits[0]!, logits[2]!, logits[1]!], { k: 1 }))).toBe('SHAPE_MISMATCH');
    const bad = createMatrix(users, 3);
    bad.data[4] = Number.NaN;
    expect(code(() => decoder.decodeCodeDistributions([logits[0]!, logits[1]!, bad], { k: 1 }))).toBe('INVALID_INPUT');
    expect(code(() => decoder.decodeCodeDistributions(logits, { k: 0 }))).toBe('INVALID_OPTION');
  });
});

describe('SetIdDecoder through @genrec/ann indexes', () => {
  it('returns the exact ids through a FlatIndex and ~the same through HNSW, history excluded either way', async () => {
    const table = randomSetTable(21, 600, [8, 6, 4], [1, 0.5, 2]);
    const exactDecoder = new SetIdDecoder(table);
    const flat = new FlatIndex({ dimension: exactDecoder.dimension, metric: 'ip', intraOpNumThreads: 1 });
    const hnsw = new HnswIndex({ dimension: exactDecoder.dimension, metric: 'ip', m: 16, efConstruction: 200, seed: 3 });
    await addSetIdTableToIndex(table, flat);
    await addSetIdTableToIndex(table, hnsw);
    // a second fill is the index's DUPLICATE_ID, as a rejection, and leaves the index as it was
    await expect(addSetIdTableToIndex(table, flat)).rejects.toMatchObject({ code: 'DUPLICATE_ID' });
    expect(flat.size).toBe(600);
    const rng = new Rng(4);
    const queries = createMatrix(30, exactDecoder.dimension);
    rng.fillNormal(queries.data);
    const exclude = Array.from({ length: 30 }, (_, user) => new Set([table.itemIds[user]!, table.itemIds[2 * user]!]));
    const k = 10;
    const exact = await exactDecoder.decode(queries, { k, exclude, method: 'exact' });
    const viaFlat = await new SetIdDecoder(table, { index: flat }).decode(queries, { k, exclude });
    const viaHnsw = await new SetIdDecoder(table, { index: hnsw }).decode(queries, { k, exclude, ef: 200 });
    expect(Array.from(viaFlat.ids)).toEqual(Array.from(exact.ids));
    expect(recallAtK(viaHnsw.ids, exact.ids, 30, k)).toBeGreaterThan(0.95);
    for (let user = 0; user < 30; user++) {
      for (const result of [viaFlat, viaHnsw]) for (const id of result.ids.subarray(user * k, (user + 1) * k)) expect(exclude[user]!.has(id)).toBe(false);
    }
  });
});

describe('SetIdDecoder.decodeCodeDistributions edge cases', () => {
  it('ignores a slot of weight 0 (even with -Infinity scores) and rejects an impossible slot', () => {
    const table = randomDiscreteTable(5, 20, [3, 4], [1, 0]);
    const decoder = new SetIdDecoder(table);
    const first = createMatrix(1, 3, Float32Array.of(0.5, -1, 2));
    const zeroWeighted = createMatrix(1, 4, Float32Array.of(Number.NEGATIVE_INFINITY, 0, Number.NEGATIVE_INFINITY, 1));
    const result = decoder.decodeCodeDistributions([first, zeroWeighted], { k: 20 });
    expect(Array.from(result.ids).filter((id) => id >= 0)).toHaveLength(20); // nothing dropped
    const onlyFirst = new SetIdDecoder({ ...table, slotWeights: Float32Array.of(1, 0) }).decodeCodeDistributions([first, createMatrix(1, 4)], { k: 20 });
    expect(Array.from(result.ids)).toEqual(Array.from(onlyFirst.ids));
    const impossible = createMatrix(1, 3, Float32Array.of(Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY));
    expect(() => decoder.decodeCodeDistributions([impossible, zeroWeighted], { k: 1 })).toThrow(/all -Infinity/);
  });
});
