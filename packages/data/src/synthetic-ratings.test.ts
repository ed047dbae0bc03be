import { GenrecError } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { leaveOneOutSplit } from './splits.js';
import { minRatingFilter } from './filters.js';
import { generateSyntheticDataset } from './synthetic.js';

/** Element-wise equality of two typed arrays (one assertion instead of a deep comparison per element). */
function sameValues(a: ArrayLike<number> | undefined, b: ArrayLike<number> | undefined): boolean {
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/** Standard normal CDF (Abramowitz and Stegun 7.1.26 for erf, absolute error below 1.5e-7). */
function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

/** E[clamp(round(1.5 + 3.5 a + noise Z), 1, 5)], computed from the normal distribution (the documented process). */
function expectedRating(affinity: number, noise: number): number {
  const mean = 1.5 + 3.5 * affinity;
  let expected = 0;
  let below = 0;
  for (let rating = 1; rating <= 5; rating++) {
    const upTo = rating === 5 ? 1 : normalCdf((rating + 0.5 - mean) / noise);
    expected += rating * (upTo - below);
    below = upTo;
  }
  return expected;
}

describe('generateSyntheticDataset with ratings', () => {
  const synthetic = generateSyntheticDataset({ ratings: true });
  const { dataset, itemTopic, userTopicWeights, affinities } = synthetic;
  const topicCount = synthetic.options.topicCount;

  it('leaves items, timestamps and catalogue unchanged and is deterministic by seed', () => {
    const plain = generateSyntheticDataset();
    expect(plain.dataset.ratings).toBeUndefined();
    expect(plain.affinities).toBeUndefined();
    expect(sameValues(dataset.items, plain.dataset.items)).toBe(true);
    expect(sameValues(dataset.timestamps, plain.dataset.timestamps)).toBe(true);
    expect(JSON.stringify(synthetic.catalog)).toBe(JSON.stringify(plain.catalog));
    expect(dataset.ratings!.length).toBe(dataset.items.length);
    const again = generateSyntheticDataset({ ratings: true, seed: 42 });
    expect(sameValues(again.dataset.ratings, dataset.ratings)).toBe(true);
    expect(sameValues(again.affinities, affinities)).toBe(true);
    const other = generateSyntheticDataset({ ratings: true, seed: 43, userCount: 100 });
    expect(sameValues(other.dataset.ratings, dataset.ratings!.subarray(0, other.dataset.ratings!.length))).toBe(false);
  });

  it('rates 1..5 in whole steps, with the affinity the documented weights give', () => {
    const counts = [0, 0, 0, 0, 0, 0];
    for (const rating of dataset.ratings!) counts[Number.isInteger(rating) && rating >= 1 && rating <= 5 ? rating : 0]!++;
    expect(counts[0]).toBe(0);
    let largestError = 0;
    let firstItemsOffTopic = 0;
    for (let row = 0; row < dataset.userCount; row++) {
      const weights = userTopicWeights!.subarray(row * topicCount, (row + 1) * topicCount);
      const largest = Math.max(...weights);
      // the first item of a sequence is a fresh draw from the user's own topics
      if (!(weights[itemTopic[dataset.items[dataset.offsets[row]!]!]!]! > 0)) firstItemsOffTopic++;
      for (let i = dataset.offsets[row]!; i < dataset.offsets[row + 1]!; i++) {
        largestError = Math.max(largestError, Math.abs(affinities![i]! - weights[itemTopic[dataset.items[i]!]!]! / largest));
      }
    }
    expect(firstItemsOffTopic).toBe(0);
    expect(largestError).toBeLessThan(1e-6);
    console.log(`synthetic default with ratings: rating counts 1..5 = ${counts.slice(1).join(', ')}`);
  });

  it('gives on-topic items higher ratings, as the documented process expects', () => {
    const sums = { favourite: [0, 0], other: [0, 0], outside: [0, 0] };
    for (let i = 0; i < dataset.items.length; i++) {
      const affinity = affinities![i]!;
      const bucket = affinity === 1 ? sums.favourite : affinity === 0 ? sums.outside : sums.other;
      bucket[0]! += dataset.ratings![i]!;
      bucket[1]!++;
    }
    const mean = (bucket: number[]): number => bucket[0]! / bucket[1]!;
    console.log(
      `synthetic default with ratings: mean rating favourite topic ${mean(sums.favourite).toFixed(3)} (${sums.favourite[1]}), ` +
        `other topics of the mix ${mean(sums.other).toFixed(3)} (${sums.other[1]}), outside the mix ${mean(sums.outside).toFixed(3)} (${sums.outside[1]})`,
    );
    expect(sums.favourite[1]).toBeGreaterThan(20_000);
    expect(sums.outside[1]).toBeGreaterThan(1_000);
    expect(expectedRating(1, 0.75)).toBeCloseTo(4.724, 3);
    expect(expectedRating(0, 0.75)).toBeCloseTo(1.595, 3);
    expect(mean(sums.favourite)).toBeCloseTo(expectedRating(1, 0.75), 1);
    expect(Math.abs(mean(sums.favourite) - expectedRating(1, 0.75))).toBeLessThan(0.02);
    expect(Math.abs(mean(sums.outside) - expectedRating(0, 0.75))).toBeLessThan(0.05);
    expect(mean(sums.favourite)).toBeGreaterThan(mean(sums.other));
    expect(mean(sums.other)).toBeGreaterThan(mean(sums.outside) + 1);
    // the latent rating is linear in the affinity: check the conditional mean in affinity bins
    for (const [low, high] of [[0.2, 0.4], [0.4, 0.6], [0.6, 0.8]] as const) {
      let total = 0;
      let expectedTotal = 0;
      let count = 0;
      for (let i = 0; i < dataset.items.length; i++) {
        const affinity = affinities![i]!;
        if (affinity < low || affinity >= high) continue;
        total += dataset.ratings![i]!;
        expectedTotal += expectedRating(affinity, 0.75);
        count++;
      }
      expect(count).toBeGreaterThan(500);
      expect(Math.abs(total / count - expectedTotal / count)).toBeLessThan(0.08);
    }
  });

  it('works with the readers’ rating field: rating filters and splits carry the ratings', () => {
    const split = leaveOneOutSplit(dataset);
    expect(split.train.ratings!.length).toBe(split.train.items.length);
    expect(split.train.ratings![0]).toBe(dataset.ratings![0]);
    const liked = minRatingFilter(dataset, 4, { compactItemIds: false });
    for (const rating of liked.dataset.ratings!) expect(rating).toBeGreaterThanOrEqual(4);
    const noiseless = generateSyntheticDataset({ ratings: true, ratingNoise: 0, userCount: 200 });
    const expected = Array.from(noiseless.affinities!, (affinity) => Math.min(5, Math.max(1, Math.round(1.5 + 3.5 * affinity))));
    expect(Array.from(noiseless.dataset.ratings!)).toEqual(expected);
  });

  it('rejects invalid rating options', () => {
    expect(() => generateSyntheticDataset({ ratingNoise: -1 })).toThrow(GenrecError);
    expect(() => generateSyntheticDataset({ ratingNoise: Number.POSITIVE_INFINITY })).toThrow(GenrecError);
    expect(() => generateSyntheticDataset({ ratings: 'yes' as never })).toThrow(GenrecError);
  });
});
