import type { HistoryBatch } from '@genrec/core';
import { CompiledGraph, Graph } from '@genrec/nn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tigerPreferenceModel } from './preference-model.js';
import { fitSmall, smallSplit } from './test-fixtures.js';
import type { TigerModel } from './tiger-model.js';

function firstUsers(users: number): HistoryBatch {
  const set = smallSplit().split.test;
  return { offsets: set.historyOffsets.slice(0, users + 1), items: set.historyItems.slice(0, set.historyOffsets[users]!) };
}

/** The tokens allowed after `prefix` computed from the code table alone: the next token of every item (with an id, not excluded) whose tokens start with `prefix`. */
function naiveAllowed(model: TigerModel, prefix: ArrayLike<number>, excluded: ReadonlySet<number>): Set<number> {
  const out = new Set<number>();
  for (let id = 1; id <= model.itemCount; id++) {
    const tokens = model.codes.tokensOf(id);
    if (tokens === undefined || excluded.has(id)) continue;
    let same = true;
    for (let l = 0; l < prefix.length && same; l++) same = tokens[l] === prefix[l];
    if (same) out.add(tokens[prefix.length]!);
  }
  return out;
}

// decoder-only with item tokens (a vocabulary wider than the ids' tokens), encoder-decoder without
for (const [architecture, options] of [
  ['decoder-only', { itemTokens: 32 }],
  ['encoder-decoder', {}],
] as const) {
  describe(`tigerPreferenceModel token level (${architecture} ${JSON.stringify(options)})`, () => {
    let model: TigerModel;
    beforeAll(async () => {
      model = await fitSmall(architecture, { epochs: 1, ...options });
    });
    afterAll(async () => {
      await model.dispose();
    });

    it("buildTokenLogits' log-softmax at each candidate's tokens sums to buildLogProb, in one graph with the same feeds", async () => {
      const hook = tigerPreferenceModel(model);
      const [users, candidates] = [5, 3];
      const width = hook.tokensPerItem;
      const v = hook.vocabularySize!;
      expect(v).toBe(model.codes.modelVocabularySize);
      expect(v).toBe(model.codes.vocabularySize + (options.itemTokens ?? 0));
      const ids = Int32Array.from({ length: users * candidates }, (_, i) => 1 + ((i * 41 + 7) % model.itemCount));
      const g = new Graph({ training: false });
      const logp = hook.buildLogProb(g, { users, candidates });
      const parameters = g.parameters.length;
      const logits = hook.buildTokenLogits!(g, { users, candidates });
      expect(g.parameters.length, 'the second builder shares the parameters').toBe(parameters);
      expect(logits.shape).toEqual([users, candidates, width, v]);
      const compiled = await CompiledGraph.create(g, { outputs: [logp, logits], outputNames: ['logp', 'logits'], parameterValues: model.parameterMap, intraOpNumThreads: 1 });
      const out = await compiled.run(hook.logProbFeeds(firstUsers(users), ids, { users, candidates }));
      await compiled.release();
      const [scores, values] = [out.logp as Float32Array, out.logits as Float32Array];
      expect(values.length).toBe(users * candidates * width * v);
      for (let row = 0; row < users * candidates; row++) {
        const tokens = model.codes.tokensOf(ids[row]!)!;
        let sum = 0;
        for (let l = 0; l < width; l++) {
          const base = (row * width + l) * v;
          let top = -Infinity;
          for (let t = 0; t < v; t++) top = Math.max(top, values[base + t]!);
          let total = 0;
          for (let t = 0; t < v; t++) total += Math.exp(values[base + t]! - top);
          sum += values[base + tokens[l]!]! - top - Math.log(total);
        }
        expect(scores[row]!).toBeLessThan(0);
        expect(Math.abs(sum - scores[row]!), `row ${row}: ${sum} vs ${scores[row]}`).toBeLessThan(1e-4);
      }
    });

    it("tokenMask is the trie's allowed tokens along each candidate's prefix: its own token allowed, a retired item's rows cut where it leaves the trie", async () => {
      // retired: an item whose quantiser codes no other item shares (its last row is empty) and one that shares them (its own last token is not allowed)
      const width = model.codes.tokensPerItem;
      const groups = new Map<string, number[]>();
      for (let id = 1; id <= model.itemCount; id++) {
        const key = Array.from(model.codes.tokensOf(id)!.subarray(0, width - 1)).join();
        groups.set(key, [...(groups.get(key) ?? []), id]);
      }
      const alone = [...groups.values()].find((ids) => ids.length === 1)![0]!;
      const shared = [...groups.values()].find((ids) => ids.length > 1)![0]!;
      model.retireItems([alone, shared]);
      const hook = tigerPreferenceModel(model);
      model.restoreItems([alone, shared]); // the hook keeps the items retired when it was made
      const retired = new Set([alone, shared]);
      const v = hook.vocabularySize!;
      const candidates = Int32Array.from([alone, shared, ...Array.from({ length: 30 }, (_, i) => 1 + ((i * 53 + 3) % model.itemCount))]);
      const mask = hook.tokenMask!(candidates);
      expect(mask.length).toBe(candidates.length * width * v);
      let emptyRows = 0;
      for (let c = 0; c < candidates.length; c++) {
        const id = candidates[c]!;
        const tokens = model.codes.tokensOf(id)!;
        for (let l = 0; l < width; l++) {
          const row = Array.from(mask.subarray((c * width + l) * v, (c * width + l + 1) * v));
          const expected = naiveAllowed(model, tokens.subarray(0, l), retired);
          expect(row.map((bit, t) => (bit === 1 ? t : -1)).filter((t) => t >= 0), `candidate ${id} position ${l}`).toEqual([...expected].sort((a, b) => a - b));
          for (const bit of row) expect(bit === 0 || bit === 1).toBe(true);
          if (!retired.has(id)) expect(row[tokens[l]!], `candidate ${id} position ${l}: its own token`).toBe(1);
          if (expected.size === 0) emptyRows++;
        }
      }
      expect(emptyRows, 'the lone retired item leaves the trie before its last token').toBeGreaterThan(0);
      expect(mask[(0 * width + width - 1) * v + model.codes.tokensOf(alone)![width - 1]!]).toBe(0);
      expect(mask[(1 * width + width - 1) * v + model.codes.tokensOf(shared)![width - 1]!]).toBe(0);
      expect(mask.subarray((1 * width + width - 1) * v, (2 * width) * v).some((bit) => bit === 1), "the shared item's siblings stay allowed").toBe(true);
      expect(() => hook.tokenMask!(Int32Array.of(0))).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
      expect(() => hook.tokenMask!(Int32Array.of(model.itemCount + 1))).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    });
  });
}
