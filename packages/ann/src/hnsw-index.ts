import { join } from 'node:path';
import hnswlib from 'hnswlib-node';
import {
  GenrecError,
  checkIntegerOption,
  openArtifactDirectory,
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
import { validateHnswFile } from './hnsw-file.js';
import { SIDECAR_FILE, describeDataFile, readSidecar, writeSidecar, type IndexSidecar, type LoadIndexOptions } from './sidecar.js';

/** Sidecar `kind` of a saved {@link HnswIndex}. */
export const HNSW_INDEX_KIND = 'genrec.hnsw-index';
const HNSW_FORMAT_VERSION = 1;
const HNSW_DATA_FILE = 'index.hnsw';
/** hnswlib-node takes labels as uint32; the label count is bounded by the id range anyway. */
const MAX_CAPACITY = 0x7fffffff;

/** Options of {@link HnswIndex}. */
export interface HnswIndexOptions {
  /** Vector dimension (positive integer). */
  dimension: number;
  /** Similarity. @defaultValue 'ip' */
  metric?: VectorMetric;
  /** Links per node (hnswlib `M`; level 0 keeps 2·M). @defaultValue 16 */
  m?: number;
  /** Candidate list size while inserting (hnswlib `ef_construction`). @defaultValue 200 */
  efConstruction?: number;
  /** Default candidate list size while searching (hnswlib `ef`; a search uses `max(ef, k)`); `search` may override it. @defaultValue 64 */
  ef?: number;
  /** Elements allocated up front; the index doubles its capacity when full. @defaultValue 1024 */
  initialCapacity?: number;
  /** Seed of hnswlib's level generator (the same seed and insertion order give the same graph). @defaultValue 100 */
  seed?: number;
}

/**
 * Approximate nearest-neighbour search with a hierarchical navigable small-world graph
 * (`hnswlib-node`, one query at a time on the calling thread).
 *
 * Item ids are mapped to dense hnswlib labels; `remove` marks the label deleted (hnswlib
 * `markDelete`) and a later `add` of a new id reuses the deleted slot, so capacity does not leak.
 * Capacity grows by doubling (`resizeIndex`). Exclusion sets ask hnswlib for `k + |excluded ∩ index|`
 * results and drop the excluded ids (falling back to a filtered graph search when too few remain);
 * a filter predicate is evaluated inside hnswlib's search, so the search keeps going until it has
 * `k` accepted ids (or exhausts its candidate list).
 *
 * Scores: `'ip'` and `'cosine'` report `1 - distance` = the (cosine) inner product as hnswlib
 * computed it in float32, `'l2'` reports minus hnswlib's squared distance.
 *
 * Writes: `add` and `remove` return promises, as the `VectorIndex` contract says, but apply the
 * whole write (checks first, then hnswlib's inserts or deletion marks) before they return, on the
 * calling thread: `size`, `has` and `search` see it at once, writes apply in call order, and a
 * write rejected for its input leaves the index unchanged. hnswlib failing midway through an `add`
 * after the checks (`RUNTIME_ERROR`, e.g. out of memory) leaves the rows before the failing one added.
 *
 * @example
 * ```ts
 * const index = new HnswIndex({ dimension: 64, metric: 'ip', m: 16, efConstruction: 200 });
 * await index.add(ids, vectors);
 * const { ids: top } = await index.search(queries, 10, { ef: 128, exclude: histories });
 * await index.save('/tmp/items.hnsw');
 * const again = await loadHnswIndex('/tmp/items.hnsw', { dimension: 64 });
 * ```
 */
export class HnswIndex implements VectorIndex {
  /** Implementation name written into the sidecar's `implementation` field. */
  readonly kind = 'hnsw';
  readonly metric: VectorMetric;
  readonly dimension: number;
  /** Links per node. */
  readonly m: number;
  /** Candidate list size while inserting. */
  readonly efConstruction: number;
  /** Seed of the level generator. */
  readonly seed: number;
  private defaultEf: number;
  private readonly graph: hnswlib.HierarchicalNSW;
  /** hnswlib label -> item id, -1 for a deleted (free) label. */
  private labelIds: Int32Array;
  /** Labels handed out so far (labels are 0 .. labelCount - 1). */
  private labelCount = 0;
  private readonly labelOf = new Map<number, number>();
  private readonly freeLabels: number[] = [];
  /** Reused conversion buffer: hnswlib-node takes plain arrays. */
  private readonly point: number[];

  /**
   * @throws GenrecError `INVALID_OPTION` for a bad option.
   */
  constructor(options: HnswIndexOptions) {
    this.dimension = checkIntegerOption(options?.dimension, 'dimension', 1, MAX_DIMENSION);
    this.metric = checkMetric(options.metric ?? 'ip');
    this.m = checkIntegerOption(options.m ?? 16, 'm', 2, 1024);
    this.efConstruction = checkIntegerOption(options.efConstruction ?? 200, 'efConstruction', 1, MAX_CAPACITY);
    this.defaultEf = checkIntegerOption(options.ef ?? 64, 'ef', 1, MAX_CAPACITY);
    this.seed = checkIntegerOption(options.seed ?? 100, 'seed', 0, 0xffffffff);
    const capacity = checkIntegerOption(options.initialCapacity ?? 1024, 'initialCapacity', 1, MAX_CAPACITY);
    this.graph = new hnswlib.HierarchicalNSW(this.metric, this.dimension);
    this.graph.initIndex({ maxElements: capacity, m: this.m, efConstruction: this.efConstruction, randomSeed: this.seed, allowReplaceDeleted: false });
    this.graph.setEf(this.defaultEf);
    this.labelIds = new Int32Array(capacity).fill(-1);
    this.point = new Array<number>(this.dimension).fill(0);
  }

  /** Number of vectors in the index (deleted ones not counted). */
  get size(): number {
    return this.labelOf.size;
  }

  /**
   * The largest `k` a search accepts: the index size, or 1,024 when that is larger (rows beyond
   * the stored vectors are padded with -1, as the `VectorIndex` contract says). A larger `k` is
   * `INVALID_OPTION` (core's `checkResultSize`), never clamped.
   */
  get maxK(): number {
    return maxSearchK(this.size);
  }

  /** Elements the graph can hold before it grows. */
  get capacity(): number {
    return this.graph.getMaxElements();
  }

  /** The default search breadth (`ef`). */
  get ef(): number {
    return this.defaultEf;
  }

  /**
   * Sets the default search breadth.
   *
   * @throws GenrecError `INVALID_OPTION` unless a positive integer.
   */
  set ef(value: number) {
    this.defaultEf = checkIntegerOption(value, 'ef', 1, MAX_CAPACITY);
    this.graph.setEf(this.defaultEf);
  }

  /**
   * Estimated bytes of the graph (hnswlib's level-0 block, upper-level links, label map), after the
   * layout of hnswlib's `HierarchicalNSW`.
   */
  get memoryBytes(): number {
    const capacity = this.capacity;
    const level0 = this.dimension * 4 + (2 * this.m + 1) * 4 + 8;
    // expected upper-level link lists per element: sum over levels of (1/M)^l ≈ 1/(M-1)
    const upper = ((this.m + 1) * 4) / (this.m - 1) + 8;
    return capacity * (level0 + upper + 4) + this.labelOf.size * 16;
  }

  /** True when `id` is in the index. */
  has(id: number): boolean {
    return this.labelOf.has(id);
  }

  /**
   * Adds vectors; with `replace`, an id already present gets its new vector (hnswlib updates the
   * node and its links). All ids are checked before anything is inserted; the inserts run before
   * the call returns (the promise is already settled).
   *
   * @returns a promise that resolves once the rows are in the graph.
   * @throws GenrecError, as a rejection with the index unchanged: `DUPLICATE_ID` for an id already
   * present (or repeated) unless `replace`, `SHAPE_MISMATCH` for a wrong dimension, `INVALID_INPUT`
   * for NaN/infinite values or bad ids; `RUNTIME_ERROR` when hnswlib fails to grow the graph (index
   * unchanged) or to insert a row (the rows before it stay added, the failing one and those after it
   * are not).
   */
  async add(ids: ArrayLike<number>, vectors: Matrix | Float32Array, options: VectorAddOptions = {}): Promise<void> {
    const data = checkAddInput(ids, vectors, this.dimension);
    const fresh = checkAddIds(ids, (id) => this.labelOf.has(id), options.replace ?? false);
    const newLabels = Math.max(0, fresh - this.freeLabels.length);
    this.reserve(this.labelCount + newLabels);
    const { point, dimension } = this;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const present = this.labelOf.get(id);
      // a free label is a deleted hnswlib element: adding it again revives and updates that slot
      const reused = present === undefined && this.freeLabels.length > 0;
      const label = present ?? this.freeLabels.pop() ?? this.labelCount++;
      const offset = i * dimension;
      for (let c = 0; c < dimension; c++) point[c] = data[offset + c]!;
      try {
        this.graph.addPoint(point, label);
      } catch (error) {
        // the id is registered only once hnswlib holds it: give a fresh label back
        if (present === undefined) {
          if (reused) this.freeLabels.push(label);
          else this.labelCount--;
        }
        throw new GenrecError('RUNTIME_ERROR', `hnswlib could not add id ${id}: ${(error as Error).message}`, { cause: error });
      }
      if (present === undefined) {
        this.labelOf.set(id, label);
        this.labelIds[label] = id;
      }
    }
  }

  /**
   * Removes ids (hnswlib `markDelete`; the slot is reused by later adds). A repeated id is removed
   * once. Applied before the call returns.
   *
   * @returns a promise that resolves once the ids are gone.
   * @throws GenrecError, as a rejection with the index unchanged: `UNKNOWN_ID` for an id not in the
   * index (nothing is removed then), `INVALID_INPUT` for a negative or non-integer id.
   */
  async remove(ids: ArrayLike<number>): Promise<void> {
    checkRemoveIds(ids, (id) => this.labelOf.has(id));
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const label = this.labelOf.get(id);
      if (label === undefined) continue;
      this.graph.markDelete(label);
      this.labelOf.delete(id);
      this.labelIds[label] = -1;
      this.freeLabels.push(label);
    }
  }

  /**
   * The approximate `k` best ids per query, best first, padded with -1 / -Infinity. Queries run one
   * after another on this thread.
   *
   * A `filter` callback runs inside hnswlib's native search. An exception there would abort the
   * process (a native fatal error that no `try/catch` sees), so the callback is wrapped: the first
   * error is kept, every later candidate is rejected so the native search winds down, and the error
   * is rethrown (as is) once hnswlib has returned.
   *
   * @param k - results per query, 1..{@link HnswIndex.maxK}; checked before anything is allocated.
   * @param options - `ef` overrides the default breadth for this call; `exclude` and `filter` are honoured exactly.
   * @throws GenrecError `SHAPE_MISMATCH` for a wrong width or exclude length, `INVALID_INPUT` for
   * non-finite queries, `INVALID_OPTION` for a bad `k` (outside 1..maxK, or `queries x k` above
   * 2^27) or `ef`; whatever the `filter` callback throws.
   */
  async search(queries: Matrix | Float32Array, k: number, options: VectorSearchOptions = {}): Promise<VectorSearchResult> {
    return this.searchSync(queries, k, options);
  }

  /** {@link HnswIndex.search} without the promise (hnswlib-node searches synchronously). */
  searchSync(queries: Matrix | Float32Array, k: number, options: VectorSearchOptions = {}): VectorSearchResult {
    const { data, queryCount } = checkSearchInput(queries, k, options, this.dimension, this.size);
    const result = paddedResult(queryCount, k);
    const size = this.size;
    if (size === 0 || queryCount === 0) return result;
    const { graph, point, dimension, labelIds } = this;
    const filter = options.filter;
    // hnswlib must never see a callback that throws: remember the error, reject the rest
    let filterError: { error: unknown } | undefined;
    const safeFilter =
      filter === undefined
        ? undefined
        : (id: number): boolean => {
            if (filterError !== undefined) return false;
            try {
              return Boolean(filter(id));
            } catch (error) {
              filterError = { error };
              return false;
            }
          };
    const searchKnn = (neighbours: number, accept: ((label: number) => boolean) | undefined): hnswlib.SearchResult => {
      const answer = graph.searchKnn(point, neighbours, accept);
      if (filterError !== undefined) throw filterError.error;
      return answer;
    };
    if (options.ef !== undefined) graph.setEf(options.ef);
    try {
      for (let q = 0; q < queryCount; q++) {
        const offset = q * dimension;
        for (let c = 0; c < dimension; c++) point[c] = data[offset + c]!;
        const excluded = options.exclude === undefined ? undefined : exclusionSet(options.exclude[q]);
        const out = q * k;
        if (safeFilter !== undefined) {
          const accept =
            excluded === undefined
              ? (label: number) => {
                  const id = labelIds[label]!;
                  return id >= 0 && safeFilter(id);
                }
              : (label: number) => {
                  const id = labelIds[label]!;
                  return id >= 0 && !excluded.has(id) && safeFilter(id);
                };
          this.collect(searchKnn(Math.min(k, size), accept), undefined, result, out, k);
          continue;
        }
        if (excluded === undefined) {
          this.collect(searchKnn(Math.min(k, size), undefined), undefined, result, out, k);
          continue;
        }
        let present = 0;
        for (const id of excluded) if (this.labelOf.has(id)) present++;
        const expected = Math.min(k, size - present);
        const written = this.collect(searchKnn(Math.min(k + present, size), undefined), excluded, result, out, k);
        if (written < expected) {
          // the graph search came back with too many excluded ids: let hnswlib skip them itself
          const accept = (label: number) => {
            const id = labelIds[label]!;
            return id >= 0 && !excluded.has(id);
          };
          result.ids.fill(-1, out, out + k);
          result.scores.fill(Number.NEGATIVE_INFINITY, out, out + k);
          this.collect(searchKnn(Math.min(k, size), accept), undefined, result, out, k);
        }
      }
    } finally {
      if (options.ef !== undefined) graph.setEf(this.defaultEf);
    }
    return result;
  }

  /** Copies one hnswlib answer into the result row, skipping excluded ids; returns how many were written. */
  private collect(answer: hnswlib.SearchResult, excluded: ReadonlySet<number> | undefined, result: VectorSearchResult, out: number, k: number): number {
    const { neighbors, distances } = answer;
    const l2 = this.metric === 'l2';
    let written = 0;
    for (let j = 0; j < neighbors.length && written < k; j++) {
      const id = this.labelIds[neighbors[j]!]!;
      if (id < 0 || (excluded !== undefined && excluded.has(id))) continue;
      result.ids[out + written] = id;
      result.scores[out + written] = l2 ? -distances[j]! : 1 - distances[j]!;
      written++;
    }
    return written;
  }

  private reserve(labels: number): void {
    const capacity = this.graph.getMaxElements();
    if (labels <= capacity) return;
    let next = capacity;
    while (next < labels) next = Math.min(MAX_CAPACITY, next * 2);
    try {
      this.graph.resizeIndex(next);
    } catch (error) {
      throw new GenrecError('RUNTIME_ERROR', `hnswlib could not grow the index to ${next} elements: ${(error as Error).message}`, { cause: error });
    }
    const labelIds = new Int32Array(next).fill(-1);
    labelIds.set(this.labelIds.subarray(0, this.labelCount));
    this.labelIds = labelIds;
  }

  /**
   * Saves the index as a folder: `index.hnsw` (hnswlib's own file) plus the `index.json` sidecar
   * (format version, metric, dimension, parameters, the label -> id map and the SHA-256 of
   * `index.hnsw`). Atomic: a failure leaves any previous folder at `path` as it was.
   *
   * @throws GenrecError `IO_ERROR` when writing fails.
   */
  async save(path: string): Promise<void> {
    const ids = Array.from(this.labelIds.subarray(0, this.labelCount));
    await writeArtifactDirectory(path, (directory) => {
      writeGraphFile(path, directory, HNSW_DATA_FILE, 'hnswlib', (file) => this.graph.writeIndexSync(file));
      const sidecar: IndexSidecar = {
        kind: HNSW_INDEX_KIND,
        formatVersion: HNSW_FORMAT_VERSION,
        implementation: this.kind,
        metric: this.metric,
        dimension: this.dimension,
        size: this.size,
        parameters: { m: this.m, efConstruction: this.efConstruction, ef: this.defaultEf, seed: this.seed, capacity: this.capacity },
        ids,
        data: describeDataFile(directory, HNSW_DATA_FILE),
      };
      writeSidecar(directory, sidecar);
    });
  }

  /**
   * Loads an index saved by {@link HnswIndex.save}. Before hnswlib sees anything: the folder's
   * checksum list covers the sidecar and `index.hnsw`; the sidecar's parameters and id map are
   * checked; and `index.hnsw` is validated against hnswlib's file layout in JavaScript (header
   * fields, sizes, element count against the file size, link counts and targets, levels, entry
   * point, labels, deleted marks; see `validateHnswFile`), because hnswlib's native loader trusts
   * the file and a bad link is a segfault at the next search, not an error.
   *
   * @throws GenrecError `NOT_FOUND`, `FORMAT_VERSION`, `CORRUPT_ARTIFACT` (checksum mismatch, a file
   * from another save, an id map that disagrees with the graph), `SHAPE_MISMATCH` when
   * `options.dimension` differs from the saved one.
   */
  static async load(path: string, options: LoadIndexOptions = {}): Promise<HnswIndex> {
    const artifact = openArtifactDirectory(path);
    const directory = artifact.directory;
    const { sidecar, bytes, dataPath } = readSidecar(artifact, HNSW_INDEX_KIND, [HNSW_FORMAT_VERSION], options);
    const corrupt = sidecarCorruption(join(directory, SIDECAR_FILE));
    if (sidecar.data.file !== HNSW_DATA_FILE) throw corrupt(`the sidecar names data file ${sidecar.data.file}, expected ${HNSW_DATA_FILE}`);
    const parameters = sidecar.parameters;
    // the bounds of the constructor's options: a sidecar value outside them is corruption
    checkSidecarParameters(parameters, { m: [2, 1024], efConstruction: [1, MAX_CAPACITY], ef: [1, MAX_CAPACITY], seed: [0, 0xffffffff], capacity: [1, MAX_CAPACITY] }, corrupt);
    const labelCount = sidecar.ids.length;
    const capacity = parameters.capacity!;
    if (labelCount > capacity) throw corrupt(`the sidecar maps ${labelCount} labels, more than the capacity ${capacity}`);
    sidecarIdSet(sidecar, corrupt); // each id once, as many as `size` (the label maps are rebuilt below)
    // hnswlib's loader trusts its file: check the layout here, or a bad link segfaults a later search
    validateHnswFile(bytes, dataPath, {
      dimension: sidecar.dimension,
      m: parameters.m!,
      efConstruction: parameters.efConstruction!,
      elementCount: labelCount,
      capacity,
      deleted: (label) => sidecar.ids[label]! < 0,
    });
    const index = new HnswIndex({
      dimension: sidecar.dimension,
      metric: sidecar.metric,
      m: parameters.m!,
      efConstruction: parameters.efConstruction!,
      ef: parameters.ef!,
      seed: parameters.seed!,
      initialCapacity: 1,
    });
    try {
      index.graph.readIndexSync(dataPath, false);
    } catch (error) {
      throw corrupt(`hnswlib could not read ${dataPath}: ${(error as Error).message}`, error);
    }
    index.graph.setEf(index.defaultEf);
    if (index.graph.getCurrentCount() !== labelCount || index.graph.getMaxElements() !== capacity) {
      throw corrupt(`${HNSW_DATA_FILE} holds ${index.graph.getCurrentCount()} of ${index.graph.getMaxElements()} elements, the sidecar says ${labelCount} of ${capacity}`);
    }
    index.labelIds = new Int32Array(capacity).fill(-1);
    for (let label = 0; label < labelCount; label++) {
      const id = sidecar.ids[label]!;
      if (id < 0) {
        index.freeLabels.push(label);
        continue;
      }
      index.labelOf.set(id, label);
      index.labelIds[label] = id;
    }
    index.labelCount = labelCount;
    return index;
  }
}

/**
 * Loads an {@link HnswIndex} saved with `save` (see {@link HnswIndex.load}).
 *
 * @example
 * ```ts
 * const index = await loadHnswIndex('/tmp/items.hnsw', { dimension: 64, metric: 'ip' });
 * ```
 */
export function loadHnswIndex(path: string, options: LoadIndexOptions = {}): Promise<HnswIndex> {
  return HnswIndex.load(path, options);
}
