import { describe, expect, it } from 'vitest';
import { GenrecError, Rng, createMatrix, type Matrix } from '@genrec/core';
import { matMulTopK, prepareMatMulTopK, type PreparedMatMulTopK, type TopKResult } from '@genrec/nn';
import { PreparedItems } from './prepared-items.js';
import type { ProductKernels } from './score-kernels.js';

/** Kernels whose every product "takes" `ms` on a fake clock, counting calls. */
function fakeKernels(clock: { t: number }, ms: number): ProductKernels & { calls: number } {
  const kernels = {
    calls: 0,
    matMul: () => Promise.reject(new Error('not used')),
    async matMulTopK(a: Matrix, b: Matrix, k: number, options?: { transposeB?: boolean; intraOpNumThreads?: number }): Promise<TopKResult> {
      kernels.calls++;
      clock.t += ms;
      return matMulTopK(a, b, k, options);
    },
  };
  return kernels;
}

/** A compiler that counts compilations, "takes" `ms` on the clock, and can be made to fail. */
function countingCompiler(fail = false, clock = { t: 0 }, ms = 0) {
  const compiler = Object.assign(
    async (b: Matrix, options?: Parameters<typeof prepareMatMulTopK>[1]): Promise<PreparedMatMulTopK> => {
      compiler.compilations++;
      clock.t += ms;
      if (fail) throw new GenrecError('RUNTIME_ERROR', 'refused');
      const product = await prepareMatMulTopK(b, options);
      compiler.products.push(product);
      return product;
    },
    { compilations: 0, products: [] as PreparedMatMulTopK[] },
  );
  return compiler;
}

const rng = new Rng(21);
const base = createMatrix(300, 8, rng.fillNormal(new Float32Array(300 * 8))); // 2,400 values
const block = createMatrix(5, 8, rng.fillNormal(new Float32Array(5 * 8)));

describe('PreparedItems', () => {
  it("'auto' compiles once the uncompiled products of this generation took the expected compile time", async () => {
    const clock = { t: 0 };
    const kernels = fakeKernels(clock, 10);
    const compiler = countingCompiler(false, clock, 30); // measured again at 30 ms: the estimate stays
    // expected compile time: 2,400 values x 0.0125 ms = 30 ms = three 10-ms products
    const items = new PreparedItems('auto', { compileMsPerValue: 0.0125, now: () => clock.t, prepare: compiler });
    const want = await matMulTopK(block, base, 4, { transposeB: true });
    for (let call = 1; call <= 3; call++) {
      const got = await items.topK(kernels, block, base, 4, 1, items.generation);
      expect(Array.from(got.indices)).toEqual(Array.from(want.indices));
      expect([kernels.calls, compiler.compilations, items.compiled]).toEqual([call, 0, false]);
    }
    const fourth = await items.topK(kernels, block, base, 4, 1, items.generation);
    expect(Array.from(fourth.indices)).toEqual(Array.from(want.indices));
    expect([kernels.calls, compiler.compilations, items.compiled]).toEqual([3, 1, true]);
    await items.topK(kernels, block, base, 4, 1, items.generation);
    expect([kernels.calls, compiler.compilations]).toEqual([3, 1]);
    // a write: the time spent starts again from zero and the session is released
    items.invalidate();
    expect(items.compiled).toBe(false);
    await items.topK(kernels, block, base, 4, 1, items.generation);
    expect([kernels.calls, compiler.compilations]).toEqual([4, 1]);
    await items.dispose();
    await expect(compiler.products[0]!.topK(block, 1)).rejects.toSatisfy((e: unknown) => GenrecError.isInstance(e) && e.code === 'NOT_FITTED');
  });

  it('a product of an older generation never compiles, never uses the session, is not counted', async () => {
    const clock = { t: 0 };
    const kernels = fakeKernels(clock, 10);
    const compiler = countingCompiler();
    const items = new PreparedItems('always', { now: () => clock.t, prepare: compiler });
    const stale = items.generation;
    items.invalidate(); // a write while a search of generation `stale` is pending
    await items.topK(kernels, block, base, 4, 1, stale);
    expect([kernels.calls, compiler.compilations, items.compiled]).toEqual([1, 0, false]);
    await items.topK(kernels, block, base, 4, 1, items.generation);
    expect([kernels.calls, compiler.compilations, items.compiled]).toEqual([1, 1, true]);
    await items.topK(kernels, block, base, 4, 1, stale);
    expect([kernels.calls, compiler.compilations, items.compiled]).toEqual([2, 1, true]);
    await items.dispose();
  });

  it('a write during a compilation releases the new session and never uses it', async () => {
    const compiler = countingCompiler();
    const items = new PreparedItems('always', { prepare: compiler });
    const kernels = fakeKernels({ t: 0 }, 1);
    const generation = items.generation;
    const pending = items.topK(kernels, block, base, 4, 1, generation); // starts the compilation
    items.invalidate();
    await pending;
    expect(items.compiled).toBe(false);
    await items.dispose(); // waits for the release of the session compiled for the old generation
    expect(compiler.compilations).toBe(1);
    await expect(compiler.products[0]!.topK(block, 1)).rejects.toSatisfy((e: unknown) => GenrecError.isInstance(e) && e.code === 'NOT_FITTED');
  });

  it("a refused compilation leaves the generation uncompiled and is not retried; 'never' never compiles", async () => {
    const compiler = countingCompiler(true);
    const items = new PreparedItems('always', { prepare: compiler });
    const kernels = fakeKernels({ t: 0 }, 1);
    for (let i = 0; i < 3; i++) await items.topK(kernels, block, base, 4, 1, items.generation);
    expect([compiler.compilations, kernels.calls, items.compiled, items.failures]).toEqual([1, 3, false, 1]);
    items.invalidate();
    await items.topK(kernels, block, base, 4, 1, items.generation);
    expect([compiler.compilations, items.failures]).toEqual([2, 2]);
    const never = new PreparedItems('never', { prepare: compiler });
    for (let i = 0; i < 3; i++) await never.topK(kernels, block, base, 4, 1, never.generation);
    expect(compiler.compilations).toBe(2);
  });

  it('splits an uncompiled product into sub-blocks of at most maxScores scores, with the same results', async () => {
    const clock = { t: 0 };
    const kernels = fakeKernels(clock, 1);
    const items = new PreparedItems('never');
    const want = await matMulTopK(block, base, 4, { transposeB: true });
    const got = await items.topK(kernels, block, base, 4, 1, items.generation, 2 * 300); // two rows a call
    expect(kernels.calls).toBe(3); // 5 rows: 2 + 2 + 1
    expect([got.rows, got.k]).toEqual([5, 4]);
    expect(Array.from(got.indices)).toEqual(Array.from(want.indices));
    // a one-row product may take onnxruntime's matrix-vector kernel: float32 rounding apart
    got.values.forEach((value, i) => expect(value).toBeCloseTo(want.values[i]!, 5));
    expect(items.scoreColumns(items.generation, 300, 4)).toBe(300);
  });

  it('compiles the chunked form for small k and the whole-row form for large k on 65,536+ rows, and reports their scoreColumns', async () => {
    const big = createMatrix(70_000, 4, rng.fillNormal(new Float32Array(70_000 * 4)));
    const queries = createMatrix(2, 4, rng.fillNormal(new Float32Array(8)));
    const compiler = countingCompiler();
    const items = new PreparedItems('always', { prepare: compiler });
    expect(items.scoreColumns(items.generation, big.rows, 10)).toBe(big.rows); // nothing compiled yet
    const clock = { t: 0 };
    const small = await items.topK(fakeKernels(clock, 1), queries, big, 10, 1, items.generation);
    expect([items.compiled, items.sessions, compiler.products[0]!.selection]).toEqual([true, 1, 'chunked']);
    expect(items.scoreColumns(items.generation, big.rows, 10)).toBe(16384); // one chunk per row
    expect(items.scoreColumns(items.generation, big.rows, 33)).toBe(big.rows); // the whole-row form: not compiled yet
    const large = await items.topK(fakeKernels(clock, 1), queries, big, 40, 1, items.generation);
    expect([items.sessions, compiler.products[1]!.selection]).toEqual([2, 'whole']);
    expect(items.scoreColumns(items.generation, big.rows, 40)).toBe(big.rows);
    expect(items.scoreColumns(items.generation - 1, big.rows, 10)).toBe(big.rows);
    const want = await matMulTopK(queries, big, 40, { transposeB: true });
    expect(Array.from(large.indices)).toEqual(Array.from(want.indices));
    expect(Array.from(small.indices)).toEqual([...want.indices.subarray(0, 10), ...want.indices.subarray(40, 50)]);
    items.invalidate();
    expect([items.sessions, items.scoreColumns(items.generation, big.rows, 10)]).toEqual([0, big.rows]);
    await items.dispose();
  });

  it('a form onnxruntime refuses stays uncompiled in its generation; the other form is unaffected', async () => {
    const big = createMatrix(70_000, 4, rng.fillNormal(new Float32Array(70_000 * 4)));
    const queries = createMatrix(2, 4, rng.fillNormal(new Float32Array(8)));
    let refusals = 0;
    const compiler = async (b: Matrix, options?: Parameters<typeof prepareMatMulTopK>[1]): Promise<PreparedMatMulTopK> => {
      if (options?.selection === 'whole') {
        refusals++;
        throw new GenrecError('RUNTIME_ERROR', 'refused');
      }
      return prepareMatMulTopK(b, options);
    };
    const items = new PreparedItems('always', { prepare: compiler });
    const clock = { t: 0 };
    const kernels = fakeKernels(clock, 1);
    const want = await matMulTopK(queries, big, 40, { transposeB: true });
    for (let call = 0; call < 2; call++) {
      const large = await items.topK(kernels, queries, big, 40, 1, items.generation); // whole-row: refused, uncompiled
      expect(Array.from(large.indices)).toEqual(Array.from(want.indices));
    }
    expect([refusals, items.failures, kernels.calls, items.sessions]).toEqual([1, 1, 2, 0]);
    await items.topK(kernels, queries, big, 10, 1, items.generation); // chunked: compiled
    expect([items.sessions, items.compiled, kernels.calls]).toEqual([1, true, 2]);
    items.invalidate(); // a new generation tries the refused form again
    await items.topK(kernels, queries, big, 40, 1, items.generation);
    expect(refusals).toBe(2);
    await items.dispose();
  });
});
