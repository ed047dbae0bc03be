import { describe, expect, it } from 'vitest';
import { GenrecError } from './errors.js';
import {
  assertFinite,
  cloneMatrix,
  createMatrix,
  matrixFromArrays,
  matrixRow,
  matrixToArrays,
  normalizeRows,
  rowNorms,
  selectRows,
} from './matrix.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return GenrecError.isInstance(error) ? error.code : 'not-a-genrec-error';
  }
  return undefined;
}

describe('Matrix', () => {
  it('round-trips nested arrays in row-major order', () => {
    const m = matrixFromArrays([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(m.rows).toBe(2);
    expect(m.cols).toBe(3);
    expect(Array.from(m.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(matrixToArrays(m)).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
  });

  it('rejects ragged rows and wrong data lengths', () => {
    expect(codeOf(() => matrixFromArrays([[1, 2], [3]]))).toBe('SHAPE_MISMATCH');
    expect(codeOf(() => createMatrix(2, 2, new Float32Array(3)))).toBe('SHAPE_MISMATCH');
    expect(codeOf(() => createMatrix(-1, 2))).toBe('INVALID_INPUT');
  });

  it('row views write through and are range-checked', () => {
    const m = createMatrix(2, 2);
    matrixRow(m, 1)[0] = 9;
    expect(m.data[2]).toBe(9);
    expect(codeOf(() => matrixRow(m, 2))).toBe('INVALID_INPUT');
  });

  it('normalises rows to unit norm and leaves zero rows at zero', () => {
    const m = matrixFromArrays([
      [3, 4],
      [0, 0],
    ]);
    const out = normalizeRows(cloneMatrix(m));
    expect(out.data[0]).toBeCloseTo(0.6, 7);
    expect(out.data[1]).toBeCloseTo(0.8, 7);
    expect(out.data[2]).toBe(0);
    expect(Array.from(rowNorms(m))).toEqual([5, 0]);
    expect(m.data[0]).toBe(3); // the clone was normalised, not the original
  });

  it('selects rows in the given order', () => {
    const m = matrixFromArrays([[1], [2], [3]]);
    expect(Array.from(selectRows(m, [2, 0, 2]).data)).toEqual([3, 1, 3]);
  });

  it('finds non-finite values with their position', () => {
    const m = matrixFromArrays([
      [1, 2],
      [3, Number.NaN],
    ]);
    expect(() => assertFinite(m, 'item vectors')).toThrowError(/item vectors has a non-finite value NaN at row 1, column 1/);
  });
});
