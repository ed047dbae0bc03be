import { describe, expect, it } from 'vitest';
import { createMatrix } from '@genrec/core';
import * as published from '@genrec/ann/index-input';
import { FlatIndex } from './flat-index.js';
import {
  MAX_ITEM_ID,
  checkAddIds,
  checkAddInput,
  checkIdList,
  checkRemoveIds,
  checkSearchInput,
  exclusionSet,
  maxSearchK,
  paddedResult,
} from './index-input.js';

/** A GenrecError with these fields (the others not compared); its message ends with where: `(field "ids")`. */
const genrecError = (fields: Record<string, unknown>) => expect.objectContaining(fields);

describe('index-input (the @genrec/ann/index-input subpath)', () => {
  it('the subpath is this module: one copy of each check for every implementation', () => {
    expect(published.checkAddInput).toBe(checkAddInput);
    expect(published.checkSearchInput).toBe(checkSearchInput);
    expect(published.checkAddIds).toBe(checkAddIds);
    expect(published.MAX_ITEM_ID).toBe(2147483647);
    expect(published.MAX_DIMENSION).toBe(1048576);
  });

  it('maxSearchK is max(size, 1024)', () => {
    expect([0, 10, 1024, 1025, 5000].map(maxSearchK)).toEqual([1024, 1024, 1024, 1025, 5000]);
  });

  it("checkAddInput returns the caller's values and checks ids, shapes and values in that order", () => {
    const flat = new Float32Array([1, 0, 0, 1]);
    expect(checkAddInput([4, 5], flat, 2)).toBe(flat);
    const matrix = createMatrix(2, 2);
    expect(checkAddInput(Int32Array.of(4, 5), matrix, 2)).toBe(matrix.data);

    // each call below also breaks every later rule: the error shows which rule runs first
    expect(() => checkAddInput(null as unknown as number[], new Float32Array([Number.NaN]), 1)).toThrow(
      genrecError({ code: 'INVALID_INPUT', message: 'add: ids must be an array of integer ids (field "ids")', details: { field: 'ids' } }),
    );
    expect(() => checkAddInput([1, 2, -1], flat, 2)).toThrow(genrecError({ code: 'SHAPE_MISMATCH', message: 'add: 3 ids need 3 x 2 = 6 vector values, got 4 (field "vectors")' }));
    expect(() => checkAddInput([4, 1.5], new Float32Array([Number.NaN, 0, 0, 0]), 2)).toThrow(
      genrecError({ code: 'INVALID_INPUT', message: `ids[1] must be an integer id in [0, ${MAX_ITEM_ID}], got 1.5 (field "ids")` }),
    );
    expect(() => checkAddInput([4, 5], new Float32Array([0, 0, 0, Number.POSITIVE_INFINITY]), 2)).toThrow(
      genrecError({ code: 'INVALID_INPUT', message: 'vectors has a non-finite value Infinity at row 1, column 1 (field "vectors")', details: { field: 'vectors', row: 1 } }),
    );
  });

  it('checkIdList rejects a non-array and the first bad id by position; accepts 0 and 2^31 - 1', () => {
    expect(() => checkIdList([0, MAX_ITEM_ID], 'ids')).not.toThrow();
    expect(() => checkIdList('12' as unknown as number[], 'ids')).toThrow(genrecError({ code: 'INVALID_INPUT', message: 'ids must be an array of integer ids (field "ids")' }));
    expect(() => checkIdList([3, MAX_ITEM_ID + 1, -1], 'exclude')).toThrow(
      genrecError({ code: 'INVALID_INPUT', message: `exclude[1] must be an integer id in [0, ${MAX_ITEM_ID}], got 2147483648 (field "exclude")`, details: { field: 'exclude' } }),
    );
  });

  it('checkAddIds counts the distinct new ids and rejects the first present or repeated id unless replace', () => {
    const present = new Set([1, 2]);
    const has = (id: number) => present.has(id);
    // 1 present; 3 twice; 4 new: two distinct new ids
    expect(checkAddIds([1, 3, 3, 4], has, true)).toBe(2);
    expect(checkAddIds([], has, false)).toBe(0);
    expect(() => checkAddIds([5, 2, 1], has, false)).toThrow(
      genrecError({ code: 'DUPLICATE_ID', message: 'id 2 is already in the index (pass { replace: true } to overwrite its vector) (field "ids")', details: { field: 'ids', id: 2 } }),
    );
    expect(() => checkAddIds([7, 8, 7], has, false)).toThrow(genrecError({ code: 'DUPLICATE_ID', details: { field: 'ids', id: 7 } }));
  });

  it('checkRemoveIds checks ids first, then that each is in the index', () => {
    const has = (id: number) => id === 1 || id === 2;
    expect(() => checkRemoveIds([2, 1, 2], has)).not.toThrow();
    expect(() => checkRemoveIds([1, 9, -1], has)).toThrow(genrecError({ code: 'INVALID_INPUT', message: `ids[2] must be an integer id in [0, ${MAX_ITEM_ID}], got -1 (field "ids")` }));
    expect(() => checkRemoveIds([1, 9], has)).toThrow(genrecError({ code: 'UNKNOWN_ID', message: 'cannot remove id 9: it is not in the index (field "ids")', details: { field: 'ids', id: 9 } }));
  });

  it('checkSearchInput applies the one rule of result sizes and the contract options', () => {
    const queries = new Float32Array(6);
    expect(checkSearchInput(queries, 1024, {}, 2, 10)).toEqual({ data: queries, queryCount: 3 });
    expect(checkSearchInput(queries, 2000, {}, 2, 2000).queryCount).toBe(3);
    for (const k of [1025, 0, 2.5]) expect(() => checkSearchInput(queries, k, {}, 2, 10)).toThrow(genrecError({ code: 'INVALID_OPTION' }));
    expect(() => checkSearchInput(new Float32Array(5), 1, {}, 2, 10)).toThrow(genrecError({ code: 'SHAPE_MISMATCH' }));
    expect(() => checkSearchInput(queries, 1, { exclude: [[1]] }, 2, 10)).toThrow(genrecError({ code: 'SHAPE_MISMATCH', message: 'search: exclude has 1 entries for 3 queries (field "exclude")' }));
    expect(() => checkSearchInput(queries, 1, { ef: 0 }, 2, 10)).toThrow(genrecError({ code: 'INVALID_OPTION', details: expect.objectContaining({ field: 'ef' }) }));
    // 2^27 entries at most: 1,000,000 queries x k 135 would be 1.35e8; floor(2^27 / 1e6) = 134
    expect(() => checkSearchInput(new Float32Array(1_000_000), 135, {}, 1, 200)).toThrow(genrecError({ code: 'INVALID_OPTION', details: { field: 'k', maximum: 134 } }));
  });

  it('exclusionSet and paddedResult', () => {
    expect(exclusionSet([3, 4, 3])).toEqual(new Set([3, 4]));
    const set = new Set([5]);
    expect(exclusionSet(set)).toBe(set);
    expect([exclusionSet([]), exclusionSet(new Set()), exclusionSet(undefined)]).toEqual([undefined, undefined, undefined]);
    expect(() => exclusionSet(7 as unknown as number[])).toThrow(genrecError({ code: 'INVALID_INPUT', details: { field: 'exclude' } }));
    const { ids, scores, queryCount, k } = paddedResult(2, 3);
    expect([Array.from(ids), Array.from(scores), queryCount, k]).toEqual([[-1, -1, -1, -1, -1, -1], Array(6).fill(Number.NEGATIVE_INFINITY), 2, 3]);
  });

  it('an index rejects ids that are not an array with INVALID_INPUT (not a TypeError), unchanged', async () => {
    const index = new FlatIndex({ dimension: 2 });
    await index.add([1], new Float32Array([1, 0]));
    await expect(index.add(null as unknown as number[], new Float32Array(2))).rejects.toMatchObject({ code: 'INVALID_INPUT', details: { field: 'ids' } });
    await expect(index.remove(undefined as unknown as number[])).rejects.toMatchObject({ code: 'INVALID_INPUT', details: { field: 'ids' } });
    expect(index.size).toBe(1);
  });
});
