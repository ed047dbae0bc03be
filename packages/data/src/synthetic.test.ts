import { GenrecError, type SequenceDataset } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { validateSequenceDataset } from './sequence-dataset.js';
import { leaveOneOutSplit, temporalSplit } from './splits.js';
import type { EvaluationSet } from '@genrec/core';
import { datasetStatistics } from './statistics.js';
import { generateSyntheticDataset } from './synthetic.js';

/** Top-k item ids by descending score (ties: lower id first), over items 1..itemCount (insertion into a sorted list of k). */
function topK(scores: Float64Array, k: number): number[] {
  const best: number[] = [];
  for (let item = 1; item < scores.length; item++) {
    const score = scores[item]!;
    if (best.length === k && score <= scores[best[k - 1]!]!) continue;
    let position = best.length;
    while (position > 0 && scores[best[position - 1]!]! < score) position--;
    best.splice(position, 0, item);
    if (best.length > k) best.pop();
  }
  return best;
}

function popularityScores(train: SequenceDataset): Float64Array {
  const counts = new Float64Array(train.itemCount + 1);
  for (const item of train.items) counts[item]!++;
  return counts;
}

function hitRate(set: EvaluationSet, recommend: (history: Int32Array) => number[]): number {
  let hits = 0;
  for (let u = 0; u < set.size; u++) {
    const history = set.historyItems.subarray(set.historyOffsets[u]!, set.historyOffsets[u + 1]!);
    if (recommend(history).includes(set.targetItems[set.targetOffsets[u]!]!)) hits++;
  }
  return hits / set.size;
}

describe('generateSyntheticDataset', () => {
  it('generates the default size quickly and deterministically by seed', () => {
    const started = performance.now();
    const first = generateSyntheticDataset();
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(1000);
    validateSequenceDataset(first.dataset);
    expect(first.dataset.userCount).toBe(5000);
    expect(first.dataset.itemCount).toBe(2000);
    const again = generateSyntheticDataset({ seed: 42 });
    expect(again.dataset.items).toEqual(first.dataset.items);
    expect(again.dataset.timestamps).toEqual(first.dataset.timestamps);
    expect(again.catalog.records[17]).toEqual(first.catalog.records[17]);
    const other = generateSyntheticDataset({ seed: 43 });
    expect(other.dataset.items).not.toEqual(first.dataset.items);
  });

  it('respects its structure: lengths, no repeats, increasing time, categories from the hierarchy, valid successors', () => {
    const synthetic = generateSyntheticDataset({ userCount: 800, itemCount: 400, topicCount: 4, subtopicsPerTopic: 3, seed: 9 });
    const { dataset, catalog, topics, itemTopic, itemLeaf, successors, options } = synthetic;
    const statistics = datasetStatistics(dataset);
    expect(statistics.sequenceLength.min).toBeGreaterThanOrEqual(options.minSequenceLength);
    expect(statistics.sequenceLength.max).toBeLessThanOrEqual(options.maxSequenceLength);
    expect(Math.abs(statistics.sequenceLength.mean - options.meanSequenceLength)).toBeLessThan(1);
    expect(statistics.popularityGini).toBeGreaterThan(0.3);
    for (let row = 0; row < dataset.userCount; row++) {
      const from = dataset.offsets[row]!;
      const to = dataset.offsets[row + 1]!;
      expect(new Set(dataset.items.subarray(from, to)).size).toBe(to - from);
      for (let i = from + 1; i < to; i++) expect(dataset.timestamps![i]!).toBeGreaterThan(dataset.timestamps![i - 1]!);
    }
    const leafSizes = new Map<number, number>();
    for (let item = 1; item <= 400; item++) {
      const record = catalog.records[item]!;
      const topic = topics[itemTopic[item]!]!;
      expect(record.categories).toEqual([['Synthetic', topic.name, topic.subtopics[itemLeaf[item]! % 3]!]]);
      expect(record.title).toMatch(/^\w+ \w+ \w+ \d{3}$/);
      leafSizes.set(itemLeaf[item]!, (leafSizes.get(itemLeaf[item]!) ?? 0) + 1);
      const own = Array.from(successors.subarray(item * 3, item * 3 + 3));
      expect(new Set(own).size).toBe(3);
      for (const next of own) expect(next >= 1 && next <= 400 && next !== item).toBe(true);
    }
    expect(Math.max(...leafSizes.values()) - Math.min(...leafSizes.values())).toBeLessThanOrEqual(1);
  });

  it('gives an item-to-next-item transition predictor at least twice the HitRate@10 of popularity (leave-one-out test)', () => {
    const { dataset } = generateSyntheticDataset();
    const { train, test } = leaveOneOutSplit(dataset);
    const popularity = popularityScores(train);
    const popularTop = topK(popularity, 10);
    const transitions = new Map<number, Map<number, number>>();
    for (let row = 0; row < train.userCount; row++) {
      for (let i = train.offsets[row]! + 1; i < train.offsets[row + 1]!; i++) {
        const from = train.items[i - 1]!;
        const next = transitions.get(from) ?? new Map<number, number>();
        next.set(train.items[i]!, (next.get(train.items[i]!) ?? 0) + 1);
        transitions.set(from, next);
      }
    }
    const scores = new Float64Array(train.itemCount + 1);
    const transitionRecommend = (history: Int32Array): number[] => {
      // transition count dominates; popularity (scaled below 1) breaks ties and fills the list.
      const maxPopularity = popularity[popularTop[0]!]! + 1;
      for (let item = 1; item <= train.itemCount; item++) scores[item] = popularity[item]! / maxPopularity;
      const last = history[history.length - 1]!;
      for (const [item, count] of transitions.get(last) ?? []) scores[item] = scores[item]! + count;
      return topK(scores, 10);
    };
    const popularityHitRate = hitRate(test, () => popularTop);
    const transitionHitRate = hitRate(test, transitionRecommend);
    console.log(`synthetic default, leave-one-out test HitRate@10: popularity ${popularityHitRate.toFixed(4)}, transitions ${transitionHitRate.toFixed(4)}`);
    expect(popularityHitRate).toBeGreaterThan(0);
    expect(transitionHitRate).toBeGreaterThanOrEqual(2 * popularityHitRate);
  });

  it('has timestamps spread enough for a temporal split', () => {
    const { dataset } = generateSyntheticDataset({ userCount: 1000 });
    const split = temporalSplit(dataset, { validationFraction: 0.1, testFraction: 0.1 });
    expect(split.validation.size).toBeGreaterThan(50);
    expect(split.test.size).toBeGreaterThan(50);
    expect(split.train.items.length).toBe(Math.floor(dataset.items.length * 0.8));
  });

  it('rejects inconsistent options', () => {
    expect(() => generateSyntheticDataset({ userCount: 0 })).toThrow(GenrecError);
    expect(() => generateSyntheticDataset({ itemCount: 10, topicCount: 8, subtopicsPerTopic: 5 })).toThrow(/itemCount/);
    expect(() => generateSyntheticDataset({ transitionProbability: 2 })).toThrow(/transitionProbability/);
    expect(() => generateSyntheticDataset({ minSequenceLength: 10, maxSequenceLength: 5 })).toThrow(/maxSequenceLength/);
  });
});
