import { describe, expect, it } from 'vitest';
import { evaluateRankedLists } from './evaluate-ranked-lists.js';
import { itemSetsFromArrays, itemSetsFromPadded, validateItemSets } from './item-sets.js';
import { createRankedLists, rankedListsFromArrays } from './ranked-lists.js';
import { expectCode } from './test-helpers.js';

const log2 = Math.log2;

describe('evaluateRankedLists: hand-computed cases', () => {
  // Item ids 1..10. user 0: hits at positions 1 and 4, one relevant item (10) never ranked;
  // user 1: empty list; user 2: no relevant item; user 3: six relevant items, more than any K.
  const lists = rankedListsFromArrays([[4, 2, 5, 8, 3], [], [6, 7], [9, 1, 3, 7, 6]], 5);
  const relevance = itemSetsFromArrays([[2, 3, 10], [1], [], [9, 1, 3, 7, 6, 10]]);
  const result = evaluateRankedLists(lists, relevance, { itemCount: 10, ks: [5, 1, 3] });
  const idcg3 = 1 + 1 / log2(3) + 1 / log2(4);

  it('records the protocol and skips users without relevant items', () => {
    expect(result.protocol.ks).toEqual([1, 3, 5]);
    expect(result.protocol.usersWithoutRelevant).toBe('skip');
    expect(result.protocol.tiePolicy).toBe('none');
    expect(result.evaluatedUserCount).toBe(3);
    expect(result.skippedUserCount).toBe(1);
    expect(Number.isNaN(result.perUser!['ndcg@3']![2]!)).toBe(true);
  });

  it('per-user values of user 0 (|relevant| = 3, hits at ranks 2 and 5)', () => {
    const v = (key: string) => result.perUser![key]![0]!;
    expect(v('hitrate@1')).toBe(0);
    expect(v('recall@1')).toBe(0);
    expect(v('hitrate@3')).toBe(1);
    expect(v('recall@3')).toBeCloseTo(1 / 3, 15);
    expect(v('precision@3')).toBeCloseTo(1 / 3, 15);
    expect(v('ndcg@3')).toBeCloseTo(1 / log2(3) / idcg3, 15);
    expect(v('mrr@3')).toBe(0.5);
    expect(v('map@3')).toBeCloseTo(0.5 / 3, 15);
    expect(v('recall@5')).toBeCloseTo(2 / 3, 15);
    expect(v('precision@5')).toBeCloseTo(2 / 5, 15);
    expect(v('ndcg@5')).toBeCloseTo((1 / log2(3) + 1 / log2(6)) / idcg3, 15);
    expect(v('map@5')).toBeCloseTo((1 / 2 + 2 / 5) / 3, 15);
    expect(v('mrr@full')).toBe(0.5);
  });

  it('an empty list scores 0 everywhere', () => {
    for (const key of Object.keys(result.perUser!)) expect(result.perUser![key]![1]).toBe(0);
  });

  it('|relevant| > K: recall below 1, NDCG and MAP normalised by min(|relevant|, K)', () => {
    const v = (key: string) => result.perUser![key]![3]!;
    expect(v('recall@1')).toBeCloseTo(1 / 6, 15);
    expect(v('precision@1')).toBe(1);
    expect(v('ndcg@1')).toBe(1);
    expect(v('map@1')).toBe(1);
    expect(v('recall@5')).toBeCloseTo(5 / 6, 15);
    expect(v('ndcg@5')).toBeCloseTo(1, 15);
    expect(v('map@5')).toBeCloseTo(1, 15);
    const relevantDenominator = evaluateRankedLists(lists, relevance, { itemCount: 10, ks: [5], apDenominator: 'relevant' });
    expect(relevantDenominator.perUser!['map@5']![3]).toBeCloseTo(5 / 6, 15);
  });

  it('means over the evaluated users, and with users without relevant items counted as zero', () => {
    expect(result.metrics['recall@5']).toBeCloseTo((2 / 3 + 0 + 5 / 6) / 3, 15);
    expect(result.metrics['ndcg@3']).toBeCloseTo((1 / log2(3) / idcg3 + 0 + 1) / 3, 15);
    expect(result.metrics['mrr@full']).toBeCloseTo((0.5 + 0 + 1) / 3, 15);
    const zero = evaluateRankedLists(lists, relevance, { itemCount: 10, ks: [1, 3, 5], usersWithoutRelevant: 'zero' });
    expect(zero.evaluatedUserCount).toBe(4);
    expect(zero.metrics['recall@5']).toBeCloseTo((2 / 3 + 0 + 0 + 5 / 6) / 4, 15);
    expect(zero.perUser!['ndcg@3']![2]).toBe(0);
  });

  it('decoding diagnostics: short lists', () => {
    expect(result.decoding!.shortListRate['@5']).toBe(0.5); // users 1 and 2
    expect(result.decoding!.shortListRate['@3']).toBe(0.5);
    expect(result.decoding!.shortListRate['@1']).toBe(0.25);
    expect(result.decoding!.invalidRate).toBe(0);
  });
});

describe('evaluateRankedLists: protocol options', () => {
  it('dedupe removes repeats; without it a repeat keeps its slot and never hits twice', () => {
    const lists = rankedListsFromArrays([[1, 1, 2], [2, 2, 3]]);
    const relevance = itemSetsFromArrays([[2], [2]]);
    const on = evaluateRankedLists(lists, relevance, { itemCount: 5, ks: [3] });
    expect(on.perUser!['mrr@3']![0]).toBe(0.5);
    expect(on.perUser!['recall@3']![1]).toBe(1);
    expect(on.decoding!.duplicateRate).toBeCloseTo(2 / 6, 15);
    expect(on.decoding!.shortAfterFilteringRate['@3']).toBe(1);
    const off = evaluateRankedLists(lists, relevance, { itemCount: 5, ks: [3], dedupe: false });
    expect(off.protocol.dedupe).toBe(false);
    expect(off.perUser!['mrr@3']![0]).toBeCloseTo(1 / 3, 15);
    expect(off.perUser!['recall@3']![1]).toBe(1);
    expect(off.perUser!['precision@3']![1]).toBeCloseTo(1 / 3, 15);
    expect(off.decoding!.shortAfterFilteringRate['@3']).toBe(0);
  });

  it('invalid ids: error, drop before cutting, or keep as misses', () => {
    const lists = rankedListsFromArrays([[-1, 99, 3]]);
    const relevance = itemSetsFromArrays([[3]]);
    expectCode(() => evaluateRankedLists(lists, relevance, { itemCount: 10, ks: [1] }), 'INVALID_INPUT', /user 0, position 0: item id -1 is outside the catalogue 1\.\.10/);
    const drop = evaluateRankedLists(lists, relevance, { itemCount: 10, ks: [1, 3], invalidIds: 'drop' });
    expect(drop.perUser!['hitrate@1']![0]).toBe(1);
    expect(drop.decoding!.invalidRate).toBeCloseTo(2 / 3, 15);
    expect(drop.decoding!.shortAfterFilteringRate['@3']).toBe(1);
    const miss = evaluateRankedLists(lists, relevance, { itemCount: 10, ks: [1, 3], invalidIds: 'miss' });
    expect(miss.perUser!['hitrate@1']![0]).toBe(0);
    expect(miss.perUser!['mrr@3']![0]).toBeCloseTo(1 / 3, 15);
  });

  it('ids are 1..itemCount: itemCount itself is an item, 0 and itemCount + 1 are not', () => {
    const relevance = itemSetsFromArrays([[10]]);
    const top = evaluateRankedLists(rankedListsFromArrays([[10, 1]]), relevance, { itemCount: 10, ks: [1] });
    expect(top.perUser!['hitrate@1']![0]).toBe(1);
    expectCode(() => evaluateRankedLists(rankedListsFromArrays([[11]]), relevance, { itemCount: 10, ks: [1] }), 'INVALID_INPUT', /item id 11 is outside the catalogue 1\.\.10/);
    expectCode(() => evaluateRankedLists(rankedListsFromArrays([[1]]), itemSetsFromArrays([[11]]), { itemCount: 10, ks: [1] }), 'INVALID_INPUT', /relevance sets: item id 11 is outside the catalogue 1\.\.10/);
  });

  it('0 inside a list is not an item (an invalid id); 0 after a list\'s length is padding and never read', () => {
    const relevance = itemSetsFromArrays([[2], [2]]);
    // Row 0 claims 3 entries, the first being 0; row 1 holds 1 entry and two slots of padding.
    const lists = createRankedLists(new Int32Array([0, 2, 3, 2, 0, 0]), 3, new Int32Array([3, 1]));
    expectCode(() => evaluateRankedLists(lists, relevance, { itemCount: 5, ks: [1] }), 'INVALID_INPUT', /user 0, position 0: item id 0 is outside the catalogue 1\.\.5 \(0 is padding/);
    const drop = evaluateRankedLists(lists, relevance, { itemCount: 5, ks: [1, 3], invalidIds: 'drop' });
    expect(Array.from(drop.perUser!['hitrate@1']!)).toEqual([1, 1]);
    expect(drop.decoding!.entryCount).toBe(4); // the padding of row 1 is not read
    expect(drop.decoding!.invalidCount).toBe(1);
    expect(drop.decoding!.shortListRate['@3']).toBe(0.5); // row 1 is short
    const miss = evaluateRankedLists(lists, relevance, { itemCount: 5, ks: [1, 3], invalidIds: 'miss' });
    expect(Array.from(miss.perUser!['mrr@3']!)).toEqual([0.5, 1]);
    // rankedListsFromArrays pads with 0 and records the lengths.
    const packed = rankedListsFromArrays([[4, 1], [3]], 3);
    expect(Array.from(packed.items)).toEqual([4, 1, 0, 3, 0, 0]);
    expect(Array.from(packed.lengths!)).toEqual([2, 1]);
  });

  it('relevant and history sets reject id 0 (padding) and padded rows skip it', () => {
    expectCode(() => itemSetsFromArrays([[1, 0]]), 'INVALID_INPUT', /user 0 entry 1 is 0, not an item id/);
    const raw = { userCount: 1, offsets: new Int32Array([0, 1]), items: new Int32Array([0]) };
    expectCode(() => validateItemSets(raw, 5, 'history'), 'INVALID_INPUT', /history sets: item id 0 is outside the catalogue 1\.\.5 \(0 is padding\)/);
    const lists = rankedListsFromArrays([[1]]);
    expectCode(() => evaluateRankedLists(lists, itemSetsFromArrays([[1]]), { itemCount: 5, ks: [1], history: raw, maskHistory: true }), 'INVALID_INPUT', /history sets: item id 0/);
    const padded = itemSetsFromPadded(new Int32Array([3, 0, 0, 5, 2, 0]), 3);
    expect(Array.from(padded.offsets)).toEqual([0, 1, 3]);
    expect(Array.from(padded.items)).toEqual([3, 5, 2]);
    expectCode(() => itemSetsFromPadded(new Int32Array([3, -1]), 2), 'INVALID_INPUT', /row 0, column 1 holds -1/);
  });

  it('history masking removes history items but never a relevant one', () => {
    const lists = rankedListsFromArrays([[1, 2], [2, 4]]);
    const relevance = itemSetsFromArrays([[2], [2]]);
    const history = itemSetsFromArrays([[1], [2, 4]]);
    const masked = evaluateRankedLists(lists, relevance, { itemCount: 5, ks: [1], history, maskHistory: true });
    expect(masked.perUser!['hitrate@1']).toEqual(new Float64Array([1, 1]));
    expect(masked.decoding!.maskedCount).toBe(2); // item 1 of user 0, item 4 of user 1
    const unmasked = evaluateRankedLists(lists, relevance, { itemCount: 5, ks: [1], history });
    expect(unmasked.perUser!['hitrate@1']).toEqual(new Float64Array([0, 1]));
    expectCode(() => evaluateRankedLists(lists, relevance, { itemCount: 5, ks: [1], maskHistory: true }), 'INVALID_OPTION', /no history/);
  });

  it('graded gains: linear and exponential NDCG', () => {
    const lists = rankedListsFromArrays([[1, 2, 3]]);
    const relevance = itemSetsFromArrays([[1, 3, 4]], [[1, 3, 0]]); // item 4 has grade 0: not relevant
    const binary = evaluateRankedLists(lists, relevance, { itemCount: 4, ks: [3] });
    expect(binary.perUser!['ndcg@3']![0]).toBeCloseTo((1 + 1 / log2(4)) / (1 + 1 / log2(3)), 15);
    expect(binary.perUser!['recall@3']![0]).toBe(1);
    const linear = evaluateRankedLists(lists, relevance, { itemCount: 4, ks: [3], gain: 'linear' });
    expect(linear.perUser!['ndcg@3']![0]).toBeCloseTo((1 + 3 / 2) / (3 + 1 / log2(3)), 15);
    const exponential = evaluateRankedLists(lists, relevance, { itemCount: 4, ks: [3], gain: 'exponential' });
    expect(exponential.perUser!['ndcg@3']![0]).toBeCloseTo((1 + 7 / 2) / (7 + 1 / log2(3)), 15);
  });

  it('bad input gives clear GenrecErrors', () => {
    expectCode(() => rankedListsFromArrays([[1, 2, 3]], 2), 'INVALID_INPUT', /3 items, longer than the claimed K = 2/);
    expectCode(() => createRankedLists(new Int32Array(4), 2, new Int32Array([1, 3])), 'INVALID_INPUT', /user 1 has 3 items, longer than the claimed K = 2/);
    expectCode(() => createRankedLists(new Int32Array(5), 2), 'SHAPE_MISMATCH', /not a whole number of rows/);
    const lists = rankedListsFromArrays([[1], [2]]);
    expectCode(() => evaluateRankedLists(lists, itemSetsFromArrays([[1]]), { itemCount: 5, ks: [1] }), 'SHAPE_MISMATCH', /2 users but relevance covers 1/);
    expectCode(() => evaluateRankedLists(lists, itemSetsFromArrays([[1], [7]]), { itemCount: 5, ks: [1] }), 'INVALID_INPUT', /item id 7 is outside the catalogue/);
    expectCode(() => evaluateRankedLists(lists, itemSetsFromArrays([[1, 1], [2]]), { itemCount: 5, ks: [1] }), 'INVALID_INPUT', /list item 1 twice/);
    expectCode(() => evaluateRankedLists(lists, itemSetsFromArrays([[1], [2]]), { itemCount: 5, ks: [0] }), 'INVALID_OPTION', /positive integer/);
    expectCode(
      () => evaluateRankedLists(lists, itemSetsFromArrays([[1], [2]]), { itemCount: 5, ks: [1], gain: 'squared' } as never),
      'INVALID_OPTION',
      /gain must be one of 'binary', 'linear', 'exponential', got 'squared'/,
    );
  });
});
