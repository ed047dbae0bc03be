import { Rng, createSemanticIdTable, createTokenLayout, type StepModelInput, type TokenLayout } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { beamSearch } from './beam-search.js';
import { ExclusionPruner } from './exclusion-pruning.js';
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
    const id = ids.length + 1;
    ids.push(id);
    codes.push(...tuple);
    items.set(id, tuple.map((code, level) => layout.levelOffsets[level]! + code));
  }
  const table = createSemanticIdTable({ itemIds: ids, codes, levels: levelSizes.length, codebookSizes: levelSizes });
  return { layout, trie: PrefixTrie.fromTable(table, layout), items };
}

/** Every live node of the trie with the items below it (naive: from the items' token paths). */
function leavesByNode(catalogue: Catalogue): Map<number, Set<number>> {
  const below = new Map<number, Set<number>>();
  for (const [id, tokens] of catalogue.items) {
    for (let depth = 0; depth <= tokens.length; depth++) {
      const node = catalogue.trie.walk(tokens.slice(0, depth));
      if (!below.has(node)) below.set(node, new Set());
      below.get(node)!.add(id);
    }
  }
  return below;
}

function sequenceLogProb(model: ToyStepModel, context: Int32Array, tokens: number[]): number {
  let total = 0;
  for (let t = 0; t < tokens.length; t++) total += logSoftmax(model.logitsOf(context, tokens.slice(0, t)))[tokens[t]!]!;
  return total;
}

function randomInputs(seed: number, batchSize: number, length = 5): StepModelInput {
  const rng = new Rng(seed);
  const tokens = new Int32Array(batchSize * length);
  for (let i = 0; i < tokens.length; i++) tokens[i] = rng.int(50);
  return { tokens, batchSize, length };
}

describe('ExclusionPruner', () => {
  it('blocks exactly the nodes whose leaves are all excluded (random tries and exclusions vs a naive count)', () => {
    for (let seed = 0; seed < 20; seed++) {
      const rng = new Rng(seed);
      const catalogue = randomCatalogue(seed, [4, 4, 5], 20 + rng.int(40));
      const below = leavesByNode(catalogue);
      const users = 4;
      const exclude = Array.from({ length: users }, (_, user) => {
        if (user === 0) return undefined;
        const share = [0.2, 0.6, 0.95][user - 1]!;
        const set = new Set<number>();
        for (const id of catalogue.items.keys()) if (rng.uniform() < share) set.add(id);
        set.add(10_000); // not in the trie: ignored
        return user === 2 ? Array.from(set).concat(Array.from(set)) : set; // arrays may repeat ids
      });
      const pruner = new ExclusionPruner(catalogue.trie, exclude);
      for (let user = 0; user < users; user++) {
        const excluded = new Set(exclude[user] ?? []);
        let inTrie = 0;
        for (const id of excluded) if (catalogue.items.has(id)) inTrie++;
        expect(pruner.excludedLeaves(user)).toBe(inTrie);
        for (const [node, leaves] of below) {
          const all = [...leaves].every((id) => excluded.has(id));
          expect(pruner.isBlocked(user, node), `seed ${seed}, user ${user}, node ${node}`).toBe(all);
        }
      }
    }
  });

  it('blocks the root when every item is excluded', () => {
    const catalogue = randomCatalogue(3, [2, 2], 4);
    const pruner = new ExclusionPruner(catalogue.trie, [new Set([1, 2, 3, 4])]);
    expect(pruner.isBlocked(0, catalogue.trie.root)).toBe(true);
  });
});

describe('beamSearch with exclusions pruned at every level', () => {
  it('returns min(resultCount, items left) for every user even when the excluded items are the most likely', async () => {
    const catalogue = randomCatalogue(11, [4, 4, 4], 60);
    const model = new ToyStepModel(catalogue.layout.vocabularySize, hashedLogits(11));
    const inputs = randomInputs(11, 3);
    const beamWidth = 5;
    const plain = await beamSearch(model, inputs, { trie: catalogue.trie, beamWidth: 60, resultCount: 60 });
    // each user excludes the 40 items it likes most: a leaf-only mask would leave narrow beams empty
    const exclude = [0, 1, 2].map((user) => new Set(Array.from(plain.user(user).itemIds.subarray(0, user === 2 ? 57 : 40))));
    const result = await beamSearch(model, inputs, { trie: catalogue.trie, beamWidth, resultCount: 5, exclude });
    for (let user = 0; user < 3; user++) {
      const left = 60 - exclude[user]!.size;
      expect(result.counts[user], `user ${user}`).toBe(Math.min(5, left));
      for (const id of result.user(user).itemIds.subarray(0, result.counts[user])) expect(exclude[user]!.has(id)).toBe(false);
      // each returned score is the item's own total log-probability
      const context = inputs.tokens.slice(user * inputs.length, (user + 1) * inputs.length);
      for (let r = 0; r < result.counts[user]!; r++) {
        const id = result.user(user).itemIds[r]!;
        expect(result.user(user).logProbs[r]).toBeCloseTo(sequenceLogProb(model, context, catalogue.items.get(id)!), 9);
      }
    }
  });

  it('with a beam as wide as the catalogue equals the exhaustive ranking of the items left', async () => {
    for (let seed = 0; seed < 4; seed++) {
      const catalogue = randomCatalogue(30 + seed, [3, 4, 3], 30);
      const model = new ToyStepModel(catalogue.layout.vocabularySize, hashedLogits(30 + seed));
      const inputs = randomInputs(30 + seed, 2);
      const rng = new Rng(seed);
      const exclude = [0, 1].map(() => new Set(Array.from({ length: 12 }, () => 1 + rng.int(30))));
      const result = await beamSearch(model, inputs, { trie: catalogue.trie, beamWidth: 30, resultCount: 10, exclude });
      for (let user = 0; user < 2; user++) {
        const context = inputs.tokens.slice(user * inputs.length, (user + 1) * inputs.length);
        const expected = [...catalogue.items]
          .filter(([id]) => !exclude[user]!.has(id))
          .map(([id, tokens]) => ({ id, logProb: sequenceLogProb(model, context, tokens) }))
          .sort((a, b) => b.logProb - a.logProb)
          .slice(0, 10)
          .map((entry) => entry.id);
        expect(Array.from(result.user(user).itemIds)).toEqual(expected);
      }
    }
  });
});
