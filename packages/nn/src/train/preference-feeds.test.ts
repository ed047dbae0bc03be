import { describe, expect, it } from 'vitest';
import { GenrecError } from '@genrec/core';
import { checkPreferenceShape, itemLogProbFeeds, itemSupervisedFeeds, mergeParameterValues, paddedItemSequences } from './preference-feeds.js';

const names = { logProbSeq: 'p.seq', candidates: 'p.cand', supervisedSeq: 's.seq', targets: 's.targets' };
const inputs = { itemCount: 9, maxLength: 3, names };

function failure(run: () => unknown): [string, unknown] {
  try {
    run();
  } catch (error) {
    if (GenrecError.isInstance(error)) return [error.code, error.details?.field];
    throw error;
  }
  return ['none', undefined];
}

describe('preference feeds', () => {
  it('pads each history on the left to its most recent maxLength items', () => {
    const batch = { offsets: Int32Array.of(0, 5, 5, 6), items: Int32Array.of(1, 2, 3, 4, 5, 7) };
    expect(Array.from(paddedItemSequences(batch, 3, 3), Number)).toEqual([3, 4, 5, 0, 0, 0, 0, 0, 7]);
  });

  it('builds the log-prob and supervised feeds of item-level models', () => {
    const feeds = itemLogProbFeeds([[1, 2], [8]] as never, Int32Array.of(3, 4, 5, 9), { users: 2, candidates: 2 }, inputs);
    expect(Object.keys(feeds)).toEqual(['p.seq', 'p.cand']);
    expect(Array.from(feeds['p.seq']!, Number)).toEqual([0, 1, 2, 0, 0, 8]);
    expect(Array.from(feeds['p.cand']!, Number)).toEqual([3, 4, 5, 9]);
    const supervised = itemSupervisedFeeds([[6, 7, 8, 9]] as never, Int32Array.of(2), { users: 1 }, inputs);
    expect(Array.from(supervised['s.seq']!, Number)).toEqual([7, 8, 9]);
    expect(Array.from(supervised['s.targets']!, Number)).toEqual([2]);
  });

  it('names what does not fit', () => {
    expect(failure(() => checkPreferenceShape({ users: 0 }, ['users'], 'buildSupervisedLoss'))).toEqual(['INVALID_INPUT', 'shape.users']);
    expect(failure(() => checkPreferenceShape({ users: 2 }, ['users', 'candidates'], 'buildLogProb'))).toEqual(['INVALID_INPUT', 'shape.candidates']);
    expect(() => checkPreferenceShape({ users: 1.5 }, ['users'], 'buildLogProb')).toThrow('buildLogProb: shape.users must be a positive integer, got 1.5');
    expect(failure(() => itemLogProbFeeds([[1]] as never, Int32Array.of(2), { users: 2, candidates: 1 }, inputs))).toEqual(['SHAPE_MISMATCH', 'histories']);
    expect(failure(() => itemLogProbFeeds([[1]] as never, Int32Array.of(2, 3), { users: 1, candidates: 1 }, inputs))).toEqual(['SHAPE_MISMATCH', 'candidates']);
    expect(failure(() => itemLogProbFeeds([[1]] as never, Int32Array.of(10), { users: 1, candidates: 1 }, inputs))).toEqual(['INVALID_INPUT', 'candidates']);
    expect(failure(() => itemSupervisedFeeds([[1]] as never, Int32Array.of(0), { users: 1 }, inputs))).toEqual(['INVALID_INPUT', 'targets']);
    expect(failure(() => itemSupervisedFeeds([[1]] as never, [2] as never, { users: 1 }, inputs))).toEqual(['SHAPE_MISMATCH', 'targets']);
  });

  it('merges new parameter values by name (copies) and refuses unknown names and wrong sizes', () => {
    const given = Float32Array.of(5, 6);
    const merged = mergeParameterValues(new Map([['a', Float32Array.of(1, 2)], ['b', Float32Array.of(3)]]), new Map([['a', given]]));
    expect(merged).toEqual(new Map([['a', Float32Array.of(5, 6)], ['b', Float32Array.of(3)]]));
    given[0] = 0;
    expect(merged.get('a')![0]).toBe(5);
    expect(failure(() => mergeParameterValues(new Map([['a', Float32Array.of(1)]]), new Map([['c', Float32Array.of(1)]])))).toEqual(['UNKNOWN_ID', 'c']);
    expect(failure(() => mergeParameterValues(new Map([['a', Float32Array.of(1)]]), new Map([['a', Float32Array.of(1, 2)]])))).toEqual(['SHAPE_MISMATCH', 'a']);
  });
});
