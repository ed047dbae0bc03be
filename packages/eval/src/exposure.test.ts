import { Rng } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { evaluateRankedLists } from './evaluate-ranked-lists.js';
import { evaluateExposure, popularityGroups } from './exposure.js';
import { itemSetsFromArrays } from './item-sets.js';
import { createRankedLists, rankedListsFromArrays } from './ranked-lists.js';

describe('evaluateExposure: hand-computed', () => {
  const relevance = itemSetsFromArrays([[2]]);

  it('one deterministic ranking (per-item arrays indexed by item id, entry 0 unused)', () => {
    // exposure: item1 1, item2 0.5, item3 0.25; target: item2 1, items 1 and 3 share (0.5 + 0.25) / 2
    const result = evaluateExposure(rankedListsFromArrays([[1, 2, 3]]), relevance, { itemCount: 3, gamma: 0.5 });
    expect(result.protocol.depth).toBe(3);
    expect(result.eeD).toBeCloseTo(1 + 0.25 + 0.0625, 15);
    expect(result.eeR).toBeCloseTo(0.375 + 0.5 + 0.25 * 0.375, 15);
    expect(result.eeL).toBeCloseTo(0.625 ** 2 + 0.5 ** 2 + 0.125 ** 2, 15);
    expect(Array.from(result.itemTargetExposure)).toEqual([0, 0.375, 1, 0.375]);
    expect(Array.from(result.itemExposure)).toEqual([0, 1, 0.5, 0.25]);
    // Gini over the 3 items (not the unused slot 0): sorted [0.25, 0.5, 1], sum 1.75.
    expect(result.itemExposureGini).toBeCloseTo((-2 * 0.25 + 0 * 0.5 + 2 * 1) / (3 * 1.75), 15);
  });

  it('two sampled rankings are averaged', () => {
    const result = evaluateExposure([rankedListsFromArrays([[1, 2, 3]]), rankedListsFromArrays([[2, 1, 3]])], relevance, { itemCount: 3 });
    expect(Array.from(result.itemExposure)).toEqual([0, 0.75, 0.75, 0.25]);
    expect(result.eeL).toBeCloseTo(0.375 ** 2 + 0.25 ** 2 + 0.125 ** 2, 15);
    expect(result.protocol.samplesPerUser).toBe(2);
  });

  it('the ideal stochastic ranker reaches EE-L = 0 (sampling every order of equal grades)', () => {
    // two relevant items of grade 1, two non-relevant items: ideal = relevant first, each order equally often
    const orders = [
      [1, 2, 3, 4],
      [2, 1, 3, 4],
      [1, 2, 4, 3],
      [2, 1, 4, 3],
    ];
    const result = evaluateExposure(
      orders.map((order) => rankedListsFromArrays([order])),
      itemSetsFromArrays([[1, 2]]),
      { itemCount: 4, gamma: 0.8 },
    );
    expect(result.eeL).toBeCloseTo(0, 15);
    expect(result.itemExposureGini).toBeCloseTo(result.itemTargetExposureGini, 15);
  });

  it('groups, users without relevant items, and invalid ids', () => {
    const lists = rankedListsFromArrays([[1, 2], [3, 4]]);
    const sets = itemSetsFromArrays([[2], []]);
    const groups = popularityGroups([0, 4, 3, 2, 1], 2); // indexed by item id; items 4, 3 least popular -> group 0
    expect(Array.from(groups)).toEqual([-1, 1, 1, 0, 0]); // the padding id 0 has no group
    const skipped = evaluateExposure(lists, sets, { itemCount: 4, itemGroups: groups });
    expect(skipped.evaluatedUserCount).toBe(1);
    expect(skipped.groupExposure).toEqual([0, 1.5]);
    expect(skipped.groupSizes).toEqual([2, 2]);
    const included = evaluateExposure(lists, sets, { itemCount: 4, usersWithoutRelevant: 'include' });
    expect(included.evaluatedUserCount).toBe(2);
    // user 1: uniform target (1 + 0.5) / 4 for every item
    expect(included.perUser!.eeL[1]).toBeCloseTo((1 - 0.375) ** 2 + (0.5 - 0.375) ** 2 + 2 * 0.375 ** 2, 15);
    expect(() => evaluateExposure(rankedListsFromArrays([[9]]), itemSetsFromArrays([[1]]), { itemCount: 4 })).toThrow(/item id 9 is outside the catalogue 1\.\.4/);
    expect(() => evaluateExposure(rankedListsFromArrays([[0]]), itemSetsFromArrays([[1]]), { itemCount: 4 })).toThrow(/item id 0 is outside the catalogue 1\.\.4/);
    const skipSlot = evaluateExposure(createRankedLists(new Int32Array([0, 1]), 2), itemSetsFromArrays([[1]]), { itemCount: 4, invalidIds: 'skip-slot' });
    expect(skipSlot.itemExposure[1]).toBe(0.5); // the 0 keeps rank 1 and exposes nothing
    expect(skipSlot.itemExposure[0]).toBe(0);
    expect(() => evaluateExposure(lists, sets, { itemCount: 4, itemGroups: [1, 1, 0, 0] })).toThrow(/4 entries; indexed by item id it needs itemCount \+ 1 = 5/);
  });
});

/** Dense reference: full exposure and target vectors from the definitions (arrays indexed by item id - 1). */
function naiveExposure(samples: number[][], grades: Map<number, number>, itemCount: number, gamma: number, depth: number) {
  const exposure = new Array<number>(itemCount).fill(0);
  for (const list of samples) {
    const seen = new Set<number>();
    list.forEach((item, rank) => {
      if (rank >= depth || seen.has(item)) return;
      seen.add(item);
      exposure[item - 1]! += gamma ** rank / samples.length;
    });
  }
  // Ideal: items sorted by grade (0 for non-relevant) descending; each grade shares its ranks.
  const gradeOf = (i: number) => grades.get(i + 1) ?? 0;
  const order = Array.from({ length: itemCount }, (_, i) => i).sort((a, b) => gradeOf(b) - gradeOf(a));
  const target = new Array<number>(itemCount).fill(0);
  for (let start = 0; start < itemCount; ) {
    let end = start;
    let mass = 0;
    while (end < itemCount && gradeOf(order[end]!) === gradeOf(order[start]!)) {
      if (end < depth) mass += gamma ** end;
      end++;
    }
    for (let i = start; i < end; i++) target[order[i]!] = mass / (end - start);
    start = end;
  }
  let d = 0;
  let r = 0;
  let l = 0;
  for (let i = 0; i < itemCount; i++) {
    d += exposure[i]! ** 2;
    r += exposure[i]! * target[i]!;
    l += (exposure[i]! - target[i]!) ** 2;
  }
  return { d, r, l, exposure, target };
}

describe('evaluateExposure vs a dense naive implementation on random sampled rankings', () => {
  it('matches EE-D, EE-R, EE-L per user and the per-item exposure', () => {
    const rng = new Rng(9);
    const users = 40;
    const itemCount = 15;
    const width = 6;
    const sampleCount = 3;
    const relevant: number[][] = [];
    const grades: number[][] = [];
    for (let u = 0; u < users; u++) {
      const items = Array.from(rng.permutation(itemCount), (i) => i + 1).slice(0, 1 + rng.int(5));
      relevant.push(items);
      grades.push(items.map(() => 1 + rng.int(3)));
    }
    const samples: number[][][] = Array.from({ length: sampleCount }, () =>
      Array.from({ length: users }, () => Array.from({ length: width }, () => 1 + rng.int(itemCount))), // repeats possible
    );
    const result = evaluateExposure(
      samples.map((lists) => rankedListsFromArrays(lists, width)),
      itemSetsFromArrays(relevant, grades),
      { itemCount, gamma: 0.7, depth: 5 },
    );
    const itemSums = new Array<number>(itemCount).fill(0);
    const targetSums = new Array<number>(itemCount).fill(0);
    for (let u = 0; u < users; u++) {
      const map = new Map(relevant[u]!.map((item, i) => [item, grades[u]![i]!]));
      const naive = naiveExposure(samples.map((lists) => lists[u]!), map, itemCount, 0.7, 5);
      expect(result.perUser!.eeD[u]).toBeCloseTo(naive.d, 12);
      expect(result.perUser!.eeR[u]).toBeCloseTo(naive.r, 12);
      expect(result.perUser!.eeL[u]).toBeCloseTo(naive.l, 12);
      naive.exposure.forEach((e, i) => (itemSums[i]! += e / users));
      naive.target.forEach((e, i) => (targetSums[i]! += e / users));
    }
    itemSums.forEach((value, i) => expect(result.itemExposure[i + 1]).toBeCloseTo(value, 12));
    targetSums.forEach((value, i) => expect(result.itemTargetExposure[i + 1]).toBeCloseTo(value, 12));
    expect(result.itemExposure.length).toBe(itemCount + 1);
  });

  it('is attached to a ranked-list evaluation on request', () => {
    const result = evaluateRankedLists(rankedListsFromArrays([[1, 2, 3]]), itemSetsFromArrays([[2]]), { itemCount: 3, ks: [3], exposure: { gamma: 0.5 } });
    expect(result.exposure!.eeL).toBeCloseTo(0.65625, 15);
  });
});

describe('exposure from score matrices', () => {
  it('equals evaluateExposure of the returned top-K rankings', async () => {
    const { evaluateScores } = await import('./evaluate-scores.js');
    const { matrixFromArrays } = await import('@genrec/core');
    const scores = matrixFromArrays([
      [0.1, 0.7, 0.3, 0.9],
      [0.8, 0.2, 0.6, 0.4],
    ]);
    const relevance = itemSetsFromArrays([[2], [3, 4]]);
    const result = await evaluateScores(scores, relevance, { itemCount: 4, ks: [3], exposure: { gamma: 0.6 } });
    expect(result.rankings).not.toBeNull();
    const direct = evaluateExposure(result.rankings!, relevance, { itemCount: 4, gamma: 0.6 });
    expect(result.exposure!.eeL).toBeCloseTo(direct.eeL, 15);
    // user 0 ranks items [4, 2, 3]: exposure 1, 0.6, 0.36; target: item 2 gets 1, the rest share 0.6 + 0.36
    const share = (0.6 + 0.36) / 3;
    expect(result.exposure!.perUser!.eeL[0]).toBeCloseTo((1 - share) ** 2 + (0.6 - 1) ** 2 + (0.36 - share) ** 2 + share ** 2, 15);
  });
});
