import { describe, expect, it } from 'vitest';
import { GenrecError, Rng, createMatrix, type Matrix } from '@genrec/core';
import { chunkedTopKFeeds } from './chunked-top-k.js';
import { matMulTopK } from './kernels.js';
import { CHUNKED_MIN_COLUMNS, prepareMatMulTopK } from './prepared-product.js';

function randomMatrix(rng: Rng, rows: number, cols: number): Matrix {
  const m = createMatrix(rows, cols);
  for (let i = 0; i < m.data.length; i++) m.data[i] = rng.normal();
  return m;
}

/** A naive top k in float64 order of the float32 products Gemm computes: best first, ties lower column first. */
function naiveOrder(values: Float32Array, row: number, n: number, k: number): number[] {
  const columns = Array.from({ length: n }, (_, j) => j);
  columns.sort((x, y) => values[row * n + y]! - values[row * n + x]! || x - y);
  return columns.slice(0, k);
}

describe('chunked top-k selection', () => {
  it('hands each chunk min(k, blocks) or min(k, columns), the last chunk its own count', () => {
    const shape = { chunkColumns: 64, blockColumns: 16, maxBlockedK: 3 };
    // last chunk: 8 columns, 1 block
    expect(chunkedTopKFeeds(200, 3, shape)).toEqual({ blocked: true, blocksFull: 3, blocksLast: 1, columnsFull: 3, columnsLast: 3, blockCandidates: (3 * 3 + 1) * 16 });
    expect(chunkedTopKFeeds(200, 10, shape)).toEqual({ blocked: false, blocksFull: 4, blocksLast: 1, columnsFull: 10, columnsLast: 8, blockCandidates: (3 * 4 + 1) * 16 });
    expect(chunkedTopKFeeds(192, 2, shape)).toEqual({ blocked: true, blocksFull: 2, blocksLast: 2, columnsFull: 2, columnsLast: 2, blockCandidates: (2 * 2 + 2) * 16 });
  });

  it('gives exactly what the whole-row selection and matMulTopK give: both layouts, alpha, padded last chunk, blocks and chunks, k up to n', async () => {
    const rng = new Rng(11);
    const n = 16384 * 2 + 1000 + 5; // three chunks, the last one padded to whole blocks
    const a = randomMatrix(rng, 23, 24);
    for (const transposeB of [true, false]) {
      const b = transposeB ? randomMatrix(rng, n, 24) : randomMatrix(rng, 24, n);
      for (const alpha of [1, -0.25]) {
        const chunked = await prepareMatMulTopK(b, { transposeB, alpha, selection: 'chunked', intraOpNumThreads: 1 });
        const whole = await prepareMatMulTopK(b, { transposeB, alpha, selection: 'whole', intraOpNumThreads: 1 });
        expect([chunked.selection, chunked.scoreColumns, whole.selection, whole.scoreColumns]).toEqual(['chunked', 16384, 'whole', n]);
        for (const k of [1, 10, 32, 33, 600, n]) { // blocks up to 32, chunks' own tops above
          const want = await matMulTopK(a, b, k, { transposeB, alpha, intraOpNumThreads: 1 });
          for (const prepared of [chunked, whole]) {
            const got = await prepared.topK(a, k);
            expect(got.k).toBe(k);
            expect(Array.from(got.indices)).toEqual(Array.from(want.indices));
            expect(Array.from(got.values)).toEqual(Array.from(want.values));
          }
        }
        await chunked.release();
        await whole.release();
      }
    }
  }, 60_000);

  it('equals the whole-row compiled product bit for bit at widths above 128, where both sum in another order than matMulTopK', async () => {
    const rng = new Rng(12);
    const b = randomMatrix(rng, 16384 + 333, 300);
    const a = randomMatrix(rng, 9, 300);
    const chunked = await prepareMatMulTopK(b, { transposeB: true, selection: 'chunked', intraOpNumThreads: 1 });
    const whole = await prepareMatMulTopK(b, { transposeB: true, selection: 'whole', intraOpNumThreads: 1 });
    const want = await matMulTopK(a, b, 25, { transposeB: true, intraOpNumThreads: 1 });
    const got = await chunked.topK(a, 25);
    const wholeGot = await whole.topK(a, 25);
    expect(Array.from(got.indices)).toEqual(Array.from(wholeGot.indices));
    expect(Array.from(got.values)).toEqual(Array.from(wholeGot.values));
    // the packed operand is summed in blocks of 128: float32 rounding apart from matMulTopK's sums
    expect(Array.from(got.indices)).toEqual(Array.from(want.indices));
    let differing = 0;
    for (let i = 0; i < got.values.length; i++) {
      expect(Math.abs(got.values[i]! - want.values[i]!)).toBeLessThan(1e-5 * Math.abs(want.values[i]!) + 1e-5);
      if (got.values[i] !== want.values[i]) differing++;
    }
    expect(differing).toBeGreaterThan(0); // if this fails, onnxruntime's packed sums changed: update the TSDoc
    await chunked.release();
    await whole.release();
  }, 60_000);

  it('orders equal scores by lower column, across blocks and chunks, as a naive sort does', async () => {
    // scores take few distinct values: ties everywhere, inside blocks, between blocks and chunks
    const rng = new Rng(3);
    const n = 16384 * 4 + 77;
    const b = createMatrix(n, 2);
    for (let j = 0; j < n; j++) {
      b.data[j * 2] = rng.int(5);
      b.data[j * 2 + 1] = rng.int(3);
    }
    const a = createMatrix(4, 2, Float32Array.of(1, 0, 0, 1, 1, 1, -1, 0.5));
    const prepared = await prepareMatMulTopK(b, { transposeB: true, intraOpNumThreads: 1 });
    expect(prepared.selection).toBe('chunked'); // auto, from CHUNKED_MIN_COLUMNS
    expect(n).toBeGreaterThanOrEqual(CHUNKED_MIN_COLUMNS);
    const scores = new Float32Array(4 * n);
    for (let r = 0; r < 4; r++) for (let j = 0; j < n; j++) scores[r * n + j] = a.data[r * 2]! * b.data[j * 2]! + a.data[r * 2 + 1]! * b.data[j * 2 + 1]!;
    for (const k of [1, 7, 32, 33, 100, 5000]) {
      const got = await prepared.topK(a, k);
      for (let r = 0; r < 4; r++) {
        expect(Array.from(got.indices.subarray(r * k, (r + 1) * k))).toEqual(naiveOrder(scores, r, n, k));
      }
    }
    await prepared.release();
  }, 60_000);

  it('keeps real columns ahead of the padding when every score overflows to -Infinity', async () => {
    const n = 16384 * 4 + 3;
    const b = createMatrix(n, 1, new Float32Array(n).fill(-3e38)); // finite; x 10 overflows float32
    const prepared = await prepareMatMulTopK(b, { transposeB: true, selection: 'chunked', intraOpNumThreads: 1 });
    const got = await prepared.topK(createMatrix(1, 1, Float32Array.of(10)), n);
    expect(got.k).toBe(n);
    expect(Math.max(...got.indices)).toBe(n - 1);
    expect(Array.from(got.indices.subarray(0, 5))).toEqual([0, 1, 2, 3, 4]);
    expect(new Set(got.indices).size).toBe(n);
    // k up to 32 (blocks): every score ties with the (k+1)-th, so the row is answered by the chunks
    const small = await prepared.topK(createMatrix(1, 1, Float32Array.of(10)), 5);
    expect(small.values[0]).toBe(Number.NEGATIVE_INFINITY);
    expect(Array.from(small.indices)).toEqual([0, 1, 2, 3, 4]);
    await prepared.release();
  }, 60_000);

  it('puts equal scores inside the top k in column order when blocks come out in another order (blocks, no tie at the k-th)', async () => {
    const n = 16384 * 4 + 100;
    const b = createMatrix(n, 1);
    for (let j = 0; j < n; j++) b.data[j] = j / (4 * n); // distinct, below 0.25
    // in chunk 0, the block of columns 480–511 (maximum 6) outranks the block of 96–127 (maximum 5),
    // so the kept scores hold column 500 before column 100, both 5
    b.data[505] = 6;
    b.data[500] = 5;
    b.data[100] = 5;
    b.data[40000] = 5; // another chunk
    const prepared = await prepareMatMulTopK(b, { transposeB: true, selection: 'chunked', intraOpNumThreads: 1 });
    const a = createMatrix(1, 1, Float32Array.of(1));
    const got = await prepared.topK(a, 4); // 6, 5, 5, 5, then a distinct lower score: no tie at the k-th
    expect(Array.from(got.indices)).toEqual([505, 100, 500, 40000]);
    expect(Array.from(got.values)).toEqual([6, 5, 5, 5]);
    const want = await matMulTopK(a, b, 4, { transposeB: true });
    expect(Array.from(got.indices)).toEqual(Array.from(want.indices));
    await prepared.release();
  });

  it('keeps signed zeros as the whole-row product does (a padded chunk adds -0), and refuses non-finite operands', async () => {
    const n = 16384 + 40; // the last chunk is padded
    const b = createMatrix(n, 2);
    for (let j = 0; j < n; j++) b.data[2 * j] = (j % 7) - 3;
    const a = createMatrix(1, 2, Float32Array.of(0, 0)); // every score is -1 x (0 x b) = -0
    for (const k of [3, 40]) {
      const chunked = await prepareMatMulTopK(b, { transposeB: true, alpha: -1, selection: 'chunked', intraOpNumThreads: 1 });
      const whole = await prepareMatMulTopK(b, { transposeB: true, alpha: -1, selection: 'whole', intraOpNumThreads: 1 });
      const got = await chunked.topK(a, k);
      const want = await whole.topK(a, k);
      expect(Array.from(got.indices)).toEqual(Array.from(want.indices));
      got.values.forEach((value, i) => expect(Object.is(value, want.values[i])).toBe(true));
      await chunked.release();
      await whole.release();
    }
    const code = (e: unknown) => GenrecError.isInstance(e) && e.code === 'INVALID_INPUT';
    const prepared = await prepareMatMulTopK(b, { transposeB: true, selection: 'chunked', intraOpNumThreads: 1 });
    await expect(prepared.topK(createMatrix(1, 2, Float32Array.of(Number.NaN, 1)), 3)).rejects.toSatisfy(code);
    await expect(prepared.topK(createMatrix(1, 2, Float32Array.of(1, Number.POSITIVE_INFINITY)), 3)).rejects.toSatisfy(code);
    await prepared.release();
    const bad = createMatrix(n, 2, b.data.slice());
    bad.data[7] = Number.NaN;
    await expect(prepareMatMulTopK(bad, { transposeB: true, selection: 'chunked' })).rejects.toSatisfy(code);
  });
});
