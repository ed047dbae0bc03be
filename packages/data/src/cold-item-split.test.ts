import { GenrecError, Rng, type EvaluationSet } from '@genrec/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { coldItemSplit, type ColdItemSplit } from './cold-item-split.js';
import { createSequenceDataset, datasetToArrays, type InteractionDataset } from './sequence-dataset.js';
import { leaveOneOutSplit } from './splits.js';
import { generateSyntheticDataset } from './synthetic.js';

function histories(set: EvaluationSet): number[][] {
  return Array.from({ length: set.size }, (_, u) => Array.from(set.historyItems.subarray(set.historyOffsets[u]!, set.historyOffsets[u + 1]!)));
}

function targets(set: EvaluationSet): number[] {
  return Array.from({ length: set.size }, (_, u) => {
    expect(set.targetOffsets[u + 1]! - set.targetOffsets[u]!).toBe(1);
    return set.targetItems[set.targetOffsets[u]!]!;
  });
}

/** An evaluation set as plain arrays, for comparisons. */
function plain(set: EvaluationSet): { rows: number[]; userIds: number[]; histories: number[][]; targets: number[] } {
  return { rows: Array.from(set.rows), userIds: Array.from(set.userIds), histories: histories(set), targets: targets(set) };
}

/** The invariants every cold-item split satisfies. */
function checkInvariants(split: ColdItemSplit, dataset: InteractionDataset): void {
  const cold = new Set(split.coldItems);
  for (const item of split.train.items) expect(cold.has(item)).toBe(false);
  expect(split.train.itemCount).toBe(dataset.itemCount);
  expect(split.train.userCount).toBe(dataset.userCount);
  for (const item of targets(split.testCold)) expect(cold.has(item)).toBe(true);
  for (const item of targets(split.testWarm)) expect(cold.has(item)).toBe(false);
  for (const item of targets(split.validationCold)) expect(cold.has(item)).toBe(true);
  for (const item of targets(split.validationWarm)) expect(cold.has(item)).toBe(false);
  expect(split.testCold.size + split.testWarm.size).toBe(split.test.size);
  expect(split.validationCold.size + split.validationWarm.size).toBe(split.validation.size);
  // warm and cold partition the full set, each in row order
  for (const [all, warm, coldSet] of [
    [split.test, split.testWarm, split.testCold],
    [split.validation, split.validationWarm, split.validationCold],
  ] as const) {
    const merged = [...Array.from(warm.rows), ...Array.from(coldSet.rows)].sort((a, b) => a - b);
    expect(merged).toEqual(Array.from(all.rows));
    expect(Array.from(warm.rows)).toEqual([...warm.rows].sort((a, b) => a - b));
  }
  for (let item = 0; item <= dataset.itemCount; item++) expect(split.isCold[item]).toBe(cold.has(item) ? 1 : 0);
  expect(Array.from(split.coldItems)).toEqual([...split.coldItems].sort((a, b) => a - b));
}

describe('coldItemSplit on a hand-built dataset', () => {
  const dataset = createSequenceDataset({
    sequences: [[1, 2, 3, 4, 5], [6, 2], [3, 6, 2, 8], [6, 1, 2]],
    timestamps: [[1, 2, 3, 4, 5], [11, 12], [21, 22, 23, 24], [31, 32, 33]],
    ratings: [[5, 4, 3, 2, 1], [1, 2], [3, 4, 5, 1], [2, 3, 4]],
    userIds: [10, 20, 30, 40],
    itemCount: 9,
  });

  it('removes cold items from every training row, keeps ids and evaluates cold and warm targets apart (histories keep cold items)', () => {
    const split = coldItemSplit(dataset, { coldItems: [6, 2] });
    expect(Array.from(split.coldItems)).toEqual([2, 6]);
    // leave-one-out training parts [1,2,3], [6,2], [3,6], [6] without 2 and 6
    expect(datasetToArrays(split.train)).toEqual([[1, 3], [], [3], []]);
    expect(Array.from(split.train.timestamps!)).toEqual([1, 3, 21]);
    expect(Array.from(split.train.ratings!)).toEqual([5, 3, 3]);
    expect(Array.from(split.train.userIds)).toEqual([10, 20, 30, 40]);
    expect(split.train.itemCount).toBe(9);
    expect(plain(split.validation)).toEqual({ rows: [0, 2, 3], userIds: [10, 30, 40], histories: [[1, 2, 3], [3, 6], [6]], targets: [4, 2, 1] });
    expect(plain(split.validationWarm)).toEqual({ rows: [0, 3], userIds: [10, 40], histories: [[1, 2, 3], [6]], targets: [4, 1] });
    expect(plain(split.validationCold)).toEqual({ rows: [2], userIds: [30], histories: [[3, 6]], targets: [2] });
    expect(plain(split.test)).toEqual({ rows: [0, 2, 3], userIds: [10, 30, 40], histories: [[1, 2, 3, 4], [3, 6, 2], [6, 1]], targets: [5, 8, 2] });
    expect(plain(split.testWarm)).toEqual({ rows: [0, 2], userIds: [10, 30], histories: [[1, 2, 3, 4], [3, 6, 2]], targets: [5, 8] });
    expect(plain(split.testCold)).toEqual({ rows: [3], userIds: [40], histories: [[6, 1]], targets: [2] });
    expect(split.report).toEqual({
      interactedItems: 7, // 1, 2, 3, 4, 5, 6, 8
      coldItems: 2,
      removedInteractions: 5,
      emptiedTrainingRows: 2,
      shortenedTrainingRows: 1,
      droppedValidationUsers: 0,
      droppedTestUsers: 0,
    });
    checkInvariants(split, dataset);
  });

  it("with coldItemsInHistory 'remove' deletes cold items from histories and drops users left without history", () => {
    const split = coldItemSplit(dataset, { coldItems: [2, 6], coldItemsInHistory: 'remove' });
    expect(datasetToArrays(split.train)).toEqual([[1, 3], [], [3], []]);
    expect(plain(split.validation)).toEqual({ rows: [0, 2], userIds: [10, 30], histories: [[1, 3], [3]], targets: [4, 2] });
    expect(plain(split.validationCold)).toEqual({ rows: [2], userIds: [30], histories: [[3]], targets: [2] });
    expect(plain(split.test)).toEqual({ rows: [0, 2, 3], userIds: [10, 30, 40], histories: [[1, 3, 4], [3], [1]], targets: [5, 8, 2] });
    expect(plain(split.testCold)).toEqual({ rows: [3], userIds: [40], histories: [[1]], targets: [2] });
    expect(split.report.droppedValidationUsers).toBe(1);
    expect(split.report.droppedTestUsers).toBe(0);
    checkInvariants(split, dataset);
  });

  it('cuts histories to the most recent maxHistoryLength items (after removal)', () => {
    expect(histories(coldItemSplit(dataset, { coldItems: [2, 6], maxHistoryLength: 2 }).test)).toEqual([[3, 4], [6, 2], [6, 1]]);
    expect(histories(coldItemSplit(dataset, { coldItems: [2, 6], maxHistoryLength: 2, coldItemsInHistory: 'remove' }).test)).toEqual([[3, 4], [3], [1]]);
  });

  it('equals the leave-one-out split when the cold item has no interaction', () => {
    const split = coldItemSplit(dataset, { coldItems: [9] });
    const reference = leaveOneOutSplit(dataset);
    expect(datasetToArrays(split.train)).toEqual(datasetToArrays(reference.train));
    expect(split.train.timestamps).toEqual(reference.train.timestamps);
    expect(split.train.ratings).toEqual(reference.train.ratings);
    expect(plain(split.test)).toEqual(plain(reference.test));
    expect(plain(split.validation)).toEqual(plain(reference.validation));
    expect(split.testCold.size).toBe(0);
    expect(split.report.removedInteractions).toBe(0);
  });

  it('draws round(share x interacted items) cold items by the documented permutation, deterministic by seed', () => {
    const split = coldItemSplit(dataset, { share: 0.3, seed: 5 });
    // the definition: pool = interacted items in id order, first round(0.3 x 8) = 2 of new Rng(5).permutation(8)
    const interacted = [1, 2, 3, 4, 5, 6, 8];
    expect(split.report.interactedItems).toBe(interacted.length);
    const permutation = new Rng(5).permutation(interacted.length);
    const expected = [interacted[permutation[0]!]!, interacted[permutation[1]!]!].sort((a, b) => a - b);
    expect(Math.round(0.3 * 7)).toBe(2);
    expect(Array.from(split.coldItems)).toEqual(expected);
    expect(coldItemSplit(dataset, { share: 0.3, seed: 5 })).toEqual(split);
    checkInvariants(split, dataset);
  });

  it('rejects bad options before doing anything', () => {
    const code = (run: () => unknown): string => {
      try {
        run();
      } catch (error) {
        expect(GenrecError.isInstance(error)).toBe(true);
        return `${(error as GenrecError).code}:${(error as GenrecError).details.field}`;
      }
      return 'no error';
    };
    expect(code(() => coldItemSplit(dataset, { share: 0 }))).toBe('INVALID_OPTION:share');
    expect(code(() => coldItemSplit(dataset, { share: 1 }))).toBe('INVALID_OPTION:share');
    expect(code(() => coldItemSplit(dataset, { share: Number.NaN }))).toBe('INVALID_OPTION:share');
    expect(code(() => coldItemSplit(dataset, { share: 0.01 }))).toBe('INVALID_OPTION:share'); // rounds to 0 cold items
    expect(code(() => coldItemSplit(dataset, { share: 0.99 }))).toBe('INVALID_OPTION:share'); // no warm item left
    expect(code(() => coldItemSplit(dataset, { coldItems: [2, 2] }))).toBe('INVALID_OPTION:coldItems');
    expect(code(() => coldItemSplit(dataset, { coldItems: [10] }))).toBe('INVALID_OPTION:coldItems');
    expect(code(() => coldItemSplit(dataset, { coldItems: [1.5] }))).toBe('INVALID_OPTION:coldItems');
    expect(code(() => coldItemSplit(dataset, { coldItems: [] }))).toBe('INVALID_OPTION:coldItems');
    expect(code(() => coldItemSplit(dataset, { maxHistoryLength: 0 }))).toBe('INVALID_OPTION:maxHistoryLength');
    expect(code(() => coldItemSplit(dataset, { coldItemsInHistory: 'drop' as never }))).toBe('INVALID_OPTION:coldItemsInHistory');
    expect(code(() => coldItemSplit(dataset, { shares: 0.1 } as never))).toBe('INVALID_OPTION:shares');
    expect(code(() => coldItemSplit(dataset, { seed: 0.5 }))).toBe('INVALID_OPTION:seed');
  });
});

/** A direct transcription of the definition on nested arrays, for comparison. */
function referenceSplit(sequences: number[][], cold: Set<number>, policy: 'keep' | 'remove', maxHistoryLength: number) {
  const train: number[][] = [];
  const sets = { test: [] as [number, number[], number][], validation: [] as [number, number[], number][] };
  sequences.forEach((sequence, row) => {
    const n = sequence.length;
    const part = n >= 3 ? sequence.slice(0, n - 2) : sequence;
    train.push(part.filter((item) => !cold.has(item)));
    if (n < 3) return;
    const visible = (items: number[]): number[] => (policy === 'keep' ? items : items.filter((item) => !cold.has(item))).slice(-maxHistoryLength);
    const validationHistory = visible(sequence.slice(0, n - 2));
    if (validationHistory.length > 0) sets.validation.push([row, validationHistory, sequence[n - 2]!]);
    const testHistory = visible(sequence.slice(0, n - 1));
    if (testHistory.length > 0) sets.test.push([row, testHistory, sequence[n - 1]!]);
  });
  const select = (entries: [number, number[], number][], wantCold: boolean | undefined) => {
    const chosen = entries.filter(([, , target]) => wantCold === undefined || cold.has(target) === wantCold);
    return { rows: chosen.map(([row]) => row), userIds: chosen.map(([row]) => row + 1), histories: chosen.map(([, history]) => history), targets: chosen.map(([, , target]) => target) };
  };
  return {
    train,
    test: select(sets.test, undefined),
    testWarm: select(sets.test, false),
    testCold: select(sets.test, true),
    validation: select(sets.validation, undefined),
    validationWarm: select(sets.validation, false),
    validationCold: select(sets.validation, true),
  };
}

describe('coldItemSplit against a reference implementation', () => {
  it('agrees on random datasets, for both history policies', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 9 }), { minLength: 1, maxLength: 12 }),
        fc.uniqueArray(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 6 }),
        fc.constantFrom<'keep' | 'remove'>('keep', 'remove'),
        fc.integer({ min: 1, max: 5 }),
        (sequences, coldItems, policy, maxHistoryLength) => {
          const dataset = createSequenceDataset({ sequences, itemCount: 12 });
          const split = coldItemSplit(dataset, { coldItems, coldItemsInHistory: policy, maxHistoryLength });
          const reference = referenceSplit(sequences, new Set(coldItems), policy, maxHistoryLength);
          expect(datasetToArrays(split.train)).toEqual(reference.train);
          for (const name of ['test', 'testWarm', 'testCold', 'validation', 'validationWarm', 'validationCold'] as const) {
            expect(plain(split[name])).toEqual(reference[name]);
          }
          checkInvariants(split, dataset);
        },
      ),
      { numRuns: 200, seed: 11 },
    );
  });
});

describe('coldItemSplit on the synthetic dataset', () => {
  const { dataset } = generateSyntheticDataset({ userCount: 1500, itemCount: 600, seed: 3 });

  it('keeps the leave-one-out evaluation users and histories, and only removes cold items from training', () => {
    const split = coldItemSplit(dataset, { share: 0.2, seed: 1, maxHistoryLength: 20 });
    const reference = leaveOneOutSplit(dataset, { maxHistoryLength: 20 });
    checkInvariants(split, dataset);
    expect(split.coldItems.length).toBe(Math.round(0.2 * split.report.interactedItems));
    expect(plain(split.test)).toEqual(plain(reference.test));
    expect(plain(split.validation)).toEqual(plain(reference.validation));
    const cold = new Set(split.coldItems);
    expect(datasetToArrays(split.train)).toEqual(datasetToArrays(reference.train).map((row) => row.filter((item) => !cold.has(item))));
    expect(split.report.removedInteractions).toBe(reference.train.items.length - split.train.items.length);
    // cold items are a random 20 % of the items, so some but not most test targets are cold
    expect(split.testCold.size).toBeGreaterThan(0.05 * split.test.size);
    expect(split.testCold.size).toBeLessThan(0.4 * split.test.size);
  });

  it('is deterministic by seed; another seed draws other items', () => {
    const first = coldItemSplit(dataset, { share: 0.1, seed: 4 });
    const again = coldItemSplit(dataset, { share: 0.1, seed: 4 });
    expect(again.coldItems).toEqual(first.coldItems);
    expect(again.train.items).toEqual(first.train.items);
    expect(plain(again.testCold)).toEqual(plain(first.testCold));
    const other = coldItemSplit(dataset, { share: 0.1, seed: 5 });
    expect(other.coldItems.length).toBe(first.coldItems.length);
    expect(other.coldItems).not.toEqual(first.coldItems);
  });
});
