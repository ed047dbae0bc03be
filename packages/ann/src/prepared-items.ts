import { GenrecError, type Matrix } from '@genrec/core';
import { MAX_PREPARED_OPERAND_BYTES, prepareMatMulTopK, type PreparedMatMulTopK, type TopKResult } from '@genrec/nn';
import type { ProductKernels } from './score-kernels.js';

/** When {@link PreparedItems} compiles the stored vectors (`FlatIndexOptions.prepare`). */
export type PrepareMode = 'auto' | 'always' | 'never';

/**
 * Expected compilation time per stored float32 value (ms) before one was measured: encoding the
 * model, onnxruntime's load and its packing of the operand (README "Against faiss with compiled flat
 * vectors": 11,924 x 128 and 100,000 x 64 values compiled in about 1e-5 ms per value).
 */
const COMPILE_MS_PER_VALUE = 1e-5;

/** Test hooks of {@link PreparedItems}. */
export interface PreparedItemsOptions {
  /** First estimate of the compilation time per value (ms). */
  compileMsPerValue?: number;
  /** The clock (ms). @defaultValue performance.now */
  now?: () => number;
  /** The compiler. @defaultValue `@genrec/nn`'s prepareMatMulTopK */
  prepare?: typeof prepareMatMulTopK;
}

interface Compiled {
  readonly generation: number;
  readonly product: Promise<PreparedMatMulTopK | undefined>;
}

/**
 * The stored vectors of a flat index compiled into their own onnxruntime session (`@genrec/nn`'s
 * `prepareMatMulTopK`), for the top-k products of its searches.
 *
 * Every write starts a new **generation** ({@link PreparedItems.invalidate}); a search passes the
 * generation it started in, and a product of an older generation never compiles, never uses the
 * current session and is not counted — so a session always holds the vectors of the current
 * generation. Under `'auto'` compilation is a ski-rental rule: products run uncompiled until the
 * time they took in this generation reaches the expected compilation time, then the vectors are
 * compiled once (the total time is then at most about twice what never compiling would take, as
 * far as the estimate is right; it is replaced by the measured time after each compilation). A
 * compilation onnxruntime refuses is not retried in the same generation (the products stay
 * uncompiled; {@link PreparedItems.failures} counts them). A search that meets a released session
 * answers with the uncompiled product: results never depend on the timing.
 */
export class PreparedItems {
  private current: Compiled | undefined;
  private ready: PreparedMatMulTopK | undefined;
  private generationNumber = 0;
  private spentMs = 0;
  private failedGeneration = -1;
  private failureCount = 0;
  private compileMsPerValue: number;
  private readonly now: () => number;
  private readonly compiler: typeof prepareMatMulTopK;
  private readonly releasing = new Set<Promise<void>>();

  constructor(
    private readonly mode: PrepareMode,
    options: PreparedItemsOptions = {},
  ) {
    this.compileMsPerValue = options.compileMsPerValue ?? COMPILE_MS_PER_VALUE;
    this.now = options.now ?? (() => performance.now());
    this.compiler = options.prepare ?? prepareMatMulTopK;
  }

  /** The current generation (a search passes it to {@link PreparedItems.topK}). */
  get generation(): number {
    return this.generationNumber;
  }

  /** True while a compiled session of the current generation is ready for products. */
  get compiled(): boolean {
    return this.ready !== undefined;
  }

  /** Compilations onnxruntime refused (each leaves its generation uncompiled). */
  get failures(): number {
    return this.failureCount;
  }

  /** The best `k` stored rows of `base` for each row of `block` (`block · baseᵀ`). */
  async topK(kernels: ProductKernels, block: Matrix, base: Matrix, k: number, threads: number, generation: number): Promise<TopKResult> {
    const current = generation === this.generationNumber;
    if (current && this.mode !== 'never' && base.data.byteLength <= MAX_PREPARED_OPERAND_BYTES && this.failedGeneration !== generation) {
      if (this.current === undefined && (this.mode === 'always' || this.spentMs >= this.compileMsPerValue * base.data.length)) {
        this.current = { generation, product: this.compile(base, threads, generation) };
      }
      const product = await this.current?.product;
      if (product !== undefined && generation === this.generationNumber) {
        try {
          return await product.topK(block, k);
        } catch (error) {
          // released by a write or dispose() while this search waited: answer uncompiled
          if (!(GenrecError.isInstance(error) && error.code === 'NOT_FITTED')) throw error;
        }
      }
    }
    const started = this.now();
    const top = await kernels.matMulTopK(block, base, k, { transposeB: true, intraOpNumThreads: threads });
    if (generation === this.generationNumber) this.spentMs += this.now() - started;
    return top;
  }

  /**
   * Starts a new generation: the session (if any) is released once its pending products finish,
   * and the time spent is reset.
   */
  invalidate(): void {
    this.generationNumber++;
    this.spentMs = 0;
    this.ready = undefined;
    const old = this.current;
    this.current = undefined;
    if (old === undefined) return;
    const release = old.product.then((product) => product?.release());
    this.releasing.add(release);
    void release.finally(() => this.releasing.delete(release));
  }

  /** {@link PreparedItems.invalidate}, then waits until every session ever compiled is released. */
  async dispose(): Promise<void> {
    this.invalidate();
    while (this.releasing.size > 0) await Promise.all([...this.releasing]);
  }

  private async compile(base: Matrix, threads: number, generation: number): Promise<PreparedMatMulTopK | undefined> {
    const started = this.now();
    let product: PreparedMatMulTopK;
    try {
      // the model is encoded from base.data before the first await: later writes cannot reach it
      product = await this.compiler(base, { transposeB: true, intraOpNumThreads: threads });
    } catch {
      // onnxruntime refused the compiled model: this generation stays uncompiled
      this.failedGeneration = generation;
      this.failureCount++;
      return undefined;
    }
    this.compileMsPerValue = (this.now() - started) / base.data.length;
    // still current: ready for products; otherwise invalidate() has queued its release already
    if (generation === this.generationNumber) this.ready = product;
    return product;
  }
}
