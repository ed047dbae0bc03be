import {
  ExclusionMask,
  checkRecommendOptions,
  emptyRecommendations,
  selectTopItems,
  toHistoryBatch,
  type EvaluationSet,
  type Histories,
  type ModelDescription,
  type ProgressEvent,
  type RecommendOptions,
  type Recommendations,
  type Recommender,
} from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { evaluateRankedLists } from './evaluate-ranked-lists.js';
import { evaluateRecommender } from './evaluate-recommender.js';
import { itemSetsFromArrays } from './item-sets.js';
import { rankedListOf, rankedListsFromArrays, rankedListsFromRecommendations } from './ranked-lists.js';
import { compareResults, describeProtocol } from './report.js';
import { expectCode, expectCodeAsync } from './test-helpers.js';

const log2 = Math.log2;

/**
 * A hand-written Recommender: one fixed ranking of the whole catalogue for every user (item
 * `ranking[0]` first), with core's exclusion and top-K helpers. Records every `recommend` call.
 */
class FixedRankingRecommender implements Recommender {
  readonly scoreScale = 'count' as const;
  readonly retiredItems = new Int32Array(0);
  readonly calls: { users: number; k: number; excludeHistory: boolean | undefined; userIds: number[] }[] = [];
  private readonly itemScores: Float32Array;

  constructor(
    readonly kind: string,
    readonly itemCount: number,
    readonly maxK: number,
    ranking: readonly number[],
    private readonly ignoreExclusion = false,
  ) {
    // scores[j] is item j + 1's score: the first item of the ranking scores highest.
    this.itemScores = new Float32Array(itemCount);
    ranking.forEach((item, position) => (this.itemScores[item - 1] = itemCount - position));
  }

  async recommend(histories: Histories, options: RecommendOptions): Promise<Recommendations> {
    const batch = toHistoryBatch(histories, this.itemCount);
    const users = batch.offsets.length - 1;
    checkRecommendOptions(options, this.maxK, users, this.itemCount);
    this.calls.push({ users, k: options.k, excludeHistory: options.excludeHistory, userIds: Array.from(options.userIds ?? []) });
    const out = emptyRecommendations(users, options.k);
    const mask = new ExclusionMask(this.itemCount, this.retiredItems);
    const exclusion = this.ignoreExclusion ? { ...options, excludeHistory: false } : options;
    for (let u = 0; u < users; u++) {
      mask.set(batch, u, exclusion);
      selectTopItems(this.itemScores, mask.marks, out, u);
      mask.clear();
    }
    return out;
  }

  async score(): Promise<Float32Array> {
    throw new Error('not used');
  }
  retireItems(): void {}
  restoreItems(): void {}
  describe(): ModelDescription {
    return { kind: this.kind, package: { name: 'test', version: '0' }, hyperParameters: {}, itemCount: this.itemCount, dataFingerprint: 'test' };
  }
  async save(): Promise<void> {}
  async dispose(): Promise<void> {}
}

function evaluationSetOf(histories: number[][], targets: number[][]): EvaluationSet {
  const history = itemSetsFromArrays(histories.map((h) => h));
  const target = { offsets: new Int32Array(targets.length + 1), items: Int32Array.from(targets.flat()) };
  targets.forEach((row, u) => (target.offsets[u + 1] = target.offsets[u]! + row.length));
  return {
    size: histories.length,
    rows: Int32Array.from(histories, (_, u) => u),
    userIds: Int32Array.from(histories, (_, u) => 101 + u),
    historyOffsets: history.offsets,
    historyItems: history.items,
    targetOffsets: target.offsets,
    targetItems: target.items,
  };
}

// Catalogue 1..6 ranked 1, 2, 3, 4, 5, 6 for everyone; K = 1, 3, 5.
//   u0: history [1],          targets [3]    on: [2,3,4,5,6] hit at rank 2   off: [1,2,3,4,5] hit at rank 3
//   u1: history [2, 4],       targets [2, 5] on: [1,3,5,6] (short) 5 at rank 3, 2 unreachable
//                                            off: 2 at rank 2, 5 at rank 5
//   u2: history [1, 2, 3, 4], targets [6, 6] on: [5, 6] (short) 6 at rank 2   off: 6 not in the top 5
//   u3: history [],           targets []     skipped (no relevant item)
//   u4: history [3],          targets [1]    rank 1 either way
const histories = [[1], [2, 4], [1, 2, 3, 4], [], [3]];
const targets = [[3], [2, 5], [6, 6], [], [1]];
const set = evaluationSetOf(histories, targets);
const idcg2 = 1 + 1 / log2(3);

describe('evaluateRecommender: one protocol for any Recommender, hand-computed', () => {
  it('excludeHistory true (default): the model removes history items, short lists keep their lengths', async () => {
    const model = new FixedRankingRecommender('fixed', 6, 6, [1, 2, 3, 4, 5, 6]);
    const events: ProgressEvent[] = [];
    const result = await evaluateRecommender(model, set, { ks: [5, 1, 3], batchSize: 2, onProgress: (event) => events.push(event) });
    // Batches of 2, 2 and 1 users, each asked for max K with the exclusion and the batch's user ids.
    expect(model.calls).toEqual([
      { users: 2, k: 5, excludeHistory: true, userIds: [101, 102] },
      { users: 2, k: 5, excludeHistory: true, userIds: [103, 104] },
      { users: 1, k: 5, excludeHistory: true, userIds: [105] },
    ]);
    expect(events.map((e) => [e.type, 'task' in e ? e.task : '', 'done' in e ? e.done : -1, 'total' in e ? e.total : -1])).toEqual([
      ['task-start', 'evaluate', 0, 5],
      ['task-progress', 'evaluate', 2, 5],
      ['task-progress', 'evaluate', 4, 5],
      ['task-progress', 'evaluate', 5, 5],
      ['task-end', 'evaluate', 5, 5],
    ]);
    expect(result.system).toBe('fixed');
    expect(result.protocol.source).toBe('recommender');
    expect(result.protocol.maskHistory).toBe(true);
    expect(result.protocol.ks).toEqual([1, 3, 5]);
    expect(result.evaluatedUserCount).toBe(4);
    expect(result.skippedUserCount).toBe(1);
    const v = (key: string) => Array.from(result.perUser![key]!);
    expect(v('recall@1')).toEqual([0, 0, 0, Number.NaN, 1]);
    expect(v('recall@3')).toEqual([1, 0.5, 1, Number.NaN, 1]);
    expect(v('recall@5')).toEqual([1, 0.5, 1, Number.NaN, 1]);
    expect(result.perUser!['ndcg@3']![0]).toBeCloseTo(1 / log2(3), 15);
    expect(result.perUser!['ndcg@3']![1]).toBeCloseTo(1 / log2(4) / idcg2, 15);
    expect(result.perUser!['ndcg@5']![1]).toBeCloseTo(1 / log2(4) / idcg2, 15);
    expect(result.perUser!['ndcg@3']![2]).toBeCloseTo(1 / log2(3), 15); // the repeated target counts once
    expect(result.metrics['recall@1']).toBe(0.25);
    expect(result.metrics['recall@3']).toBe(0.875);
    expect(result.metrics['recall@5']).toBe(0.875);
    expect(result.metrics['ndcg@3']).toBeCloseTo((1 / log2(3) + 0.5 / idcg2 + 1 / log2(3) + 1) / 4, 15);
    // u1 has 4 items left and u2 has 2: two of five lists are short at K = 5, one at K = 3.
    expect(result.decoding!.shortListRate['@5']).toBe(0.4);
    expect(result.decoding!.shortListRate['@3']).toBe(0.2);
    expect(result.decoding!.invalidCount).toBe(0); // the 0 padding is never read as an item
    expect(result.decoding!.entryCount).toBe(5 + 4 + 2 + 5 + 5);
    expect(describeProtocol(result)).toContain('lists from recommend, history excluded by the model');
  });

  it('excludeHistory false: history items stay in the lists and count as hits', async () => {
    const model = new FixedRankingRecommender('fixed', 6, 6, [1, 2, 3, 4, 5, 6]);
    const result = await evaluateRecommender(model, set, { ks: [1, 3, 5], excludeHistory: false });
    expect(model.calls).toEqual([{ users: 5, k: 5, excludeHistory: false, userIds: [101, 102, 103, 104, 105] }]);
    expect(result.protocol.maskHistory).toBe(false);
    const v = (key: string) => Array.from(result.perUser![key]!);
    expect(v('recall@3')).toEqual([1, 0.5, 0, Number.NaN, 1]);
    expect(v('recall@5')).toEqual([1, 1, 0, Number.NaN, 1]);
    expect(result.perUser!['ndcg@3']![0]).toBeCloseTo(0.5, 15);
    expect(result.perUser!['ndcg@3']![1]).toBeCloseTo(1 / log2(3) / idcg2, 15);
    expect(result.perUser!['ndcg@5']![1]).toBeCloseTo((1 / log2(3) + 1 / log2(6)) / idcg2, 15);
    expect(result.metrics['recall@3']).toBe(0.625);
    expect(result.metrics['recall@5']).toBe(0.75);
    expect(result.metrics['ndcg@3']).toBeCloseTo((0.5 + 1 / log2(3) / idcg2 + 0 + 1) / 4, 15);
    expect(result.decoding!.shortListRate['@5']).toBe(0);
    expect(describeProtocol(result)).toContain('lists from recommend, history not excluded');
  });

  it('equals evaluateRankedLists on the same lists, and compareResults works across models but not across protocols', async () => {
    const forward = new FixedRankingRecommender('forward', 6, 6, [1, 2, 3, 4, 5, 6]);
    const backward = new FixedRankingRecommender('backward', 6, 6, [6, 5, 4, 3, 2, 1]);
    const a = await evaluateRecommender(forward, set, { ks: [1, 3, 5] });
    const b = await evaluateRecommender(backward, set, { ks: [1, 3, 5] });
    // backward, history excluded: u0 [6,5,4,3,2] -> 3 at rank 4; u1 [6,5,3,1] -> 5 at rank 2; u2 [6,5] -> rank 1; u4 [6,5,4,2,1] -> rank 5
    expect(Array.from(b.perUser!['mrr@5']!)).toEqual([0.25, 0.5, 1, Number.NaN, 0.2]);
    const lists = rankedListsFromArrays([[6, 5, 4, 3, 2], [6, 5, 3, 1], [6, 5], [6, 5, 4, 3, 2], [6, 5, 4, 2, 1]], 5);
    const direct = evaluateRankedLists(lists, itemSetsFromArrays([[3], [2, 5], [6], [], [1]]), { itemCount: 6, ks: [1, 3, 5] });
    expect(b.metrics).toEqual(direct.metrics);
    const comparison = compareResults([a, b], { metrics: ['recall@3', 'ndcg@5'] });
    expect(comparison.systems).toEqual(['forward', 'backward']);
    expect(comparison.cells[1]![0]!.mean).toBe(b.metrics['recall@3']);
    const unexcluded = await evaluateRecommender(backward, set, { ks: [1, 3, 5], excludeHistory: false });
    expect(() => compareResults([a, unexcluded])).toThrow(/differs in: maskHistory/);
    expect(() => compareResults([a, direct])).toThrow(/differs in: source/);
  });

  it('defaults: ks [5, 10, 20], batches of 256', async () => {
    const ranking = Array.from({ length: 30 }, (_, i) => i + 1);
    const model = new FixedRankingRecommender('fixed', 30, 30, ranking);
    const users = 300;
    const many = evaluationSetOf(
      Array.from({ length: users }, () => []),
      Array.from({ length: users }, (_, u) => [1 + (u % 30)]),
    );
    const result = await evaluateRecommender(model, many);
    expect(result.protocol.ks).toEqual([5, 10, 20]);
    expect(model.calls.map((call) => [call.users, call.k])).toEqual([
      [256, 20],
      [44, 20],
    ]);
    // Targets 1..30 spread evenly; the top 10 of the fixed ranking holds items 1..10.
    expect(result.metrics['recall@10']).toBeCloseTo(10 / 30, 15);
  });
});

describe('evaluateRecommender: bad input and protocol violations', () => {
  const model = new FixedRankingRecommender('fixed', 6, 6, [1, 2, 3, 4, 5, 6]);

  it('rejects options before calling the model', async () => {
    await expectCodeAsync(evaluateRecommender(model, set, { ks: [10] }), 'INVALID_OPTION', /ks \(largest K\) must be an integer in \[1, 6\] \(model fixed recommends at most maxK = 6 items\), got 10/);
    await expectCodeAsync(evaluateRecommender(model, set), 'INVALID_OPTION', /largest K.*got 20/);
    await expectCodeAsync(evaluateRecommender(model, set, { ks: [1], batchSize: 0 }), 'INVALID_OPTION', /batchSize/);
    await expectCodeAsync(evaluateRecommender(model, set, { ks: [1], maskHistory: true } as never), 'INVALID_OPTION', /unknown option "maskHistory"/);
    expect(model.calls).toEqual([]);
  });

  it('rejects evaluation sets with ids outside 1..itemCount (0 included) or bad shapes', async () => {
    await expectCodeAsync(evaluateRecommender(model, evaluationSetOf([[1]], [[0]]), { ks: [1] }), 'INVALID_INPUT', /target sets: item id 0 is outside the catalogue 1\.\.6 \(0 is padding\)/);
    await expectCodeAsync(evaluateRecommender(model, evaluationSetOf([[7]], [[1]]), { ks: [1] }), 'INVALID_INPUT', /history sets: item id 7 is outside the catalogue 1\.\.6/);
    const broken = { ...set, targetOffsets: new Int32Array([0, 1]) };
    await expectCodeAsync(evaluateRecommender(model, broken, { ks: [1] }), 'SHAPE_MISMATCH', /targetOffsets has 2 entries for 5 users/);
    expect(model.calls).toEqual([]);
  });

  it('reports a model that returns history items although excludeHistory is true', async () => {
    const leaky = new FixedRankingRecommender('leaky', 6, 6, [1, 2, 3, 4, 5, 6], true);
    await expectCodeAsync(evaluateRecommender(leaky, set, { ks: [3] }), 'INVALID_INPUT', /model leaky returned item 1 at position 0 for user 0 .* in the user's history/);
    const fine = await evaluateRecommender(leaky, set, { ks: [3], excludeHistory: false });
    expect(fine.protocol.maskHistory).toBe(false);
  });

  it('reports recommendations of the wrong shape', async () => {
    const wrong = new FixedRankingRecommender('wrong', 6, 6, [1, 2, 3, 4, 5, 6]);
    wrong.recommend = async (histories: Histories) => emptyRecommendations(toHistoryBatch(histories, 6).offsets.length - 1, 2);
    await expectCodeAsync(evaluateRecommender(wrong, set, { ks: [3] }), 'SHAPE_MISMATCH', /model wrong returned 5 rows of k = 2 for a batch of 5 users asked for k = 3/);
    const outside = new FixedRankingRecommender('outside', 6, 6, [1, 2, 3, 4, 5, 6]);
    outside.recommend = async (histories: Histories, options: RecommendOptions) => {
      const out = emptyRecommendations(toHistoryBatch(histories, 6).offsets.length - 1, options.k);
      out.items.fill(9);
      out.lengths.fill(options.k);
      return out;
    };
    await expectCodeAsync(evaluateRecommender(outside, set, { ks: [2], excludeHistory: false }), 'INVALID_INPUT', /item id 9 is outside the catalogue 1\.\.6/);
  });

  it('stops between batches when the signal aborts', async () => {
    const counted = new FixedRankingRecommender('fixed', 6, 6, [1, 2, 3, 4, 5, 6]);
    const controller = new AbortController();
    const run = evaluateRecommender(counted, set, {
      ks: [1],
      batchSize: 2,
      signal: controller.signal,
      onProgress: (event) => {
        if (event.type === 'task-progress') controller.abort(new Error('stop here'));
      },
    });
    await expect(run).rejects.toThrow('stop here');
    expect(counted.calls.length).toBe(1);
  });
});

describe('rankedListsFromRecommendations', () => {
  it('wraps recommend output without copying; padding after lengths is not part of a list', () => {
    const out = emptyRecommendations(2, 3);
    out.items.set([4, 2, 6, 5, 0, 0]);
    out.lengths.set([3, 1]);
    const lists = rankedListsFromRecommendations(out);
    expect(lists.items).toBe(out.items);
    expect(rankedListOf(lists, 0)).toEqual([4, 2, 6]);
    expect(rankedListOf(lists, 1)).toEqual([5]);
    expectCode(() => rankedListsFromRecommendations({ ...out, lengths: new Int32Array(1) }), 'SHAPE_MISMATCH', /6 item ids and 1 lengths for 2 rows of k = 3/);
    expectCode(() => rankedListsFromRecommendations({ ...out, lengths: Int32Array.of(3, 4) }), 'INVALID_INPUT', /user 1 has 4 items, longer than the claimed K = 3/);
  });
});
