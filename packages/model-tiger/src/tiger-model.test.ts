import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMatrix } from '@genrec/core';
import { coldItemSplit } from '@genrec/data';
import { CompiledGraph, Graph } from '@genrec/nn';
import { fitTiger } from './fit-tiger.js';
import { loadTiger } from './load-tiger.js';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { tigerPreferenceModel } from './preference-model.js';
import { CHEAP, fitSmall, smallDataset, smallSplit } from './test-fixtures.js';
import type { TigerModel } from './tiger-model.js';
import type { HistoryBatch } from '@genrec/core';

function slice(set: ReturnType<typeof smallSplit>['split']['test'], from: number, to: number): HistoryBatch {
  const base = set.historyOffsets[from]!;
  const offsets = new Int32Array(to - from + 1);
  for (let u = from; u <= to; u++) offsets[u - from] = set.historyOffsets[u]! - base;
  return { offsets, items: set.historyItems.slice(base, set.historyOffsets[to]!) };
}

for (const architecture of ['decoder-only', 'encoder-decoder'] as const) {
  describe(`TigerModel (${architecture})`, () => {
    let model: TigerModel;
    beforeAll(async () => {
      model = await fitSmall(architecture);
    });
    afterAll(async () => {
      await model.dispose();
    });

    it("score() equals the preference hook's log π from nn's own dropout-free graph (1e-4)", async () => {
      const { split } = smallSplit();
      const users = 6;
      const histories = slice(split.test, 0, users);
      const candidates = Int32Array.from({ length: users * 3 }, (_, i) => 1 + ((i * 37) % model.itemCount));
      const lists = Array.from({ length: users }, (_, u) => candidates.subarray(u * 3, u * 3 + 3));
      const scores = await model.score(histories, lists);
      const hook = tigerPreferenceModel(model);
      const g = new Graph({ training: false });
      const logp = hook.buildLogProb(g, { users, candidates: 3 });
      const compiled = await CompiledGraph.create(g, { outputs: [logp], outputNames: ['logp'], parameterValues: model.parameterMap, intraOpNumThreads: 1 });
      const out = (await compiled.run(hook.logProbFeeds(histories, candidates, { users, candidates: 3 }))).logp as Float32Array;
      await compiled.release();
      for (let i = 0; i < scores.length; i++) {
        expect(scores[i]!).toBeLessThan(0);
        expect(Math.abs(scores[i]! - out[i]!), `candidate ${i}: ${scores[i]} vs ${out[i]}`).toBeLessThan(1e-4);
      }
    });

    it('recommends k valid, distinct, non-excluded items whose scores equal score()', async () => {
      const { split } = smallSplit();
      const histories = slice(split.test, 0, 20);
      const result = await model.recommend(histories, { k: 15 });
      const lists: number[][] = [];
      for (let u = 0; u < 20; u++) {
        expect(result.lengths[u]).toBe(15);
        const row = Array.from(result.items.subarray(u * 15, u * 15 + 15));
        const history = new Set(histories.items.subarray(histories.offsets[u]!, histories.offsets[u + 1]!));
        expect(new Set(row).size).toBe(15);
        for (const id of row) expect(history.has(id)).toBe(false);
        lists.push(row);
      }
      const scores = await model.score(histories, lists);
      for (let i = 0; i < scores.length; i++) expect(Math.abs(scores[i]! - result.scores[i]!)).toBeLessThan(1e-4);
    });

    it('items added after training get codes from their vectors, are recommended, and score like their trained siblings', async () => {
      const cold = coldItemSplit(smallDataset(), { share: 0.1, seed: 1 });
      const fresh = await fitTiger({ train: cold.train, catalog: smallSplit().data.catalog! }, { ...CHEAP, architecture, itemVectors: 'text', vectorDimension: 16, indexItems: 'trained', epochs: 2, seed: 3, earlyStopping: false });
      try {
        const coldIds = Array.from(cold.coldItems);
        for (const id of coldIds) expect(fresh.semanticIds([id])[0]).toBe(-1);
        const before = fresh.recommendableItems;
        const histories = slice(cold.test, 0, 30);
        const plain = await fresh.recommend(histories, { k: 10 });
        for (const id of plain.items) expect(cold.isCold[id]).toBe(0);
        // a new item with a trained item's vector shares its quantiser codes and scores like its trained siblings (their mean probability)
        const vectors = fresh.itemVectors()!;
        const twin = plain.items[0]!;
        const copy = createMatrix(1, vectors.cols, vectors.data.slice((twin - 1) * vectors.cols, twin * vectors.cols));
        const codes = await fresh.addItems([coldIds[0]!], copy);
        expect(Array.from(codes.subarray(0, 3))).toEqual(Array.from(fresh.semanticIds([twin]).subarray(0, 3)));
        await fresh.addItems(coldIds.slice(1)); // the rest from the fitted text vectors
        expect(fresh.recommendableItems).toBe(before + coldIds.length);
        expect(Array.from(fresh.addedItems)).toEqual(coldIds);
        const width = fresh.codes.tokensPerItem;
        const prefix = (id: number): string => Array.from(fresh.semanticIds([id]).subarray(0, width - 1)).join();
        const siblings = Array.from({ length: fresh.itemCount }, (_, j) => j + 1).filter((id) => !cold.isCold[id] && fresh.codes.has(id) && prefix(id) === prefix(twin));
        const scored = await fresh.score(slice(cold.test, 0, 1), [[...siblings, coldIds[0]!]]);
        const newScore = scored[siblings.length]!;
        let max = -Infinity;
        for (let i = 0; i < siblings.length; i++) max = Math.max(max, scored[i]!);
        let sum = 0;
        for (let i = 0; i < siblings.length; i++) sum += Math.exp(scored[i]! - max);
        // the new item's probability is at least the siblings' mean (the adjustment renormalises the softmax slightly)
        expect(newScore).toBeGreaterThanOrEqual(max + Math.log(sum / siblings.length) - 0.05);
        expect(newScore).toBeLessThanOrEqual(max + 1e-6);
        const after = await fresh.recommend(histories, { k: 10 });
        let coldReturned = 0;
        for (const id of after.items) if (cold.isCold[id]) coldReturned++;
        expect(coldReturned, 'new items appear in the lists').toBeGreaterThan(0);
        // recommend's scores of new items equal score()
        const lists = Array.from({ length: 30 }, (_, u) => Array.from(after.items.subarray(u * 10, u * 10 + 10)));
        const scores = await fresh.score(histories, lists);
        for (let i = 0; i < scores.length; i++) expect(Math.abs(scores[i]! - after.scores[i]!)).toBeLessThan(1e-4);
        // the added items are saved
        const folder = mkdtempSync(join(tmpdir(), 'tiger-added-'));
        onTestFinished(() => rmSync(folder, { recursive: true, force: true }));
        const directory = join(folder, 'model');
        await fresh.save(directory);
        const loaded = await loadTiger(directory);
        expect(Array.from(loaded.addedItems)).toEqual(coldIds);
        expect(Array.from((await loaded.recommend(histories, { k: 10 })).items)).toEqual(Array.from(after.items));
        await loaded.dispose();
      } finally {
        await fresh.dispose();
      }
    });

    it('renormalize: scores are log-probabilities over the recommendable items (sum to 1), never below the full-softmax ones, equal to recommend()', async () => {
      const { split } = smallSplit();
      const users = 4;
      const histories = slice(split.test, 0, users);
      const folder = mkdtempSync(join(tmpdir(), 'tiger-renormalize-'));
      onTestFinished(() => rmSync(folder, { recursive: true, force: true }));
      const directory = join(folder, 'model');
      await model.save(directory);
      await expect(loadTiger(directory, { renormalize: 'yes' as unknown as boolean })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
      const renormalized = await loadTiger(directory, { renormalize: true });
      try {
        expect([model.scoreScale, renormalized.scoreScale]).toEqual(['logit', 'log-probability']);
        const all = Array.from({ length: users }, () => Array.from({ length: model.itemCount }, (_, i) => i + 1));
        const full = await model.score(histories, all);
        const scores = await renormalized.score(histories, all);
        for (let u = 0; u < users; u++) {
          let total = 0;
          let fullTotal = 0;
          for (let i = 0; i < model.itemCount; i++) {
            const at = u * model.itemCount + i;
            expect(scores[at]!).toBeGreaterThanOrEqual(full[at]! - 1e-5);
            total += Math.exp(scores[at]!);
            fullTotal += Math.exp(full[at]!);
          }
          expect(total).toBeCloseTo(1, 4);
          // the full softmax leaves mass on token sequences that name no item
          expect(fullTotal).toBeLessThan(total);
        }
        const result = await renormalized.recommend(histories, { k: 15 });
        const lists = Array.from({ length: users }, (_, u) => Array.from(result.items.subarray(u * 15, u * 15 + 15)));
        const again = await renormalized.score(histories, lists);
        for (let i = 0; i < again.length; i++) expect(Math.abs(again[i]! - result.scores[i]!)).toBeLessThan(1e-4);
        // a retired item scores -Infinity; the others share its probability
        const top = lists[0]![0]!;
        renormalized.retireItems([top]);
        const after = await renormalized.score(slice(split.test, 0, 1), [all[0]!]);
        expect(after[top - 1]).toBe(Number.NEGATIVE_INFINITY);
        expect(Array.from(after).reduce((sum, s) => sum + Math.exp(s), 0)).toBeCloseTo(1, 4);
      } finally {
        await renormalized.dispose();
      }
    });

    it('unconstrained decoding reports an invalid-id rate in [0, 1]; constrained decoding never returns an invalid id', async () => {
      const { split } = smallSplit();
      const histories = slice(split.test, 0, 30);
      const report = await model.unconstrainedInvalidRate(histories, { k: 10, beamWidth: 10 });
      expect(report.users).toBe(30);
      expect(report.invalidRate).toBeGreaterThanOrEqual(0);
      expect(report.invalidRate).toBeLessThanOrEqual(1);
      const result = await model.recommend(histories, { k: 10, excludeHistory: false });
      for (const id of result.items) expect(id >= 1 && id <= model.itemCount).toBe(true);
    });
  });
}

describe('TigerModel with item tokens (hashed into 64 buckets) and with the item as the last level', () => {
  for (const options of [{ itemTokens: 64 }, { lastLevel: 'item' as const, levels: 2 }]) {
    it(`${JSON.stringify(options)}: score() equals nn's graph, and a saved model loads with identical results`, async () => {
      const model = await fitSmall('decoder-only', options);
      try {
        const { split } = smallSplit();
        const users = 5;
        const histories = slice(split.test, 0, users);
        const candidates = Int32Array.from({ length: users * 2 }, (_, i) => 1 + ((i * 29) % model.itemCount));
        const scores = await model.score(histories, Array.from({ length: users }, (_, u) => candidates.subarray(u * 2, u * 2 + 2)));
        const hook = tigerPreferenceModel(model);
        const g = new Graph({ training: false });
        const logp = hook.buildLogProb(g, { users, candidates: 2 });
        const compiled = await CompiledGraph.create(g, { outputs: [logp], outputNames: ['logp'], parameterValues: model.parameterMap, intraOpNumThreads: 1 });
        const out = (await compiled.run(hook.logProbFeeds(histories, candidates, { users, candidates: 2 }))).logp as Float32Array;
        await compiled.release();
        for (let i = 0; i < scores.length; i++) expect(Math.abs(scores[i]! - out[i]!)).toBeLessThan(1e-4);
        const folder = mkdtempSync(join(tmpdir(), 'tiger-variant-'));
        onTestFinished(() => rmSync(folder, { recursive: true, force: true }));
        const directory = join(folder, 'model');
        await model.save(directory);
        const loaded = await loadTiger(directory);
        expect(loaded.describe()).toEqual(model.describe());
        expect(Array.from((await loaded.recommend(histories, { k: 10 })).items)).toEqual(Array.from((await model.recommend(histories, { k: 10 })).items));
        await loaded.dispose();
      } finally {
        await model.dispose();
      }
    });
  }
});
