import { GenrecError, checkIntegerOption, checkResultSize, type Matrix, type VectorIndex, type VectorMetric, type VectorSearchResult } from '@genrec/core';
import { FlatIndex } from './flat-index.js';
import { HnswIndex } from './hnsw-index.js';
import { measureHnswParallelQps } from './parallel-throughput.js';
import { UsearchIndex } from './usearch-index.js';
import { checkMetric, maxSearchK } from './index-input.js';

/**
 * Mean recall@k of `found` against `truth` (both `queryCount x width` id rows, -1 = padding): per
 * query, |found top-k ∩ truth top-k| / (number of truth ids in the top k), then the mean over
 * queries that have at least one truth id.
 *
 * @example
 * ```ts
 * recallAtK(new Int32Array([1, 2, 3, 4]), new Int32Array([2, 9, 3, 4]), 2, 2); // (1/2 + 2/2) / 2 = 0.75
 * ```
 */
export function recallAtK(found: Int32Array, truth: Int32Array, queryCount: number, k: number, foundWidth = k, truthWidth = k): number {
  if (found.length < queryCount * foundWidth || truth.length < queryCount * truthWidth || k > foundWidth || k > truthWidth) {
    throw new GenrecError('SHAPE_MISMATCH', `recallAtK: need ${queryCount} rows of at least k = ${k} ids in both inputs`);
  }
  let sum = 0;
  let counted = 0;
  for (let q = 0; q < queryCount; q++) {
    let relevant = 0;
    let hits = 0;
    for (let j = 0; j < k; j++) {
      const id = truth[q * truthWidth + j]!;
      if (id < 0) continue;
      relevant++;
      for (let i = 0; i < k; i++) {
        if (found[q * foundWidth + i] === id) {
          hits++;
          break;
        }
      }
    }
    if (relevant === 0) continue;
    sum += hits / relevant;
    counted++;
  }
  return counted === 0 ? 1 : sum / counted;
}

/** Options of {@link measureRecallThroughput}. */
export interface RecallThroughputOptions {
  /** Base vectors, one per row; item id = row number. */
  base: Matrix;
  /** Query vectors, one per row. */
  queries: Matrix;
  /** Similarity of both the index and the ground truth. @defaultValue 'ip' */
  metric?: VectorMetric;
  /** Creates the empty index under test (it is filled with one `add` of all base rows, timed). */
  createIndex: (dimension: number, metric: VectorMetric) => VectorIndex;
  /** Results per query. @defaultValue 10 */
  k?: number;
  /** Search breadths to sweep (passed as `ef`). @defaultValue [16, 32, 64, 128, 256] */
  efValues?: readonly number[];
  /** Timed passes per setting (after one untimed warm-up pass); qps uses the median. @defaultValue 3 */
  reps?: number;
  /**
   * Ground-truth ids (`queries.rows x k`); computed with an exact {@link FlatIndex} (timed, reported
   * as `flat`) when omitted.
   */
  truth?: Int32Array;
  /** onnxruntime threads of the ground-truth flat search. @defaultValue 1 */
  flatThreads?: number;
  /** Tolerance of the tie-aware recall. @defaultValue 1e-5 */
  tieTolerance?: number;
  /**
   * Also measure queries per second with this many threads; 0 skips it. `HnswIndex`: worker
   * threads, each with its own copy of the saved graph (`measureHnswParallelQps`); `UsearchIndex`:
   * usearch's native threads inside one batched search (`search(…, { threads })`); other indexes
   * are not measured. @defaultValue 0
   */
  parallelThreads?: number;
}

/** One point of the recall–throughput curve. */
export interface RecallThroughputPoint {
  ef: number;
  /** Mean recall@k by id against the exact search. */
  recall: number;
  /** Recall counting a result as correct when its exact score ≥ the exact k-th score − tolerance (ties). */
  recallTieAware: number;
  /** Queries per second (one batched `search` call over all queries, median of the passes). */
  qps: number;
  /** Median seconds of one pass over all queries. */
  seconds: number;
  /** Queries per second with `parallelThreads` threads (see the option), when measured. */
  qpsParallel?: number;
}

/** What {@link measureRecallThroughput} measured. */
export interface RecallThroughputReport {
  k: number;
  queryCount: number;
  baseCount: number;
  /** Seconds to fill the index (one `add` call). */
  buildSeconds: number;
  /** Growth of the process's resident set while building (bytes; noisy, garbage collection). */
  buildRssBytes: number;
  /** The index's own estimate (`memoryBytes`), when it has one. */
  indexBytes: number | undefined;
  /** The exact search used as ground truth, when it was run here. */
  flat: { qps: number; seconds: number } | undefined;
  points: RecallThroughputPoint[];
  /** The index that was built and measured (for further measurements). */
  index: VectorIndex;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function timedPasses(reps: number, pass: () => Promise<VectorSearchResult>): Promise<{ seconds: number; result: VectorSearchResult }> {
  let result = await pass(); // warm-up
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const start = performance.now();
    result = await pass();
    times.push((performance.now() - start) / 1000);
  }
  return { seconds: median(times), result };
}

/** Exact score of base row `row` for query `q` under `metric`. */
function exactScore(base: Matrix, queries: Matrix, q: number, row: number, metric: VectorMetric): number {
  const d = base.cols;
  let dot = 0;
  let queryNorm = 0;
  let rowNorm = 0;
  let distance = 0;
  for (let c = 0; c < d; c++) {
    const a = queries.data[q * d + c]!;
    const b = base.data[row * d + c]!;
    dot += a * b;
    queryNorm += a * a;
    rowNorm += b * b;
    distance += (a - b) * (a - b);
  }
  if (metric === 'l2') return -distance;
  if (metric === 'cosine') return queryNorm > 0 && rowNorm > 0 ? dot / Math.sqrt(queryNorm * rowNorm) : 0;
  return dot;
}

/**
 * Builds an index over `base`, then sweeps `ef` and reports recall@k against the exact search,
 * single-threaded queries per second (one batched `search` per pass, like faiss's benchmark),
 * optionally multi-threaded queries per second (`HnswIndex`: worker threads; `UsearchIndex`: native
 * threads), build time and memory. The index is whatever `createIndex` returns, so this measures any implementation.
 *
 * @throws GenrecError `SHAPE_MISMATCH` when base and queries differ in width or `truth` has the wrong size.
 * @example
 * ```ts
 * const report = await measureRecallThroughput({
 *   base, queries, metric: 'ip',
 *   createIndex: (dimension, metric) => new HnswIndex({ dimension, metric, m: 16, efConstruction: 200 }),
 * });
 * for (const point of report.points) console.log(point.ef, point.recall, point.qps);
 * ```
 */
export async function measureRecallThroughput(options: RecallThroughputOptions): Promise<RecallThroughputReport> {
  const { base, queries } = options;
  const metric = checkMetric(options.metric ?? 'ip');
  const k = checkResultSize(options.k ?? 10, 'k', maxSearchK(base.rows), `the base holds ${base.rows} vectors`);
  const reps = checkIntegerOption(options.reps ?? 3, 'reps', 1);
  const tolerance = options.tieTolerance ?? 1e-5;
  const efValues = options.efValues ?? [16, 32, 64, 128, 256];
  const parallelThreads = checkIntegerOption(options.parallelThreads ?? 0, 'parallelThreads', 0, 256);
  if (base.cols !== queries.cols) throw new GenrecError('SHAPE_MISMATCH', `base has ${base.cols} columns, queries ${queries.cols}`);
  const ids = Int32Array.from({ length: base.rows }, (_, row) => row);
  const queryCount = queries.rows;

  let truth = options.truth;
  let flat: RecallThroughputReport['flat'];
  if (truth === undefined) {
    // compiled at the warm-up pass: the timed passes measure the steady state
    const exact = new FlatIndex({ dimension: base.cols, metric, intraOpNumThreads: options.flatThreads ?? 1, initialCapacity: Math.max(1, base.rows), prepare: 'always' });
    await exact.add(ids, base);
    const timed = await timedPasses(reps, () => exact.search(queries, k));
    await exact.dispose();
    truth = timed.result.ids;
    flat = { qps: queryCount / timed.seconds, seconds: timed.seconds };
  } else if (truth.length !== queryCount * k) {
    throw new GenrecError('SHAPE_MISMATCH', `truth holds ${truth.length} ids, expected queries x k = ${queryCount * k}`);
  }
  // the exact k-th score of every query, for the tie-aware recall
  const kthScore = new Float64Array(queryCount);
  for (let q = 0; q < queryCount; q++) {
    let last = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < k; j++) {
      const row = truth[q * k + j]!;
      if (row >= 0) last = exactScore(base, queries, q, row, metric);
    }
    kthScore[q] = last;
  }

  const rssBefore = process.memoryUsage().rss;
  const buildStart = performance.now();
  const index = options.createIndex(base.cols, metric);
  await index.add(ids, base);
  const buildSeconds = (performance.now() - buildStart) / 1000;
  const buildRssBytes = Math.max(0, process.memoryUsage().rss - rssBefore);
  const estimate = (index as { memoryBytes?: unknown }).memoryBytes;

  const points: RecallThroughputPoint[] = [];
  for (const ef of efValues) {
    const { seconds, result } = await timedPasses(reps, () => index.search(queries, k, { ef }));
    let tieHits = 0;
    let tieTotal = 0;
    for (let q = 0; q < queryCount; q++) {
      let relevant = 0;
      for (let j = 0; j < k; j++) if (truth[q * k + j]! >= 0) relevant++;
      let hits = 0;
      for (let j = 0; j < k && hits < relevant; j++) {
        const row = result.ids[q * k + j]!;
        if (row >= 0 && exactScore(base, queries, q, row, metric) >= kthScore[q]! - tolerance) hits++;
      }
      if (relevant > 0) {
        tieHits += hits / relevant;
        tieTotal++;
      }
    }
    const point: RecallThroughputPoint = {
      ef,
      recall: recallAtK(result.ids, truth, queryCount, k),
      recallTieAware: tieTotal === 0 ? 1 : tieHits / tieTotal,
      qps: queryCount / seconds,
      seconds,
    };
    if (parallelThreads > 0 && index instanceof HnswIndex) {
      point.qpsParallel = (await measureHnswParallelQps(index, queries, { threads: parallelThreads, k, ef, reps })).qps;
    } else if (parallelThreads > 0 && index instanceof UsearchIndex) {
      point.qpsParallel = queryCount / (await timedPasses(reps, () => index.search(queries, k, { ef, threads: parallelThreads }))).seconds;
    }
    points.push(point);
  }
  return {
    k,
    queryCount,
    baseCount: base.rows,
    buildSeconds,
    buildRssBytes,
    indexBytes: typeof estimate === 'number' ? estimate : undefined,
    flat,
    points,
    index,
  };
}
