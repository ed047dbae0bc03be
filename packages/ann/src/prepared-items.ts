import { GenrecError, type Matrix } from '@genrec/core';
import { MAX_PREPARED_OPERAND_BYTES, prepareMatMulTopK, type PreparedMatMulTopK, type TopKResult } from '@genrec/nn';
import type { ProductKernels } from './score-kernels.js';

/** When {@link PreparedItems} compiles the stored vectors (`FlatIndexOptions.prepare`). */
export type PrepareMode = 'auto' | 'always' | 'never';

/**
 * Expected compilation time per stored float32 value (ms) before one was measured: encoding the
 * model, onnxruntime's load and its packing of the operand (measured 9–20 ms for 11,924 x 128
 * values and 52–75 ms for 100,000 x 64, i.e. 0.6–1.3e-5 ms per value).
 */
const COMPILE_MS_PER_VALUE = 1e-5;

/**
 * The stored vectors of a flat index compiled into their own onnxruntime session (`@genrec/nn`'s
 * `prepareMatMulTopK`), for the top-k products of its searches. Under `'auto'` it is a ski-rental
 * rule: products run unprepared (the vectors packed on every call) until the time they took since
 * the last write reaches the expected compilation time, then the vectors are compiled once. Writes
 * {@link PreparedItems.invalidate} the session; a search that meets a released session falls back to
 * the unprepared product, so results never depend on the timing.
 */
export class PreparedItems {
  private product: Promise<PreparedMatMulTopK | undefined> | undefined;
  private spentMs = 0;
  private compileMsPerValue = COMPILE_MS_PER_VALUE;

  constructor(private readonly mode: PrepareMode) {}

  /** True once a compiled session is in use or on its way (for tests and diagnostics). */
  get compiled(): boolean {
    return this.product !== undefined;
  }

  /** The best `k` stored rows of `base` for each row of `block` (`block · baseᵀ`). */
  async topK(kernels: ProductKernels, block: Matrix, base: Matrix, k: number, threads: number): Promise<TopKResult> {
    if (this.mode !== 'never' && base.data.byteLength <= MAX_PREPARED_OPERAND_BYTES) {
      if (this.product === undefined && (this.mode === 'always' || this.spentMs >= this.compileMsPerValue * base.data.length)) {
        this.product = this.compile(base, threads);
      }
      const product = await this.product;
      if (product !== undefined) {
        try {
          return await product.topK(block, k);
        } catch (error) {
          // released by a write or dispose() while this search waited: answer unprepared
          if (!(GenrecError.isInstance(error) && error.code === 'NOT_FITTED')) throw error;
        }
      }
    }
    const started = performance.now();
    const top = await kernels.matMulTopK(block, base, k, { transposeB: true, intraOpNumThreads: threads });
    this.spentMs += performance.now() - started;
    return top;
  }

  /** Drops the compiled session (released once its pending products finish) and the time spent. */
  invalidate(): Promise<void> {
    const old = this.product;
    this.product = undefined;
    this.spentMs = 0;
    return old === undefined ? Promise.resolve() : old.then((product) => product?.release());
  }

  private async compile(base: Matrix, threads: number): Promise<PreparedMatMulTopK | undefined> {
    const started = performance.now();
    try {
      // the model is encoded from base.data before the first await: later writes cannot reach it
      const product = await prepareMatMulTopK(base, { transposeB: true, intraOpNumThreads: threads });
      this.compileMsPerValue = (performance.now() - started) / base.data.length;
      return product;
    } catch {
      // onnxruntime refused the compiled model: keep answering with the unprepared product
      return undefined;
    }
  }
}
