import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import {
  GenrecError,
  checkBooleanOption,
  checkEnumOption,
  checkIntegerOption,
  checkKnownOptions,
  fsyncDirectory,
  type Matrix,
  type VectorAddOptions,
  type VectorIndex,
  type VectorMetric,
  type VectorSearchResult,
} from '@genrec/core';
import { MAX_DIMENSION, MAX_ITEM_ID, checkAddIds, checkAddInput, checkIdList, checkRemoveIds, exclusionSet, maxSearchK, paddedResult } from '@genrec/ann/index-input';
import { IdSet } from './id-set.js';
import { ID_COLUMN, TABLE_NAME, VECTOR_COLUMN, answerColumns, rowsTable, schemaMismatch, tableSchema } from './lance-arrow.js';
import {
  LANCE_FORMAT_VERSION,
  LANCE_INDEX_KIND,
  absolutePath,
  acquireSnapshot,
  checkIndexTarget,
  copySnapshot,
  currentSnapshot,
  isStrictlyInside,
  markInProgress,
  newSnapshotName,
  newStagingName,
  readSidecar,
  releaseSnapshot,
  removeLeftovers,
  writeSidecar,
  type ExpectedIndex,
  type LanceIndexSidecar,
  type LanceVectorIndexParameters,
} from './lance-folder.js';
import { checkLanceSearchInput, type LanceSearchOptions } from './lance-input.js';
import { distanceTypeOf, normalizeRowsInPlace, scoreFromDistance, storesUnitVectors, type LanceDistanceType } from './lance-metric.js';
import { checkSaveFault } from '@genrec/ann/index-input';

/** LanceDB's default number of IVF partitions probed per query (`nprobes`). */
export const DEFAULT_NPROBES = 20;

/**
 * Default `refineFactor` of searches once an IVF-PQ index exists (see `LanceSearchOptions`): genrec's
 * choice, not LanceDB's (which re-ranks nothing). Any value from 1 makes the scores exact; 4 also
 * re-ranks 4k PQ candidates by their full vectors, which raised recall@10 from 0.65 to 0.95 on the
 * test set (20,000 x 32, 64 partitions, 8 sub-vectors, nprobes 20).
 */
export const DEFAULT_REFINE_FACTOR = 4;

/** Default number of LanceDB queries a `search` keeps in flight. */
export const DEFAULT_SEARCH_CONCURRENCY = 4;

const METRICS: readonly VectorMetric[] = ['ip', 'cosine', 'l2'];

/** Options of {@link LanceIndex.create}. */
export interface LanceIndexOptions {
  /** The index folder: created, or an existing empty folder (an existing index is opened with {@link loadLanceIndex}). */
  path: string;
  /** Vector width, 1..2^20. */
  dimension: number;
  /**
   * `'ip'` (inner product), `'cosine'` (vectors stored normalised; zero vectors score 0) or `'l2'`
   * (score = minus the squared Euclidean distance).
   * @defaultValue 'ip'
   */
  metric?: VectorMetric;
  /** LanceDB queries a `search` keeps in flight (one query per row of the batch). @defaultValue 4 */
  searchConcurrency?: number;
}

/** Options of {@link loadLanceIndex}. */
export interface LoadLanceIndexOptions extends ExpectedIndex {
  /**
   * Open the table's latest version instead of the saved one, keeping the writes made after the last
   * `save` (say, by a process that died before saving). Then the sidecar's size and IVF-PQ entry are
   * not checked against the table, and the next `save` to the folder records the latest version.
   * @defaultValue false
   */
  keepUnsavedWrites?: boolean;
  /** See {@link LanceIndexOptions.searchConcurrency}. @defaultValue 4 */
  searchConcurrency?: number;
}

/** Options of {@link LanceIndex.buildIndex}: LanceDB's IVF-PQ parameters. */
export interface LanceBuildIndexOptions {
  /** IVF partitions (k-means clusters), 1..size. @defaultValue round(sqrt(size)) */
  numPartitions?: number;
  /**
   * PQ sub-vectors; must divide the dimension. Each sub-vector is one code of `numBits` bits.
   * @defaultValue dimension / 8 when 8 divides the dimension (16 bytes per 128-d vector), else dimension / 4, else 1
   */
  numSubVectors?: number;
  /** Bits per PQ code, 4 or 8; PQ training needs at least 2^numBits vectors. @defaultValue 8 */
  numBits?: 4 | 8;
  /** k-means iterations of the IVF training. @defaultValue 50 */
  maxIterations?: number;
  /** Vectors sampled per partition for the IVF training. @defaultValue 256 */
  sampleRate?: number;
}

/** What {@link LanceIndex.optimize} did. */
export interface LanceOptimizeResult {
  fragmentsRemoved: number;
  fragmentsAdded: number;
  /** Table versions older than the saved one that were deleted. */
  versionsRemoved: number;
  bytesRemoved: number;
}

interface LanceIndexState {
  root: string;
  snapshot: string;
  connection: lancedb.Connection;
  table: lancedb.Table;
  metric: VectorMetric;
  dimension: number;
  ids: IdSet;
  savedVersion: number;
  vectorIndex: LanceVectorIndexParameters | null;
  timeTravel: boolean;
  searchConcurrency: number;
}

const noop = (): void => undefined;

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0]!.slice(0, 400) : String(error);
}

function storageError(what: string, error: unknown, leaves: string): GenrecError {
  if (GenrecError.isInstance(error)) return error;
  return new GenrecError('RUNTIME_ERROR', `LanceDB failed to ${what}: ${messageOf(error)}; ${leaves}`, { cause: error });
}

function ioError(path: string, error: unknown): GenrecError {
  if (GenrecError.isInstance(error)) return error;
  return new GenrecError('IO_ERROR', `could not write ${path}: ${messageOf(error)}`, { cause: error, details: { file: path } });
}

/**
 * A {@link VectorIndex} kept in an embedded, disk-based LanceDB table, for catalogues that do not
 * fit in memory: one table `vectors` (`id` int32, `vector` FixedSizeList<float32, dimension>) in a
 * folder; brute-force search until {@link LanceIndex.buildIndex} trains an IVF-PQ index, after which
 * rows added later are still found (LanceDB searches them exhaustively beside the index).
 *
 * Writes follow the contract's rules for asynchronous writes: they apply one at a time in call
 * order (a queue), every check runs against the index as the earlier writes left it and before
 * LanceDB is touched (ids, shapes, finite values, duplicates against the in-memory id set), and each
 * write is one LanceDB commit — `add` one append, `add(…, { replace: true })` one merge-insert
 * (upsert on `id`), `remove` one delete — so a storage failure (`RUNTIME_ERROR`) leaves the table as
 * it was. `has` and `size` are synchronous: the ids live in memory too (see {@link IdSet} for the
 * cost: 1 bit per id value for genrec's dense ids).
 *
 * Persistence: every resolved write is in the table on disk, but the folder's `index.json` names the
 * table version of the last `save`; that is what a load opens (see {@link LanceIndex.save}).
 *
 * One writer per folder: two processes (or two handles) writing the same folder are not
 * coordinated.
 *
 * @example
 * ```ts
 * const index = await LanceIndex.create({ path: '/data/items.lance', dimension: 64, metric: 'ip' });
 * await index.add(itemIds, itemVectors);            // appended to the table on disk
 * await index.buildIndex({ numPartitions: 256 });   // IVF-PQ; brute force before
 * const { ids, scores } = await index.search(queries, 10, { nprobes: 32, exclude: histories });
 * await index.save('/data/items.lance');            // checkpoint: what loadLanceIndex opens
 * ```
 */
export class LanceIndex implements VectorIndex {
  /** Always `'lancedb'`. */
  readonly kind = 'lancedb';
  readonly metric: VectorMetric;
  readonly dimension: number;
  private readonly root: string;
  private snapshot: string;
  private readonly connection: lancedb.Connection;
  private readonly table: lancedb.Table;
  private readonly ids: IdSet;
  private readonly distanceType: LanceDistanceType;
  private readonly normalized: boolean;
  private readonly searchConcurrency: number;
  private readonly schema: ReturnType<typeof tableSchema>;
  private saved: number;
  private indexParameters: LanceVectorIndexParameters | null;
  /** True while the table is checked out at the saved version (writes after it were discarded at load). */
  private timeTravel: boolean;
  private writeTail: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(state: LanceIndexState) {
    this.root = state.root;
    this.snapshot = state.snapshot;
    this.connection = state.connection;
    this.table = state.table;
    this.metric = state.metric;
    this.dimension = state.dimension;
    this.ids = state.ids;
    this.saved = state.savedVersion;
    this.indexParameters = state.vectorIndex;
    this.timeTravel = state.timeTravel;
    this.searchConcurrency = state.searchConcurrency;
    this.distanceType = distanceTypeOf(state.metric);
    this.normalized = storesUnitVectors(state.metric);
    this.schema = tableSchema(state.dimension);
    acquireSnapshot(this.snapshotDirectory);
  }

  /**
   * Creates an empty index in a new (or empty) folder and saves it there (an empty checkpoint).
   *
   * @throws GenrecError `INVALID_OPTION` for a bad option, `INVALID_INPUT` when the folder exists and
   * is not empty, `IO_ERROR` / `RUNTIME_ERROR` when the folder or table cannot be created.
   * @example
   * ```ts
   * const index = await LanceIndex.create({ path: '/tmp/items.lance', dimension: 32, metric: 'cosine' });
   * ```
   */
  static async create(options: LanceIndexOptions): Promise<LanceIndex> {
    checkKnownOptions(options, ['path', 'dimension', 'metric', 'searchConcurrency'], 'LanceIndex.create');
    if (typeof options?.path !== 'string' || options.path === '') {
      throw new GenrecError('INVALID_OPTION', `LanceIndex.create: path must be a folder path, got ${JSON.stringify(options?.path)}`, { details: { field: 'path' } });
    }
    const dimension = checkIntegerOption(options.dimension, 'dimension', 1, MAX_DIMENSION);
    const metric = options.metric === undefined ? 'ip' : checkEnumOption(options.metric, 'metric', METRICS);
    const searchConcurrency = checkSearchConcurrency(options.searchConcurrency);
    const root = absolutePath(options.path);
    if (existsSync(root) && (!statSync(root).isDirectory() || readdirSync(root).length > 0)) {
      throw new GenrecError('INVALID_INPUT', `LanceIndex.create: ${root} exists and is not an empty folder (open an existing index with loadLanceIndex)`, { details: { file: root } });
    }
    const snapshot = newSnapshotName();
    const snapshotDirectory = join(root, snapshot);
    markInProgress(snapshotDirectory, true);
    let connection: lancedb.Connection | undefined;
    let table: lancedb.Table | undefined;
    try {
      mkdirSync(root, { recursive: true });
      connection = await lancedb.connect(snapshotDirectory);
      table = await connection.createEmptyTable(TABLE_NAME, tableSchema(dimension));
      const version = await table.version();
      const index = new LanceIndex({ root, snapshot, connection, table, metric, dimension, ids: new IdSet(), savedVersion: version, vectorIndex: null, timeTravel: false, searchConcurrency });
      try {
        writeSidecar(root, index.sidecar(version, snapshot));
      } catch (error) {
        index.release();
        throw error;
      }
      return index;
    } catch (error) {
      table?.close();
      connection?.close();
      rmSync(snapshotDirectory, { recursive: true, force: true });
      throw GenrecError.isInstance(error) ? error : new GenrecError('IO_ERROR', `could not create a LanceIndex at ${root}: ${messageOf(error)}`, { cause: error, details: { file: root } });
    } finally {
      markInProgress(snapshotDirectory, false);
    }
  }

  /**
   * Opens an index folder written by {@link LanceIndex.create} / {@link LanceIndex.save} (see
   * {@link loadLanceIndex}).
   *
   * @throws GenrecError see {@link loadLanceIndex}.
   */
  static async load(path: string, options: LoadLanceIndexOptions = {}): Promise<LanceIndex> {
    checkKnownOptions(options, ['dimension', 'metric', 'keepUnsavedWrites', 'searchConcurrency'], 'loadLanceIndex');
    if (typeof path !== 'string' || path === '') throw new GenrecError('INVALID_INPUT', `loadLanceIndex: path must be a folder path, got ${JSON.stringify(path)}`);
    const keep = options.keepUnsavedWrites === undefined ? false : checkBooleanOption(options.keepUnsavedWrites, 'keepUnsavedWrites');
    const searchConcurrency = checkSearchConcurrency(options.searchConcurrency);
    const expected: ExpectedIndex = {};
    if (options.dimension !== undefined) expected.dimension = options.dimension;
    if (options.metric !== undefined) expected.metric = options.metric;
    const root = absolutePath(path);
    const sidecar = readSidecar(root, expected);
    removeLeftovers(root, sidecar.snapshot);
    const snapshotDirectory = join(root, sidecar.snapshot);
    const corrupt = (message: string, cause?: unknown): GenrecError =>
      new GenrecError('CORRUPT_ARTIFACT', message, cause === undefined ? { details: { file: snapshotDirectory } } : { cause, details: { file: snapshotDirectory } });
    let connection: lancedb.Connection | undefined;
    let table: lancedb.Table | undefined;
    try {
      try {
        connection = await lancedb.connect(snapshotDirectory);
        table = await connection.openTable(TABLE_NAME);
      } catch (error) {
        throw corrupt(`LanceDB cannot open the table "${TABLE_NAME}": ${messageOf(error)}`, error);
      }
      const opened = table;
      const lance = async <T>(what: string, action: () => Promise<T>): Promise<T> => {
        try {
          return await action();
        } catch (error) {
          throw GenrecError.isInstance(error) ? error : corrupt(`LanceDB cannot ${what}: ${messageOf(error)}`, error);
        }
      };
      const latest = await lance('read the table version', () => opened.version());
      if (latest < sidecar.version) throw corrupt(`the sidecar names table version ${sidecar.version}, the table's latest is ${latest}: the snapshot is not the one the sidecar was written for`);
      let timeTravel = false;
      if (latest > sidecar.version && !keep) {
        // writes after the last save: open the saved version (read-only until the next write restores it)
        await lance(`check out the saved table version ${sidecar.version} (removed by a cleanup?)`, () => opened.checkout(sidecar.version));
        timeTravel = true;
      }
      const mismatch = schemaMismatch(await lance('read the schema', () => opened.schema()), sidecar.dimension);
      if (mismatch !== undefined) throw corrupt(`the table has ${mismatch} (dimension ${sidecar.dimension} in the sidecar)`);
      const ids = new IdSet();
      await lance('read the ids', async () => {
        for await (const batch of opened.query().select([ID_COLUMN])) {
          const column = batch.getChild(ID_COLUMN)?.toArray() as unknown;
          if (!(column instanceof Int32Array)) throw corrupt('the id column is not int32');
          for (const id of column) {
            if (id < 0) throw corrupt(`the table holds a negative id ${id}`);
            if (!ids.add(id)) throw corrupt(`the table holds id ${id} twice`);
          }
        }
      });
      if (!keep && ids.size !== sidecar.size) throw corrupt(`table version ${sidecar.version} holds ${ids.size} vectors, the sidecar says ${sidecar.size}`);
      const indices = await lance('list the indices', () => opened.listIndices());
      const vectorIndices = indices.filter((index) => index.columns.includes(VECTOR_COLUMN));
      for (const index of vectorIndices) {
        if (index.indexType !== 'IvfPq') throw corrupt(`the vector column has a ${index.indexType} index; a LanceIndex builds only IVF-PQ`);
        const metricType = (index.indexDetails as { metric_type?: unknown } | undefined)?.metric_type;
        if (typeof metricType === 'string' && metricType.toLowerCase() !== sidecar.distanceType) {
          throw corrupt(`the IVF-PQ index was trained for distance ${metricType}, the sidecar's metric ${sidecar.metric} searches with ${sidecar.distanceType}`);
        }
      }
      if (!keep && (vectorIndices.length > 0) !== (sidecar.vectorIndex !== null)) {
        throw corrupt(`the sidecar says ${sidecar.vectorIndex === null ? 'no IVF-PQ index' : 'an IVF-PQ index'}, table version ${sidecar.version} has ${vectorIndices.length === 0 ? 'none' : 'one'}`);
      }
      const vectorIndex = vectorIndices.length === 0 ? null : (sidecar.vectorIndex ?? { type: 'IVF_PQ' as const });
      return new LanceIndex({
        root,
        snapshot: sidecar.snapshot,
        connection,
        table: opened,
        metric: sidecar.metric,
        dimension: sidecar.dimension,
        ids,
        savedVersion: sidecar.version,
        vectorIndex,
        timeTravel,
        searchConcurrency,
      });
    } catch (error) {
      table?.close();
      connection?.close();
      throw error;
    }
  }

  /** The index folder (absolute). */
  get path(): string {
    return this.root;
  }

  /** Number of vectors in the index. */
  get size(): number {
    return this.ids.size;
  }

  /** The largest `k` a search accepts: `max(size, 1024)` (rows beyond the stored vectors are padded). */
  get maxK(): number {
    return maxSearchK(this.ids.size);
  }

  /** The table version the folder's `index.json` names (the last save, or the creation). */
  get savedVersion(): number {
    return this.saved;
  }

  /** The IVF-PQ index's parameters, or null while searches are brute force. */
  get vectorIndex(): LanceVectorIndexParameters | null {
    return this.indexParameters === null ? null : { ...this.indexParameters };
  }

  /** True when `id` is in the index (synchronous: the in-memory id set). */
  has(id: number): boolean {
    return Number.isInteger(id) && id >= 0 && id <= MAX_ITEM_ID && this.ids.has(id);
  }

  /**
   * The current LanceDB table version (every write adds one), after the pending writes.
   *
   * @example
   * ```ts
   * const version = await index.tableVersion();
   * ```
   */
  async tableVersion(): Promise<number> {
    await this.writeTail;
    this.checkOpen();
    return this.table.version();
  }

  /**
   * Adds vectors, all or nothing, in call order with the other writes: one LanceDB append (with
   * `replace` and an id already present: one merge-insert, an upsert on `id`). The ids and vectors
   * are checked and copied before the call returns; duplicates are checked when the write's turn
   * comes, against the index as the earlier writes left it. With `replace`, an id repeated in the
   * call keeps its last vector.
   *
   * @returns a promise that resolves once the rows are in the table (and visible to `has`, `size`, `search`).
   * @throws GenrecError, as a rejection with the index unchanged: `DUPLICATE_ID` (an id present or
   * repeated, without `replace`), `SHAPE_MISMATCH`, `INVALID_INPUT` (bad id, NaN/infinite value);
   * `RUNTIME_ERROR` when LanceDB fails (the write commits one table version or nothing, so the table
   * is unchanged then too).
   */
  add(ids: ArrayLike<number>, vectors: Matrix | Float32Array, options: VectorAddOptions = {}): Promise<void> {
    let rowIds: Int32Array;
    let values: Float32Array;
    let replace: boolean;
    try {
      this.checkOpen();
      const data = checkAddInput(ids, vectors, this.dimension);
      replace = options?.replace === undefined ? false : checkBooleanOption(options.replace, 'replace');
      rowIds = Int32Array.from(ids);
      values = data.slice();
      if (this.normalized) normalizeRowsInPlace(values, this.dimension);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.enqueue(() => this.applyAdd(rowIds, values, replace));
  }

  private async applyAdd(rowIds: Int32Array, values: Float32Array, replace: boolean): Promise<void> {
    const fresh = checkAddIds(rowIds, (id) => this.ids.has(id), replace);
    // id -> its last row (Map order: first occurrence)
    const last = new Map<number, number>();
    for (let i = 0; i < rowIds.length; i++) last.set(rowIds[i]!, i);
    if (last.size === 0) return;
    const present = last.size - fresh;
    let writeIds = rowIds;
    let writeValues = values;
    if (last.size < rowIds.length) {
      // replace with an id repeated in the call: its last vector wins
      const { dimension } = this;
      writeIds = new Int32Array(last.size);
      writeValues = new Float32Array(last.size * dimension);
      let row = 0;
      for (const [id, source] of last) {
        writeIds[row] = id;
        writeValues.set(values.subarray(source * dimension, (source + 1) * dimension), row * dimension);
        row++;
      }
    }
    await this.ensureWritable();
    const batch = rowsTable(this.schema, writeIds, writeValues, this.dimension);
    try {
      if (present > 0) await this.table.mergeInsert(ID_COLUMN).whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(batch);
      else await this.table.add(batch);
    } catch (error) {
      throw storageError(`add ${writeIds.length} rows`, error, 'the table is unchanged (a LanceDB write commits one table version or nothing)');
    }
    for (const id of writeIds) this.ids.add(id);
  }

  /**
   * Removes ids, all or nothing, in call order with the other writes: one LanceDB delete
   * (`id IN (…)`). A repeated id is removed once.
   *
   * @returns a promise that resolves once no search started afterwards can return these ids.
   * @throws GenrecError, as a rejection with the index unchanged: `UNKNOWN_ID` when an id is not in
   * the index when the write's turn comes (nothing is removed), `INVALID_INPUT` for a bad id;
   * `RUNTIME_ERROR` when LanceDB fails (the table is unchanged).
   */
  remove(ids: ArrayLike<number>): Promise<void> {
    let list: Int32Array;
    try {
      this.checkOpen();
      checkIdList(ids, 'ids');
      list = Int32Array.from(ids);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.enqueue(() => this.applyRemove(list));
  }

  private async applyRemove(list: Int32Array): Promise<void> {
    checkRemoveIds(list, (id) => this.ids.has(id));
    const unique = [...new Set(list)];
    if (unique.length === 0) return;
    await this.ensureWritable();
    try {
      await this.table.delete(`${ID_COLUMN} IN (${unique.join(', ')})`);
    } catch (error) {
      throw storageError(`delete ${unique.length} ids`, error, 'the table is unchanged (a LanceDB write commits one table version or nothing)');
    }
    for (const id of unique) this.ids.delete(id);
    await this.refreshIndexState();
  }

  /** LanceDB drops an index once every row it covers is deleted: forget its parameters then. */
  private async refreshIndexState(): Promise<void> {
    if (this.indexParameters !== null && !(await this.hasVectorIndex())) this.indexParameters = null;
  }

  /** Whether the table still has a vector index; true when LanceDB cannot say (the delete itself has succeeded). */
  private async hasVectorIndex(): Promise<boolean> {
    try {
      return (await this.table.listIndices()).some((index) => index.columns.includes(VECTOR_COLUMN));
    } catch {
      return true;
    }
  }

  /**
   * The `k` best ids per query, best first, padded with -1 / -Infinity; scores on the contract's
   * scale (see `scoreFromDistance`). Each query is one LanceDB vector search (LanceDB's multi-vector
   * queries measured slower than parallel single ones), `searchConcurrency` of them in flight. The
   * search waits for the writes issued before it.
   *
   * - `exclude`: over-fetch, not SQL — the query asks LanceDB for `k + |exclude[q] ∩ index|` rows
   *   (the id set says how many excluded ids are present) and drops the excluded ones, so at least
   *   `k` remain whenever they exist.
   * - `filter` (a JavaScript callback): over-fetch `2 (k + excluded)` rows and filter; while fewer
   *   than `k` pass and LanceDB returned all it was asked for, ask again for 4 times as many, up to
   *   the whole table. A filter that accepts few ids therefore costs up to a full ranking: prefer
   *   `where` for selective filters.
   * - `where`: SQL over `id` (and `vector`), LanceDB's prefilter; checked with LanceDB's planner first.
   * - With an IVF-PQ index: `nprobes` partitions are probed; when they hold fewer rows than asked
   *   for, the query is repeated with 4 times the partitions, up to all of them, so no option above
   *   comes back short. `refineFactor` (default 4) re-ranks `4 k` PQ candidates by their full
   *   vectors, so scores are exact.
   * - `ef` (the HNSW breadth of the contract) is accepted and ignored.
   *
   * @param k - results per query, 1..{@link LanceIndex.maxK}.
   * @throws GenrecError `SHAPE_MISMATCH` for a wrong width or exclude length, `INVALID_INPUT` for
   * non-finite queries, `INVALID_OPTION` for a bad `k`, `nprobes`, `refineFactor`, `where` (also SQL
   * LanceDB cannot plan) or `exact`; `RUNTIME_ERROR` when LanceDB fails; whatever `filter` throws.
   * @example
   * ```ts
   * const { ids, scores } = await index.search(queries, 10, { exclude: histories, where: 'id > 1000', nprobes: 40 });
   * ```
   */
  async search(queries: Matrix | Float32Array, k: number, options: LanceSearchOptions = {}): Promise<VectorSearchResult> {
    await this.writeTail;
    this.checkOpen();
    const { data, queryCount } = checkLanceSearchInput(queries, k, options, this.dimension, this.ids.size);
    const excluded = Array.from({ length: queryCount }, (_, q) => (options.exclude === undefined ? undefined : exclusionSet(options.exclude[q])));
    const result = paddedResult(queryCount, k);
    if (queryCount === 0 || this.ids.size === 0) return result;
    if (options.where !== undefined) await this.checkWhere(options.where);
    const prepared = data.slice();
    if (this.normalized) normalizeRowsInPlace(prepared, this.dimension);
    const { dimension } = this;
    await this.runPool(queryCount, (q) => this.searchOne(prepared.subarray(q * dimension, (q + 1) * dimension), k, excluded[q], options, result, q * k));
    return result;
  }

  private async searchOne(
    query: Float32Array,
    k: number,
    excluded: ReadonlySet<number> | undefined,
    options: LanceSearchOptions,
    result: VectorSearchResult,
    out: number,
  ): Promise<void> {
    const size = this.ids.size;
    let present = 0;
    if (excluded !== undefined) for (const id of excluded) if (this.has(id)) present++;
    const filter = options.filter;
    let limit = Math.min(size, filter === undefined ? k + present : 2 * (k + present));
    // a larger limit needs at least the partitions a smaller one needed
    let nprobes = options.nprobes ?? DEFAULT_NPROBES;
    for (;;) {
      const answer = await this.nearest(query, limit, options, nprobes);
      const { ids, distances, exhausted } = answer;
      nprobes = answer.nprobes;
      const accepted: { id: number; score: number }[] = [];
      for (let j = 0; j < ids.length; j++) {
        const id = ids[j]!;
        if (excluded !== undefined && excluded.has(id)) continue;
        if (filter !== undefined && !filter(id)) continue;
        accepted.push({ id, score: scoreFromDistance(this.metric, distances[j]!) });
      }
      if (accepted.length >= k || exhausted || limit >= size) {
        // LanceDB orders by distance; ties (and PQ-approximate orders) are settled as the reference does
        accepted.sort((a, b) => b.score - a.score || a.id - b.id);
        const count = Math.min(k, accepted.length);
        for (let j = 0; j < count; j++) {
          result.ids[out + j] = accepted[j]!.id;
          result.scores[out + j] = accepted[j]!.score;
        }
        return;
      }
      limit = Math.min(size, limit * 4);
    }
  }

  /**
   * One LanceDB vector search for `limit` rows. `exhausted` is true when the answer holds every row
   * that qualifies (fewer than `limit` exist). With an IVF-PQ index a short answer may only mean
   * that the probed partitions ran dry (LanceDB 0.31 probes exactly `nprobes` partitions: a larger
   * `maximumNprobes` makes it probe all of them on every query, measured), so the query is repeated
   * with 4 times the partitions until it is full or every partition was probed.
   */
  private async nearest(
    query: Float32Array,
    limit: number,
    options: LanceSearchOptions,
    startNprobes: number,
  ): Promise<{ ids: Int32Array; distances: Float32Array; exhausted: boolean; nprobes: number }> {
    const run = async (nprobes: number | undefined): Promise<{ ids: Int32Array; distances: Float32Array }> => {
      let search = this.table.vectorSearch(query).column(VECTOR_COLUMN).distanceType(this.distanceType).select([ID_COLUMN, '_distance']).limit(limit);
      if (options.where !== undefined) search = search.where(options.where);
      if (nprobes === undefined) search = search.bypassVectorIndex();
      else {
        search = search.nprobes(nprobes);
        const refineFactor = options.refineFactor ?? DEFAULT_REFINE_FACTOR;
        if (refineFactor > 0) search = search.refineFactor(refineFactor);
      }
      try {
        return answerColumns(await search.toArrow());
      } catch (error) {
        throw storageError(`search (limit ${limit})`, error, 'the index is unchanged');
      }
    };
    if (options.exact === true || this.indexParameters === null) {
      const answer = await run(undefined);
      return { ...answer, exhausted: answer.ids.length < limit, nprobes: startNprobes };
    }
    const partitions = this.indexParameters.numPartitions;
    let nprobes = partitions === undefined ? startNprobes : Math.min(startNprobes, partitions);
    for (;;) {
      const answer = await run(nprobes);
      if (answer.ids.length >= limit) return { ...answer, exhausted: false, nprobes };
      if (partitions === undefined) {
        // an index built after the last save and loaded with keepUnsavedWrites: its partition count is unknown
        const exact = await run(undefined);
        return { ...exact, exhausted: exact.ids.length < limit, nprobes };
      }
      if (nprobes >= partitions) return { ...answer, exhausted: true, nprobes };
      nprobes = Math.min(partitions, nprobes * 4);
    }
  }

  private async checkWhere(where: string): Promise<void> {
    try {
      await this.table.query().where(where).select([ID_COLUMN]).limit(1).explainPlan();
    } catch (error) {
      throw new GenrecError('INVALID_OPTION', `search: LanceDB cannot use the where filter ${JSON.stringify(where)}: ${messageOf(error)}`, { cause: error, details: { field: 'where' } });
    }
  }

  private async runPool(count: number, work: (q: number) => Promise<void>): Promise<void> {
    let next = 0;
    let failure: { error: unknown } | undefined;
    const worker = async (): Promise<void> => {
      while (failure === undefined && next < count) {
        const q = next++;
        try {
          await work(q);
        } catch (error) {
          failure ??= { error };
        }
      }
    };
    // every worker stops before the search settles: nothing of it runs on after a rejection
    await Promise.all(Array.from({ length: Math.min(this.searchConcurrency, count) }, worker));
    if (failure !== undefined) throw failure.error;
  }

  /**
   * Trains an IVF-PQ index on the vector column (LanceDB `createIndex` with `Index.ivfPq`, the
   * index's distance type, replacing an earlier one). Searches are brute force before. Rows added
   * afterwards are not in the index but are still searched (LanceDB scans them beside it) until
   * {@link LanceIndex.optimize} folds them in. A write: queued with `add` / `remove`.
   *
   * @returns the parameters used (recorded in the sidecar by the next save).
   * @throws GenrecError `INVALID_OPTION` for a bad option, `numSubVectors` that does not divide the
   * dimension, `numPartitions` above the index size, or fewer than 2^numBits vectors to train PQ on;
   * `RUNTIME_ERROR` when LanceDB fails (the table keeps its previous index, or none).
   * @example
   * ```ts
   * await index.buildIndex({ numPartitions: 1024, numSubVectors: 16 });
   * ```
   */
  buildIndex(options: LanceBuildIndexOptions = {}): Promise<LanceVectorIndexParameters> {
    try {
      this.checkOpen();
      checkKnownOptions(options, ['numPartitions', 'numSubVectors', 'numBits', 'maxIterations', 'sampleRate'], 'buildIndex');
      if (options.numPartitions !== undefined) checkIntegerOption(options.numPartitions, 'numPartitions', 1, MAX_ITEM_ID);
      if (options.numSubVectors !== undefined) {
        checkIntegerOption(options.numSubVectors, 'numSubVectors', 1, this.dimension);
        if (this.dimension % options.numSubVectors !== 0) {
          throw new GenrecError('INVALID_OPTION', `buildIndex: numSubVectors ${options.numSubVectors} does not divide the dimension ${this.dimension}`, { details: { field: 'numSubVectors' } });
        }
      }
      if (options.numBits !== undefined) checkEnumOption(String(options.numBits), 'numBits', ['4', '8']);
      if (options.maxIterations !== undefined) checkIntegerOption(options.maxIterations, 'maxIterations', 1, 100_000);
      if (options.sampleRate !== undefined) checkIntegerOption(options.sampleRate, 'sampleRate', 1, 1 << 24);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.enqueue(async () => {
      const size = this.ids.size;
      const numBits = options.numBits ?? 8;
      if (size < 2 ** numBits) {
        throw new GenrecError('INVALID_OPTION', `buildIndex: training PQ with numBits ${numBits} needs at least ${2 ** numBits} vectors, the index holds ${size}`, { details: { field: 'numBits' } });
      }
      const numPartitions = options.numPartitions ?? Math.max(1, Math.round(Math.sqrt(size)));
      if (numPartitions > size) {
        throw new GenrecError('INVALID_OPTION', `buildIndex: numPartitions ${numPartitions} exceeds the ${size} vectors in the index`, { details: { field: 'numPartitions' } });
      }
      const dimension = this.dimension;
      const numSubVectors = options.numSubVectors ?? (dimension % 8 === 0 ? dimension / 8 : dimension % 4 === 0 ? dimension / 4 : 1);
      const parameters: LanceVectorIndexParameters = { type: 'IVF_PQ', numPartitions, numSubVectors, numBits };
      if (options.maxIterations !== undefined) parameters.maxIterations = options.maxIterations;
      if (options.sampleRate !== undefined) parameters.sampleRate = options.sampleRate;
      await this.ensureWritable();
      const config = lancedb.Index.ivfPq({
        numPartitions,
        numSubVectors,
        numBits,
        distanceType: this.distanceType,
        ...(options.maxIterations === undefined ? {} : { maxIterations: options.maxIterations }),
        ...(options.sampleRate === undefined ? {} : { sampleRate: options.sampleRate }),
      });
      try {
        await this.table.createIndex(VECTOR_COLUMN, { config, replace: true });
      } catch (error) {
        throw storageError('build the IVF-PQ index', error, 'the table keeps its previous index, or none');
      }
      this.indexParameters = parameters;
      return { ...parameters };
    });
  }

  /**
   * LanceDB's `optimize`: compacts small fragments (one per `add`), folds rows added after
   * `buildIndex` into the IVF-PQ index, and deletes table versions older than the saved one (the
   * saved version, which a load opens, and everything after it are kept). A write: queued; the
   * result is a new table version, so `save` afterwards to make it the one a load opens.
   *
   * @throws GenrecError `RUNTIME_ERROR` when LanceDB fails.
   * @example
   * ```ts
   * await index.optimize();
   * await index.save(index.path);
   * ```
   */
  optimize(): Promise<LanceOptimizeResult> {
    try {
      this.checkOpen();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.enqueue(async () => {
      await this.ensureWritable();
      try {
        const versions = await this.table.listVersions();
        const saved = versions.find((version) => version.version === this.saved);
        // LanceDB removes versions strictly older than the cutoff; one millisecond of margin keeps the saved one
        const cutoff = saved === undefined ? new Date(0) : new Date(saved.timestamp.getTime() - 1);
        const stats = await this.table.optimize({ cleanupOlderThan: cutoff, deleteUnverified: true });
        return {
          fragmentsRemoved: stats.compaction.fragmentsRemoved,
          fragmentsAdded: stats.compaction.fragmentsAdded,
          versionsRemoved: stats.prune.oldVersionsRemoved,
          bytesRemoved: stats.prune.bytesRemoved,
        };
      } catch (error) {
        throw storageError('optimize the table', error, 'the table holds the same rows');
      }
    });
  }

  /**
   * Saves the index, after the writes issued before this call.
   *
   * - **To its own folder** (`index.path`): a checkpoint. The table is already on disk (every
   *   write is), so the save only rewrites `index.json` with the current table version, size and
   *   IVF-PQ entry — one atomic rename. A load opens this version; writes after it are discarded by
   *   the next load unless it passes `keepUnsavedWrites`.
   * - **To another folder**: a copy of the current snapshot (LanceDB's files are immutable and each
   *   version's manifest names its files, so a copy made while no write runs is consistent; clones
   *   are used where the file system has them) into a staging folder inside the target, fsynced,
   *   opened to check that the saved version holds the index's rows, renamed to a fresh `lance-…`
   *   folder, and only then `index.json` is switched to it. The target
   *   always holds a complete index — the previous one until the switch. The copy carries the
   *   table's version history (`optimize` prunes it). The index stays in its own folder.
   *
   * @throws GenrecError `INVALID_INPUT` for a target that holds other files or is nested in (or
   * holds) the index's folder; `IO_ERROR` when writing fails (the target is unchanged).
   * @example
   * ```ts
   * await index.save(index.path);          // checkpoint in place
   * await index.save('/backups/items.lance'); // consistent copy elsewhere
   * ```
   */
  save(path: string): Promise<void> {
    if (typeof path !== 'string' || path === '') return Promise.reject(new GenrecError('INVALID_INPUT', `save: path must be a folder path, got ${JSON.stringify(path)}`));
    try {
      this.checkOpen();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.enqueue(async () => {
      const target = absolutePath(path);
      if (target === this.root && currentSnapshot(target) === this.snapshot) {
        await this.checkpoint();
        return;
      }
      if (isStrictlyInside(target, this.root) || isStrictlyInside(this.root, target)) {
        throw new GenrecError('INVALID_INPUT', `save: ${target} and the index folder ${this.root} are nested in one another`, { details: { file: target } });
      }
      await this.copyTo(target);
    });
  }

  private async checkpoint(): Promise<void> {
    await this.refreshIndexState();
    const version = await this.table.version();
    try {
      checkSaveFault(this.root);
      writeSidecar(this.root, this.sidecar(version, this.snapshot));
    } catch (error) {
      throw ioError(this.root, error);
    }
    this.saved = version;
  }

  private async copyTo(target: string): Promise<void> {
    checkIndexTarget(target);
    try {
      mkdirSync(target, { recursive: true });
    } catch (error) {
      throw ioError(target, error);
    }
    const previous = currentSnapshot(target);
    removeLeftovers(target, previous);
    await this.refreshIndexState();
    const version = await this.table.version();
    const snapshot = newSnapshotName();
    const staging = join(target, newStagingName());
    const final = join(target, snapshot);
    markInProgress(staging, true);
    markInProgress(final, true);
    try {
      copySnapshot(this.snapshotDirectory, staging);
      await this.checkCopy(staging, version);
      checkSaveFault(target);
      renameSync(staging, final);
      fsyncDirectory(target);
      writeSidecar(target, this.sidecar(version, snapshot));
    } catch (error) {
      rmSync(staging, { recursive: true, force: true });
      rmSync(final, { recursive: true, force: true });
      throw ioError(target, error);
    } finally {
      markInProgress(staging, false);
      markInProgress(final, false);
    }
    // the previous snapshot goes unless a handle of this process still reads it
    removeLeftovers(target, snapshot);
  }

  /** Opens a copied snapshot and checks that the saved version holds this index's rows, before the sidecar names it. */
  private async checkCopy(directory: string, version: number): Promise<void> {
    const connection = await lancedb.connect(directory);
    try {
      const table = await connection.openTable(TABLE_NAME);
      try {
        if ((await table.version()) !== version) await table.checkout(version);
        const rows = await table.countRows();
        if (rows !== this.ids.size) throw new GenrecError('IO_ERROR', `the copy in ${directory} holds ${rows} rows at version ${version}, the index ${this.ids.size}`, { details: { file: directory } });
      } finally {
        table.close();
      }
    } finally {
      connection.close();
    }
  }

  /**
   * Closes the LanceDB table and connection after the pending writes. Later calls reject with
   * `RUNTIME_ERROR`. Unsaved writes stay in the table's history (see `keepUnsavedWrites`).
   *
   * @example
   * ```ts
   * await index.close();
   * ```
   */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.writeTail;
    if (this.closed) return;
    this.release();
  }

  private release(): void {
    this.closed = true;
    this.table.close();
    this.connection.close();
    releaseSnapshot(this.snapshotDirectory);
  }

  private get snapshotDirectory(): string {
    return join(this.root, this.snapshot);
  }

  private sidecar(version: number, snapshot: string): LanceIndexSidecar {
    return {
      kind: LANCE_INDEX_KIND,
      formatVersion: LANCE_FORMAT_VERSION,
      implementation: 'lancedb',
      metric: this.metric,
      dimension: this.dimension,
      size: this.ids.size,
      snapshot,
      table: TABLE_NAME,
      version,
      distanceType: this.distanceType,
      normalized: this.normalized,
      vectorIndex: this.indexParameters,
    };
  }

  private checkOpen(): void {
    if (this.closed) throw new GenrecError('RUNTIME_ERROR', `the LanceIndex at ${this.root} is closed`);
  }

  /** Runs a write after every write issued before it; a rejected write does not stop the next. */
  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.writeTail.then(() => {
      this.checkOpen();
      return task();
    });
    this.writeTail = run.then(noop, noop);
    return run;
  }

  /** After a load that discarded unsaved writes, the first write restores the saved version as the latest. */
  private async ensureWritable(): Promise<void> {
    if (!this.timeTravel) return;
    try {
      await this.table.restore();
    } catch (error) {
      throw storageError(`restore the saved table version ${this.saved}`, error, 'the table is unchanged');
    }
    this.timeTravel = false;
  }
}

function checkSearchConcurrency(value: unknown): number {
  return value === undefined ? DEFAULT_SEARCH_CONCURRENCY : checkIntegerOption(value, 'searchConcurrency', 1, 256);
}

/**
 * Opens a LanceIndex folder. Before LanceDB opens anything, `index.json` is read and checked (kind,
 * format version, metric, dimension, size, table version, snapshot folder) and compared with what
 * the caller expects; then the table is opened at the saved version and checked against the
 * sidecar: schema (`id` int32, `vector` FixedSizeList<float32, dimension>), row count, ids (no
 * repeats, none negative; they fill the in-memory id set), and the IVF-PQ index (present exactly
 * when the sidecar says so, trained for the metric's distance type). The data files themselves are
 * not checksummed: LanceDB reads them as they are.
 *
 * Writes made after the last save (the table's later versions) are not loaded: the table is opened
 * at the saved version, read-only until the first write, which restores it as the latest version
 * (the discarded versions stay in the history until `optimize`). `keepUnsavedWrites: true` opens the
 * latest version instead.
 *
 * `loadVectorIndex` of `@genrec/ann` does not know this kind (it does not depend on this package):
 * on a LanceIndex folder it fails with `FORMAT_VERSION` naming the kind `genrec.lancedb-index`; call
 * this loader for it (see {@link isLanceIndexFolder}).
 *
 * @param options - `dimension` / `metric` the caller expects; `keepUnsavedWrites`; `searchConcurrency`.
 * @throws GenrecError `NOT_FOUND` (no folder or no `index.json`), `PARSE_ERROR`, `FORMAT_VERSION`
 * (another kind or format version), `CORRUPT_ARTIFACT` (a sidecar field out of range, a missing
 * snapshot or table version, a table that disagrees with the sidecar), `SHAPE_MISMATCH` /
 * `INVALID_INPUT` when the dimension / metric is not the expected one.
 * @example
 * ```ts
 * const index = await loadLanceIndex('/data/items.lance', { dimension: 64 });
 * const { ids } = await index.search(queries, 10);
 * ```
 */
export function loadLanceIndex(path: string, options: LoadLanceIndexOptions = {}): Promise<LanceIndex> {
  return LanceIndex.load(path, options);
}

/**
 * True when `path` is a folder whose `index.json` is a LanceIndex sidecar: lets a caller pick
 * {@link loadLanceIndex} or `@genrec/ann`'s `loadVectorIndex`.
 *
 * @example
 * ```ts
 * const index = isLanceIndexFolder(path) ? await loadLanceIndex(path) : await loadVectorIndex(path);
 * ```
 */
export function isLanceIndexFolder(path: string): boolean {
  return currentSnapshot(absolutePath(path)) !== undefined;
}
