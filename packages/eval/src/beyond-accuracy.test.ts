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
  const lists = rankedListsFromArrays([[0, 1], [0, 2], []]);
  const relevance = itemSetsFromArrays([[1], [3], []]);
  const popularity = [10, 5, 1, 0];
  const embeddings = matrixFromArrays([
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
    expect(b['coverage@2']).toBe(0.75); // items 0, 1, 2
    expect(b['coverage@1']).toBe(0.25);
    expect(b['gini@2']).toBeCloseTo(6 / 16, 15); // counts [2, 1, 1, 0]
    expect(b['entropy@2']).toBeCloseTo(1.5, 15);
    expect(b['popularity@2']).toBeCloseTo((7.5 + 5.5) / 2, 15); // the empty list is not averaged
    expect(b['tail@2']).toBeCloseTo((0 + 0.5) / 2, 15); // tail = items 3 and 2
    const info = (p: number) => -Math.log2(Math.max(p, 1) / 16);
    expect(b['novelty@2']).toBeCloseTo(((info(10) + info(5)) / 2 + (info(10) + info(1)) / 2) / 2, 12);
    expect(b['ild@2']).toBeCloseTo((1 + 0) / 2, 15); // cos(e0, e1) = 0, cos(e0, e2) = 1
    expect(Number.isNaN(b['ild@1']!)).toBe(true); // lists of one item have no pairs
    expect(result.beyondAccuracyProtocol!.tailItemCount).toBe(2);
    expect(result.perUser!['popularity@2']![1]).toBeCloseTo(5.5, 15);
  });

  it('score matrices feed the partial top-K rankings', async () => {
    const scores = matrixFromArrays([
      [0.9, 0.8, 0.1, 0.2],
      [0.9, 0.1, 0.8, 0.2],
    ]);
    const result = await evaluateScores(scores, itemSetsFromArrays([[1], [3]]), { itemCount: 4, ks: [2], beyondAccuracy: { popularity } });
    expect(result.beyondAccuracy!['coverage@2']).toBe(0.75);
    expect(result.beyondAccuracy!['popularity@2']).toBeCloseTo(6.5, 15);
  });

  it('rejects popularity of the wrong size', () => {
    expect(() => evaluateRankedLists(lists, relevance, { itemCount: 4, ks: [1], beyondAccuracy: { popularity: [1, 2] } })).toThrow(/2 values for 4 items/);
  });
});
