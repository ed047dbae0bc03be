import { join } from 'node:path';
import {
  GenrecError,
  checkEnumOption,
  checkIntegerOption,
  createMatrix,
  openArtifactDirectory,
  writeArtifactDirectory,
  writeFileAtomic,
  type Matrix,
  type VectorAddOptions,
  type VectorIndex,
  type VectorMetric,
  type VectorSearchOptions,
  type VectorSearchResult,
} from '@genrec/core';
import { MAX_DIMENSION, checkAddIds, checkAddInput, checkMetric, checkRemoveIds, checkSearchInput, exclusionSet, maxSearchK, paddedResult } from './index-input.js';
import { innerProducts } from './inner-products.js';
import { checkSaveFault } from './save-fault.js';
import { onnxKernels, type ProductKernels } from './score-kernels.js';
import { PreparedItems, type PrepareMode } from './prepared-items.js';
import { describeDataFile, readSidecar, writeSidecar, type IndexSidecar, type LoadIndexOptions } from './sidecar.js';
import { TopKHeap } from './top-k.js';

/** Sidecar `kind` of a saved {@link FlatIndex}. */
export const FLAT_INDEX_KIND = 'genrec.flat-index';
const FLAT_FORMAT_VERSION = 1;
const FLAT_DATA_FILE = 'vectors.f32';

/**
 * Where the flat index computes its matrix products: `'onnxruntime'` through `@genrec/nn`'s
 * `matMulTopK`/`matMul`, `'javascript'` with its own blocked kernel and top-k heap, `'auto'` onnxruntime for products
 * large enough to pay for a call and JavaScript for tiny ones.
 */
export type FlatBackend = 'auto' | 'onnxruntime' | 'javascript';

/** Options of {@link FlatIndex}. */
export interface FlatIndexOptions {
  /** Vector dimension (positive integer). */
  dimension: number;
  /** Similarity. @defaultValue 'ip' */
  metric?: VectorMetric;
  /** Rows allocated up front; the index grows by doubling beyond it. @defaultValue 1024 */
  initialCapacity?: number;
  /** onnxruntime threads per product (0 = onnxruntime's choice, one per core). @defaultValue 0 */
  intraOpNumThreads?: number;
  /** Where products run. @defaultValue 'auto' */
  backend?: FlatBackend;
  /**
   * Most scores (queries x items) held at once by one product: queries are processed in blocks of
   * `max(1, floor(scoreBlockSize / size))` rows, which bounds the memory of a batch. A compiled
   * chunked product (from 65,536 items, for k plus exclusions up to 32, no filter) holds one
   * 16,384-item chunk of scores per query at a time: its blocks are `scoreBlockSize / 16384` rows.
   * Measured, 1,000 queries, 1 thread (README "Against faiss with compiled flat vectors"): whole-row
   * products on 11,924 x 128 items gave 30,758 / 30,112 / 23,116 queries/s at 2^19 / 2^20 / 2^21
   * scores, on 100,000 x 64 items 3,909 / 5,216 / 5,660; the chunked product is fastest at about 128
   * rows a call (2^21 scores).
   * @defaultValue 2^20 (4 MiB of float32 scores; at 100,000 items, blocks of 10 queries) for
   * uncompiled and whole-row products, 2^21 (128 queries a block) for chunked ones
   */
  scoreBlockSize?: number;
  /**
   * Compile the stored vectors into their own onnxruntime session (`@genrec/nn`'s
   * `prepareMatMulTopK`), where onnxruntime packs them for its matrix kernel once instead of on every
   * product. `'auto'` compiles once the products run since the last write have taken as long as a
   * compilation is expected to (a ski-rental rule: the total time is then at most about twice what
   * never compiling would take, as far as the estimate holds); `'always'` at the first search after a
   * write; `'never'` keeps passing the vectors on every call. From 65,536 items, products of small
   * k (k plus the largest exclusion up to 32, no filter) compile `prepareMatMulTopK`'s chunked form
   * and the others its whole-row form, each at its first need. A compiled session holds about one
   * more copy of the vectors (counted in `memoryBytes`; two sessions when both forms are used)
   * until the next write or {@link FlatIndex.dispose}. Operands above `MAX_PREPARED_OPERAND_BYTES`
   * (1 GiB) are never compiled. Compiled and uncompiled products give identical results for vectors
   * up to 128 values wide; wider, scores can differ by float32 rounding (onnxruntime sums a packed
   * operand in blocks of 128), which can swap near-equal neighbours.
   * @defaultValue 'auto'
   */
  prepare?: PrepareMode;
}

/** Products smaller than this many multiply-adds run in JavaScript under `backend: 'auto'`. */
const ONNX_MIN_WORK = 1 << 18;
/** Default scores a block holds for uncompiled and whole-row products (4 MiB). */
const WHOLE_SCORE_BLOCK = 1 << 20;
/** Default scores a block holds for a compiled chunked product (128 queries x one 16,384-item chunk). */
const CHUNKED_SCORE_BLOCK = 1 << 21;
/** Fewest candidates per query fetched before filtering (onnxruntime path). */
const FILTER_CANDIDATES = 64;

/** Candidates a filtered product asks for, for `k` results and at most `excluded` exclusions a query. */
function filterCandidates(k: number, excluded: number): number {
  return Math.max(FILTER_CANDIDATES, 4 * (k + excluded));
}

/**
 * Exact nearest-neighbour search: every query is scored against every vector. Batches of queries
 * are one matrix product on onnxruntime (`@genrec/nn`'s `matMulTopK`), blocked so that memory stays
 * bounded; a user's history is excluded by asking for `k + |history ∩ index|` and dropping the
 * excluded ids (no re-scoring); a filter predicate is applied to the best `max(64, 4 (k + excluded))`
 * candidates, and only queries left with fewer than `k` accepted ids are scored against every item
 * and selected with a partial top-k heap that skips rejected ids. It is the ground truth for the
 * approximate indexes.
 *
 * Metrics: `'ip'` scores `q.x`; `'cosine'` stores normalised vectors and normalises queries (a zero
 * vector scores 0); `'l2'` scores `-||q - x||^2` (found through `2 q.x - ||x||^2` in the product,
 * then recomputed exactly for the returned ids). Equal scores: the vector stored earlier first
 * (storage order changes on `remove`, which moves the last vector into the hole).
 *
 * Writes: `add` and `remove` return promises, as the `VectorIndex` contract says, but apply the
 * whole write before they return (validation first, then the change, all synchronously): `size`,
 * `has` and `search` see it at once, writes apply in call order, and a rejected write leaves the
 * index unchanged. Do not add or remove while a `search` is pending (the search reads the stored
 * rows across its awaits).
 *
 * @example
 * ```ts
 * const index = new FlatIndex({ dimension: 3, metric: 'ip' });
 * await index.add([10, 11], new Float32Array([1, 0, 0, 0, 1, 0]));
 * const { ids, scores } = await index.search(new Float32Array([0.9, 0.1, 0]), 2); // ids [10, 11]
 * await index.save('/tmp/items.flat');
 * const again = await loadFlatIndex('/tmp/items.flat');
 * ```
 */
export class FlatIndex implements VectorIndex {
  /** Implementation name written into the sidecar's `implementation` field. */
  readonly kind = 'flat';
  readonly metric: VectorMetric;
  readonly dimension: number;
  private readonly stride: number;
  private readonly intraOpNumThreads: number;
  private readonly backend: FlatBackend;
  /** The user's `scoreBlockSize`, or undefined for the defaults per product form. */
  private readonly scoreBlockSize: number | undefined;
  private vectors: Float32Array;
  private rowIds: Int32Array;
  private readonly rowOf = new Map<number, number>();
  private count = 0;
  private readonly heap = new TopKHeap(16);
  private scoreBuffer = new Float32Array(0);
  private candidateIndices = new Int32Array(0);
  private candidateScores = new Float32Array(0);
  private readonly prepared: PreparedItems;

  /**
   * @throws GenrecError `INVALID_OPTION` for a bad option.
   */
  constructor(options: FlatIndexOptions) {
    this.dimension = checkIntegerOption(options?.dimension, 'dimension', 1, MAX_DIMENSION);
    this.metric = checkMetric(options.metric ?? 'ip');
    const capacity = checkIntegerOption(options.initialCapacity ?? 1024, 'initialCapacity', 1);
    this.intraOpNumThreads = checkIntegerOption(options.intraOpNumThreads ?? 0, 'intraOpNumThreads', 0, 1024);
    this.scoreBlockSize = options.scoreBlockSize === undefined ? undefined : checkIntegerOption(options.scoreBlockSize, 'scoreBlockSize', 1);
    const backend = options.backend ?? 'auto';
    if (backend !== 'auto' && backend !== 'onnxruntime' && backend !== 'javascript') {
      throw new GenrecError('INVALID_OPTION', `backend must be 'auto', 'onnxruntime' or 'javascript', got ${String(backend)}`, { details: { field: 'backend' } });
    }
    this.backend = backend;
    this.prepared = new PreparedItems(checkEnumOption<PrepareMode>(options.prepare ?? 'auto', 'prepare', ['auto', 'always', 'never']));
    // l2 keeps ||x||^2 as an extra column: [2q, -1] . [x, ||x||^2] = 2 q.x - ||x||^2
    this.stride = this.metric === 'l2' ? this.dimension + 1 : this.dimension;
    this.vectors = new Float32Array(capacity * this.stride);
    this.rowIds = new Int32Array(capacity);
  }

  /** Number of vectors in the index. */
  get size(): number {
    return this.count;
  }

  /**
   * The largest `k` a search accepts: the index size, or 1,024 when that is larger (rows beyond
   * the stored vectors are padded with -1, as the `VectorIndex` contract says). A larger `k` is
   * `INVALID_OPTION` (core's `checkResultSize`), never clamped.
   */
  get maxK(): number {
    return maxSearchK(this.count);
  }

  /**
   * True while a compiled onnxruntime session of the stored vectors is ready for the products of
   * searches; see {@link FlatIndexOptions.prepare}. Writes and {@link FlatIndex.dispose} reset it.
   */
  get compiled(): boolean {
    return this.prepared.compiled;
  }

  /**
   * Bytes held by the stored vectors and ids (allocated capacity), plus, while the vectors are
   * {@link FlatIndex.compiled}, about their size again for each compiled session's packed copy.
   */
  get memoryBytes(): number {
    return this.vectors.byteLength + this.rowIds.byteLength + this.prepared.sessions * this.count * this.stride * 4;
  }

  /** True when `id` is in the index. */
  has(id: number): boolean {
    return this.rowOf.has(id);
  }

  /** The ids in storage order (a copy). */
  ids(): Int32Array {
    return this.rowIds.slice(0, this.count);
  }

  /**
   * Adds vectors; all-or-nothing (nothing is added when a check fails). The rows are copied and
   * visible to `search` before the call returns; the promise is already settled.
   *
   * @param ids - non-negative integer ids, one per row.
   * @param vectors - `ids.length x dimension`, row-major.
   * @returns a promise that resolves once the rows are in the index.
   * @throws GenrecError, as a rejection with the index unchanged: `DUPLICATE_ID` for an id already
   * present (or repeated) unless `replace`, `SHAPE_MISMATCH` for a wrong dimension, `INVALID_INPUT`
   * for NaN/infinite values or bad ids.
   */
  async add(ids: ArrayLike<number>, vectors: Matrix | Float32Array, options: VectorAddOptions = {}): Promise<void> {
    const data = checkAddInput(ids, vectors, this.dimension);
    const fresh = checkAddIds(ids, (id) => this.rowOf.has(id), options.replace ?? false);
    this.reserve(this.count + fresh);
    this.prepared.invalidate();
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      let row = this.rowOf.get(id);
      if (row === undefined) {
        row = this.count++;
        this.rowOf.set(id, row);
        this.rowIds[row] = id;
      }
      this.writeRow(row, data, i * this.dimension);
    }
  }

  /**
   * Removes ids (a repeated id is removed once); all-or-nothing, applied before the call returns.
   *
   * @returns a promise that resolves once the ids are gone.
   * @throws GenrecError, as a rejection with the index unchanged: `UNKNOWN_ID` for an id not in
   * the index, `INVALID_INPUT` for a negative or non-integer id.
   */
  async remove(ids: ArrayLike<number>): Promise<void> {
    checkRemoveIds(ids, (id) => this.rowOf.has(id));
    this.prepared.invalidate();
    const stride = this.stride;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const row = this.rowOf.get(id);
      if (row === undefined) continue; // repeated in the list
      const last = this.count - 1;
      if (row !== last) {
        this.vectors.copyWithin(row * stride, last * stride, (last + 1) * stride);
        const moved = this.rowIds[last]!;
        this.rowIds[row] = moved;
        this.rowOf.set(moved, row);
      }
      this.rowOf.delete(id);
      this.count = last;
    }
  }

  /**
   * The exact `k` best ids per query, best first, padded with -1 / -Infinity.
   *
   * @param queries - `queryCount x dimension`, row-major.
   * @param k - results per query, 1..{@link FlatIndex.maxK}; checked before anything is allocated.
   * @throws GenrecError `SHAPE_MISMATCH` for a wrong width or exclude length, `INVALID_INPUT` for
   * non-finite queries, `INVALID_OPTION` for a `k` outside 1..maxK (or `queries x k` above 2^27).
   * Whatever a `filter` callback throws reaches the caller as the promise's rejection.
   */
  async search(queries: Matrix | Float32Array, k: number, options: VectorSearchOptions = {}): Promise<VectorSearchResult> {
    const { data, queryCount } = checkSearchInput(queries, k, options, this.dimension, this.count);
    const result = paddedResult(queryCount, k);
    const itemCount = this.count;
    if (itemCount === 0 || queryCount === 0) return result;
    const exclusions = options.exclude === undefined ? undefined : Array.from(options.exclude, (entry) => exclusionSet(entry));
    // the write generation this search reads: a compiled session of another one is never used
    const generation = this.prepared.generation;
    const base = createMatrix(itemCount, this.stride, this.vectors.subarray(0, itemCount * this.stride));
    // one buffer per call, reused across its blocks: concurrent searches must not share it while
    // onnxruntime reads it
    let queryBuffer: Float32Array | undefined;
    // the most any block's product asks for (the k of the compiled form a block uses)
    const largest = this.largestExclusion(0, queryCount, exclusions);
    const productK = options.filter === undefined ? k + largest : filterCandidates(k, largest);
    for (let start = 0; start < queryCount; ) {
      // rows x (the scores a row holds at once) within scoreBlockSize: a compiled chunked product
      // holds one chunk of columns per row, an uncompiled or whole-row one all of them
      const columns = this.prepared.scoreColumns(generation, itemCount, Math.min(productK, itemCount));
      const budget = this.scoreBlockSize ?? (columns < itemCount ? CHUNKED_SCORE_BLOCK : WHOLE_SCORE_BLOCK);
      const rows = Math.max(1, Math.min(queryCount - start, Math.floor(budget / columns)));
      if (this.metric !== 'ip' && (queryBuffer === undefined || queryBuffer.length < rows * this.stride)) queryBuffer = new Float32Array(rows * this.stride);
      const block = this.prepareQueries(data, start, rows, queryBuffer);
      const kernels = this.kernelsFor(rows * itemCount * this.stride);
      if (options.filter !== undefined) {
        await this.searchScanned(block, base, start, k, kernels, options.filter, exclusions, result, generation);
      } else {
        await this.searchTopK(block, base, start, k, kernels, exclusions, result, generation);
      }
      if (this.metric === 'l2') this.rescoreL2(data, start, rows, result);
      start += rows;
    }
    return result;
  }

  /**
   * Saves the index as a folder (`vectors.f32` raw little-endian float32 rows plus the `index.json`
   * sidecar with ids and checksum), atomically: a failure leaves any previous folder at `path` as it was.
   *
   * @throws GenrecError `IO_ERROR` when writing fails.
   */
  async save(path: string): Promise<void> {
    const { count, dimension, stride } = this;
    let rows: Float32Array;
    if (stride === dimension) {
      rows = this.vectors.subarray(0, count * dimension);
    } else {
      rows = new Float32Array(count * dimension);
      for (let r = 0; r < count; r++) rows.set(this.vectors.subarray(r * stride, r * stride + dimension), r * dimension);
    }
    const ids = Array.from(this.rowIds.subarray(0, count));
    await writeArtifactDirectory(path, (directory) => {
      writeFileAtomic(join(directory, FLAT_DATA_FILE), new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength));
      checkSaveFault(path);
      const sidecar: IndexSidecar = {
        kind: FLAT_INDEX_KIND,
        formatVersion: FLAT_FORMAT_VERSION,
        implementation: this.kind,
        metric: this.metric,
        dimension,
        size: count,
        parameters: {},
        ids,
        data: describeDataFile(directory, FLAT_DATA_FILE),
      };
      writeSidecar(directory, sidecar);
    });
  }

  /**
   * Releases the compiled onnxruntime sessions of the stored vectors, if any (see
   * {@link FlatIndexOptions.prepare}), and resolves once every one is released; the index stays
   * usable and compiles again when needed (searches pending meanwhile finish uncompiled). Without it
   * a session is freed when the index is garbage-collected — which V8 does not hurry for native
   * memory: call it when an index is dropped.
   */
  async dispose(): Promise<void> {
    await this.prepared.dispose();
  }

  /**
   * Loads a flat index saved by {@link FlatIndex.save}. Vectors are restored exactly as stored (no
   * re-normalisation), so searches give identical results.
   *
   * Every file is checked before anything is built: the folder's checksum list covers the sidecar
   * (so an edited `dimension` or `metric` is caught) and `vectors.f32`; then the sizes, the id map
   * and every value (finite) are checked against the sidecar.
   *
   * @throws GenrecError `NOT_FOUND`, `FORMAT_VERSION`, `CORRUPT_ARTIFACT` (checksum, size or id map
   * disagree, a non-finite value), `SHAPE_MISMATCH` when `options.dimension` differs from the saved
   * one, `INVALID_INPUT` when `options.metric` does.
   */
  static async load(path: string, options: LoadIndexOptions & Omit<FlatIndexOptions, 'dimension' | 'metric'> = {}): Promise<FlatIndex> {
    const artifact = openArtifactDirectory(path);
    const directory = artifact.directory;
    const { sidecar, bytes } = readSidecar(artifact, FLAT_INDEX_KIND, [FLAT_FORMAT_VERSION], options);
    const { dimension, size } = sidecar;
    const corrupt = (message: string) => new GenrecError('CORRUPT_ARTIFACT', message, { details: { file: join(directory, 'index.json') } });
    if (sidecar.data.file !== FLAT_DATA_FILE) throw corrupt(`the sidecar names data file ${sidecar.data.file}, expected ${FLAT_DATA_FILE}`);
    if (bytes.byteLength !== size * dimension * 4) throw corrupt(`${FLAT_DATA_FILE} holds ${bytes.byteLength} bytes, ${size} x ${dimension} float32 need ${size * dimension * 4}`);
    if (sidecar.ids.length !== size) throw corrupt(`the sidecar lists ${sidecar.ids.length} ids for ${size} vectors`);
    const rows = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    for (let i = 0; i < rows.length; i++) {
      if (!Number.isFinite(rows[i]!)) throw corrupt(`${FLAT_DATA_FILE} holds a non-finite value at row ${Math.floor(i / dimension)}`);
    }
    const { dimension: _d, metric: _m, ...rest } = options;
    const index = new FlatIndex({ ...rest, dimension, metric: sidecar.metric, initialCapacity: Math.max(1, size) });
    for (let r = 0; r < size; r++) {
      const id = sidecar.ids[r]!;
      if (id < 0 || index.rowOf.has(id)) throw corrupt(`the sidecar's id list has an invalid or repeated id ${id}`);
      index.rowOf.set(id, r);
      index.rowIds[r] = id;
      index.vectors.set(rows.subarray(r * dimension, (r + 1) * dimension), r * index.stride);
      if (index.metric === 'l2') index.vectors[r * index.stride + dimension] = squaredNorm(rows, r * dimension, dimension);
    }
    index.count = size;
    return index;
  }

  private kernelsFor(work: number): ProductKernels | undefined {
    if (this.backend === 'javascript') return undefined;
    if (this.backend === 'auto' && work < ONNX_MIN_WORK) return undefined;
    return onnxKernels();
  }

  private reserve(rows: number): void {
    if (rows <= this.rowIds.length) return;
    let capacity = this.rowIds.length;
    while (capacity < rows) capacity *= 2;
    const vectors = new Float32Array(capacity * this.stride);
    vectors.set(this.vectors.subarray(0, this.count * this.stride));
    const rowIds = new Int32Array(capacity);
    rowIds.set(this.rowIds.subarray(0, this.count));
    this.vectors = vectors;
    this.rowIds = rowIds;
  }

  private writeRow(row: number, source: Float32Array, offset: number): void {
    const { dimension, stride, vectors } = this;
    const target = row * stride;
    if (this.metric === 'cosine') {
      const norm = Math.sqrt(squaredNorm(source, offset, dimension));
      const scale = norm > 0 ? 1 / norm : 0;
      for (let c = 0; c < dimension; c++) vectors[target + c] = source[offset + c]! * scale;
    } else {
      vectors.set(source.subarray(offset, offset + dimension), target);
      if (this.metric === 'l2') vectors[target + dimension] = squaredNorm(source, offset, dimension);
    }
  }

  /** The block of queries as the product's left operand (normalised / augmented as the metric needs). */
  private prepareQueries(data: Float32Array, start: number, rows: number, buffer: Float32Array | undefined): Matrix {
    const { dimension, stride } = this;
    if (buffer === undefined) return createMatrix(rows, dimension, data.subarray(start * dimension, (start + rows) * dimension));
    const out = buffer.subarray(0, rows * stride);
    for (let r = 0; r < rows; r++) {
      const source = (start + r) * dimension;
      const target = r * stride;
      if (this.metric === 'cosine') {
        const norm = Math.sqrt(squaredNorm(data, source, dimension));
        const scale = norm > 0 ? 1 / norm : 0;
        for (let c = 0; c < dimension; c++) out[target + c] = data[source + c]! * scale;
      } else {
        for (let c = 0; c < dimension; c++) out[target + c] = 2 * data[source + c]!;
        out[target + dimension] = -1;
      }
    }
    return createMatrix(rows, stride, out);
  }

  private scores(rows: number, itemCount: number): Float32Array {
    if (this.scoreBuffer.length < rows * itemCount) this.scoreBuffer = new Float32Array(rows * itemCount);
    return this.scoreBuffer;
  }

  /** Top `k` after exclusions: asks the product for `k + (excluded ids present)` and skips them. */
  private async searchTopK(
    block: Matrix,
    base: Matrix,
    start: number,
    k: number,
    kernels: ProductKernels | undefined,
    exclusions: ReadonlyArray<ReadonlySet<number> | undefined> | undefined,
    result: VectorSearchResult,
    generation: number,
  ): Promise<void> {
    const rows = block.rows;
    const itemCount = base.rows;
    const wanted = Math.min(k + this.largestExclusion(start, rows, exclusions), itemCount);
    let indices: Int32Array;
    let values: Float32Array;
    let kept: number;
    if (kernels !== undefined) {
      const top = await this.prepared.topK(kernels, block, base, wanted, this.intraOpNumThreads, generation, this.scoreBlockSize ?? WHOLE_SCORE_BLOCK);
      indices = top.indices;
      values = top.values;
      kept = top.k;
    } else {
      const scores = this.scores(rows, itemCount);
      innerProducts(block.data, 0, rows, base.data, itemCount, block.cols, scores);
      if (this.candidateIndices.length < rows * wanted) {
        this.candidateIndices = new Int32Array(rows * wanted);
        this.candidateScores = new Float32Array(rows * wanted);
      }
      indices = this.candidateIndices;
      values = this.candidateScores;
      kept = wanted;
      for (let r = 0; r < rows; r++) {
        this.heap.select(scores, r * itemCount, itemCount, wanted);
        this.heap.write(indices, values, r * wanted);
      }
    }
    const { ids, scores } = result;
    for (let r = 0; r < rows; r++) {
      const set = exclusions?.[start + r];
      const out = (start + r) * k;
      let written = 0;
      for (let j = 0; j < kept && written < k; j++) {
        const id = this.rowIds[indices[r * kept + j]!]!;
        if (set !== undefined && set.has(id)) continue;
        ids[out + written] = id;
        scores[out + written] = values[r * kept + j]!;
        written++;
      }
    }
  }

  /**
   * With a filter. onnxruntime: the best `max(64, 4 (k + excluded))` candidates per query, walked in
   * order while the filter accepts; only queries whose candidates held fewer than `k` accepted ids are
   * scored against every item. JavaScript: the block is scored once. Either way the final selection
   * is a partial top-k that skips rejected ids, so the answer is exact.
   */
  private async searchScanned(
    block: Matrix,
    base: Matrix,
    start: number,
    k: number,
    kernels: ProductKernels | undefined,
    filter: (id: number) => boolean,
    exclusions: ReadonlyArray<ReadonlySet<number> | undefined> | undefined,
    result: VectorSearchResult,
    generation: number,
  ): Promise<void> {
    const itemCount = base.rows;
    const rowIds = this.rowIds;
    let pending: number[] = Array.from({ length: block.rows }, (_, r) => r);
    if (kernels !== undefined) {
      const candidates = Math.min(itemCount, filterCandidates(k, this.largestExclusion(start, block.rows, exclusions)));
      const top = await this.prepared.topK(kernels, block, base, candidates, this.intraOpNumThreads, generation, this.scoreBlockSize ?? WHOLE_SCORE_BLOCK);
      pending = [];
      for (let r = 0; r < block.rows; r++) {
        const set = exclusions?.[start + r];
        const out = (start + r) * k;
        let written = 0;
        for (let j = 0; j < top.k && written < k; j++) {
          const id = rowIds[top.indices[r * top.k + j]!]!;
          if ((set !== undefined && set.has(id)) || !filter(id)) continue;
          result.ids[out + written] = id;
          result.scores[out + written] = top.values[r * top.k + j]!;
          written++;
        }
        if (written < k && top.k < itemCount) {
          result.ids.fill(-1, out, out + k);
          result.scores.fill(Number.NEGATIVE_INFINITY, out, out + k);
          pending.push(r);
        }
      }
      if (pending.length === 0) return;
    }
    // score the pending queries against every item
    let rows = block;
    if (pending.length !== block.rows) {
      rows = createMatrix(pending.length, block.cols);
      pending.forEach((r, i) => rows.data.set(block.data.subarray(r * block.cols, (r + 1) * block.cols), i * block.cols));
    }
    let scores: Float32Array;
    if (kernels !== undefined) {
      scores = (await kernels.matMul(rows, base, { transposeB: true, intraOpNumThreads: this.intraOpNumThreads })).data;
    } else {
      scores = this.scores(rows.rows, itemCount);
      innerProducts(rows.data, 0, rows.rows, base.data, itemCount, rows.cols, scores);
    }
    const toId = (index: number) => rowIds[index]!;
    const wanted = Math.min(k, itemCount);
    pending.forEach((r, i) => {
      const set = exclusions?.[start + r];
      const accept = set === undefined ? (index: number) => filter(rowIds[index]!) : (index: number) => !set.has(rowIds[index]!) && filter(rowIds[index]!);
      this.heap.select(scores, i * itemCount, itemCount, wanted, accept);
      this.heap.write(result.ids, result.scores, (start + r) * k, toId);
    });
  }

  /** The largest number of one query's excluded ids that are in the index, over a block. */
  private largestExclusion(start: number, rows: number, exclusions: ReadonlyArray<ReadonlySet<number> | undefined> | undefined): number {
    let largest = 0;
    if (exclusions === undefined) return 0;
    for (let r = 0; r < rows; r++) {
      const set = exclusions[start + r];
      if (set === undefined) continue;
      let present = 0;
      for (const id of set) if (this.rowOf.has(id)) present++;
      largest = Math.max(largest, present);
    }
    return largest;
  }

  /** l2: replaces `2 q.x - ||x||^2` by the exact `-||q - x||^2` for the returned ids and re-sorts. */
  private rescoreL2(data: Float32Array, start: number, rows: number, result: VectorSearchResult): void {
    const { dimension, stride, vectors } = this;
    const { ids, scores, k } = result;
    for (let r = 0; r < rows; r++) {
      const query = (start + r) * dimension;
      const out = (start + r) * k;
      let written = 0;
      for (; written < k && ids[out + written]! >= 0; written++) {
        const base = this.rowOf.get(ids[out + written]!)! * stride;
        let sum = 0;
        for (let c = 0; c < dimension; c++) {
          const difference = data[query + c]! - vectors[base + c]!;
          sum += difference * difference;
        }
        scores[out + written] = -sum;
      }
      // insertion sort, stable: equal scores keep the product's order
      for (let i = 1; i < written; i++) {
        const score = scores[out + i]!;
        const id = ids[out + i]!;
        let j = i - 1;
        while (j >= 0 && scores[out + j]! < score) {
          scores[out + j + 1] = scores[out + j]!;
          ids[out + j + 1] = ids[out + j]!;
          j--;
        }
        scores[out + j + 1] = score;
        ids[out + j + 1] = id;
      }
    }
  }
}

function squaredNorm(data: Float32Array, offset: number, length: number): number {
  let sum = 0;
  for (let c = 0; c < length; c++) {
    const v = data[offset + c]!;
    sum += v * v;
  }
  return sum;
}

/**
 * Loads a {@link FlatIndex} saved with `save` (see {@link FlatIndex.load}).
 *
 * @example
 * ```ts
 * const index = await loadFlatIndex('/tmp/items.flat', { dimension: 64 });
 * ```
 */
export function loadFlatIndex(path: string, options: LoadIndexOptions & Omit<FlatIndexOptions, 'dimension' | 'metric'> = {}): Promise<FlatIndex> {
  return FlatIndex.load(path, options);
}
