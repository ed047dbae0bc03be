import { Rng } from '@genrec/core';
import { createSequenceDataset, type InteractionDataset } from '@genrec/data';

/**
 * A small random dataset for the naive reference tests: `users` sequences of 1 to `maxLength`
 * items drawn from `1 .. itemCount` with a skew toward low ids and some repeats.
 */
export function randomDataset(seed: number, users = 30, itemCount = 12, maxLength = 8): InteractionDataset {
  const rng = new Rng(seed);
  const sequences: number[][] = [];
  for (let u = 0; u < users; u++) {
    const length = 1 + rng.int(maxLength);
    const sequence: number[] = [];
    for (let i = 0; i < length; i++) {
      // a sequential pull (next id) half the time, a skewed draw otherwise
      const previous = sequence.at(-1);
      sequence.push(previous !== undefined && rng.uniform() < 0.5 ? (previous % itemCount) + 1 : 1 + Math.floor(itemCount * rng.uniform() ** 2));
    }
    sequences.push(sequence);
  }
  return createSequenceDataset({ name: `random-${seed}`, sequences, itemCount });
}

/** The sequences of a dataset as plain arrays. */
export function sequencesOf(dataset: InteractionDataset): number[][] {
  return Array.from({ length: dataset.userCount }, (_, r) => Array.from(dataset.items.subarray(dataset.offsets[r]!, dataset.offsets[r + 1]!)));
}

/**
 * Item ids sorted by score descending, ties to the lower id, without the excluded ids. Scores are
 * compared in float32, the precision of `Recommendations.scores`.
 */
export function naiveRanking(scores: ArrayLike<number>, excluded: ReadonlySet<number>, k: number): number[] {
  const ids: number[] = [];
  for (let j = 0; j < scores.length; j++) if (!excluded.has(j + 1)) ids.push(j + 1);
  const value = (id: number): number => Math.fround(scores[id - 1]!);
  ids.sort((a, b) => value(b) - value(a) || a - b);
  return ids.slice(0, k);
}
