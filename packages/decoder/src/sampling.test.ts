import { GenrecError, createSemanticIdTable, createTokenLayout } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { beamSearch } from './beam-search.js';
import { PrefixTrie } from './prefix-trie.js';
import { sampleSequences } from './sampling.js';
import { ToyStepModel, hashedLogits, logSoftmax } from './testing/toy-step-model.js';

const layout = createTokenLayout({ levelSizes: [3, 3] }); // tokens 3..5, 6..8
// 5 items: (0,0) (0,2) (1,1) (2,0) (2,2)
const table = createSemanticIdTable({ itemIds: [10, 11, 12, 13, 14], codes: [0, 0, 0, 2, 1, 1, 2, 0, 2, 2], levels: 2, codebookSizes: [3, 3] });
const inputs = { tokens: Int32Array.of(4, 2, 9, 1, 2, 3), batchSize: 2, length: 3 };

function itemProbabilities(model: ToyStepModel, trie: PrefixTrie, context: Int32Array): Map<number, number> {
  // The constrained sampler draws from the trie-masked (renormalised) distribution at each step.
  const result = new Map<number, number>();
  for (const id of trie.itemIds()) {
    const tokens = Array.from(trie.tokensOf(id)!);
    let probability = 1;
    for (let t = 0; t < tokens.length; t++) {
      const logits = model.logitsOf(context, tokens.slice(0, t));
      const allowed = trie.allowedTokens(tokens.slice(0, t));
      const total = Array.from(allowed).reduce((sum, token) => sum + Math.exp(logits[token]!), 0);
      probability *= Math.exp(logits[tokens[t]!]!) / total;
    }
    result.set(id, probability);
  }
  return result;
}

describe('sampleSequences', () => {
  it('draws only catalogue ids, with the frequencies of the trie-masked model (chi-square bound)', async () => {
    const trie = PrefixTrie.fromTable(table, layout);
    const model = new ToyStepModel(layout.vocabularySize, hashedLogits(3, 3));
    const samples = 4000;
    const result = await sampleSequences(model, inputs, { trie, samplesPerUser: samples, seed: 1, dedupe: false });
    for (let user = 0; user < 2; user++) {
      const counts = new Map<number, number>();
      for (const id of result.user(user).itemIds) counts.set(id, (counts.get(id) ?? 0) + 1);
      expect([...counts.keys()].every((id) => trie.has(id))).toBe(true);
      const expected = itemProbabilities(model, trie, inputs.tokens.slice(user * 3, user * 3 + 3));
      let chiSquare = 0;
      for (const [id, p] of expected) chiSquare += ((counts.get(id) ?? 0) - p * samples) ** 2 / (p * samples);
      expect(chiSquare).toBeLessThan(18.5); // 4 degrees of freedom, p = 0.001
    }
  });

  it('returns model log-probabilities, is reproducible by seed, and deduplicates', async () => {
    const trie = PrefixTrie.fromTable(table, layout);
    const model = new ToyStepModel(layout.vocabularySize, hashedLogits(5, 3));
    const a = await sampleSequences(model, inputs, { trie, samplesPerUser: 30, seed: 9 });
    const b = await sampleSequences(model, inputs, { trie, samplesPerUser: 30, seed: 9 });
    const c = await sampleSequences(model, inputs, { trie, samplesPerUser: 30, seed: 10, dedupe: false });
    expect(Array.from(a.itemIds)).toEqual(Array.from(b.itemIds));
    expect(Array.from(c.itemIds)).not.toEqual(Array.from(a.itemIds));
    for (let user = 0; user < 2; user++) {
      const { itemIds, logProbs, tokens } = a.user(user);
      const ids = Array.from(itemIds.subarray(0, a.counts[user]!));
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.length).toBeLessThanOrEqual(5);
      const context = inputs.tokens.slice(user * 3, user * 3 + 3);
      ids.forEach((id, j) => {
        const sequence = Array.from(tokens.subarray(j * 2, j * 2 + 2));
        const expected = logSoftmax(model.logitsOf(context, []))[sequence[0]!]! + logSoftmax(model.logitsOf(context, sequence.slice(0, 1)))[sequence[1]!]!;
        expect(logProbs[j]).toBeCloseTo(expected, 10);
        if (j > 0) expect(logProbs[j]!).toBeLessThanOrEqual(logProbs[j - 1]!);
      });
    }
  });

  it('with top-k 1 it is greedy decoding; exclusion removes items', async () => {
    const trie = PrefixTrie.fromTable(table, layout);
    const model = new ToyStepModel(layout.vocabularySize, hashedLogits(6, 3));
    const greedy = await beamSearch(model, inputs, { trie, beamWidth: 1, resultCount: 1 });
    const sampled = await sampleSequences(model, inputs, { trie, samplesPerUser: 8, topK: 1, seed: 3 });
    for (let user = 0; user < 2; user++) {
      expect(sampled.counts[user]).toBe(1);
      expect(sampled.user(user).itemIds[0]).toBe(greedy.user(user).itemIds[0]);
    }
    const excluded = await sampleSequences(model, inputs, { trie, samplesPerUser: 200, seed: 3, exclude: [[10, 11], undefined] });
    expect(Array.from(excluded.user(0).itemIds).filter((id) => id === 10 || id === 11)).toEqual([]);
    expect(await sampleSequences(model, inputs, { trie: new PrefixTrie(layout), samplesPerUser: 2, seed: 1 }).catch((e: unknown) => GenrecError.isInstance(e) && e.code)).toBe('INVALID_INPUT');
  });
});
