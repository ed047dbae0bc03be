import { FlatIndex, HnswIndex } from '@genrec/ann';
import { GenrecError } from '@genrec/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fitSasrec } from './fit-sasrec.js';
import { resolveSasrecSpec } from './options.js';
import { SasrecModel } from './sasrec-model.js';
import { CHEAP, historiesOf, randomParameters, syntheticSplit } from './test-fixtures.js';

const split = syntheticSplit('small');
const N = split.itemCount;
let model: SasrecModel;

beforeAll(async () => {
  model = await fitSasrec({ train: split.train }, CHEAP);
});
afterAll(async () => {
  await model.dispose();
});

/** Histories of the first `count` test users, as arrays. */
function testHistories(count: number): number[][] {
  const set = split.test;
  return Array.from({ length: count }, (_, u) => Array.from(set.historyItems.subarray(set.historyOffsets[u]!, set.historyOffsets[u + 1]!)));
}

const allItems = Array.from({ length: N }, (_, j) => j + 1);

/** The naive ranking: score every item with `score`, drop the excluded ones, sort (score desc, id asc). */
async function naiveTop(history: number[], k: number, excluded: Set<number>): Promise<number[]> {
  const scores = await model.score([history], [allItems]);
  return allItems
    .filter((id) => !excluded.has(id))
    .sort((a, b) => scores[b - 1]! - scores[a - 1]! || a - b)
    .slice(0, k);
}

function expectCode(error: unknown, code: string): void {
  expect(GenrecError.isInstance(error)).toBe(true);
  expect((error as GenrecError).code).toBe(code);
}

describe('SasrecModel.recommend', () => {
  it('is the exact full ranking of score() with the whole history excluded', async () => {
    const histories = testHistories(20);
    const lists = await model.recommend(histories, { k: 10 });
    expect(lists).toMatchObject({ size: 20, k: 10 });
    for (let u = 0; u < 20; u++) {
      const row = Array.from(lists.items.subarray(u * 10, u * 10 + 10));
      const expected = await naiveTop(histories[u]!, 10, new Set(histories[u]));
      // (the Gemm and the per-candidate dot products round differently: no near-tie here)
      expect(row).toEqual(expected);
      const scores = await model.score([histories[u]!], [row]);
      expect(row.filter((id) => histories[u]!.includes(id))).toEqual([]);
      for (let r = 0; r < 10; r++) expect(lists.scores[u * 10 + r]).toBeCloseTo(scores[r]!, 4);
      expect(lists.lengths[u]).toBe(10);
    }
  });

  it('excludes the whole history even beyond maxLength, and nothing of it with excludeHistory: false', async () => {
    const long = allItems.slice(0, 40); // longer than maxLength 12
    const lists = await model.recommend([long], { k: 30 });
    expect(Array.from(lists.items).filter((id) => long.includes(id))).toEqual([]);
    const kept = await model.recommend([long], { k: N, excludeHistory: false });
    expect(kept.lengths[0]).toBe(N);
    // the model reads only the last maxLength items
    expect(await model.score([long], [allItems])).toEqual(await model.score([long.slice(-12)], [allItems]));
  });

  it('honours exclude lists, filters and retired items (restorable)', async () => {
    const histories = testHistories(6);
    const plain = await model.recommend(histories, { k: 5 });
    const exclude = histories.map((_, u) => [plain.items[u * 5]!]);
    const filter = (id: number, user: number) => id % 2 === user % 2;
    const lists = await model.recommend(histories, { k: 5, exclude, filter });
    for (let u = 0; u < 6; u++) {
      const row = Array.from(lists.items.subarray(u * 5, u * 5 + 5));
      expect(row).not.toContain(exclude[u]![0]);
      for (const id of row) expect(id % 2).toBe(u % 2);
      expect(await naiveTop(histories[u]!, 5, new Set([...histories[u]!, exclude[u]![0]!, ...allItems.filter((id) => !filter(id, u))]))).toEqual(row);
    }
    const retired = Array.from(plain.items.subarray(0, 3));
    model.retireItems(retired);
    expect(Array.from(model.retiredItems)).toEqual([...retired].sort((a, b) => a - b));
    const after = await model.recommend(histories, { k: 5 });
    for (const id of retired) expect(Array.from(after.items)).not.toContain(id);
    // retired items are still scored
    expect((await model.score([histories[0]!], [retired])).every(Number.isFinite)).toBe(true);
    model.restoreItems(retired);
    expect(await model.recommend(histories, { k: 5 })).toEqual(plain);
  });

  it('gives short rows (item 0, -Infinity) when too few items remain', async () => {
    const history = allItems.slice(0, N - 2);
    const lists = await model.recommend([history], { k: 4 });
    expect(Array.from(lists.items)).toEqual([...(await naiveTop(history, 2, new Set(history))), 0, 0]);
    expect(new Set(lists.items.subarray(0, 2))).toEqual(new Set([N - 1, N]));
    expect(lists.lengths[0]).toBe(2);
    expect(Array.from(lists.scores.subarray(2))).toEqual([-Infinity, -Infinity]);
  });

  it('answers an empty history with the popularity fallback, log((count + 1) / (total + N))', async () => {
    const counts = new Float64Array(N + 1);
    for (const id of split.train.items) counts[id]!++;
    const total = split.train.items.length;
    const expected = [...allItems].sort((a, b) => counts[b]! - counts[a]! || a - b).slice(0, 10);
    const lists = await model.recommend([[], [5]], { k: 10 });
    expect(Array.from(lists.items.subarray(0, 10))).toEqual(expected);
    expect(lists.scores[0]).toBeCloseTo(Math.log((counts[expected[0]!]! + 1) / (total + N)), 5);
    const scores = await model.score([[]], [[expected[0]!, expected[9]!]]);
    expect(scores[0]).toBeCloseTo(Math.log((counts[expected[0]!]! + 1) / (total + N)), 5);
    expect(Array.from(model.itemPopularity().subarray(0, 5))).toEqual(Array.from(counts.subarray(1, 6)));
  });

  it('the top-k shortcut (no filter) equals the full scan, also for users whose exclusions exhaust it', async () => {
    // a 2,000-item catalogue (the shortcut needs depth x 8 <= itemCount); random weights suffice
    const spec = resolveSasrecSpec(CHEAP);
    const architecture = { itemCount: 2000, hiddenSize: 16, blocks: 1, heads: 1, maxLength: 12, dropout: 0.1 };
    const big = new SasrecModel({ spec, itemCount: 2000, parameters: randomParameters(architecture, 9), popularity: new Int32Array(2000).fill(1), dataFingerprint: 'test', training: { epoch: 0, epochsTrained: 0, stoppedBy: 'epochs', losses: [] } });
    const histories = Array.from({ length: 40 }, (_, u) => [1 + ((u * 37) % 2000), 1 + ((u * 101) % 2000), 1 + ((u * 7) % 2000)]);
    histories.push([]);
    const everything = () => true; // a filter forces the full scan
    big.retireItems([7, 8]);
    for (const k of [1, 5, 20]) {
      const plainTop = await big.recommend(histories, { k: 60, filter: everything });
      // users 0..9 exclude their 60 best items: more than the shortcut's slack, so they fall back
      const exclude = histories.map((_, u) => (u < 10 ? Array.from(plainTop.items.subarray(u * 60, u * 60 + 60)) : [u + 1]));
      const shortcut = await big.recommend(histories, { k, exclude });
      const full = await big.recommend(histories, { k, exclude, filter: everything });
      expect(shortcut).toEqual(full);
      expect(Array.from(shortcut.items.subarray(0, k)).some((id) => exclude[0]!.includes(id))).toBe(false);
    }
    await big.dispose();
  });

  it('gives the same lists batched and one by one (inference padding does not leak)', async () => {
    const histories = testHistories(70);
    const batched = await model.recommend(histories, { k: 5 });
    for (const u of [0, 9, 33, 69]) {
      const single = await model.recommend([histories[u]!], { k: 5 });
      expect(Array.from(single.items)).toEqual(Array.from(batched.items.subarray(u * 5, u * 5 + 5)));
    }
  });

  it('rejects unknown ids, k outside 1..maxK and mismatched candidate lists', async () => {
    expect(model.maxK).toBe(N);
    for (const bad of [[[0]], [[N + 1]], [[1.5]], [[Number.NaN]]]) {
      await model.recommend(bad, { k: 1 }).then(() => expect.unreachable(), (e) => expectCode(e, 'INVALID_INPUT'));
    }
    for (const k of [0, -1, N + 1, 2.5, Number.NaN]) {
      await model.recommend([[1]], { k }).then(() => expect.unreachable(), (e) => expectCode(e, 'INVALID_OPTION'));
    }
    await model.recommend([[1]], { k: 1, exclude: [[N + 5]] }).then(() => expect.unreachable(), (e) => expectCode(e, 'INVALID_INPUT'));
    await model.score([[1]], [[1], [2]]).then(() => expect.unreachable(), (e) => expectCode(e, 'INVALID_INPUT'));
    await model.score([[1]], [[N + 1]]).then(() => expect.unreachable(), (e) => expectCode(e, 'INVALID_INPUT'));
    expect(() => model.retireItems([0])).toThrow(GenrecError);
  });
});

describe('SasrecModel embeddings, description and index', () => {
  it('scores are dot products of userEmbeddings and itemEmbeddings (row j = item j + 1)', async () => {
    const histories = testHistories(3);
    const users = await model.userEmbeddings(histories);
    const items = model.itemEmbeddings();
    expect(items).toMatchObject({ rows: N, cols: 16 });
    const scores = await model.score(histories, histories.map(() => [1, 7, N]));
    histories.forEach((_, u) => {
      [1, 7, N].forEach((id, i) => {
        let dot = 0;
        for (let c = 0; c < 16; c++) dot += users.data[u * 16 + c]! * items.data[(id - 1) * 16 + c]!;
        expect(scores[u * 3 + i]).toBeCloseTo(dot, 5);
      });
    });
  });

  it('describes itself', () => {
    const description = model.describe();
    expect(description).toMatchObject({ kind: 'sasrec', package: { name: '@genrec/model-sasrec' }, itemCount: N, epoch: 2, scoreScale: 'logit' });
    expect(description.dataFingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(description.parameterCount).toBe([...model.parameterValues().values()].reduce((s, v) => s + v.length, 0));
    expect(description.hyperParameters).toMatchObject({ hiddenSize: 16, blocks: 1, heads: 1, maxLength: 12, seed: 3 });
  });

  it('recommends through an exact FlatIndex exactly as its own ranking, exclusions and filters included', async () => {
    const histories = testHistories(12);
    const exact = await model.recommend(histories, { k: 8 });
    const filter = (id: number) => id % 3 !== 0;
    const exactFiltered = await model.recommend(histories, { k: 8, filter });
    const fallback = await model.recommend([[]], { k: 3 });
    await model.useIndex(new FlatIndex({ dimension: 16, metric: 'ip', backend: 'javascript' }));
    try {
      const viaIndex = await model.recommend(histories, { k: 8 });
      expect(Array.from(viaIndex.items)).toEqual(Array.from(exact.items));
      expect(Array.from(viaIndex.scores).map((s, i) => s - exact.scores[i]!).every((x) => Math.abs(x) < 1e-4)).toBe(true);
      expect(Array.from((await model.recommend(histories, { k: 8, filter })).items)).toEqual(Array.from(exactFiltered.items));
      model.retireItems([exact.items[0]!]);
      expect(Array.from((await model.recommend(histories.slice(0, 1), { k: 8 })).items)).not.toContain(exact.items[0]);
      model.restoreItems([exact.items[0]!]);
      // an empty history still gets the fallback
      expect(await model.recommend([[]], { k: 3 })).toEqual(fallback);
    } finally {
      await model.useIndex(undefined);
    }
  });

  it('recommends through HNSW with high recall, and rejects an index of another metric or size', async () => {
    const histories = testHistories(50);
    const exact = await model.recommend(histories, { k: 10 });
    await model.useIndex(new HnswIndex({ dimension: 16, metric: 'ip', m: 16, efConstruction: 200, ef: 128 }));
    const approximate = await model.recommend(histories, { k: 10 });
    await model.useIndex(undefined);
    let found = 0;
    for (let u = 0; u < 50; u++) {
      const truth = new Set(exact.items.subarray(u * 10, u * 10 + 10));
      for (const id of approximate.items.subarray(u * 10, u * 10 + 10)) if (truth.has(id)) found++;
    }
    expect(found / 500).toBeGreaterThan(0.9);
    await model.useIndex(new FlatIndex({ dimension: 16, metric: 'cosine' })).then(() => expect.unreachable(), (e) => expectCode(e, 'INVALID_OPTION'));
    await model.useIndex(new FlatIndex({ dimension: 8, metric: 'ip' })).then(() => expect.unreachable(), (e) => expectCode(e, 'INVALID_OPTION'));
  });
});

describe('SasrecModel lifecycle', () => {
  it('is unusable after dispose', async () => {
    const other = await fitSasrec({ train: split.train }, { ...CHEAP, epochs: 1 });
    await other.dispose();
    await other.recommend([[1]], { k: 1 }).then(() => expect.unreachable(), (e) => expectCode(e, 'NOT_FITTED'));
    await other.dispose(); // twice is fine
  });
});
