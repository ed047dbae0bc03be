import { GenrecError, Rng, createSemanticIdTable, createTokenLayout, type StepModelInput, type TokenLayout } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { beamSearch, createBeamSearchStats, diverseBeamSearch } from './beam-search.js';
import { temperatureProcessor } from './logits-processors.js';
import { PrefixTrie } from './prefix-trie.js';
import { ToyStepModel, hashedLogits, logSoftmax } from './testing/toy-step-model.js';

interface Catalogue {
  layout: TokenLayout;
  trie: PrefixTrie;
  /** item id -> tokens */
  items: Map<number, number[]>;
}

function randomCatalogue(seed: number, levelSizes: number[], itemCount: number): Catalogue {
  const layout = createTokenLayout({ levelSizes });
  const rng = new Rng(seed);
  const seen = new Set<string>();
  const ids: number[] = [];
  const codes: number[] = [];
  const items = new Map<number, number[]>();
  while (ids.length < itemCount) {
    const tuple = levelSizes.map((size) => rng.int(size));
    if (seen.has(tuple.join())) continue;
    seen.add(tuple.join());
    const id = 1000 + rng.int(1000) * 100 + ids.length; // arbitrary, not row order
    ids.push(id);
    codes.push(...tuple);
    items.set(id, tuple.map((code, level) => layout.levelOffsets[level]! + code));
  }
  const table = createSemanticIdTable({ itemIds: ids, codes, levels: levelSizes.length, codebookSizes: levelSizes });
  return { layout, trie: PrefixTrie.fromTable(table, layout), items };
}

function randomInputs(seed: number, batchSize: number, length = 5): StepModelInput {
  const rng = new Rng(seed);
  const tokens = new Int32Array(batchSize * length);
  for (let i = 0; i < tokens.length; i++) tokens[i] = rng.int(50);
  return { tokens, batchSize, length };
}

/** Total log-probability of a token sequence under the toy model (float64, same formula as the search). */
function sequenceLogProb(model: ToyStepModel, context: Int32Array, tokens: number[], transform?: (logits: Float32Array) => void): number {
  let total = 0;
  for (let t = 0; t < tokens.length; t++) {
    const logits = model.logitsOf(context, tokens.slice(0, t));
    transform?.(logits);
    total += logSoftmax(logits)[tokens[t]!]!;
  }
  return total;
}

/** Exhaustive ranking of every catalogue item for one user. */
function exhaustive(model: ToyStepModel, context: Int32Array, items: Map<number, number[]>, exclude: Set<number> = new Set()): Array<{ id: number; logProb: number }> {
  return [...items]
    .filter(([id]) => !exclude.has(id))
    .map(([id, tokens]) => ({ id, logProb: sequenceLogProb(model, context, tokens) }))
    .sort((a, b) => b.logProb - a.logProb);
}

function contextOf(inputs: StepModelInput, user: number): Int32Array {
  return inputs.tokens.slice(user * inputs.length, (user + 1) * inputs.length);
}

async function errorCode(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return GenrecError.isInstance(error) ? error.code : `not a GenrecError: ${String(error)}`;
  }
  return undefined;
}

describe('beamSearch', () => {
  it('equals exhaustive enumeration when the beam is at least the catalogue (random models and catalogues)', async () => {
    for (let seed = 0; seed < 6; seed++) {
      const catalogue = randomCatalogue(seed, [5, 4, 3], 30);
      const model = new ToyStepModel(catalogue.layout.vocabularySize, hashedLogits(seed));
      const inputs = randomInputs(100 + seed, 3);
      const result = await beamSearch(model, inputs, { trie: catalogue.trie, beamWidth: 30, resultCount: 8 });
      for (let user = 0; user < 3; user++) {
        const expected = exhaustive(model, contextOf(inputs, user), catalogue.items).slice(0, 8);
        const got = result.user(user);
        expect(Array.from(got.itemIds)).toEqual(expected.map((e) => e.id));
        expected.forEach((e, j) => expect(got.logProbs[j]).toBeCloseTo(e.logProb, 12));
        for (let j = 0; j < 8; j++) expect(Array.from(got.tokens.subarray(j * 3, j * 3 + 3))).toEqual(catalogue.items.get(got.itemIds[j]!));
      }
      expect(model.encodeCalls).toBe(1);
      expect(model.stepCalls).toBe(3);
    }
  });

  it('never returns an id outside the catalogue, for any beam width (property)', async () => {
    const rng = new Rng(77);
    for (let trial = 0; trial < 25; trial++) {
      const catalogue = randomCatalogue(trial, [6, 6, 4], 5 + rng.int(60));
      const model = new ToyStepModel(catalogue.layout.vocabularySize + rng.int(3), hashedLogits(trial, 2 + rng.int(20)));
      const beamWidth = 1 + rng.int(12);
      const resultCount = 1 + rng.int(beamWidth);
      const inputs = randomInputs(trial, 2);
      const result = await beamSearch(model, inputs, { trie: catalogue.trie, beamWidth, resultCount });
      for (let user = 0; user < 2; user++) {
        const { itemIds, tokens, logProbs } = result.user(user);
        const filled = result.counts[user]!;
        expect(filled).toBe(Math.min(resultCount, catalogue.items.size));
        const ids = Array.from(itemIds.subarray(0, filled));
        expect(new Set(ids).size).toBe(ids.length);
        ids.forEach((id, j) => {
          expect(catalogue.items.get(id)).toEqual(Array.from(tokens.subarray(j * 3, j * 3 + 3)));
          expect(logProbs[j]).toBeCloseTo(sequenceLogProb(model, contextOf(inputs, user), catalogue.items.get(id)!), 10);
        });
        for (let j = 1; j < filled; j++) expect(logProbs[j]!).toBeLessThanOrEqual(logProbs[j - 1]!);
        for (let j = filled; j < resultCount; j++) expect(itemIds[j]).toBe(-1);
      }
    }
  });

  it('is not greedy: a wider beam finds the better id on a model where greedy is not optimal', async () => {
    // Level 0 tokens 3, 4; level 1 tokens 5, 6. Greedy takes 3 (p 0.52) whose continuations are
    // split evenly; 4 (p 0.48) is followed by 5 almost surely, so (4, 5) is the best id.
    const layout = createTokenLayout({ levelSizes: [2, 2] });
    const table = createSemanticIdTable({ itemIds: [1, 2, 3, 4], codes: [0, 0, 0, 1, 1, 0, 1, 1], levels: 2, codebookSizes: [2, 2] });
    const trie = PrefixTrie.fromTable(table, layout);
    const model = new ToyStepModel(7, (_context, prefix, out) => {
      out.fill(-30);
      if (prefix.length === 0) {
        out[3] = Math.log(0.52);
        out[4] = Math.log(0.48);
      } else if (prefix[0] === 3) {
        out[5] = 0;
        out[6] = 0;
      } else {
        out[5] = 5;
        out[6] = -5;
      }
    });
    const inputs = randomInputs(1, 1);
    const greedy = await beamSearch(model, inputs, { trie, beamWidth: 1, resultCount: 1 });
    const wide = await beamSearch(model, inputs, { trie, beamWidth: 2, resultCount: 1 });
    expect(greedy.itemIds[0]).toBe(1); // (3, 5): the tie between 5 and 6 goes to the lower token
    expect(wide.itemIds[0]).toBe(3); // (4, 5)
    expect(wide.logProbs[0]).toBeGreaterThan(greedy.logProbs[0]!);
    expect(wide.itemIds[0]).toBe(exhaustive(model, contextOf(inputs, 0), new Map([[1, [3, 5]], [2, [3, 6]], [3, [4, 5]], [4, [4, 6]]]))[0]!.id);
  });

  it('breaks exact ties by score, then flat index (beam x vocabulary + token)', async () => {
    const layout = createTokenLayout({ levelSizes: [3, 3] }); // tokens 3..5, 6..8; vocabulary 9
    // A=(0,2) B=(1,0) C=(1,1) D=(2,2) E=(0,0)
    const table = createSemanticIdTable({ itemIds: [1, 2, 3, 4, 5], codes: [0, 2, 1, 0, 1, 1, 2, 2, 0, 0], levels: 2, codebookSizes: [3, 3] });
    const trie = PrefixTrie.fromTable(table, layout);
    const model = new ToyStepModel(9, (_context, _prefix, out) => out.fill(0));
    const result = await beamSearch(model, randomInputs(0, 1), { trie, beamWidth: 2, resultCount: 3 });
    // Step 0 keeps tokens 3, 4 (flat 3, 4). Step 1: beam 0 -> 6 (E, flat 6), 8 (A, flat 8); beam 1 -> 6 (B, flat 15), 7 (C, 16).
    expect(Array.from(result.itemIds)).toEqual([5, 1, 2]);
    expect(result.logProbs[0]).toBeCloseTo(2 * -Math.log(9), 12);
  });

  it('masks excluded items at the leaves and returns the best of the others', async () => {
    const catalogue = randomCatalogue(9, [4, 4, 4], 40);
    const model = new ToyStepModel(catalogue.layout.vocabularySize, hashedLogits(9));
    const inputs = randomInputs(9, 2);
    const firstPass = await beamSearch(model, inputs, { trie: catalogue.trie, beamWidth: 40, resultCount: 5 });
    const exclude = [new Set([firstPass.itemIds[0]!, firstPass.itemIds[2]!]), new Set([firstPass.itemIds[6]!])];
    const result = await beamSearch(model, inputs, { trie: catalogue.trie, beamWidth: 40, resultCount: 5, exclude: [exclude[0]!, Array.from(exclude[1]!)] });
    for (let user = 0; user < 2; user++) {
      const expected = exhaustive(model, contextOf(inputs, user), catalogue.items, exclude[user]).slice(0, 5).map((e) => e.id);
      expect(Array.from(result.user(user).itemIds)).toEqual(expected);
    }
  });

  it('never returns removed items and can return newly inserted ones', async () => {
    const catalogue = randomCatalogue(21, [5, 5, 5], 50);
    const model = new ToyStepModel(catalogue.layout.vocabularySize, hashedLogits(21));
    const inputs = randomInputs(21, 2);
    const before = await beamSearch(model, inputs, { trie: catalogue.trie, beamWidth: 8, resultCount: 8 });
    const removed = new Set(Array.from(before.itemIds.subarray(0, 4)));
    for (const id of removed) {
      catalogue.trie.remove(id);
      catalogue.items.delete(id);
    }
    // A new item on a fresh path, and the former best user-0 item's codes re-inserted under a new id.
    const freshCodes = [0, 0, 0];
    while (catalogue.trie.itemOfTokens(freshCodes.map((c, l) => catalogue.layout.levelOffsets[l]! + c)) >= 0) freshCodes[2]!++;
    catalogue.trie.insert(77, freshCodes);
    catalogue.items.set(77, freshCodes.map((c, l) => catalogue.layout.levelOffsets[l]! + c));
    const all = await beamSearch(model, inputs, { trie: catalogue.trie, beamWidth: 60, resultCount: 60 });
    for (let user = 0; user < 2; user++) {
      const ids = Array.from(all.user(user).itemIds.subarray(0, all.counts[user]!));
      expect(ids.length).toBe(catalogue.items.size);
      expect(ids.some((id) => removed.has(id))).toBe(false);
      expect(ids).toContain(77);
      expect(ids).toEqual(exhaustive(model, contextOf(inputs, user), catalogue.items).map((e) => e.id));
    }
    const narrow = await beamSearch(model, inputs, { trie: catalogue.trie, beamWidth: 8, resultCount: 8 });
    for (const id of narrow.itemIds) expect(removed.has(id)).toBe(false);
  });

  it('unconstrained search equals exhaustive enumeration over every token sequence', async () => {
    const catalogue = randomCatalogue(4, [2, 2], 3); // vocabulary 7: 49 sequences of 2 tokens
    const model = new ToyStepModel(7, hashedLogits(4));
    const inputs = randomInputs(4, 2);
    const result = await beamSearch(model, inputs, { trie: catalogue.trie, constrain: false, beamWidth: 7, resultCount: 10 });
    for (let user = 0; user < 2; user++) {
      const all: Array<{ tokens: number[]; logProb: number }> = [];
      for (let a = 0; a < 7; a++) for (let b = 0; b < 7; b++) all.push({ tokens: [a, b], logProb: sequenceLogProb(model, contextOf(inputs, user), [a, b]) });
      all.sort((x, y) => y.logProb - x.logProb);
      const got = result.user(user);
      for (let j = 0; j < 10; j++) {
        expect(Array.from(got.tokens.subarray(j * 2, j * 2 + 2))).toEqual(all[j]!.tokens);
        expect(got.itemIds[j]).toBe(catalogue.trie.itemOfTokens(all[j]!.tokens));
      }
    }
  });

  it('renormalises over the allowed tokens when asked (exhaustive check)', async () => {
    const catalogue = randomCatalogue(12, [4, 3, 3], 20);
    const model = new ToyStepModel(catalogue.layout.vocabularySize, hashedLogits(12));
    const inputs = randomInputs(12, 1);
    const result = await beamSearch(model, inputs, { trie: catalogue.trie, beamWidth: 20, resultCount: 20, renormalize: true });
    const context = contextOf(inputs, 0);
    const expected = [...catalogue.items]
      .map(([id, tokens]) => {
        let total = 0;
        for (let t = 0; t < tokens.length; t++) {
          const logits = model.logitsOf(context, tokens.slice(0, t));
          const allowed = catalogue.trie.allowedTokens(tokens.slice(0, t));
          const lse = Math.log(Array.from(allowed).reduce((sum, token) => sum + Math.exp(logits[token]!), 0));
          total += logits[tokens[t]!]! - lse;
        }
        return { id, total };
      })
      .sort((a, b) => b.total - a.total);
    expect(Array.from(result.itemIds)).toEqual(expected.map((e) => e.id));
    expected.forEach((e, j) => expect(result.logProbs[j]).toBeCloseTo(e.total, 10));
    // The renormalised probabilities of all ids sum to 1.
    expect(expected.reduce((sum, e) => sum + Math.exp(e.total), 0)).toBeCloseTo(1, 10);
  });

  it('applies logits processors before the log-softmax and the length penalty to the scores', async () => {
    const catalogue = randomCatalogue(13, [4, 4], 12);
    const model = new ToyStepModel(catalogue.layout.vocabularySize, hashedLogits(13));
    const inputs = randomInputs(13, 1);
    const result = await beamSearch(model, inputs, { trie: catalogue.trie, beamWidth: 12, resultCount: 12, logitsProcessors: [temperatureProcessor(2)], lengthPenalty: 1.5 });
    const context = contextOf(inputs, 0);
    const expected = [...catalogue.items]
      .map(([id, tokens]) => ({ id, logProb: sequenceLogProb(model, context, tokens, (logits) => logits.forEach((v, i) => (logits[i] = v / 2))) }))
      .sort((a, b) => b.logProb - a.logProb);
    expect(Array.from(result.itemIds)).toEqual(expected.map((e) => e.id));
    expected.forEach((e, j) => {
      expect(result.logProbs[j]).toBeCloseTo(e.logProb, 6);
      expect(result.scores[j]).toBeCloseTo(e.logProb / Math.pow(2, 1.5), 6);
    });
  });

  it('gives each user of a batch the same result as alone, and reports state and timings', async () => {
    const catalogue = randomCatalogue(31, [8, 8, 4], 150);
    const model = new ToyStepModel(catalogue.layout.vocabularySize, hashedLogits(31));
    const inputs = randomInputs(31, 5);
    const stats = createBeamSearchStats();
    const beams: number[] = [];
    const batch = await beamSearch(model, inputs, { trie: catalogue.trie, beamWidth: 6, resultCount: 4, stats, onStep: (state) => beams.push(state.beamsPerUser) });
    expect(beams).toEqual([6, 6, 4]);
    expect(stats.calls).toBe(1);
    expect(stats.trieMs).toBeGreaterThan(0);
    for (let user = 0; user < 5; user++) {
      const alone = await beamSearch(model, { tokens: contextOf(inputs, user), batchSize: 1, length: inputs.length }, { trie: catalogue.trie, beamWidth: 6, resultCount: 4 });
      expect(Array.from(batch.user(user).itemIds)).toEqual(Array.from(alone.itemIds));
      expect(Array.from(batch.user(user).logProbs)).toEqual(Array.from(alone.logProbs));
    }
  });

  it('rejects bad input with GenrecError', async () => {
    const catalogue = randomCatalogue(1, [3, 3], 5);
    const inputs = randomInputs(1, 1);
    const good = new ToyStepModel(catalogue.layout.vocabularySize, hashedLogits(1));
    // prefix longer than the id length
    expect(() => catalogue.trie.walk([3, 6, 6])).toThrow(GenrecError);
    expect(await errorCode(beamSearch(good, inputs, { trie: catalogue.trie, steps: 3 }))).toBe('INVALID_OPTION');
    // model vocabulary smaller than the trie's
    expect(await errorCode(beamSearch(new ToyStepModel(5, hashedLogits(1)), inputs, { trie: catalogue.trie }))).toBe('SHAPE_MISMATCH');
    // empty catalogue
    expect(await errorCode(beamSearch(good, inputs, { trie: new PrefixTrie(catalogue.layout) }))).toBe('INVALID_INPUT');
    // NaN logits
    const nan = new ToyStepModel(catalogue.layout.vocabularySize, (_c, prefix, out) => {
      hashedLogits(1)(_c, prefix, out);
      if (prefix.length === 1) out[7] = Number.NaN;
    });
    expect(await errorCode(beamSearch(nan, inputs, { trie: catalogue.trie }))).toBe('INVALID_INPUT');
    const infinite = new ToyStepModel(catalogue.layout.vocabularySize, (_c, _p, out) => out.fill(0).fill(Number.POSITIVE_INFINITY, 4, 5));
    expect(await errorCode(beamSearch(infinite, inputs, { trie: catalogue.trie }))).toBe('INVALID_INPUT');
    // options
    expect(await errorCode(beamSearch(good, inputs, { trie: catalogue.trie, beamWidth: 0 }))).toBe('INVALID_OPTION');
    expect(await errorCode(beamSearch(good, inputs, {}))).toBe('INVALID_OPTION'); // no steps without a trie
    expect(await errorCode(beamSearch(good, inputs, { trie: catalogue.trie, exclude: [] }))).toBe('SHAPE_MISMATCH');
    expect(await errorCode(beamSearch(good, { tokens: new Int32Array(3), batchSize: 1, length: 5 }, { trie: catalogue.trie }))).toBe('SHAPE_MISMATCH');
  });
});

describe('diverseBeamSearch', () => {
  it('with one group equals beamSearch', async () => {
    const catalogue = randomCatalogue(41, [6, 6, 4], 120);
    const model = new ToyStepModel(catalogue.layout.vocabularySize, hashedLogits(41));
    const inputs = randomInputs(41, 3);
    const plain = await beamSearch(model, inputs, { trie: catalogue.trie, beamWidth: 6, resultCount: 6 });
    const diverse = await diverseBeamSearch(model, inputs, { trie: catalogue.trie, beamWidth: 6, resultCount: 6, groups: 1, diversityPenalty: 3 });
    expect(Array.from(diverse.itemIds)).toEqual(Array.from(plain.itemIds));
  });

  it('without penalty, every group repeats the narrow beam (deduplicated); with a penalty the groups start differently', async () => {
    const catalogue = randomCatalogue(42, [6, 6, 4], 120);
    const model = new ToyStepModel(catalogue.layout.vocabularySize, hashedLogits(42));
    const inputs = randomInputs(42, 2);
    const narrow = await beamSearch(model, inputs, { trie: catalogue.trie, beamWidth: 3, resultCount: 3 });
    const noPenalty = await diverseBeamSearch(model, inputs, { trie: catalogue.trie, beamWidth: 6, resultCount: 6, groups: 2, diversityPenalty: 0 });
    for (let user = 0; user < 2; user++) {
      expect(noPenalty.counts[user]).toBe(3);
      expect(Array.from(noPenalty.user(user).itemIds.subarray(0, 3))).toEqual(Array.from(narrow.user(user).itemIds));
    }
    const firstTokens: number[][] = [];
    const penalised = await diverseBeamSearch(model, inputs, {
      trie: catalogue.trie,
      beamWidth: 6,
      resultCount: 6,
      groups: 2,
      diversityPenalty: 1000,
      onStep: (state) => {
        if (state.step === 1) firstTokens.push(Array.from(state.tokens.subarray(0, 6 * 3)).filter((_, i) => i % 3 === 0));
      },
    });
    // A huge penalty forbids group 1 from reusing group 0's first tokens: 6 distinct first tokens.
    expect(new Set(firstTokens[0]).size).toBe(6);
    for (let user = 0; user < 2; user++) {
      const { itemIds, logProbs } = penalised.user(user);
      const ids = Array.from(itemIds.subarray(0, penalised.counts[user]!));
      expect(new Set(ids).size).toBe(ids.length);
      for (const id of ids) expect(catalogue.items.has(id)).toBe(true);
      for (let j = 1; j < ids.length; j++) expect(logProbs[j]!).toBeLessThanOrEqual(logProbs[j - 1]!);
      ids.forEach((id, j) => expect(logProbs[j]).toBeCloseTo(sequenceLogProb(model, contextOf(inputs, user), catalogue.items.get(id)!), 10));
    }
  });

  it('rejects a group count that does not divide the beam', async () => {
    const catalogue = randomCatalogue(1, [3, 3], 5);
    const model = new ToyStepModel(catalogue.layout.vocabularySize, hashedLogits(1));
    expect(await errorCode(diverseBeamSearch(model, randomInputs(1, 1), { trie: catalogue.trie, beamWidth: 5, groups: 2, diversityPenalty: 1 }))).toBe('INVALID_OPTION');
  });
});
