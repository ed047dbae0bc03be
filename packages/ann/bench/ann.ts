/**
 * ANN benchmark: exact flat search, HNSW on hnswlib-node and HNSW on usearch (f32 and quantized)
 * on the same vectors, side by side with the `ann_hnsw` peer (faiss IndexHNSWFlat / IndexFlatIP) on
 * the identical vectors the peer dumped with `--dump-dir`:
 *
 *   flock /tmp/genrec-bench.lock /usr/bin/python3 ../shared/peers/ann_hnsw.py \
 *     ../shared/data/amazon2014-toys/Toys_and_Games.txt --build-threads 1 \
 *     --dump-dir /tmp/peer-dumps/ann_hnsw > /tmp/peer-dumps/ann_hnsw.json
 *   flock /tmp/genrec-bench.lock pnpm --filter @genrec/ann bench -- --peer-json /tmp/peer-dumps/ann_hnsw.json
 *
 * Options: --dump-dir DIR (default /tmp/peer-dumps/ann_hnsw), --peer-json FILE (the peer's stdout
 * JSON line; optional), --datasets titles,random[,synthetic], --backends
 * flat,hnswlib,usearch-f32,usearch-f16,usearch-i8 (also usearch-bf16; default all but bf16),
 * --ef 16,32,64,128,256, --reps 3, --m 16, --ef-construction 200, --parallel-threads 2,
 * --recall-levels 0.9,0.95,0.99, --limit N (first N base vectors; `synthetic`: N random unit
 * vectors of 64 dimensions, default 20,000, no dump needed), --query-limit N (first N queries).
 *
 * Protocol (as the peer's): k = 10, inner product, queries on 1 thread; per setting one untimed
 * warm-up pass then `reps` timed passes of ONE batched search over all queries; qps = queries /
 * median pass. Every HNSW backend is built with the same M and efConstruction on 1 thread and swept
 * over the same ef values; recall@10 is against one exact FlatIndex search shared by all backends.
 * `usearch-i8` stores int8 and needs cosine: it runs with metric 'cosine', which ranks unit vectors
 * (both peer data sets) exactly as inner product does; it is skipped on data that are not unit norm.
 * A usearch search with an ef other than the one the index was built with runs on a view (see
 * UsearchIndex); the view is built during the untimed warm-up pass.
 *
 * Output: the per-ef table, then the FIXED-RECALL table (each backend's and faiss's qps at recall
 * 0.90 / 0.95 / 0.99, read off its own recall–qps curve with `qpsAtRecall`: Pareto frontier,
 * log(qps) linear in recall), then one JSON line.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createMatrix, RawDump, Rng, selectRows, type Matrix, type VectorIndex, type VectorMetric, type VectorSearchOptions } from '@genrec/core';
import {
  FlatIndex,
  HnswIndex,
  UsearchIndex,
  measureRecallThroughput,
  qpsAtRecall,
  type QpsAtRecall,
  type RecallQpsPoint,
  type RecallThroughputPoint,
  type UsearchQuantization,
} from '../src/index.js';

const { values } = parseArgs({
  // `pnpm bench -- --flag` may forward the `--` itself
  args: process.argv.slice(2).filter((argument) => argument !== '--'),
  options: {
    'dump-dir': { type: 'string', default: '/tmp/peer-dumps/ann_hnsw' },
    'peer-json': { type: 'string' },
    datasets: { type: 'string', default: 'titles,random' },
    backends: { type: 'string', default: 'flat,hnswlib,usearch-f32,usearch-f16,usearch-i8' },
    ef: { type: 'string', default: '16,32,64,128,256' },
    reps: { type: 'string', default: '3' },
    m: { type: 'string', default: '16' },
    'ef-construction': { type: 'string', default: '200' },
    'parallel-threads': { type: 'string', default: '2' },
    'recall-levels': { type: 'string', default: '0.9,0.95,0.99' },
    limit: { type: 'string' },
    'query-limit': { type: 'string' },
  },
});

const HNSW_BACKENDS = ['hnswlib', 'usearch-f32', 'usearch-f16', 'usearch-bf16', 'usearch-i8'] as const;
type HnswBackend = (typeof HNSW_BACKENDS)[number];
const backends = values.backends!.split(',').filter((name) => name.length > 0);
for (const name of backends) {
  if (name !== 'flat' && !(HNSW_BACKENDS as readonly string[]).includes(name)) {
    console.error(`unknown backend ${name} (known: flat, ${HNSW_BACKENDS.join(', ')})`);
    process.exit(2);
  }
}
const hnswBackends = HNSW_BACKENDS.filter((name) => backends.includes(name));
const efValues = values.ef!.split(',').map(Number);
const reps = Number(values.reps);
const m = Number(values.m);
const efConstruction = Number(values['ef-construction']);
const parallelThreads = Number(values['parallel-threads']);
const recallLevels = values['recall-levels']!.split(',').map(Number);
const limit = values.limit === undefined ? undefined : Number(values.limit);
const queryLimit = values['query-limit'] === undefined ? undefined : Number(values['query-limit']);

const dumpDirectory = values['dump-dir']!;
const hasDump = existsSync(`${dumpDirectory}/manifest.json`);
const datasets = values.datasets!.split(',').filter((name) => {
  if (name === 'synthetic' || hasDump) return true;
  console.error(`no peer dump at ${dumpDirectory}: run the peer with --dump-dir first (see the header of bench/ann.ts); skipping ${name}`);
  return false;
});
if (datasets.length === 0) process.exit(0);
const dump = hasDump ? new RawDump(dumpDirectory) : undefined;

interface PeerHnswPoint {
  qps_1thread: number;
  'recall@10': number;
  'recall@10_tie_aware': number;
}
interface PeerDataset {
  n: number;
  d: number;
  flat_qps_batched_1thread: number;
  hnsw_build_s: Record<string, number>;
  hnsw: Record<string, PeerHnswPoint>;
}
let peer: { datasets: Record<string, PeerDataset> } | undefined = values['peer-json'] ? JSON.parse(readFileSync(values['peer-json'], 'utf8').trim().split('\n').pop()!) : undefined;
if (peer !== undefined && (limit !== undefined || queryLimit !== undefined)) {
  console.error('--limit / --query-limit change the vectors: the peer numbers are not comparable and are left out');
  peer = undefined;
}

function loadDataset(name: string): { base: Matrix; queries: Matrix } {
  const asMatrix = (tensorName: string): Matrix => {
    const tensor = dump!.read(tensorName);
    return createMatrix(tensor.shape[0]!, tensor.shape[1]!, tensor.data as Float32Array);
  };
  let base: Matrix;
  let queries: Matrix;
  if (name === 'titles') {
    base = asMatrix('ann_titles_base');
    queries = selectRows(base, dump!.read('ann_titles_query_rows').data as Int32Array);
  } else if (name === 'random') {
    base = asMatrix('ann_random_base');
    queries = asMatrix('ann_random_query');
  } else if (name === 'synthetic') {
    const rng = new Rng(1);
    const unit = (rows: number, cols: number): Matrix => {
      const data = rng.fillNormal(new Float32Array(rows * cols));
      for (let r = 0; r < rows; r++) {
        const row = data.subarray(r * cols, (r + 1) * cols);
        let norm = 0;
        for (const v of row) norm += v * v;
        for (let c = 0; c < cols; c++) row[c] = row[c]! / Math.sqrt(norm);
      }
      return createMatrix(rows, cols, data);
    };
    base = unit(limit ?? 20_000, 64);
    queries = unit(queryLimit ?? 1000, 64);
  } else {
    throw new Error(`unknown dataset ${name}`);
  }
  const head = (matrix: Matrix, rows: number | undefined): Matrix =>
    rows === undefined || rows >= matrix.rows ? matrix : createMatrix(rows, matrix.cols, matrix.data.subarray(0, rows * matrix.cols));
  return { base: head(base, limit), queries: head(queries, queryLimit) };
}

function isUnitNorm(matrix: Matrix): boolean {
  for (let r = 0; r < matrix.rows; r++) {
    let norm = 0;
    for (let c = 0; c < matrix.cols; c++) norm += matrix.data[r * matrix.cols + c]! ** 2;
    if (Math.abs(Math.sqrt(norm) - 1) > 1e-3) return false;
  }
  return true;
}

async function batchedQps(index: VectorIndex, queries: Matrix, options: VectorSearchOptions = {}): Promise<number> {
  await index.search(queries, 10, options);
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    await index.search(queries, 10, options);
    times.push((performance.now() - t) / 1000);
  }
  times.sort((a, b) => a - b);
  return queries.rows / times[times.length >> 1]!;
}

async function flatBatchedQps(base: Matrix, queries: Matrix, backend: 'onnxruntime' | 'javascript', threads = 1, searchOptions: VectorSearchOptions = {}): Promise<{ qps: number; buildSeconds: number }> {
  const start = performance.now();
  // 'always': the stored vectors are compiled into their own session at the first search (one
  // query, counted in the build time), as a long-lived index does after its first few searches
  const index = new FlatIndex({ dimension: base.cols, metric: 'ip', backend, intraOpNumThreads: threads, initialCapacity: base.rows, prepare: 'always' });
  await index.add(Int32Array.from({ length: base.rows }, (_, i) => i), base);
  if (backend === 'onnxruntime') await index.search(queries.data.subarray(0, queries.cols), 10);
  const buildSeconds = (performance.now() - start) / 1000;
  return { qps: await batchedQps(index, queries, searchOptions), buildSeconds };
}

/** 50 random "history" ids per query, and a filter that keeps half of the ids. */
function historiesAndFilter(baseRows: number, queryCount: number): { exclude: Set<number>[]; filter: (id: number) => boolean } {
  const rng = new Rng(0);
  const exclude = Array.from({ length: queryCount }, () => new Set(Array.from({ length: 50 }, () => rng.int(baseRows))));
  return { exclude, filter: (id: number) => id % 2 === 0 };
}

const LABELS: Record<HnswBackend, string> = {
  hnswlib: 'HNSW hnswlib',
  'usearch-f32': 'HNSW usearch f32',
  'usearch-f16': 'HNSW usearch f16',
  'usearch-bf16': 'HNSW usearch bf16',
  'usearch-i8': 'HNSW usearch i8 (cosine)',
};

function createIndex(backend: HnswBackend, dimension: number, metric: VectorMetric, rows: number): VectorIndex {
  if (backend === 'hnswlib') return new HnswIndex({ dimension, metric, m, efConstruction, initialCapacity: rows });
  const quantization = backend.slice('usearch-'.length) as UsearchQuantization;
  return new UsearchIndex({ dimension, metric, m, efConstruction, quantization, threads: 1, addThreads: 1 });
}

const f = (value: number | undefined, digits = 0) => (value === undefined ? '' : value.toFixed(digits));
const atRecall = (value: QpsAtRecall | undefined) => (value === undefined ? 'n/a' : `${value.lowerBound ? '≥ ' : ''}${value.qps.toFixed(0)}`);
/** a / b at a fixed recall, marked where one side is only a lower bound. */
function ratio(a: QpsAtRecall | undefined, b: QpsAtRecall | undefined): string {
  if (a === undefined || b === undefined) return 'n/a';
  const mark = a.lowerBound && b.lowerBound ? ' (bounds)' : a.lowerBound ? ' (≥)' : b.lowerBound ? ' (≤)' : '';
  return `${(a.qps / b.qps).toFixed(2)}${mark}`;
}

const rows: string[][] = [];
const fixedRows: string[][] = [];
const summary: Record<string, unknown> = {};
for (const name of datasets) {
  const { base, queries } = loadDataset(name);
  const label = `${name} ${base.rows}x${base.cols}`;
  const peerData = peer?.datasets[name];
  const peerCurve: RecallQpsPoint[] = peerData ? Object.values(peerData.hnsw).map((point) => ({ recall: point['recall@10'], qps: point.qps_1thread })) : [];
  console.error(`[${name}] ${base.rows} x ${base.cols}, ${queries.rows} queries; backends ${backends.join(', ')}; exact ground truth (FlatIndex, 1 thread)…`);
  const exact = new FlatIndex({ dimension: base.cols, metric: 'ip', intraOpNumThreads: 1, initialCapacity: base.rows });
  await exact.add(Int32Array.from({ length: base.rows }, (_, i) => i), base);
  const truth = (await exact.search(queries, 10)).ids;
  const { exclude, filter } = historiesAndFilter(base.rows, queries.rows);
  const datasetSummary: Record<string, unknown> = { n: base.rows, d: base.cols, queries: queries.rows };

  if (backends.includes('flat')) {
    const flatJs = await flatBatchedQps(base, queries, 'javascript');
    const flatOrt = await flatBatchedQps(base, queries, 'onnxruntime');
    const flatOrt2 = await flatBatchedQps(base, queries, 'onnxruntime', 2);
    const flatExclude = await flatBatchedQps(base, queries, 'onnxruntime', 1, { exclude });
    const flatFilter = await flatBatchedQps(base, queries, 'onnxruntime', 1, { filter });
    rows.push([label, 'Flat IP, batched (onnxruntime)', f(flatOrt.buildSeconds, 4), f(flatOrt.qps), f(flatOrt2.qps), f(peerData?.flat_qps_batched_1thread), peerData ? (flatOrt.qps / peerData.flat_qps_batched_1thread).toFixed(2) : '', '1', '']);
    rows.push([label, 'Flat IP, batched, exclude 50 ids/query', '', f(flatExclude.qps), '', '', '', '1', '']);
    rows.push([label, 'Flat IP, batched, filter (half the ids)', '', f(flatFilter.qps), '', '', '', '1', '']);
    rows.push([label, 'Flat IP, batched (JavaScript kernel)', f(flatJs.buildSeconds, 4), f(flatJs.qps), '', '', '', '1', '']);
    datasetSummary.flat = {
      qpsOnnx: flatOrt.qps,
      qpsOnnx2Threads: flatOrt2.qps,
      qpsExclude50: flatExclude.qps,
      qpsFilterHalf: flatFilter.qps,
      qpsJavascript: flatJs.qps,
      peerQps: peerData?.flat_qps_batched_1thread,
    };
  }

  const curves: Partial<Record<HnswBackend, RecallQpsPoint[]>> = {};
  const hnswSummary: Record<string, unknown> = {};
  for (const backend of hnswBackends) {
    const metric: VectorMetric = backend === 'usearch-i8' ? 'cosine' : 'ip';
    if (metric === 'cosine' && !(isUnitNorm(base) && isUnitNorm(queries))) {
      console.error(`[${name}] ${backend}: the vectors are not unit norm, so cosine does not rank as inner product; skipped`);
      continue;
    }
    console.error(`[${name}] ${backend}: building (M=${m}, efConstruction=${efConstruction}, 1 thread), ef ${efValues.join(', ')}…`);
    const report = await measureRecallThroughput({
      base,
      queries,
      metric,
      k: 10,
      efValues,
      reps,
      truth,
      parallelThreads,
      createIndex: (dimension, metric_) => createIndex(backend, dimension, metric_, base.rows),
    });
    const title = LABELS[backend];
    rows.push([label, `${title} build (1 thread), est. ${(report.indexBytes! / 2 ** 20).toFixed(1)} MiB`, f(report.buildSeconds, 2), '', '', backend === 'hnswlib' ? f(peerData?.hnsw_build_s['1_thread'], 2) : '', '', '', '']);
    const points = report.points.map((point: RecallThroughputPoint) => {
      const peerPoint = peerData?.hnsw[`ef${point.ef}`];
      const matched = qpsAtRecall(peerCurve, point.recall);
      rows.push([
        label,
        `${title} ef ${point.ef}`,
        '',
        f(point.qps),
        f(point.qpsParallel),
        f(peerPoint?.qps_1thread),
        matched === undefined ? 'n/a' : `${(point.qps / matched.qps).toFixed(2)}${matched.lowerBound ? ' (≤)' : ''}`,
        `${point.recall.toFixed(4)} / ${point.recallTieAware.toFixed(4)}`,
        peerPoint ? `${peerPoint['recall@10'].toFixed(4)} / ${peerPoint['recall@10_tie_aware'].toFixed(4)}` : '',
      ]);
      return { ...point, peerQps: peerPoint?.qps_1thread, peerRecall: peerPoint?.['recall@10'], qpsRatioAtMatchedRecall: matched === undefined ? undefined : point.qps / matched.qps, peerQpsIsLowerBound: matched?.lowerBound };
    });
    const index = report.index;
    const excludeQps = await batchedQps(index, queries, { ef: 64, exclude });
    const filterQps = await batchedQps(index, queries, { ef: 64, filter });
    rows.push([label, `${title} ef 64, exclude 50 ids/query`, '', f(excludeQps), '', '', '', '', '']);
    rows.push([label, `${title} ef 64, filter (half the ids)`, '', f(filterQps), '', '', '', '', '']);
    curves[backend] = report.points.map((point) => ({ recall: point.recall, qps: point.qps }));
    hnswSummary[backend] = { metric, buildSeconds: report.buildSeconds, indexBytes: report.indexBytes, buildRssBytes: report.buildRssBytes, qpsEf64Exclude50: excludeQps, qpsEf64FilterHalf: filterQps, points };
  }
  datasetSummary.hnsw = hnswSummary;
  datasetSummary.peerHnswBuildSeconds = peerData?.hnsw_build_s['1_thread'];

  // fixed recall: every curve read at the same recall levels
  const fixed: Record<string, Record<string, QpsAtRecall | undefined>> = {};
  for (const level of recallLevels) {
    const hnswlib = curves.hnswlib === undefined ? undefined : qpsAtRecall(curves.hnswlib, level);
    const faiss = peerCurve.length === 0 ? undefined : qpsAtRecall(peerCurve, level);
    fixed[level] = { faiss };
    for (const backend of hnswBackends) {
      const curve = curves[backend];
      if (curve === undefined) continue;
      const at = qpsAtRecall(curve, level);
      fixed[level]![backend] = at;
      const best = curve.reduce((top, point) => Math.max(top, point.recall), 0);
      fixedRows.push([label, level.toFixed(2), LABELS[backend], atRecall(at) + (at === undefined ? ` (best ${best.toFixed(4)})` : ''), curves.hnswlib === undefined ? '' : ratio(at, hnswlib), faiss === undefined ? '' : ratio(at, faiss)]);
    }
    if (peerCurve.length > 0) fixedRows.push([label, level.toFixed(2), 'faiss IndexHNSWFlat', atRecall(faiss), curves.hnswlib === undefined ? '' : ratio(faiss, hnswlib), '1.00']);
  }
  datasetSummary.fixedRecall = fixed;
  summary[name] = datasetSummary;
}

function printTable(header: string[], body: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of body) console.log(line(row));
}

if (rows.length > 0) {
  printTable(['data', 'index', 'build (s)', 'qps (1 thread)', `qps (${parallelThreads} threads)`, 'faiss qps (1 thread)', 'ratio*', 'recall@10 / tie-aware', 'faiss recall@10 / tie-aware'], rows);
  console.log(
    `* flat: our qps / faiss IndexFlatIP qps. HNSW: our qps / faiss HNSW qps at our recall, interpolated on faiss's recall-qps frontier; (≤): our recall is below faiss's lowest, compared with faiss's fastest point (faiss may be faster still at our recall); n/a: above faiss's best recall. qps (${parallelThreads} threads): hnswlib with worker threads (one graph copy each), usearch with its native threads inside one batched search.`,
  );
}
if (fixedRows.length > 0) {
  console.log('');
  printTable(['data', 'recall@10', 'index', 'qps (1 thread) at this recall', 'x hnswlib', 'x faiss'], fixedRows);
  console.log(
    '* qps read off each index\'s own recall-qps curve (ef sweep; Pareto frontier, log(qps) linear in recall). ≥: the recall is below the curve\'s lowest point, qps of its fastest point (a lower bound); n/a: the sweep never reached this recall (add larger --ef values). Ratios marked (≥)/(≤) involve such a bound.',
  );
}
console.log(JSON.stringify({ workload: 'ann', node: process.version, backends, efValues, m, efConstruction, recallLevels, limit, queryLimit, summary }));
