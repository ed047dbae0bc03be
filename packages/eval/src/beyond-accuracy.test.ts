import { matrixFromArrays } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { evaluateRankedLists } from './evaluate-ranked-lists.js';
import { evaluateScores } from './evaluate-scores.js';
import { giniIndex, shannonEntropy } from './inequality.js';
import { itemSetsFromArrays } from './item-sets.js';
import { rankedListsFromArrays } from './ranked-lists.js';

describe('Gini and entropy', () => {
  it('hand-computed values', () => {
    expect(giniIndex([1, 1, 1, 1])).toBe(0);
    expect(giniIndex([0, 0, 0, 4])).toBeCloseTo(0.75, 15);
    expect(giniIndex([2, 1, 0, 1])).toBeCloseTo(6 / 16, 15);
    expect(giniIndex([0, 0])).toBe(0);
    expect(shannonEntropy([1, 1, 1, 1])).toBeCloseTo(2, 15);
    expect(shannonEntropy([2, 1, 1, 0])).toBeCloseTo(1.5, 15);
  });
});

describe('beyond-accuracy metrics', () => {
  const lists = rankedListsFromArrays([[1, 2], [1, 3], []]);
  const relevance = itemSetsFromArrays([[2], [4], []]);
  const popularity = [0, 10, 5, 1, 0]; // indexed by item id 1..4; entry 0 (padding) ignored
  const embeddings = matrixFromArrays([ // row j = item j + 1
    [1, 0],
    [0, 2],
    [3, 0],
    [1, 1],
  ]);

  it('coverage, Gini, entropy, popularity, tail, novelty and intra-list diversity by hand', () => {
    const result = evaluateRankedLists(lists, relevance, {
      itemCount: 4,
      ks: [1, 2],
      beyondAccuracy: { popularity, tailFraction: 0.5, embeddings },
    });
    const b = result.beyondAccuracy!;
    expect(b['coverage@2']).toBe(0.75); // items 1, 2, 3
    expect(b['coverage@1']).toBe(0.25);
    expect(b['gini@2']).toBeCloseTo(6 / 16, 15); // counts [2, 1, 1, 0]
    expect(b['entropy@2']).toBeCloseTo(1.5, 15);
    expect(b['popularity@2']).toBeCloseTo((7.5 + 5.5) / 2, 15); // the empty list is not averaged
    expect(b['tail@2']).toBeCloseTo((0 + 0.5) / 2, 15); // tail = items 4 and 3
    const info = (p: number) => -Math.log2(Math.max(p, 1) / 16);
    expect(b['novelty@2']).toBeCloseTo(((info(10) + info(5)) / 2 + (info(10) + info(1)) / 2) / 2, 12);
    expect(b['ild@2']).toBeCloseTo((1 + 0) / 2, 15); // cos(item 1, item 2) = 0, cos(item 1, item 3) = 1
    expect(Number.isNaN(b['ild@1']!)).toBe(true); // lists of one item have no pairs
    expect(result.beyondAccuracyProtocol!.tailItemCount).toBe(2);
    expect(result.perUser!['popularity@2']![1]).toBeCloseTo(5.5, 15);
  });

  it('score matrices feed the partial top-K rankings', async () => {
    const scores = matrixFromArrays([
      [0.9, 0.8, 0.1, 0.2],
      [0.9, 0.1, 0.8, 0.2],
    ]);
    const result = await evaluateScores(scores, itemSetsFromArrays([[2], [4]]), { itemCount: 4, ks: [2], beyondAccuracy: { popularity } });
    expect(result.beyondAccuracy!['coverage@2']).toBe(0.75);
    expect(result.beyondAccuracy!['popularity@2']).toBeCloseTo(6.5, 15);
  });

  it('rejects popularity of the wrong size, a 0-based array of itemCount values included', () => {
    expect(() => evaluateRankedLists(lists, relevance, { itemCount: 4, ks: [1], beyondAccuracy: { popularity: [1, 2] } })).toThrow(/2 values; indexed by item id it needs itemCount \+ 1 = 5/);
    expect(() => evaluateRankedLists(lists, relevance, { itemCount: 4, ks: [1], beyondAccuracy: { popularity: [10, 5, 1, 0] } })).toThrow(/4 values/);
    expect(() => evaluateRankedLists(lists, relevance, { itemCount: 4, ks: [1], beyondAccuracy: { embeddings: matrixFromArrays([[1], [2], [3]]) } })).toThrow(/3 rows for 4 items/);
  });

  it('ignores entry 0 of popularity (the padding id): it is neither in the tail nor in the novelty denominator', () => {
    const withJunk = evaluateRankedLists(lists, relevance, { itemCount: 4, ks: [2], beyondAccuracy: { popularity: [99, 10, 5, 1, 0], tailFraction: 0.5 } });
    const clean = evaluateRankedLists(lists, relevance, { itemCount: 4, ks: [2], beyondAccuracy: { popularity, tailFraction: 0.5 } });
    expect(withJunk.beyondAccuracy).toEqual(clean.beyondAccuracy);
    expect(clean.beyondAccuracyProtocol!.noveltyDenominator).toBe(16);
  });

  it('slots of invalid ids kept as misses hold no item: they count in the top K but in no count or mean', () => {
    // User 0's list [9 (invalid), 1, 2]: top 2 = [miss, item 1]; top 3 = [miss, item 1, item 2].
    const result = evaluateRankedLists(rankedListsFromArrays([[9, 1, 2], [3]]), itemSetsFromArrays([[2], [4]]), {
      itemCount: 4,
      ks: [1, 2, 3],
      invalidIds: 'miss',
      beyondAccuracy: { popularity, tailFraction: 0.5, embeddings },
    });
    const b = result.beyondAccuracy!;
    expect(b['coverage@1']).toBe(0.25); // only item 3 (user 1); user 0's top 1 is the miss
    expect(b['coverage@2']).toBe(0.5); // items 1 and 3
    expect(b['coverage@3']).toBe(0.75);
    expect(b['popularity@1']).toBe(1); // user 0 has no item in its top 1: only user 1 (item 3) counts
    expect(b['popularity@2']).toBeCloseTo((10 + 1) / 2, 15);
    expect(b['popularity@3']).toBeCloseTo((7.5 + 1) / 2, 15);
    expect(Number.isNaN(result.perUser!['popularity@1']![0]!)).toBe(true);
    expect(b['ild@3']).toBe(1); // user 0: items 1 and 2 (orthogonal); user 1 has one item
    expect(Number.isNaN(b['ild@2']!)).toBe(true);
  });
});
