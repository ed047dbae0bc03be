import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Matrix } from '@genrec/core';
import { coldItemSplit, type ColdItemSplit } from '@genrec/data';
import { fitSetrec, type SetrecModel } from './index.js';
import { CHEAP, cheapCfVectors, smallSynthetic } from './test-fixtures.js';

const synthetic = smallSynthetic();
let split: ColdItemSplit;
let cfVectors: Matrix;
let model: SetrecModel;
let zero: SetrecModel;

beforeAll(async () => {
  split = coldItemSplit(synthetic.dataset, { share: 0.15, seed: 1, maxHistoryLength: 50 });
  cfVectors = await cheapCfVectors(split.train);
  const data = { train: split.train, validation: split.validation, catalog: synthetic.catalog };
  model = await fitSetrec(data, { ...CHEAP, cfVectors, epochs: 3 });
  zero = await fitSetrec(data, { ...CHEAP, cfVectors, epochs: 1, coldCfToken: 'zero' });
});

afterAll(async () => {
  await model?.dispose();
  await zero?.dispose();
});

describe('SETRec cold items (content, no interactions)', () => {
  it('a cold item’s CF vector is the mean of its 10 nearest warm items by content cosine (zero with coldCfToken zero)', () => {
    const content = model.contentVectors();
    const used = model.cfVectors();
    const d = cfVectors.cols;
    const popularity = model.itemPopularity();
    const warm = Array.from({ length: model.itemCount }, (_, j) => j).filter((j) => popularity[j]! > 0);
    const unit = (j: number): number[] => {
      const row = Array.from(content.data.subarray(j * content.cols, (j + 1) * content.cols));
      const norm = Math.hypot(...row);
      return row.map((v) => (norm > 0 ? v / norm : 0));
    };
    expect(split.coldItems.length).toBeGreaterThan(10);
    for (const item of split.coldItems) {
      const j = item - 1;
      expect(popularity[j], `cold item ${item} has no training interaction`).toBe(0);
      const mine = unit(j);
      const neighbours = warm
        .map((w) => ({ w, similarity: unit(w).reduce((sum, v, c) => sum + v * mine[c]!, 0) }))
        .sort((a, b) => b.similarity - a.similarity || a.w - b.w)
        .slice(0, 10);
      for (let c = 0; c < d; c++) {
        const expected = neighbours.reduce((sum, { w }) => sum + cfVectors.data[w * d + c]!, 0) / 10;
        expect(used.data[j * d + c]).toBeCloseTo(expected, 4);
        expect(zero.cfVectors().data[j * d + c]).toBe(0);
      }
    }
    // warm items keep their CF vectors
    for (const j of warm.slice(0, 20)) expect(Array.from(used.data.subarray(j * d, (j + 1) * d))).toEqual(Array.from(cfVectors.data.subarray(j * d, (j + 1) * d)));
    expect(model.describe().coldItems).toBe(split.coldItems.length + Array.from(popularity).filter((count, j) => count === 0 && !split.isCold[j + 1]).length);
  });

  it('cold items are recommended from their tokens: some are returned in full-catalogue top-10 lists, and restricted to cold items they beat id order', async () => {
    const set = split.testCold;
    const batch = { offsets: set.historyOffsets, items: set.historyItems };
    const top = await model.recommend(batch, { k: 10 });
    const returnedCold = new Set<number>();
    for (const id of top.items) if (split.isCold[id] === 1) returnedCold.add(id);
    expect(returnedCold.size, 'distinct cold items in the unrestricted top-10 lists of the cold-target users').toBeGreaterThan(0);
    // restricted to cold items (as SETRec's cold evaluation): hits of the model vs the first cold ids
    const restricted = await model.recommend(batch, { k: 10, filter: (id) => split.isCold[id] === 1 });
    let hits = 0;
    let baseline = 0;
    for (let u = 0; u < set.size; u++) {
      const target = set.targetItems[set.targetOffsets[u]!]!;
      const history = new Set(set.historyItems.subarray(set.historyOffsets[u]!, set.historyOffsets[u + 1]!));
      if (Array.from(restricted.items.subarray(u * 10, u * 10 + 10)).includes(target)) hits++;
      // popularity restricted to cold items: every cold item has 0 training interactions, so ties go to the lower id
      if (Array.from(split.coldItems).filter((id) => !history.has(id)).slice(0, 10).includes(target)) baseline++;
      // rows are short when the history holds most cold items
      for (const id of restricted.items.subarray(u * 10, u * 10 + restricted.lengths[u]!)) expect(split.isCold[id]).toBe(1);
    }
    console.info(`cold-target users ${set.size}: restricted hits ${hits}, lowest-id baseline ${baseline}, distinct cold items returned unrestricted ${returnedCold.size}`);
    expect(hits).toBeGreaterThan(baseline);
  });
});
