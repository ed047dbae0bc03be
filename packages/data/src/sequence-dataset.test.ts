import { GenrecError } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { createSequenceDataset, datasetToArrays, selectInteractions, sequenceOf, validateSequenceDataset } from './sequence-dataset.js';

describe('createSequenceDataset', () => {
  it('builds compressed rows with parallel timestamps and ratings', () => {
    const dataset = createSequenceDataset({ name: 'x', sequences: [[3, 1], [], [2]], timestamps: [[1, 2], [], [3]], ratings: [[5, 4], [], [3]] });
    validateSequenceDataset(dataset);
    expect(dataset.name).toBe('x');
    expect(dataset.itemCount).toBe(3);
    expect(Array.from(dataset.offsets)).toEqual([0, 2, 2, 3]);
    expect(Array.from(dataset.userIds)).toEqual([1, 2, 3]);
    expect(Array.from(sequenceOf(dataset, 0))).toEqual([3, 1]);
    expect(Array.from(dataset.ratings!)).toEqual([5, 4, 3]);
  });

  it('rejects bad ids and misaligned arrays', () => {
    expect(() => createSequenceDataset({ sequences: [[0]] })).toThrow(GenrecError);
    expect(() => createSequenceDataset({ sequences: [[1.5]] })).toThrow(/positive integer/);
    expect(() => createSequenceDataset({ sequences: [[4]], itemCount: 3 })).toThrow(/exceeds/);
    expect(() => createSequenceDataset({ sequences: [[1, 2]], timestamps: [[1]] })).toThrow(/timestamps/);
    expect(() => createSequenceDataset({ sequences: [[1]], userIds: [1, 2] })).toThrow(/userIds/);
  });

  it('validation catches broken offsets and ids', () => {
    const dataset = createSequenceDataset({ sequences: [[1, 2]] });
    expect(() => validateSequenceDataset({ ...dataset, offsets: Int32Array.from([0, 3]) })).toThrow(GenrecError);
    expect(() => validateSequenceDataset({ ...dataset, items: Int32Array.from([1, 9]) })).toThrow(/outside/);
  });
});

describe('selectInteractions', () => {
  it('drops empty users, compacts item ids and records old ids as external ids', () => {
    const dataset = createSequenceDataset({ sequences: [[1, 2], [3], [2, 4]], userIds: [7, 8, 9] });
    const result = selectInteractions(dataset, Uint8Array.from([1, 0, 0, 1, 1]));
    expect(datasetToArrays(result.dataset)).toEqual([[1], [2, 3]]);
    expect(Array.from(result.dataset.userIds)).toEqual([7, 9]);
    expect(result.dataset.externalItemIds).toEqual(['', '1', '2', '4']);
    expect(Array.from(result.itemIdMap)).toEqual([0, 1, 2, 0, 3]);
    expect([result.removedUsers, result.removedItems, result.removedInteractions]).toEqual([1, 1, 2]);
    const kept = selectInteractions(dataset, Uint8Array.from([1, 0, 0, 1, 1]), false);
    expect(datasetToArrays(kept.dataset)).toEqual([[1], [2, 4]]);
    expect(kept.dataset.itemCount).toBe(4);
    expect(kept.removedItems).toBe(0);
  });
});
