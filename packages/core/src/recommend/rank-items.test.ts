import { describe, expect, it } from 'vitest';
import { GenrecError } from '../errors.js';
import { Rng } from '../random.js';
import { toHistoryBatch } from './histories.js';
import { ExclusionMask, checkRecommendOptions, emptyRecommendations, selectTopItems } from './rank-items.js';

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return GenrecError.isInstance(error) ? error.code : 'not a GenrecError';
  }
  return undefined;
}

/** Naive reference: sort every allowed item by (score desc, id asc), take k. */
function naiveTop(scores: Float32Array, excluded: Set<number>, k: number, filter?: (id: number) => boolean): number[] {
  const ids: number[] = [];
  for (let j = 0; j < scores.length; j++) {
    const id = j + 1;
    if (excluded.has(id) || !(scores[j]! > -Infinity) || (filter && !filter(id))) continue;
    ids.push(id);
  }
  ids.sort((a, b) => scores[b - 1]! - scores[a - 1]! || a - b);
  return ids.slice(0, k);
}

describe('selectTopItems', () => {
  it('equals a full sort on random scores with ties, exclusions and a filter', () => {
    const rng = new Rng(3);
    for (let trial = 0; trial < 200; trial++) {
      const itemCount = 1 + rng.int(60);
      const k = 1 + rng.int(12);
      // few distinct values so ties are frequent
      const scores = Float32Array.from({ length: itemCount }, () => (rng.uniform() < 0.05 ? -Infinity : rng.int(6)));
      const history = Array.from({ length: rng.int(8) }, () => 1 + rng.int(itemCount));
      const retired = Array.from({ length: rng.int(3) }, () => 1 + rng.int(itemCount));
      const filter = trial % 3 === 0 ? (id: number) => id % 4 !== 0 : undefined;
      const batch = toHistoryBatch([history], itemCount);
      const mask = new ExclusionMask(itemCount, retired);
      mask.set(batch, 0, {});
      const out = emptyRecommendations(1, k);
      const length = selectTopItems(scores, mask.marks, out, 0, filter);
      const expected = naiveTop(scores, new Set([...history, ...retired]), k, filter);
      expect(Array.from(out.items.subarray(0, length))).toEqual(expected);
      expect(out.lengths[0]).toBe(expected.length);
      for (let i = length; i < k; i++) {
        expect(out.items[i]).toBe(0);
        expect(out.scores[i]).toBe(-Infinity);
      }
      mask.clear();
      expect(mask.available()).toBe(itemCount - new Set(retired).size);
    }
  });

  it('keeps the history in the results when excludeHistory is false, and adds per-user exclusions', () => {
    const scores = Float32Array.of(5, 4, 3, 2, 1);
    const batch = toHistoryBatch([[1, 2], [1]], 5);
    const mask = new ExclusionMask(5, [3]);
    const out = emptyRecommendations(2, 3);
    mask.set(batch, 0, { excludeHistory: false });
    selectTopItems(scores, mask.marks, out, 0);
    mask.clear();
    mask.set(batch, 1, { exclude: [undefined, [4]] });
    selectTopItems(scores, mask.marks, out, 1);
    expect(Array.from(out.items)).toEqual([1, 2, 4, 2, 5, 0]);
    expect(Array.from(out.lengths)).toEqual([3, 2]);
  });
});

describe('recommend input checks', () => {
  it('validates histories in both forms, naming the user and position', () => {
    expect(Array.from(toHistoryBatch([[1, 2], [], [3]], 3).offsets)).toEqual([0, 2, 2, 3]);
    expect(codeOf(() => toHistoryBatch([[1, 0]], 3))).toBe('INVALID_INPUT');
    expect(codeOf(() => toHistoryBatch([[4]], 3))).toBe('INVALID_INPUT');
    expect(codeOf(() => toHistoryBatch([[1.5]], 3))).toBe('INVALID_INPUT');
    expect(codeOf(() => toHistoryBatch({ offsets: Int32Array.of(0, 2), items: Int32Array.of(1) }, 3))).toBe('INVALID_INPUT');
    expect(codeOf(() => toHistoryBatch({ offsets: Int32Array.of(0, 1), items: Int32Array.of(9) }, 3))).toBe('INVALID_INPUT');
    expect(() => toHistoryBatch([[1], [2, 9]], 3)).toThrowError(/user 1, position 1 holds item id 9/);
  });

  it('rejects k outside 1..maxK, bad filters and exclusion lists before any work', () => {
    expect(codeOf(() => checkRecommendOptions({ k: 0 }, 10, 1, 10))).toBe('INVALID_OPTION');
    expect(codeOf(() => checkRecommendOptions({ k: 11 }, 10, 1, 10))).toBe('INVALID_OPTION');
    expect(codeOf(() => checkRecommendOptions({ k: Number.NaN }, 10, 1, 10))).toBe('INVALID_OPTION');
    expect(codeOf(() => checkRecommendOptions({ k: 2, exclude: [] }, 10, 1, 10))).toBe('INVALID_OPTION');
    expect(codeOf(() => checkRecommendOptions({ k: 2, exclude: [[11]] }, 10, 1, 10))).toBe('INVALID_INPUT');
    expect(codeOf(() => checkRecommendOptions({ k: 2, filter: 3 as unknown as () => boolean }, 10, 1, 10))).toBe('INVALID_OPTION');
    expect(codeOf(() => checkRecommendOptions({ k: 10, exclude: [[10]] }, 10, 1, 10))).toBeUndefined();
  });
});
