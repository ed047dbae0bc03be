import { createMatrix, matrixFromArrays } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { evaluateScores, scoreBlocks } from './evaluate-scores.js';
import { itemSetsFromArrays } from './item-sets.js';
import { rankedListOf } from './ranked-lists.js';
import { expectCodeAsync as expectCode } from './test-helpers.js';

const log2 = Math.log2;

describe('evaluateScores: ties, hand-computed', () => {
  // Columns are items 1..5. Item 3 (relevant) ties with items 2 and 4 for ranks 2..4; item 1 is
  // above, item 5 below.
  const scores = matrixFromArrays([[0.9, 0.5, 0.5, 0.5, 0.1]]);
  const relevance = itemSetsFromArrays([[3]]);
  const ks = [1, 3, 5];

  it('pessimistic: the relevant item goes after its ties (rank 4)', async () => {
    const r = await evaluateScores(scores, relevance, { itemCount: 5, ks, tiePolicy: 'pessimistic' });
    expect(r.protocol.tiePolicy).toBe('pessimistic');
    expect(r.metrics['hitrate@3']).toBe(0);
    expect(r.metrics['ndcg@5']).toBeCloseTo(1 / log2(5), 15);
    expect(r.metrics['mrr@full']).toBe(0.25);
    expect(r.metrics['auc']).toBeCloseTo(1 - 3 / 4, 15);
  });

  it('optimistic: the relevant item goes before its ties (rank 2)', async () => {
    const r = await evaluateScores(scores, relevance, { itemCount: 5, ks, tiePolicy: 'optimistic' });
    expect(r.metrics['hitrate@1']).toBe(0);
    expect(r.metrics['ndcg@3']).toBeCloseTo(1 / log2(3), 15);
    expect(r.metrics['mrr@full']).toBe(0.5);
    expect(r.metrics['auc']).toBeCloseTo(1 - 1 / 4, 15);
  });

  it('expected: the exact mean over the 3 orders of the tie group', async () => {
    const r = await evaluateScores(scores, relevance, { itemCount: 5, ks });
    expect(r.protocol.tiePolicy).toBe('expected');
    expect(r.metrics['hitrate@1']).toBe(0);
    expect(r.metrics['hitrate@3']).toBeCloseTo(2 / 3, 15);
    expect(r.metrics['recall@3']).toBeCloseTo(2 / 3, 15);
    expect(r.metrics['precision@3']).toBeCloseTo(2 / 9, 15);
    expect(r.metrics['ndcg@3']).toBeCloseTo((1 / log2(3) + 1 / log2(4)) / 3, 15);
    expect(r.metrics['mrr@3']).toBeCloseTo((1 / 2 + 1 / 3) / 3, 15);
    expect(r.metrics['map@3']).toBeCloseTo((1 / 2 + 1 / 3) / 3, 15);
    expect(r.metrics['mrr@full']).toBeCloseTo((1 / 2 + 1 / 3 + 1 / 4) / 3, 15);
    expect(r.metrics['auc']).toBeCloseTo(0.5, 15);
  });

  it('expected with two relevant items in one tie group of four', async () => {
    const r = await evaluateScores(matrixFromArrays([[0.5, 0.5, 0.5, 0.5]]), itemSetsFromArrays([[1, 2]]), { itemCount: 4, ks: [1, 2] });
    // P(first relevant at rank 1, 2, 3) = 1/2, 1/3, 1/6.
    expect(r.metrics['hitrate@1']).toBeCloseTo(0.5, 15);
    expect(r.metrics['hitrate@2']).toBeCloseTo(1 - 1 / 6, 15); // both top slots non-relevant: (2/4)(1/3)
    expect(r.metrics['mrr@full']).toBeCloseTo(1 / 2 + 1 / 6 + 1 / 18, 15);
    expect(r.metrics['recall@2']).toBeCloseTo(0.5, 15);
  });

  it('history masking removes items from the ranking and from the AUC negatives', async () => {
    const history = itemSetsFromArrays([[1, 3]]); // item 3 is relevant: never masked
    const r = await evaluateScores(scores, relevance, { itemCount: 5, ks, tiePolicy: 'pessimistic', history, maskHistory: true });
    expect(r.metrics['mrr@full']).toBeCloseTo(1 / 3, 15);
    expect(r.metrics['auc']).toBeCloseTo(1 - 2 / 3, 15);
  });

  it('rankings come from partial top-K selection with the tie policy', async () => {
    const r = await evaluateScores(scores, relevance, { itemCount: 5, ks: [3], tiePolicy: 'optimistic', keepRankings: true });
    expect(rankedListOf(r.rankings!, 0)).toEqual([1, 3, 2]);
    const p = await evaluateScores(scores, relevance, { itemCount: 5, ks: [3], tiePolicy: 'pessimistic', keepRankings: true });
    expect(rankedListOf(p.rankings!, 0)).toEqual([1, 2, 4]);
  });

  it('a user without relevant items is skipped or zero', async () => {
    const two = matrixFromArrays([
      [0.9, 0.5, 0.5, 0.5, 0.1],
      [1, 2, 3, 4, 5],
    ]);
    const skipped = await evaluateScores(two, itemSetsFromArrays([[3], []]), { itemCount: 5, ks, tiePolicy: 'optimistic' });
    expect(skipped.evaluatedUserCount).toBe(1);
    expect(skipped.metrics['mrr@full']).toBe(0.5);
    const zero = await evaluateScores(two, itemSetsFromArrays([[3], []]), { itemCount: 5, ks, tiePolicy: 'optimistic', usersWithoutRelevant: 'zero' });
    expect(zero.metrics['mrr@full']).toBe(0.25);
    expect(zero.metrics['auc']).toBeCloseTo(0.75 / 2, 15);
  });
});

describe('evaluateScores: column j of a score matrix is item j + 1', () => {
  it('ranks, masks and returns item ids, not column indices', async () => {
    // Scores of items 1, 2, 3, 4: item 2 first, then 4, 3, 1.
    const scores = matrixFromArrays([[0.1, 0.9, 0.3, 0.5]]);
    const first = await evaluateScores(scores, itemSetsFromArrays([[2]]), { itemCount: 4, ks: [1], keepRankings: true });
    expect(first.metrics['hitrate@1']).toBe(1);
    expect(rankedListOf(first.rankings!, 0)).toEqual([2]);
    const last = await evaluateScores(scores, itemSetsFromArrays([[1]]), { itemCount: 4, ks: [4], keepRankings: true });
    expect(last.metrics['mrr@full']).toBe(0.25);
    expect(rankedListOf(last.rankings!, 0)).toEqual([2, 4, 3, 1]);
    // Masking item 2 (the first column that scores highest) moves item 1 up to rank 3.
    const masked = await evaluateScores(scores, itemSetsFromArrays([[1]]), {
      itemCount: 4,
      ks: [4],
      history: itemSetsFromArrays([[2]]),
      maskHistory: true,
      keepRankings: true,
    });
    expect(masked.metrics['mrr@full']).toBeCloseTo(1 / 3, 15);
    expect(rankedListOf(masked.rankings!, 0)).toEqual([4, 3, 1]);
    expect(Array.from(masked.rankings!.items)).toEqual([4, 3, 1, 0]); // 0-padded after its length
  });
});

describe('evaluateScores: streaming and bad input', () => {
  it('blocks (sync, async, scoreBlocks) give the same result as one matrix', async () => {
    const rows = 7;
    const items = 6;
    const full = createMatrix(rows, items);
    for (let i = 0; i < full.data.length; i++) full.data[i] = ((i * 37) % 11) / 11;
    const relevance = itemSetsFromArrays([[1], [2, 3], [4], [], [6], [1, 5], [3]]);
    const options = { itemCount: items, ks: [1, 3] };
    const whole = await evaluateScores(full, relevance, options);
    const block = (start: number, end: number) => createMatrix(end - start, items, full.data.slice(start * items, end * items));
    const syncBlocks = await evaluateScores([block(0, 3), block(3, 7)], relevance, options);
    const asyncBlocks = await evaluateScores(scoreBlocks(rows, 2, async (start, end) => block(start, end)), relevance, options);
    expect(syncBlocks.metrics).toEqual(whole.metrics);
    expect(asyncBlocks.metrics).toEqual(whole.metrics);
    expect(asyncBlocks.perUser!['ndcg@3']).toEqual(whole.perUser!['ndcg@3']);
  });

  it('NaN scores, wrong widths and mismatched user counts are GenrecErrors', async () => {
    const relevance = itemSetsFromArrays([[2], [1]]);
    const nan = matrixFromArrays([
      [0.1, 0.2, 0.3],
      [0.4, Number.NaN, 0.6],
    ]);
    await expectCode(evaluateScores(nan, relevance, { itemCount: 3, ks: [1] }), 'INVALID_INPUT', /score of user 1 for item 2 \(column 1\) is NaN/);
    const nanRelevant = matrixFromArrays([
      [0.1, 0.2, 0.3],
      [Number.NaN, 0.5, 0.6],
    ]);
    await expectCode(evaluateScores(nanRelevant, relevance, { itemCount: 3, ks: [1] }), 'INVALID_INPUT', /score of user 1 for item 1 \(column 0\) is NaN/);
    const ok = matrixFromArrays([[0.1, 0.2, 0.3]]);
    await expectCode(evaluateScores(ok, relevance, { itemCount: 3, ks: [1] }), 'SHAPE_MISMATCH', /scores cover 1 users but relevance covers 2/);
    await expectCode(evaluateScores(ok, itemSetsFromArrays([[1]]), { itemCount: 4, ks: [1] }), 'SHAPE_MISMATCH', /3 columns, expected itemCount = 4/);
    await expectCode(evaluateScores([ok, ok, ok], relevance, { itemCount: 3, ks: [1] }), 'SHAPE_MISMATCH', /more than the 2 users/);
    await expectCode(evaluateScores(ok, itemSetsFromArrays([[4]]), { itemCount: 3, ks: [1] }), 'INVALID_INPUT', /item id 4 is outside the catalogue 1\.\.3/);
    const zeroId = { userCount: 1, offsets: new Int32Array([0, 1]), items: new Int32Array([0]) };
    await expectCode(evaluateScores(ok, zeroId, { itemCount: 3, ks: [1] }), 'INVALID_INPUT', /item id 0 is outside the catalogue 1\.\.3 \(0 is padding\)/);
    await expectCode(evaluateScores(ok, itemSetsFromArrays([[1]]), { itemCount: 3, ks: [1], history: zeroId, maskHistory: true }), 'INVALID_INPUT', /history sets: item id 0/);
  });
});
