import { describe, expect, it } from 'vitest';
import { Rng } from '@genrec/core';
import { innerProducts } from './inner-products.js';

describe('innerProducts', () => {
  it('computes a hand-checked 2 x 3 block', () => {
    const queries = new Float32Array([9, 9, 1, 2, 3, 4]); // row 0 is skipped (queryStart 1)
    const base = new Float32Array([1, 0, 0, 1, 1, 1]);
    const out = new Float32Array(6);
    innerProducts(queries, 1, 2, base, 3, 2, out);
    expect(Array.from(out)).toEqual([1, 2, 3, 3, 4, 7]);
  });

  it('matches a float64 reference for every query count modulo 4', () => {
    const rng = new Rng(9);
    for (const [queryCount, baseRows, width] of [
      [1, 7, 5],
      [2, 13, 3],
      [3, 4, 17],
      [4, 9, 8],
      [7, 31, 33],
    ] as const) {
      const queries = rng.fillNormal(new Float32Array((queryCount + 1) * width));
      const base = rng.fillNormal(new Float32Array(baseRows * width));
      const out = new Float32Array(queryCount * baseRows);
      innerProducts(queries, 1, queryCount, base, baseRows, width, out);
      for (let q = 0; q < queryCount; q++) {
        for (let j = 0; j < baseRows; j++) {
          let sum = 0;
          for (let c = 0; c < width; c++) sum += queries[(q + 1) * width + c]! * base[j * width + c]!;
          expect(out[q * baseRows + j]).toBeCloseTo(sum, 4);
        }
      }
    }
  });
});
