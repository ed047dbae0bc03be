import { Rng } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { createSequenceDataset } from './sequence-dataset.js';
import { datasetStatistics, formatStatistics } from './statistics.js';

/** Gini by its definition: mean absolute difference over all pairs / (2 * mean). */
function naiveGini(counts: number[]): number {
  const n = counts.length;
  const mean = counts.reduce((a, b) => a + b, 0) / n;
  let sum = 0;
  for (const a of counts) for (const b of counts) sum += Math.abs(a - b);
  return sum / (2 * n * n * mean);
}

describe('datasetStatistics', () => {
  it('computes hand-checked values', () => {
    const dataset = createSequenceDataset({ sequences: [[1, 2, 3], [1], [1, 2], [4, 1, 2, 3]], itemCount: 5 });
    const statistics = datasetStatistics(dataset);
    expect(statistics.users).toBe(4);
    expect(statistics.items).toBe(5);
    expect(statistics.interactedItems).toBe(4);
    expect(statistics.interactions).toBe(10);
    expect(statistics.density).toBeCloseTo(10 / 20, 12);
    expect(statistics.sequenceLength).toEqual({ min: 1, median: 2.5, mean: 2.5, max: 4 });
    expect(statistics.itemFrequency).toEqual({ min: 1, max: 4 });
    // counts over items 1..5: [4, 3, 2, 1, 0] -> sorted [0,1,2,3,4]: 2*(0+2+6+12+20)/(5*10) - 6/5 = 1.6 - 1.2 = 0.4
    expect(statistics.popularityGini).toBeCloseTo(0.4, 12);
    expect(datasetStatistics(createSequenceDataset({ sequences: [[1], [2], [3]] })).popularityGini).toBeCloseTo(0, 12);
    expect(datasetStatistics(createSequenceDataset({ sequences: [[1, 2, 3]] })).sequenceLength.median).toBe(3);
  });

  it('matches the pairwise definition of Gini on random data', () => {
    const rng = new Rng(8);
    const sequences = Array.from({ length: 100 }, () => Array.from({ length: 1 + rng.int(10) }, () => 1 + Math.floor(60 * rng.uniform() ** 3)));
    const dataset = createSequenceDataset({ sequences, itemCount: 60 });
    const counts = new Array<number>(60).fill(0);
    for (const item of dataset.items) counts[item - 1]!++;
    expect(datasetStatistics(dataset).popularityGini).toBeCloseTo(naiveGini(counts), 10);
  });

  it('formats readable lines', () => {
    const text = formatStatistics(datasetStatistics(createSequenceDataset({ sequences: [[1, 2], [2]] })));
    expect(text).toContain('users            2');
    expect(text).toContain('sequence length  min 1, median 1.5, mean 1.500, max 2');
  });
});
