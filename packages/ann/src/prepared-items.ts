import { GenrecError, createMatrix, type Matrix } from '@genrec/core';
import { CHUNKED_FAST_MAX_K, CHUNKED_MIN_COLUMNS, MAX_PREPARED_OPERAND_BYTES, prepareMatMulTopK, type PreparedMatMulTopK, type TopKResult } from '@genrec/nn';
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

/** The two compiled forms (`@genrec/nn`'s `selection`). */
type Selection = 'whole' | 'chunked';

/**
 * The compiled form for a product of `k` over `itemCount` stored rows: chunked for many rows and
 * small k (where it is the faster), the whole-row product otherwise.
 */
function selectionFor(itemCount: number, k: number): Selection {
  return itemCount >= CHUNKED_MIN_COLUMNS && k <= CHUNKED_FAST_MAX_K ? 'chunked' : 'whole';
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
 * answers with the uncompiled product.
 *
 * From 65,536 stored rows a product of small k (up to `@genrec/nn`'s `CHUNKED_FAST_MAX_K`) uses the
 * chunked form and a larger one the whole-row form: each is compiled at its first need once
 * compiling has paid — the time spent is not reset by the first compilation, so the second form
 * compiles at its first need and the "about twice" bound holds per generation only for the first
 * (a generation can hold two sessions, each a copy of the vectors; a form onnxruntime refuses is not
 * retried in that generation, the other is unaffected).
 * Compiled and uncompiled products are identical for vectors up to 128 values wide; wider, scores
 * can differ by float32 rounding (onnxruntime sums a packed operand in blocks of 128), which can
 * swap near-equal entries.
 */
export class PreparedItems {
  private readonly current = new Map<Selection, Compiled>();
  private readonly ready = new Map<Selection, PreparedMatMulTopK>();
  private generationNumber = 0;
  private spentMs = 0;
  /** The forms onnxruntime refused in the current generation. */
  private readonly failed = new Set<Selection>();
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
    return this.ready.size > 0;
  }

  /** Compilations onnxruntime refused (each leaves its generation uncompiled). */
  get failures(): number {
    return this.failureCount;
  }

  /** Compiled sessions ready now (0, 1 or 2: whole-row and chunked), each a copy of the vectors. */
  get sessions(): number {
    return this.ready.size;
  }

  /**
   * Scores a product of `k` in `generation` holds at once per query row: the compiled session's
   * `scoreColumns` (one chunk of columns for the chunked form) while the one for this `k` is ready,
   * otherwise all `itemCount` columns.
   */
  scoreColumns(generation: number, itemCount: number, k: number): number {
    const product = generation === this.generationNumber ? this.ready.get(selectionFor(itemCount, k)) : undefined;
    return product === undefined ? itemCount : Math.min(itemCount, product.scoreColumns);
  }

  /**
   * The best `k` stored rows of `base` for each row of `block` (`block · baseᵀ`). Uncompiled, the
   * rows go through in sub-blocks of at most `maxScores` scores (a block sized for a compiled
   * session can meet an uncompiled product when a write released it meanwhile).
   */
  async topK(kernels: ProductKernels, block: Matrix, base: Matrix, k: number, threads: number, generation: number, maxScores = Number.POSITIVE_INFINITY): Promise<TopKResult> {
    const current = generation === this.generationNumber;
    const selection = selectionFor(base.rows, k);
    if (current && this.mode !== 'never' && base.data.byteLength <= MAX_PREPARED_OPERAND_BYTES && !this.failed.has(selection)) {
      if (!this.current.has(selection) && (this.mode === 'always' || this.spentMs >= this.compileMsPerValue * base.data.length)) {
        this.current.set(selection, { generation, product: this.compile(base, threads, generation, selection) });
      }
      const product = await this.current.get(selection)?.product;
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
    const top = await uncompiledTopK(kernels, block, base, k, threads, maxScores);
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
    this.failed.clear();
    this.ready.clear();
    const old = [...this.current.values()];
    this.current.clear();
    for (const compiled of old) {
      const release = compiled.product.then((product) => product?.release());
      this.releasing.add(release);
      void release.finally(() => this.releasing.delete(release));
    }
  }

  /** {@link PreparedItems.invalidate}, then waits until every session ever compiled is released. */
  async dispose(): Promise<void> {
    this.invalidate();
    while (this.releasing.size > 0) await Promise.all([...this.releasing]);
  }

  private async compile(base: Matrix, threads: number, generation: number, selection: Selection): Promise<PreparedMatMulTopK | undefined> {
    const started = this.now();
    let product: PreparedMatMulTopK;
    try {
      // the model is encoded from base.data before the first await: later writes cannot reach it
      product = await this.compiler(base, { transposeB: true, intraOpNumThreads: threads, selection });
    } catch {
      // onnxruntime refused the compiled model: this generation stays uncompiled
      if (generation === this.generationNumber) this.failed.add(selection);
      this.failureCount++;
      return undefined;
    }
    this.compileMsPerValue = (this.now() - started) / base.data.length;
    // still current: ready for products; otherwise invalidate() has queued its release already
    if (generation === this.generationNumber) this.ready.set(selection, product);
    return product;
  }
}

/** `kernels.matMulTopK` over `block`'s rows in sub-blocks of at most `maxScores` scores, joined. */
async function uncompiledTopK(kernels: ProductKernels, block: Matrix, base: Matrix, k: number, threads: number, maxScores: number): Promise<TopKResult> {
  const options = { transposeB: true, intraOpNumThreads: threads };
  const step = Math.max(1, Math.floor(maxScores / base.rows));
  if (block.rows <= step) return kernels.matMulTopK(block, base, k, options);
  const parts: TopKResult[] = [];
  for (let start = 0; start < block.rows; start += step) {
    const rows = Math.min(step, block.rows - start);
    parts.push(await kernels.matMulTopK(createMatrix(rows, block.cols, block.data.subarray(start * block.cols, (start + rows) * block.cols)), base, k, options));
  }
  const kept = parts[0]!.k;
  const indices = new Int32Array(block.rows * kept);
  const values = new Float32Array(block.rows * kept);
  let offset = 0;
  for (const part of parts) {
    indices.set(part.indices, offset);
    values.set(part.values, offset);
    offset += part.indices.length;
  }
  return { indices, values, rows: block.rows, k: kept };
}
