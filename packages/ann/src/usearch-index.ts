import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { endianness, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GenrecError,
  checkEnumOption,
  checkIntegerOption,
  checkKnownOptions,
  openArtifactDirectory,
  readBytes,
  writeArtifactDirectory,
  type Matrix,
  type VectorAddOptions,
  type VectorIndex,
  type VectorMetric,
  type VectorSearchOptions,
  type VectorSearchResult,
} from '@genrec/core';
import { checkSidecarParameters, sidecarCorruption, sidecarIdSet, writeGraphFile } from './graph-index-files.js';
import { MAX_DIMENSION, checkAddIds, checkAddInput, checkMetric, checkRemoveIds, checkSearchInput, exclusionSet, maxSearchK, paddedResult } from './index-input.js';
import { SIDECAR_FILE, readSidecar, sha256Hex, writeSidecar, type IndexSidecar, type LoadIndexOptions } from './sidecar.js';
import { coreCount, createNativeIndex, type UsearchBatchMatches, type UsearchMatches, type UsearchMetricName, type UsearchNativeIndex } from './usearch-binding.js';
import { USEARCH_SCALARS, parseUsearchLayout, reviveRemovedSlots, validateUsearchFile } from './usearch-file.js';

/** Sidecar `kind` of a saved {@link UsearchIndex}. */
export const USEARCH_INDEX_KIND = 'genrec.usearch-index';
const USEARCH_FORMAT_VERSION = 1;
const USEARCH_DATA_FILE = 'index.usearch';

/** How a {@link UsearchIndex} stores its vectors (usearch's `ScalarKind`). */
export type UsearchQuantization = 'f32' | 'f16' | 'bf16' | 'i8';

const QUANTIZATIONS: readonly UsearchQuantization[] = ['f32', 'f16', 'bf16', 'i8'];
const METRIC_NAMES: Readonly<Record<VectorMetric, UsearchMetricName>> = { ip: 'ip', cosine: 'cos', l2: 'l2sq' };
/**
 * Largest `ef` / `efConstruction` an index is built with: usearch reserves its candidate buffers
 * for `max(ef, wanted)` entries up front, on every search. A per-call `ef` is not bounded by this;
 * it is capped at the index size, where the graph search is already exhaustive.
 */
const MAX_EXPANSION = 1 << 16;
const MAX_THREADS = 256;
/** Views kept for per-call `ef` values (each a memory-mapped snapshot; dropped on every write). */
const MAX_VIEWS = 4;
/** Most result entries (u64 key + f32 distance) one native call may produce: 2^22, 48 MiB. */
const NATIVE_BLOCK_ENTRIES = 1 << 22;
/** Largest finite value of each half-precision type: larger floats would be stored as infinity. */
const RANGE: Readonly<Partial<Record<UsearchQuantization, number>>> = { f16: 65504, bf16: 3.3895313892515355e38 };
const LITTLE_ENDIAN = endianness() === 'LE';

/** Options of {@link UsearchIndex}. */
export interface UsearchIndexOptions {
  /** Vector dimension (positive integer). */
  dimension: number;
  /** Similarity (usearch `ip` / `cos` / `l2sq`). @defaultValue 'ip' */
  metric?: VectorMetric;
  /** Links per node (usearch `connectivity`, hnswlib's `M`; level 0 keeps 2·M). @defaultValue 16 */
  m?: number;
  /** Candidate list size while inserting (usearch `expansion_add`). At most 65,536. @defaultValue 200 */
  efConstruction?: number;
  /**
   * Default candidate list size while searching (usearch `expansion_search`; a search uses
   * `max(ef, k)`). At most 65,536. `search(…, { ef })` or the `ef` property may ask for another: see
   * {@link UsearchIndex} for what that costs. @defaultValue 64
   */
  ef?: number;
  /**
   * How vectors are stored: `'f32'`, `'f16'` (IEEE half, |values| ≤ 65,504), `'bf16'`, or `'i8'`
   * (`'cosine'` only: usearch scales each vector to unit length and 127 before rounding, which keeps
   * only its direction). Queries are converted the same way and distances are computed on the
   * stored values, so with anything but `'f32'` scores are approximate. @defaultValue 'f32'
   */
  quantization?: UsearchQuantization;
  /** Native threads of one batched `search` (queries are split between them). @defaultValue 1 */
  threads?: number;
  /**
   * Native threads of one `add`. Above 1 the graph depends on thread timing (not reproducible);
   * at 1 the same inserts in the same order give the same graph. @defaultValue 1
   */
  addThreads?: number;
}

/** Options of {@link UsearchIndex.search}: the contract's, plus the thread count of this call. */
export interface UsearchSearchOptions extends VectorSearchOptions {
  /** Native threads for this call (default: the index's `threads`). */
  threads?: number;
}

/** Options of {@link loadUsearchIndex}: the expectations of every loader, plus the thread counts. */
export interface LoadUsearchIndexOptions extends LoadIndexOptions {
  /** Search threads of the loaded index. @defaultValue 1 */
  threads?: number;
  /** Insert threads of the loaded index. @defaultValue 1 */
  addThreads?: number;
}

/** The sidecar of a saved {@link UsearchIndex}: the common fields plus the storage type. */
interface UsearchSidecar extends IndexSidecar {
  quantization: UsearchQuantization;
}

/** A search target: the index itself or a view built for another `ef`, and its search contexts. */
interface Searcher {
  native: UsearchNativeIndex;
  contexts: number;
}

/**
 * Approximate nearest-neighbour search with usearch's HNSW graph (the npm package `usearch`),
 * optionally on quantized vectors (`f16`, `bf16`, or `i8` for cosine).
 *
 * Item ids are usearch's keys. `remove` is usearch's `remove` (the node stays in the graph as a
 * bridge, and a later `add` reuses its slot). Capacity grows by usearch's own reservation.
 *
 * **Search.** A batched `search` is one native call for the whole block of queries (split among
 * `threads` native threads; blocks of at most 2^22 result entries). usearch has no filtered search
 * in its JavaScript binding, so exclusions and filters are applied to the candidates it returns:
 * each query asks for `k + |excluded ∩ index|` candidates (`k` with only a filter), and a query left
 * short is searched again, with twice as many candidates each time, until it has `k` ids or has seen
 * the whole index (`wanted` = size, which makes the graph search visit every node it can reach).
 * It never returns fewer ids than the graph can reach; rows are padded with -1 / -Infinity.
 *
 * **`ef`.** usearch fixes `expansion_search` when a native index is created; its binding has no
 * setter. The index is built with the `ef` option. A search with another `ef` (the `ef` option of
 * `search`, or the `ef` property set to another value) runs on a *view*: the graph is saved to a
 * private temporary file, memory-mapped by a second native index created with that
 * `expansion_search`, and the file is unlinked at once (the mapping stays valid; a graph with
 * removed slots is loaded into memory instead, see `reviveRemovedSlots`). Views are kept for
 * up to 4 `ef` values and dropped on every write; an `ef` at or above the size is capped at the size
 * (the search is exhaustive there already). The first search with a new `ef` after a write pays for
 * one native save of the graph (disk write + mmap).
 *
 * **Scores** are on the contract's scale: `'ip'` and `'cosine'` report `1 - distance` = the (cosine)
 * inner product usearch computed in float32 (a zero query scores 0 against everything under
 * `'cosine'`), `'l2'` minus the squared distance. With `quantization` other than `'f32'` they are
 * computed on the stored (rounded) vectors and are approximate.
 *
 * **Writes** apply in full before `add` / `remove` return (the promise is already settled), on the
 * calling thread: `size`, `has` and `search` see them at once, writes apply in call order, and a
 * write rejected for its input leaves the index unchanged. usearch failing midway through an `add`
 * after the checks (`RUNTIME_ERROR`, e.g. out of memory) leaves the rows it inserted added, and an id
 * being replaced by that `add` may be left removed; `has` and `size` say which.
 *
 * **Threads.** usearch keeps one search context per thread. The index reserves
 * `max(threads, addThreads, cores)` of them whenever it grows; a loaded index starts with one per
 * core. A call asking for more threads than there are contexts runs on as many threads as contexts.
 *
 * @example
 * ```ts
 * const index = new UsearchIndex({ dimension: 64, metric: 'cosine', m: 16, efConstruction: 200, quantization: 'f16' });
 * await index.add(ids, vectors);
 * const { ids: top } = await index.search(queries, 10, { exclude: histories, threads: 2 });
 * await index.save('/tmp/items.usearch');
 * const again = await loadUsearchIndex('/tmp/items.usearch', { dimension: 64 });
 * ```
 */
export class UsearchIndex implements VectorIndex {
  /** Implementation name written into the sidecar's `implementation` field. */
  readonly kind = 'usearch';
  readonly metric: VectorMetric;
  readonly dimension: number;
  /** Links per node. */
  readonly m: number;
  /** Candidate list size while inserting. */
  readonly efConstruction: number;
  /** How vectors are stored. */
  readonly quantization: UsearchQuantization;
  /** Native threads of one `add`. */
  readonly addThreads: number;
  private searchThreads: number;
  private defaultEf: number;
  /** `expansion_search` of {@link UsearchIndex.native} (fixed when it was created). */
  private readonly nativeEf: number;
  private readonly native: UsearchNativeIndex;
  private readonly members = new Set<number>();
  /** Search contexts the native index holds (0 before its first reservation). */
  private contexts = 0;
  /** Native views for other `ef` values, by effective `ef` (insertion order = least recently used first). */
  private readonly views = new Map<number, UsearchNativeIndex>();

  /**
   * @throws GenrecError `INVALID_OPTION` for a bad or unknown option, or a quantization the metric
   * does not support (`'i8'` with `'ip'` or `'l2'`).
   */
  constructor(options: UsearchIndexOptions) {
    checkKnownOptions(options, ['dimension', 'metric', 'm', 'efConstruction', 'ef', 'quantization', 'threads', 'addThreads'], 'UsearchIndex');
    this.dimension = checkIntegerOption(options?.dimension, 'dimension', 1, MAX_DIMENSION);
    this.metric = checkMetric(options.metric ?? 'ip');
    this.m = checkIntegerOption(options.m ?? 16, 'm', 2, 1024);
    this.efConstruction = checkIntegerOption(options.efConstruction ?? 200, 'efConstruction', 1, MAX_EXPANSION);
    this.defaultEf = checkIntegerOption(options.ef ?? 64, 'ef', 1, MAX_EXPANSION);
    this.nativeEf = this.defaultEf;
    this.quantization = checkEnumOption(options.quantization ?? 'f32', 'quantization', QUANTIZATIONS);
    if (this.quantization === 'i8' && this.metric !== 'cosine') {
      throw new GenrecError(
        'INVALID_OPTION',
        `quantization 'i8' needs metric 'cosine', got '${this.metric}': usearch scales every vector to unit length before rounding to int8, so inner products and distances lose the vector norms (use 'f16' or 'bf16')`,
        { details: { field: 'quantization' } },
      );
    }
    this.searchThreads = checkIntegerOption(options.threads ?? 1, 'threads', 1, MAX_THREADS);
    this.addThreads = checkIntegerOption(options.addThreads ?? 1, 'addThreads', 1, MAX_THREADS);
    this.native = this.createNative(this.nativeEf);
  }

  /** Number of vectors in the index (removed ones not counted). */
  get size(): number {
    return this.members.size;
  }

  /**
   * The largest `k` a search accepts: the index size, or 1,024 when that is larger (rows beyond
   * the stored vectors are padded with -1). A larger `k` is `INVALID_OPTION`, never clamped.
   */
  get maxK(): number {
    return maxSearchK(this.size);
  }

  /** Nodes the native graph can hold before it grows. */
  get capacity(): number {
    return this.native.capacity();
  }

  /** The default search breadth (`ef`). */
  get ef(): number {
    return this.defaultEf;
  }

  /**
   * Sets the default search breadth. A value other than the `ef` the index was built (or loaded)
   * with is served by a view (see the class notes).
   *
   * @throws GenrecError `INVALID_OPTION` unless an integer in 1..65,536.
   */
  set ef(value: number) {
    this.defaultEf = checkIntegerOption(value, 'ef', 1, MAX_EXPANSION);
  }

  /**
   * Search contexts the native index holds: a search runs on at most this many threads. Growth
   * reserves `max(threads, addThreads, cores)`; a loaded index starts with one per core.
   */
  get searchContexts(): number {
    return this.contexts;
  }

  /** Native threads of one batched `search`. */
  get threads(): number {
    return this.searchThreads;
  }

  /**
   * Sets the native threads of later searches.
   *
   * @throws GenrecError `INVALID_OPTION` unless an integer in 1..256.
   */
  set threads(value: number) {
    this.searchThreads = checkIntegerOption(value, 'threads', 1, MAX_THREADS);
  }

  /**
   * Estimated bytes of the native index: per reserved slot the vector and node pointers and the
   * key lookup (about 40 bytes), per stored vector its bytes in the storage type and its node
   * (key, level, 2·M level-0 links, on average 1/(M − 1) upper levels of M links).
   */
  get memoryBytes(): number {
    const vectorBytes = this.dimension * USEARCH_SCALARS[this.quantization].bytes;
    const node = 10 + 4 + 8 * this.m + (4 + 4 * this.m) / (this.m - 1);
    return this.capacity * 40 + this.size * (vectorBytes + node);
  }

  /** True when `id` is in the index. */
  has(id: number): boolean {
    return this.members.has(id);
  }

  /**
   * Adds vectors; with `replace`, an id already present gets its new vector (usearch removes the
   * old node and inserts the new vector into the freed slot), and an id repeated in the call keeps
   * its last row. All ids and values are checked before anything changes; the inserts run before
   * the call returns (the promise is already settled).
   *
   * @returns a promise that resolves once the rows are in the graph.
   * @throws GenrecError, as a rejection with the index unchanged: `DUPLICATE_ID` for an id already
   * present (or repeated) unless `replace`, `SHAPE_MISMATCH` for a wrong dimension, `INVALID_INPUT`
   * for NaN/infinite values, values outside the storage type's range (`f16`: |x| > 65,504) or bad
   * ids; `RUNTIME_ERROR` when usearch fails to insert (rows it inserted stay, see the class notes).
   */
  async add(ids: ArrayLike<number>, vectors: Matrix | Float32Array, options: VectorAddOptions = {}): Promise<void> {
    const data = checkAddInput(ids, vectors, this.dimension);
    this.checkRange(data, 'vectors');
    checkAddIds(ids, (id) => this.members.has(id), options.replace ?? false);
    // id -> its last row (Map order: first occurrence)
    const rowOf = new Map<number, number>();
    for (let i = 0; i < ids.length; i++) rowOf.set(ids[i]!, i);
    if (rowOf.size === 0) return;
    const { dimension } = this;
    const keys = new BigUint64Array(rowOf.size);
    // every id once: the rows in call order as given (usearch copies them); else the last row of each
    const distinct = rowOf.size === ids.length;
    const rows = distinct ? data.subarray(0, ids.length * dimension) : new Float32Array(rowOf.size * dimension);
    const replaced: bigint[] = [];
    let position = 0;
    for (const [id, row] of rowOf) {
      keys[position] = BigInt(id);
      if (!distinct) rows.set(data.subarray(row * dimension, (row + 1) * dimension), position * dimension);
      if (this.members.has(id)) replaced.push(BigInt(id));
      position++;
    }
    this.views.clear();
    try {
      if (replaced.length > 0) this.native.remove(BigUint64Array.from(replaced));
      this.insert(keys, rows);
    } catch (error) {
      // bring the id set in line with what usearch holds now
      const present = this.native.contains(keys);
      for (let i = 0; i < keys.length; i++) {
        if (present[i]) this.members.add(Number(keys[i]));
        else this.members.delete(Number(keys[i]));
      }
      throw new GenrecError('RUNTIME_ERROR', `usearch could not add ${keys.length} vectors: ${(error as Error).message}`, { cause: error });
    }
    for (const id of rowOf.keys()) this.members.add(id);
  }

  /**
   * Inserts rows, growing the graph so that it always holds `max(threads, addThreads, cores)`
   * search contexts: usearch reserves capacity (and contexts, one per thread of the call) only when
   * an `add` would not fit, so the rows that make it grow go in one at a time with that many
   * threads, and the rest in chunks that fit with `addThreads` threads.
   */
  private insert(keys: BigUint64Array, rows: Float32Array): void {
    const { dimension, native } = this;
    const target = Math.max(this.searchThreads, this.addThreads, coreCount());
    let offset = 0;
    while (offset < keys.length) {
      // usearch reserves when size + rows >= capacity
      const room = native.capacity() - native.size() - 1;
      if (room >= 1 && this.contexts >= 1) {
        const count = Math.min(room, keys.length - offset);
        native.add(keys.subarray(offset, offset + count), rows.subarray(offset * dimension, (offset + count) * dimension), Math.min(this.addThreads, this.contexts));
        offset += count;
      } else {
        native.add(keys.subarray(offset, offset + 1), rows.subarray(offset * dimension, (offset + 1) * dimension), target);
        this.contexts = target;
        offset++;
      }
    }
  }

  /**
   * Removes ids (usearch `remove`: the node stays as a bridge and its slot is reused by later adds).
   * A repeated id is removed once. Applied before the call returns.
   *
   * @returns a promise that resolves once the ids are gone.
   * @throws GenrecError, as a rejection with the index unchanged: `UNKNOWN_ID` for an id not in the
   * index (nothing is removed then), `INVALID_INPUT` for a negative or non-integer id.
   */
  async remove(ids: ArrayLike<number>): Promise<void> {
    checkRemoveIds(ids, (id) => this.members.has(id));
    const unique = new Set<number>();
    for (let i = 0; i < ids.length; i++) unique.add(ids[i]!);
    if (unique.size === 0) return;
    this.views.clear();
    const keys = BigUint64Array.from(unique, (id) => BigInt(id));
    let removed: number[];
    try {
      removed = this.native.remove(keys);
    } catch (error) {
      const present = this.native.contains(keys);
      for (let i = 0; i < keys.length; i++) if (!present[i]) this.members.delete(Number(keys[i]));
      throw new GenrecError('RUNTIME_ERROR', `usearch could not remove ${keys.length} ids: ${(error as Error).message}`, { cause: error });
    }
    for (const id of unique) this.members.delete(id);
    if (removed.some((count) => count !== 1)) throw new GenrecError('RUNTIME_ERROR', 'usearch removed a different number of vectors than the index held');
  }

  /**
   * The approximate `k` best ids per query, best first, padded with -1 / -Infinity: one native call
   * per block of queries (on `threads` native threads), repeated for the queries that exclusions or
   * a filter left short (see the class notes).
   *
   * @param k - results per query, 1..{@link UsearchIndex.maxK}; checked before anything is allocated.
   * @param options - `ef` (another breadth for this call: served by a view), `threads`, `exclude`
   * and `filter` (both honoured exactly; `filter` runs in JavaScript on the candidates).
   * @throws GenrecError `SHAPE_MISMATCH` for a wrong width or exclude length, `INVALID_INPUT` for
   * non-finite queries or values outside the storage type's range, `INVALID_OPTION` for a bad `k`,
   * `ef` or `threads`, `RUNTIME_ERROR` when usearch fails; whatever the `filter` callback throws.
   */
  async search(queries: Matrix | Float32Array, k: number, options: UsearchSearchOptions = {}): Promise<VectorSearchResult> {
    return this.searchSync(queries, k, options);
  }

  /** {@link UsearchIndex.search} without the promise (usearch searches synchronously). */
  searchSync(queries: Matrix | Float32Array, k: number, options: UsearchSearchOptions = {}): VectorSearchResult {
    const { data, queryCount } = checkSearchInput(queries, k, options, this.dimension, this.size);
    const threads = options.threads === undefined ? this.searchThreads : checkIntegerOption(options.threads, 'threads', 1, MAX_THREADS);
    this.checkRange(data, 'queries');
    const result = paddedResult(queryCount, k);
    const size = this.size;
    if (size === 0 || queryCount === 0) return result;
    const { dimension, members } = this;
    const searcher = this.searcher(options.ef ?? this.defaultEf);
    const filter = options.filter;
    const excluded: (ReadonlySet<number> | undefined)[] = new Array(queryCount);
    /** Per query: how many ids exist for it when only exclusions apply (a filter: k). */
    const expected = new Int32Array(queryCount);
    const wanted = new Int32Array(queryCount);
    for (let q = 0; q < queryCount; q++) {
      const set = options.exclude === undefined ? undefined : exclusionSet(options.exclude[q]);
      excluded[q] = set;
      let present = 0;
      if (set !== undefined) for (const id of set) if (members.has(id)) present++;
      expected[q] = filter === undefined ? Math.min(k, size - present) : Math.min(k, size);
      wanted[q] = Math.min(size, k + present);
    }
    const zeroQuery = this.metric === 'cosine' ? zeroRows(data, queryCount, dimension) : undefined;
    const l2 = this.metric === 'l2';
    let pending = Int32Array.from({ length: queryCount }, (_, q) => q);
    while (pending.length > 0) {
      const short: number[] = [];
      // queries asking for the same number of candidates share native calls
      const groups = new Map<number, number[]>();
      for (const q of pending) {
        const group = groups.get(wanted[q]!);
        if (group === undefined) groups.set(wanted[q]!, [q]);
        else group.push(q);
      }
      for (const [count, group] of groups) {
        const block = Math.max(1, Math.floor(NATIVE_BLOCK_ENTRIES / count));
        for (let start = 0; start < group.length; start += block) {
          const batch = group.slice(start, start + block);
          const answer = this.nativeSearch(searcher, gatherRows(data, batch, dimension, queryCount), count, threads, batch.length);
          for (let b = 0; b < batch.length; b++) {
            const q = batch[b]!;
            const out = q * k;
            const found = answer.counts[b]!;
            const offset = b * answer.stride;
            const skip = excluded[q];
            let written = 0;
            for (let j = 0; j < found && written < k; j++) {
              const id = answer.id(offset + j);
              if (skip !== undefined && skip.has(id)) continue;
              if (filter !== undefined && !filter(id)) continue;
              const distance = answer.distances[offset + j]!;
              result.ids[out + written] = id;
              result.scores[out + written] = zeroQuery?.[q] ? 0 : l2 ? -distance : 1 - distance;
              written++;
            }
            if (written < expected[q]! && count < size) {
              // left short by exclusions or the filter: ask again for more candidates
              result.ids.fill(-1, out, out + k);
              result.scores.fill(Number.NEGATIVE_INFINITY, out, out + k);
              wanted[q] = Math.min(size, 2 * count);
              short.push(q);
            }
          }
        }
      }
      pending = Int32Array.from(short);
    }
    return result;
  }

  /** One native search of `rows` queries for `count` candidates each. */
  private nativeSearch(
    searcher: Searcher,
    queries: Float32Array,
    count: number,
    threads: number,
    rows: number,
  ): { counts: ArrayLike<number>; distances: Float32Array; stride: number; id: (entry: number) => number } {
    let answer: UsearchBatchMatches | UsearchMatches;
    try {
      answer = searcher.native.search(queries, count, Math.max(1, Math.min(threads, searcher.contexts)));
    } catch (error) {
      throw new GenrecError('RUNTIME_ERROR', `usearch could not search: ${(error as Error).message}`, { cause: error });
    }
    const keys = answer.keys;
    // keys are below 2^31: the low 32-bit word of each little-endian u64 is the id
    const words = LITTLE_ENDIAN ? new Uint32Array(keys.buffer, keys.byteOffset, keys.length * 2) : undefined;
    const id = words === undefined ? (entry: number) => Number(keys[entry]!) : (entry: number) => words[2 * entry]!;
    if ('counts' in answer) {
      return { counts: Float64Array.from(answer.counts, Number), distances: answer.distances, stride: count, id };
    }
    // a block of one query answers only its valid entries
    if (rows !== 1) throw new GenrecError('RUNTIME_ERROR', `usearch answered one query for a block of ${rows}`);
    return { counts: [keys.length], distances: answer.distances, stride: count, id };
  }

  /** The native index to search with breadth `ef`: the index itself, or a view (see the class notes). */
  private searcher(ef: number): Searcher {
    const size = Math.max(1, this.size);
    const effective = Math.min(ef, size);
    if (effective === Math.min(this.nativeEf, size)) return { native: this.native, contexts: this.contexts };
    let view = this.views.get(effective);
    if (view !== undefined) {
      this.views.delete(effective); // most recently used last
    } else {
      if (this.views.size >= MAX_VIEWS) this.views.delete(this.views.keys().next().value!);
      const scratch = mkdtempSync(join(tmpdir(), 'genrec-usearch-view-'));
      try {
        const snapshot = join(scratch, 'snapshot.usearch');
        this.native.save(snapshot);
        view = this.createNative(effective);
        const bytes = readBytes(snapshot);
        const revived = reviveRemovedSlots(bytes, parseUsearchLayout(bytes, snapshot));
        if (revived.placeholders.length === 0) {
          view.view(snapshot); // memory-mapped, nothing copied
        } else {
          // removed slots: usearch's view would overflow its slot table (see reviveRemovedSlots), and a
          // view cannot remove the placeholders again, so these graphs are loaded (a copy in memory)
          writeFileSync(snapshot, revived.bytes);
          view.load(snapshot);
          view.remove(revived.placeholders);
        }
      } catch (error) {
        throw new GenrecError('RUNTIME_ERROR', `usearch could not build a view for ef ${effective}: ${(error as Error).message}`, { cause: error });
      } finally {
        // the mapping outlives the file's name (POSIX): nothing is left behind on disk
        rmSync(scratch, { recursive: true, force: true });
      }
    }
    this.views.set(effective, view);
    return { native: view, contexts: coreCount() };
  }

  private createNative(expansionSearch: number): UsearchNativeIndex {
    try {
      return createNativeIndex({
        dimensions: this.dimension,
        metric: METRIC_NAMES[this.metric],
        quantization: this.quantization,
        connectivity: this.m,
        expansion_add: this.efConstruction,
        expansion_search: expansionSearch,
        multi: false,
      });
    } catch (error) {
      throw new GenrecError('RUNTIME_ERROR', `usearch could not create an index: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Half-precision storage: values beyond the type's range would be stored as infinity. */
  private checkRange(data: Float32Array, field: string): void {
    const limit = RANGE[this.quantization];
    if (limit === undefined) return;
    for (let i = 0; i < data.length; i++) {
      const value = data[i]!;
      if (value > limit || value < -limit) {
        const row = Math.floor(i / this.dimension);
        throw new GenrecError('INVALID_INPUT', `${field} has the value ${value} at row ${row}, column ${i - row * this.dimension}, outside the ${this.quantization} range ±${limit}`, {
          details: { field, row },
        });
      }
    }
  }

  /**
   * Saves the index as a folder: `index.usearch` (usearch's own file) plus the `index.json` sidecar
   * (format version, metric, dimension, quantization, parameters, the slot -> id map read back from
   * the written file, and the SHA-256 of `index.usearch`). Atomic: a failure leaves any previous
   * folder at `path` as it was.
   *
   * @throws GenrecError `IO_ERROR` when writing fails; `RUNTIME_ERROR` when the written file does not
   * hold exactly the index's ids.
   */
  async save(path: string): Promise<void> {
    await writeArtifactDirectory(path, (directory) => {
      const file = writeGraphFile(path, directory, USEARCH_DATA_FILE, 'usearch', (target) => this.native.save(target));
      const bytes = readBytes(file);
      const ids = Array.from(parseUsearchLayout(bytes, file).ids);
      let present = 0;
      for (const id of ids) {
        if (id < 0) continue;
        if (!this.members.has(id)) throw new GenrecError('RUNTIME_ERROR', `usearch wrote id ${id}, which the index does not hold`, { details: { file } });
        present++;
      }
      if (present !== this.size) throw new GenrecError('RUNTIME_ERROR', `usearch wrote ${present} ids, the index holds ${this.size}`, { details: { file } });
      const sidecar: UsearchSidecar = {
        kind: USEARCH_INDEX_KIND,
        formatVersion: USEARCH_FORMAT_VERSION,
        implementation: this.kind,
        metric: this.metric,
        dimension: this.dimension,
        size: this.size,
        quantization: this.quantization,
        parameters: { m: this.m, efConstruction: this.efConstruction, ef: this.defaultEf },
        ids,
        data: { file: USEARCH_DATA_FILE, bytes: bytes.byteLength, sha256: sha256Hex(bytes) },
      };
      writeSidecar(directory, sidecar);
    });
  }

  /**
   * Loads an index saved by {@link UsearchIndex.save}. Before usearch sees anything: the folder's
   * checksum list covers the sidecar and `index.usearch`, whose size and SHA-256 must also match
   * the sidecar; the sidecar's parameters, quantization and slot -> id map are checked; and
   * `index.usearch` is validated against usearch's file layout in JavaScript (`validateUsearchFile`:
   * head, dimension, metric, storage type, counts, levels, links, entry point, keys, finite values),
   * because usearch's native loader trusts the file. The verified bytes are then written to a
   * private temporary file and loaded from there, so the native loader reads exactly the bytes that
   * were checked.
   *
   * @throws GenrecError `NOT_FOUND`, `FORMAT_VERSION`, `CORRUPT_ARTIFACT` (checksum mismatch, a file
   * from another save, a layout or id map that disagrees with the sidecar), `SHAPE_MISMATCH` /
   * `INVALID_INPUT` when `options.dimension` / `options.metric` differ from the saved ones,
   * `INVALID_OPTION` for bad thread counts.
   */
  static async load(path: string, options: LoadUsearchIndexOptions = {}): Promise<UsearchIndex> {
    checkKnownOptions(options, ['dimension', 'metric', 'threads', 'addThreads'], 'loadUsearchIndex');
    const artifact = openArtifactDirectory(path);
    const { sidecar: common, bytes, dataPath } = readSidecar(artifact, USEARCH_INDEX_KIND, [USEARCH_FORMAT_VERSION], options);
    const sidecar = common as UsearchSidecar;
    const corrupt = sidecarCorruption(join(artifact.directory, SIDECAR_FILE));
    if (sidecar.data.file !== USEARCH_DATA_FILE) throw corrupt(`the sidecar names data file ${sidecar.data.file}, expected ${USEARCH_DATA_FILE}`);
    if (!QUANTIZATIONS.includes(sidecar.quantization)) throw corrupt(`the sidecar's quantization ${String(sidecar.quantization)} is not one of ${QUANTIZATIONS.join(', ')}`);
    if (sidecar.quantization === 'i8' && sidecar.metric !== 'cosine') throw corrupt(`the sidecar pairs quantization i8 with metric ${sidecar.metric}`);
    const parameters = sidecar.parameters;
    checkSidecarParameters(parameters, { m: [2, 1024], efConstruction: [1, MAX_EXPANSION], ef: [1, MAX_EXPANSION] }, corrupt);
    const seen = sidecarIdSet(sidecar, corrupt);
    // usearch's loader trusts its file: check the layout here, or a bad link segfaults a later search
    validateUsearchFile(bytes, dataPath, { dimension: sidecar.dimension, metric: sidecar.metric, quantization: sidecar.quantization, m: parameters.m!, ids: sidecar.ids });
    const index = new UsearchIndex({
      dimension: sidecar.dimension,
      metric: sidecar.metric,
      m: parameters.m!,
      efConstruction: parameters.efConstruction!,
      ef: parameters.ef!,
      quantization: sidecar.quantization,
      ...(options.threads === undefined ? {} : { threads: options.threads }),
      ...(options.addThreads === undefined ? {} : { addThreads: options.addThreads }),
    });
    const scratch = mkdtempSync(join(tmpdir(), 'genrec-usearch-load-'));
    try {
      const copy = join(scratch, USEARCH_DATA_FILE);
      // removed slots are loaded as placeholders and removed again (usearch's load would overflow its slot table)
      const revived = reviveRemovedSlots(bytes, parseUsearchLayout(bytes, dataPath));
      writeFileSync(copy, revived.bytes);
      index.native.load(copy);
      if (revived.placeholders.length > 0) index.native.remove(revived.placeholders);
    } catch (error) {
      throw corrupt(`usearch could not load ${dataPath}: ${(error as Error).message}`, error);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
    // usearch reserves one search context per core when it loads
    index.contexts = coreCount();
    if (index.native.size() !== sidecar.size || index.native.dimensions() !== sidecar.dimension || index.native.connectivity() !== parameters.m) {
      throw corrupt(`${USEARCH_DATA_FILE} loaded as ${index.native.size()} vectors of dimension ${index.native.dimensions()} (M ${index.native.connectivity()}), the sidecar says ${sidecar.size} of ${sidecar.dimension} (M ${parameters.m})`);
    }
    const keys = BigUint64Array.from(seen, (id) => BigInt(id));
    if (keys.length > 0 && index.native.contains(keys).some((present) => !present)) throw corrupt(`${USEARCH_DATA_FILE} does not hold every id of the sidecar`);
    for (const id of seen) index.members.add(id);
    return index;
  }
}

/**
 * Loads a {@link UsearchIndex} saved with `save` (see {@link UsearchIndex.load}).
 *
 * @example
 * ```ts
 * const index = await loadUsearchIndex('/tmp/items.usearch', { dimension: 64, metric: 'cosine', threads: 2 });
 * ```
 */
export function loadUsearchIndex(path: string, options: LoadUsearchIndexOptions = {}): Promise<UsearchIndex> {
  return UsearchIndex.load(path, options);
}

/** Per row: true when every value is 0 (a cosine query without a direction). */
function zeroRows(data: Float32Array, rows: number, dimension: number): Uint8Array | undefined {
  let flags: Uint8Array | undefined;
  for (let r = 0; r < rows; r++) {
    let zero = true;
    for (let c = 0; c < dimension && zero; c++) zero = data[r * dimension + c] === 0;
    if (zero) (flags ??= new Uint8Array(rows))[r] = 1;
  }
  return flags;
}

/** The rows `batch` of `data` as one contiguous block (no copy when they are already one). */
function gatherRows(data: Float32Array, batch: readonly number[], dimension: number, queryCount: number): Float32Array {
  const first = batch[0]!;
  let contiguous = true;
  for (let i = 1; i < batch.length && contiguous; i++) contiguous = batch[i] === first + i;
  if (contiguous) return batch.length === queryCount ? data.subarray(0, queryCount * dimension) : data.subarray(first * dimension, (first + batch.length) * dimension);
  const block = new Float32Array(batch.length * dimension);
  for (let i = 0; i < batch.length; i++) block.set(data.subarray(batch[i]! * dimension, (batch[i]! + 1) * dimension), i * dimension);
  return block;
}
