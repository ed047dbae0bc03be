import { GenrecError, Rng } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { createSequenceDataset, datasetToArrays } from './sequence-dataset.js';
import { leaveOneOutSplit, paddedHistories, summarizeSplit, temporalSplit } from './splits.js';
import type { EvaluationSet } from '@genrec/core';

function histories(set: EvaluationSet): number[][] {
  return Array.from({ length: set.size }, (_, u) => Array.from(set.historyItems.subarray(set.historyOffsets[u]!, set.historyOffsets[u + 1]!)));
}

function targets(set: EvaluationSet): number[][] {
  return Array.from({ length: set.size }, (_, u) => Array.from(set.targetItems.subarray(set.targetOffsets[u]!, set.targetOffsets[u + 1]!)));
}

describe('leaveOneOutSplit', () => {
  const dataset = createSequenceDataset({
    sequences: [[1, 2, 3, 4, 5], [6, 7], [3, 2, 1]],
    timestamps: [[1, 2, 3, 4, 5], [6, 7], [8, 9, 10]],
    userIds: [10, 20, 30],
    itemCount: 7,
  });

  it('holds out the last item for test and the second-last for validation; short users are train-only', () => {
    const split = leaveOneOutSplit(dataset);
    expect(datasetToArrays(split.train)).toEqual([[1, 2, 3], [6, 7], [3]]);
    expect(Array.from(split.train.timestamps!)).toEqual([1, 2, 3, 6, 7, 8]);
    expect(Array.from(split.train.userIds)).toEqual([10, 20, 30]);
    expect(split.train.itemCount).toBe(7);
    expect(Array.from(split.validation.rows)).toEqual([0, 2]);
    expect(Array.from(split.validation.userIds)).toEqual([10, 30]);
    expect(histories(split.validation)).toEqual([[1, 2, 3], [3]]);
    expect(targets(split.validation)).toEqual([[4], [2]]);
    expect(histories(split.test)).toEqual([[1, 2, 3, 4], [3, 2]]);
    expect(targets(split.test)).toEqual([[5], [1]]);
    expect(summarizeSplit(split)).toEqual({
      trainUsers: 3,
      trainInteractions: 6,
      validationUsers: 2,
      validationTargets: 2,
      testUsers: 2,
      testTargets: 2,
    });
  });

  it('cuts histories to the most recent maxHistoryLength items', () => {
    const split = leaveOneOutSplit(dataset, { maxHistoryLength: 2 });
    expect(histories(split.validation)).toEqual([[2, 3], [3]]);
    expect(histories(split.test)).toEqual([[3, 4], [3, 2]]);
    expect(datasetToArrays(split.train)).toEqual([[1, 2, 3], [6, 7], [3]]);
    expect(() => leaveOneOutSplit(dataset, { maxHistoryLength: 0 })).toThrow(GenrecError);
  });

  it('left-pads histories like the peer (last items kept, zeros in front)', () => {
    const split = leaveOneOutSplit(dataset);
    expect(Array.from(paddedHistories(split.test, 3))).toEqual([2, 3, 4, 0, 3, 2]);
    expect(Array.from(paddedHistories(split.validation, 4))).toEqual([0, 1, 2, 3, 0, 0, 0, 3]);
  });
});

describe('temporalSplit', () => {
  const dataset = createSequenceDataset({
    sequences: [[1, 2, 3, 4], [5, 6], [7], [2, 3]],
    timestamps: [[1, 5, 8, 9], [2, 6], [10], [8, 9]],
  });

  it('cuts at explicit times; ties go to the later period; test histories include the validation period', () => {
    const split = temporalSplit(dataset, { validationStart: 6, testStart: 9 });
    expect(datasetToArrays(split.train)).toEqual([[1, 2], [5], [], []]);
    expect(Array.from(split.train.timestamps!)).toEqual([1, 5, 2]);
    expect(Array.from(split.validation.rows)).toEqual([0, 1]);
    expect(histories(split.validation)).toEqual([[1, 2], [5]]);
    expect(targets(split.validation)).toEqual([[3], [6]]);
    // user 2 (row 2) has a test target but no history -> skipped; user row 3 has history [2] (validation period) and target 3.
    expect(Array.from(split.test.rows)).toEqual([0, 3]);
    expect(histories(split.test)).toEqual([[1, 2, 3], [2]]);
    expect(targets(split.test)).toEqual([[4], [3]]);
    const withCold = temporalSplit(dataset, { validationStart: 6, testStart: 9, requireHistory: false });
    expect(Array.from(withCold.test.rows)).toEqual([0, 2, 3]);
    expect(Array.from(withCold.validation.rows)).toEqual([0, 1, 3]);
  });

  it('finds cut-offs at the requested quantiles of all timestamps', () => {
    // 10 timestamps sorted: 1 2 5 6 8 8 9 9 9 10; 20% test -> index 8 -> 9; 30% validation + test -> index 7 -> 9.
    const split = temporalSplit(dataset, { validationFraction: 0.1, testFraction: 0.2 });
    expect(split.testStart).toBe(9);
    expect(split.validationStart).toBe(9);
    expect(split.validation.size).toBe(0);
    const rng = new Rng(3);
    const sequences = Array.from({ length: 50 }, () => Array.from({ length: 1 + rng.int(8) }, () => 1 + rng.int(30)));
    let time = 0;
    const timestamps = sequences.map((sequence) => sequence.map(() => (time += 1)));
    const random = createSequenceDataset({ sequences, timestamps });
    const total = random.items.length;
    const byFraction = temporalSplit(random, { validationFraction: 0.1, testFraction: 0.1 });
    expect(byFraction.train.items.length).toBe(Math.floor(total * 0.8));
    expect(byFraction.test.targetItems.length + byFraction.validation.targetItems.length).toBeLessThanOrEqual(total - Math.floor(total * 0.8));
  });

  it('needs timestamps and consistent options', () => {
    expect(() => temporalSplit(createSequenceDataset({ sequences: [[1]] }))).toThrow(/timestamps/);
    expect(() => temporalSplit(dataset, { validationFraction: 0.6, testFraction: 0.5 })).toThrow(GenrecError);
    expect(() => temporalSplit(dataset, { validationStart: 9, testStart: 5 })).toThrow(/after/);
  });
});
