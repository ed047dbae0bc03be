import { describe, expect, it } from 'vitest';
import { GenrecError, Rng, createMatrix, type Matrix } from '@genrec/core';
import { matMul, matMulTopK, squaredDistances } from './kernels.js';

function randomMatrix(rng: Rng, rows: number, cols: number): Matrix {
  const m = createMatrix(rows, cols);
  for (let i = 0; i < m.data.length; i++) m.data[i] = rng.normal();
  return m;
}

function naiveProduct(a: Matrix, b: Matrix, transposeB: boolean, alpha: number): Float64Array {
  const n = transposeB ? b.rows : b.cols;
  const out = new Float64Array(a.rows * n);
  for (let i = 0; i < a.rows; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < a.cols; p++) s += a.data[i * a.cols + p]! * (transposeB ? b.data[j * b.cols + p]! : b.data[p * b.cols + j]!);
      out[i * n + j] = alpha * s;
    }
  return out;
}

describe('matMul', () => {
  it('matches a naive product on random inputs, with and without transposeB and alpha', async () => {
    const rng = new Rng(7);
    for (const [m, k, n] of [[1, 1, 1], [5, 3, 7], [33, 17, 9], [64, 40, 130]] as const) {
      const a = randomMatrix(rng, m, k);
      const b = randomMatrix(rng, k, n);
      const bt = randomMatrix(rng, n, k);
      for (const [bm, transposeB, alpha] of [[b, false, 1], [bt, true, 1], [bt, true, -0.5], [b, false, 2.5]] as const) {
        const got = await matMul(a, bm, { transposeB, alpha, intraOpNumThreads: 1 });
        expect([got.rows, got.cols]).toEqual([m, n]);
        const want = naiveProduct(a, bm, transposeB, alpha);
        for (let i = 0; i < want.length; i++) expect(got.data[i]).toBeCloseTo(want[i]!, 4);
      }
    }
  });

  it('serves different row counts from one cached session and handles empty inputs', async () => {
    const rng = new Rng(1);
    const b = randomMatrix(rng, 6, 4);
    for (const m of [1, 2, 9, 0]) {
      const a = randomMatrix(rng, m, 6);
      const got = await matMul(a, b);
      const want = naiveProduct(a, b, false, 1);
      expect(got.rows).toBe(m);
      for (let i = 0; i < want.length; i++) expect(got.data[i]).toBeCloseTo(want[i]!, 4);
    }
  });

  it('writes into a preallocated out matrix and checks its shape', async () => {
    const rng = new Rng(21);
    const a = randomMatrix(rng, 7, 5);
    const b = randomMatrix(rng, 9, 5);
    const out = createMatrix(7, 9);
    const got = await matMul(a, b, { transposeB: true, out });
    expect(got).toBe(out);
    const want = naiveProduct(a, b, true, 1);
    for (let i = 0; i < want.length; i++) expect(out.data[i]).toBeCloseTo(want[i]!, 4);
    await expect(matMul(a, b, { transposeB: true, out: createMatrix(7, 8) })).rejects.toThrow(/out is 7x8, the product is 7x9/);
  });

  it('rejects mismatched inner dimensions with the shapes in the message', async () => {
    const a = createMatrix(2, 3);
    const b = createMatrix(4, 5);
    await expect(matMul(a, b)).rejects.toThrow(/2x3.*4x5/);
    await expect(matMul(a, b, { transposeB: true })).rejects.toSatisfy((e: unknown) => GenrecError.isInstance(e) && e.code === 'SHAPE_MISMATCH');
    await expect(matMul(a, createMatrix(3, 1), { intraOpNumThreads: -1 })).rejects.toThrow(/intraOpNumThreads/);
  });
});

describe('matMulTopK', () => {
  it('returns the naive top-k per row, descending, on random inputs', async () => {
    const rng = new Rng(3);
    const a = randomMatrix(rng, 20, 8);
    const b = randomMatrix(rng, 50, 8);
    const got = await matMulTopK(a, b, 5, { transposeB: true });
    const scores = naiveProduct(a, b, true, 1);
    expect(got.k).toBe(5);
    for (let r = 0; r < 20; r++) {
      const order = Array.from({ length: 50 }, (_, j) => j).sort((x, y) => scores[r * 50 + y]! - scores[r * 50 + x]! || x - y);
      expect(Array.from(got.indices.subarray(r * 5, r * 5 + 5))).toEqual(order.slice(0, 5));
      for (let j = 0; j < 5; j++) expect(got.values[r * 5 + j]).toBeCloseTo(scores[r * 50 + order[j]!]!, 4);
    }
  });

  it('orders ties by lower index first and clamps k to the number of columns', async () => {
    // every column of b equal except column 3 (bigger): ties among 0,1,2,4
    const a = createMatrix(2, 2, Float32Array.of(1, 1, 2, 2));
    const b = createMatrix(2, 5, Float32Array.of(1, 1, 1, 2, 1, 1, 1, 1, 2, 1));
    const got = await matMulTopK(a, b, 9);
    expect(got.k).toBe(5);
    expect(Array.from(got.indices)).toEqual([3, 0, 1, 2, 4, 3, 0, 1, 2, 4]);
    expect(Array.from(got.values)).toEqual([4, 2, 2, 2, 2, 8, 4, 4, 4, 4]);
    await expect(matMulTopK(a, b, 0)).rejects.toThrow(/k must be a positive integer/);
    await expect(matMulTopK(a, b, 1.5)).rejects.toThrow(GenrecError);
  });

  it('applies alpha before ranking (a negative alpha reverses the order)', async () => {
    const a = createMatrix(1, 1, Float32Array.of(1));
    const b = createMatrix(1, 4, Float32Array.of(3, 1, 4, 2));
    const got = await matMulTopK(a, b, 4, { alpha: -1 });
    expect(Array.from(got.indices)).toEqual([1, 3, 0, 2]);
    expect(Array.from(got.values)).toEqual([-1, -2, -3, -4]);
  });
});

describe('squaredDistances', () => {
  it('matches naive distances on random inputs, is >= 0 and 0 on identical rows', async () => {
    const rng = new Rng(11);
    const a = randomMatrix(rng, 17, 12);
    const b = randomMatrix(rng, 23, 12);
    b.data.set(a.data.subarray(0, 12), 0); // b_0 == a_0
    const got = await squaredDistances(a, b, { intraOpNumThreads: 1 });
    expect([got.rows, got.cols]).toEqual([17, 23]);
    for (let i = 0; i < 17; i++)
      for (let j = 0; j < 23; j++) {
        let s = 0;
        for (let p = 0; p < 12; p++) s += (a.data[i * 12 + p]! - b.data[j * 12 + p]!) ** 2;
        expect(got.data[i * 23 + j]).toBeGreaterThanOrEqual(0);
        expect(Math.abs(got.data[i * 23 + j]! - s)).toBeLessThan(1e-4 * (1 + s));
      }
    expect(got.data[0]).toBeLessThan(1e-5);
    await expect(squaredDistances(a, createMatrix(2, 3))).rejects.toThrow(/widths 12 and 3 differ/);
  });
});
