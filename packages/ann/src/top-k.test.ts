import { describe, expect, it } from 'vitest';
import { GenrecError, Rng } from '@genrec/core';
import { TopKHeap } from './top-k.js';

/** Naive reference: sort all (index, score) pairs, score descending then index ascending, NaN dropped. */
function naiveTopK(scores: Float32Array, k: number, accept: (index: number) => boolean = () => true): { indices: number[]; scores: number[] } {
  const entries = Array.from(scores, (score, index) => ({ score, index })).filter((entry) => !Number.isNaN(entry.score) && accept(entry.index));
  entries.sort((a, b) => b.score - a.score || a.index - b.index);
  const kept = entries.slice(0, k);
  return { indices: kept.map((entry) => entry.index), scores: kept.map((entry) => entry.score) };
}

describe('TopKHeap', () => {
  it('returns the hand-computed top 3 with ties broken by lower index', () => {
    const heap = new TopKHeap(1);
    expect(heap.select(new Float32Array([0.1, 0.9, 0.5, 0.9, -2]), 0, 5, 3)).toBe(3);
    const indices = new Int32Array(3);
    const scores = new Float32Array(3);
    expect(heap.write(indices, scores, 0)).toBe(3);
    expect(Array.from(indices)).toEqual([1, 3, 2]);
    expect(Array.from(scores)).toEqual([Math.fround(0.9), Math.fround(0.9), 0.5]);
  });

  it('matches a full sort on random rows with many ties, NaN, offsets and predicates', () => {
    const rng = new Rng(5);
    const heap = new TopKHeap(2);
    for (let trial = 0; trial < 300; trial++) {
      const length = 1 + rng.int(400);
      const offset = rng.int(5);
      const buffer = new Float32Array(offset + length + 3);
      // few distinct values -> many ties; some NaN and infinities
      for (let i = 0; i < buffer.length; i++) {
        const roll = rng.uniform();
        buffer[i] = roll < 0.03 ? Number.NaN : roll < 0.05 ? Number.NEGATIVE_INFINITY : roll < 0.06 ? Number.POSITIVE_INFINITY : rng.int(20) / 4;
      }
      const k = 1 + rng.int(Math.min(length + 5, 60));
      const modulus = 1 + rng.int(4);
      const accept = trial % 2 === 0 ? undefined : (index: number) => index % modulus === 0;
      const row = buffer.subarray(offset, offset + length);
      const expected = naiveTopK(row, k, accept);
      const count = heap.select(buffer, offset, length, k, accept);
      expect(count).toBe(expected.indices.length);
      const indices = new Int32Array(k + 2).fill(-7);
      const scores = new Float32Array(k + 2);
      heap.write(indices, scores, 2, (index) => index * 10);
      expect(Array.from(indices.subarray(2, 2 + count))).toEqual(expected.indices.map((index) => index * 10));
      expect(Array.from(scores.subarray(2, 2 + count))).toEqual(expected.scores);
      expect(indices[0]).toBe(-7);
    }
  });

  it('rejects a k that is not a positive integer', () => {
    const heap = new TopKHeap();
    expect(() => heap.select(new Float32Array(3), 0, 3, 0)).toThrow(GenrecError);
    expect(() => heap.select(new Float32Array(3), 0, 3, 1.5)).toThrow(/positive integer/);
  });
});
