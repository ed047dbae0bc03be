import { Rng } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { createSequenceDataset } from './sequence-dataset.js';
import { fillPrefixBatch, nextItemPairs, paddedTrainingSequences } from './training-examples.js';

/** A line-by-line port of the sasrec_ce peer's make_training_arrays (shared/peers/sasrec_ce.py). */
function peerTrainingArrays(train: number[][], maxlen: number): { inp: number[][]; tgt: number[][]; rows: number[] } {
  const rows = train.flatMap((s, u) => (s.length >= 2 ? [u] : []));
  const inp = rows.map(() => new Array<number>(maxlen).fill(0));
  const tgt = rows.map(() => new Array<number>(maxlen).fill(0));
  rows.forEach((u, r) => {
    const tr = train[u]!.slice(-(maxlen + 1));
    const n = tr.length - 1;
    for (let i = 0; i < n; i++) {
      inp[r]![maxlen - n + i] = tr[i]!;
      tgt[r]![maxlen - n + i] = tr[i + 1]!;
    }
  });
  return { inp, tgt, rows };
}

describe('paddedTrainingSequences', () => {
  it('builds left-padded input/target rows (golden)', () => {
    const train = createSequenceDataset({ sequences: [[1, 2, 3], [4], [5, 6, 7, 8, 9, 10]] });
    const padded = paddedTrainingSequences(train, { maxLength: 4 });
    expect(padded.rowCount).toBe(2);
    expect(Array.from(padded.rows)).toEqual([0, 2]);
    expect(Array.from(padded.inputs)).toEqual([0, 0, 1, 2, 6, 7, 8, 9]);
    expect(Array.from(padded.targets)).toEqual([0, 0, 2, 3, 7, 8, 9, 10]);
    expect(padded.targetCount).toBe(6);
  });

  it('matches the sasrec_ce peer exactly on random sequences', () => {
    const rng = new Rng(11);
    for (const maxLength of [1, 3, 50]) {
      const sequences = Array.from({ length: 200 }, () => Array.from({ length: rng.int(80) }, () => 1 + rng.int(500)));
      const padded = paddedTrainingSequences(createSequenceDataset({ sequences, itemCount: 500 }), { maxLength });
      const peer = peerTrainingArrays(sequences, maxLength);
      expect(Array.from(padded.rows)).toEqual(peer.rows);
      expect(Array.from(padded.inputs)).toEqual(peer.inp.flat());
      expect(Array.from(padded.targets)).toEqual(peer.tgt.flat());
      expect(padded.targetCount).toBe(peer.tgt.flat().filter((t) => t !== 0).length);
    }
  });
});

describe('nextItemPairs and fillPrefixBatch', () => {
  it('lists every (prefix -> next) pair and expands prefixes into padded rows', () => {
    const train = createSequenceDataset({ sequences: [[5, 6, 7], [8], [1, 2]] });
    const pairs = nextItemPairs(train);
    expect(pairs.count).toBe(3);
    expect(Array.from(pairs.rows)).toEqual([0, 0, 2]);
    expect(Array.from(pairs.ends)).toEqual([1, 2, 1]);
    expect(Array.from(pairs.targets)).toEqual([6, 7, 2]);
    const out = new Int32Array(3 * 2).fill(-1);
    expect(Array.from(fillPrefixBatch(train, pairs, 0, 3, 2, out))).toEqual([0, 5, 5, 6, 0, 1]);
    expect(Array.from(nextItemPairs(train, { minPrefixLength: 2 }).targets)).toEqual([7]);
    expect(() => fillPrefixBatch(train, pairs, 2, 2, 2, out)).toThrow(/exceed/);
    expect(() => fillPrefixBatch(train, pairs, 0, 3, 3, out)).toThrow(/needs/);
  });

  it('agrees with a naive expansion on random data, batch by batch', () => {
    const rng = new Rng(2);
    const sequences = Array.from({ length: 40 }, () => Array.from({ length: rng.int(12) }, () => 1 + rng.int(50)));
    const train = createSequenceDataset({ sequences, itemCount: 50 });
    const pairs = nextItemPairs(train);
    const expected: number[][] = [];
    const expectedTargets: number[] = [];
    for (const sequence of sequences) {
      for (let t = 1; t < sequence.length; t++) {
        const prefix = sequence.slice(Math.max(0, t - 5), t);
        expected.push([...new Array<number>(5 - prefix.length).fill(0), ...prefix]);
        expectedTargets.push(sequence[t]!);
      }
    }
    expect(Array.from(pairs.targets)).toEqual(expectedTargets);
    const batch = new Int32Array(7 * 5);
    for (let first = 0; first < pairs.count; first += 7) {
      const count = Math.min(7, pairs.count - first);
      fillPrefixBatch(train, pairs, first, count, 5, batch);
      expect(Array.from(batch.subarray(0, count * 5))).toEqual(expected.slice(first, first + count).flat());
    }
  });
});
