import { GenrecError, Rng } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { deduplicateInteractions, kCoreFilter, minRatingFilter } from './filters.js';
import { createSequenceDataset, datasetToArrays, validateSequenceDataset } from './sequence-dataset.js';

/** Naive k-core on nested arrays: recount from scratch, drop, repeat until stable. */
function naiveKCore(sequences: number[][], userK: number, itemK: number): number[][] {
  let current = sequences.map((sequence) => sequence.slice());
  for (;;) {
    const counts = new Map<number, number>();
    for (const sequence of current) for (const item of sequence) counts.set(item, (counts.get(item) ?? 0) + 1);
    const next = current.map((sequence) => (sequence.length < userK ? [] : sequence.filter((item) => counts.get(item)! >= itemK)));
    if (JSON.stringify(next) === JSON.stringify(current)) return current;
    current = next;
  }
}

function randomSequences(rng: Rng, users: number, items: number): number[][] {
  return Array.from({ length: users }, () => Array.from({ length: 1 + rng.int(9) }, () => 1 + Math.floor(items * Math.pow(rng.uniform(), 2))));
}

describe('kCoreFilter', () => {
  it('iterates to the fixed point on a hand-made cascade', () => {
    // k = 2. Item 3 occurs once -> removed; then user 2 ([2, 3]) has one item -> removed;
    // then item 2 occurs once -> removed; then user 1 ([1, 2]) shrinks to [1] -> removed; item 1 stays with users 0 and 3.
    const dataset = createSequenceDataset({ sequences: [[1, 4, 4], [1, 2], [2, 3], [1, 4]], timestamps: [[1, 2, 3], [4, 5], [6, 7], [8, 9]] });
    const { dataset: kept, report, itemIdMap } = kCoreFilter(dataset, { k: 2 });
    validateSequenceDataset(kept);
    expect(datasetToArrays(kept)).toEqual([
      [1, 2, 2],
      [1, 2],
    ]);
    expect(Array.from(kept.userIds)).toEqual([1, 4]);
    expect(Array.from(kept.timestamps!)).toEqual([1, 2, 3, 8, 9]);
    expect(Array.from(itemIdMap)).toEqual([0, 1, 0, 0, 2]);
    expect(kept.externalItemIds).toEqual(['', '1', '4']);
    expect(report).toEqual({
      filter: 'k-core(user>=2, item>=2)',
      before: { users: 4, items: 4, interactions: 9 },
      after: { users: 2, items: 2, interactions: 5 },
      removedInteractions: 4,
      removedUsers: 2,
      removedItems: 2,
      iterations: 5, // four passes that remove something, one that confirms the fixed point
    });
  });

  it('matches a naive reference on random data, for several thresholds', () => {
    const rng = new Rng(5);
    for (let trial = 0; trial < 20; trial++) {
      const sequences = randomSequences(rng, 60, 40);
      const userK = 1 + rng.int(5);
      const itemK = 1 + rng.int(5);
      const dataset = createSequenceDataset({ sequences, itemCount: 40 });
      const { dataset: kept, report } = kCoreFilter(dataset, { userK, itemK, compactItemIds: false });
      const expected = naiveKCore(sequences, userK, itemK).filter((sequence) => sequence.length > 0);
      expect(datasetToArrays(kept)).toEqual(expected);
      expect(kept.itemCount).toBe(40);
      expect(report.after.interactions).toBe(expected.flat().length);
      expect(report.removedInteractions + report.after.interactions).toBe(report.before.interactions);
      // Every survivor meets both thresholds.
      const counts = new Map<number, number>();
      for (const item of kept.items) counts.set(item, (counts.get(item) ?? 0) + 1);
      for (const count of counts.values()) expect(count).toBeGreaterThanOrEqual(itemK);
      for (const sequence of datasetToArrays(kept)) expect(sequence.length).toBeGreaterThanOrEqual(userK);
    }
  });

  it('keeps a dataset that already is a k-core unchanged, ids included', () => {
    const dataset = createSequenceDataset({ sequences: [[1, 2], [2, 1]] });
    const { dataset: kept, report, itemIdMap } = kCoreFilter(dataset, { k: 2 });
    expect(datasetToArrays(kept)).toEqual([
      [1, 2],
      [2, 1],
    ]);
    expect(kept.externalItemIds).toBeUndefined();
    expect(Array.from(itemIdMap)).toEqual([0, 1, 2]);
    expect(report.iterations).toBe(1);
    expect(report.removedInteractions).toBe(0);
  });

  it('rejects bad thresholds', () => {
    const dataset = createSequenceDataset({ sequences: [[1]] });
    expect(() => kCoreFilter(dataset, { k: -1 })).toThrow(GenrecError);
    expect(() => kCoreFilter(dataset, { userK: 1.5 })).toThrow(/userK/);
  });
});

describe('minRatingFilter', () => {
  it('keeps interactions rated at least the threshold and reports the rest', () => {
    const dataset = createSequenceDataset({
      sequences: [[1, 2, 3], [3]],
      ratings: [[5, 2, 4], [1]],
      externalItemIds: ['', 'a', 'b', 'c'],
    });
    const { dataset: kept, report, itemIdMap } = minRatingFilter(dataset, 4);
    expect(datasetToArrays(kept)).toEqual([[1, 2]]);
    expect(Array.from(kept.ratings!)).toEqual([5, 4]);
    expect(kept.externalItemIds).toEqual(['', 'a', 'c']);
    expect(Array.from(itemIdMap)).toEqual([0, 1, 0, 2]);
    expect(report.removedInteractions).toBe(2);
    expect(report.removedUsers).toBe(1);
    expect(report.removedItems).toBe(1);
    expect(report.filter).toBe('min-rating(>=4)');
  });

  it('needs ratings', () => {
    expect(() => minRatingFilter(createSequenceDataset({ sequences: [[1]] }), 3)).toThrow(/no ratings/);
  });
});

describe('deduplicateInteractions', () => {
  const dataset = createSequenceDataset({
    sequences: [[1, 2, 1, 3, 2], [4, 4]],
    timestamps: [[10, 20, 30, 40, 50], [60, 70]],
  });

  it('keep-first keeps the earliest occurrence', () => {
    const { dataset: kept, report } = deduplicateInteractions(dataset);
    expect(datasetToArrays(kept)).toEqual([[1, 2, 3], [4]]);
    expect(Array.from(kept.timestamps!)).toEqual([10, 20, 40, 60]);
    expect(report.removedInteractions).toBe(3);
    expect(report.filter).toBe('deduplicate(keep-first)');
  });

  it('keep-last keeps the latest occurrence', () => {
    const { dataset: kept } = deduplicateInteractions(dataset, { policy: 'keep-last' });
    expect(datasetToArrays(kept)).toEqual([[1, 3, 2], [4]]);
    expect(Array.from(kept.timestamps!)).toEqual([30, 40, 50, 70]);
  });

  it('does not confuse users (the seen-marker is per row)', () => {
    const { dataset: kept } = deduplicateInteractions(createSequenceDataset({ sequences: [[1, 2], [1, 2], [2, 1, 2]] }));
    expect(datasetToArrays(kept)).toEqual([
      [1, 2],
      [1, 2],
      [2, 1],
    ]);
  });
});
