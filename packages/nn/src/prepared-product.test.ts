import { describe, expect, it } from 'vitest';
import { GenrecError, Rng, createMatrix, type Matrix } from '@genrec/core';
import { matMulTopK } from './kernels.js';
import { prepareMatMulTopK } from './prepared-product.js';

function randomMatrix(rng: Rng, rows: number, cols: number): Matrix {
  const m = createMatrix(rows, cols);
  for (let i = 0; i < m.data.length; i++) m.data[i] = rng.normal();
  return m;
}

const code = (code: string) => (e: unknown) => GenrecError.isInstance(e) && e.code === code;

describe('prepareMatMulTopK', () => {
  it('gives exactly what matMulTopK gives, for both layouts of b and a scaling alpha', async () => {
    const rng = new Rng(5);
    const a = randomMatrix(rng, 37, 16);
    for (const transposeB of [true, false]) {
      const b = transposeB ? randomMatrix(rng, 300, 16) : randomMatrix(rng, 16, 300);
      for (const alpha of [1, -0.5]) {
        const prepared = await prepareMatMulTopK(b, { transposeB, alpha, intraOpNumThreads: 1 });
        expect([prepared.rows, prepared.cols]).toEqual([b.rows, b.cols]);
        for (const k of [1, 10, 64]) {
          const want = await matMulTopK(a, b, k, { transposeB, alpha, intraOpNumThreads: 1 });
          const got = await prepared.topK(a, k);
          expect(got.k).toBe(k);
          expect(Array.from(got.indices)).toEqual(Array.from(want.indices));
          expect(Array.from(got.values)).toEqual(Array.from(want.values));
        }
        await prepared.release();
      }
    }
  });

  it('orders ties by lower column first, clamps k, keeps the operand it was given', async () => {
    const b = createMatrix(2, 5, Float32Array.of(1, 1, 1, 2, 1, 1, 1, 1, 2, 1));
    const prepared = await prepareMatMulTopK(b);
    b.data.fill(0); // compiled: later writes to b are not seen
    const got = await prepared.topK(createMatrix(2, 2, Float32Array.of(1, 1, 2, 2)), 9);
    expect(got.k).toBe(5);
    expect(Array.from(got.indices)).toEqual([3, 0, 1, 2, 4, 3, 0, 1, 2, 4]);
    expect(Array.from(got.values)).toEqual([4, 2, 2, 2, 2, 8, 4, 4, 4, 4]);
    const none = await prepared.topK(createMatrix(0, 2), 3);
    expect([none.rows, none.k, none.indices.length]).toEqual([0, 3, 0]);
    await prepared.release();
  });

  it('rejects bad input with GenrecErrors, and any call after release', async () => {
    const b = createMatrix(4, 3, new Float32Array(12).fill(1));
    await expect(prepareMatMulTopK(createMatrix(0, 3), { transposeB: true })).rejects.toSatisfy(code('INVALID_INPUT'));
    await expect(prepareMatMulTopK({ rows: 4, cols: 3, data: new Float32Array(5) } as Matrix)).rejects.toSatisfy(code('SHAPE_MISMATCH'));
    await expect(prepareMatMulTopK(b, { alpha: Number.NaN })).rejects.toSatisfy(code('INVALID_OPTION'));
    await expect(prepareMatMulTopK(b, { intraOpNumThreads: -1 })).rejects.toSatisfy(code('INVALID_OPTION'));
    await expect(prepareMatMulTopK(b, { transposeB: 'yes' as unknown as boolean })).rejects.toSatisfy(code('INVALID_OPTION'));
    const prepared = await prepareMatMulTopK(b, { transposeB: true });
    await expect(prepared.topK(createMatrix(1, 3), 0)).rejects.toSatisfy(code('INVALID_INPUT'));
    await expect(prepared.topK(createMatrix(1, 4), 2)).rejects.toThrow(/a is 1x4 and b\^T is 3x4; inner dimensions 4 and 3 differ/);
    await prepared.release();
    await prepared.release(); // idempotent
    await expect(prepared.topK(createMatrix(1, 3), 2)).rejects.toSatisfy(code('NOT_FITTED'));
  });

  it('lets pending products finish when released meanwhile', async () => {
    const rng = new Rng(9);
    const b = randomMatrix(rng, 2000, 32);
    const a = randomMatrix(rng, 64, 32);
    const prepared = await prepareMatMulTopK(b, { transposeB: true });
    const want = await matMulTopK(a, b, 10, { transposeB: true });
    const pending = [prepared.topK(a, 10), prepared.topK(a, 10)];
    const released = prepared.release();
    for (const got of await Promise.all(pending)) expect(Array.from(got.indices)).toEqual(Array.from(want.indices));
    await released;
    await expect(prepared.topK(a, 10)).rejects.toSatisfy(code('NOT_FITTED'));
  });
});
