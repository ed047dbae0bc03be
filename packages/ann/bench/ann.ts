/**
 * ANN benchmark, side by side with the `ann_hnsw` peer (faiss IndexHNSWFlat / IndexFlatIP) on the
 * identical vectors the peer dumped with `--dump-dir`:
 *
 *   flock /tmp/genrec-bench.lock /usr/bin/python3 ../shared/peers/ann_hnsw.py \
 *     ../shared/data/amazon2014-toys/Toys_and_Games.txt --build-threads 1 \
 *     --dump-dir /tmp/peer-dumps/ann_hnsw > /tmp/peer-dumps/ann_hnsw.json
 *   flock /tmp/genrec-bench.lock pnpm --filter @genrec/ann bench -- --peer-json /tmp/peer-dumps/ann_hnsw.json
 *
 * Options: --dump-dir DIR (default /tmp/peer-dumps/ann_hnsw), --peer-json FILE (the peer's stdout
 * JSON line; optional), --datasets titles,random, --ef 16,32,64,128,256, --reps 3, --m 16,
 * --ef-construction 200. Protocol (as the peer's): k = 10, inner product, queries on 1 thread; per
 * setting one untimed warm-up pass then `reps` timed passes of ONE batched search over all 1,000
 * queries; qps = 1000 / median pass. Recall@10 against the exact FlatIndex. Prints a table and one
 * JSON line.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createMatrix, RawDump, Rng, selectRows, type Matrix, type VectorIndex, type VectorSearchOptions } from '@genrec/core';
import { FlatIndex, HnswIndex, measureRecallThroughput, type RecallThroughputReport } from '../src/index.js';

const { values } = parseArgs({
  // `pnpm bench -- --flag` may forward the `--` itself
  args: process.argv.slice(2).filter((argument) => argument !== '--'),
  options: {
    'dump-dir': { type: 'string', default: '/tmp/peer-dumps/ann_hnsw' },
    'peer-json': { type: 'string' },
    datasets: { type: 'string', default: 'titles,random' },
    ef: { type: 'string', default: '16,32,64,128,256' },
    reps: { type: 'string', default: '3' },
    m: { type: 'string', default: '16' },
    'ef-construction': { type: 'string', default: '200' },
  },
});

const dumpDirectory = values['dump-dir']!;
if (!existsSync(`${dumpDirectory}/manifest.json`)) {
  console.error(`no peer dump at ${dumpDirectory}: run the peer with --dump-dir first (see the header of bench/ann.ts); skipping`);
  process.exit(0);
}
const efValues = values.ef!.split(',').map(Number);
const reps = Number(values.reps);
const m = Number(values.m);
const efConstruction = Number(values['ef-construction']);
const dump = new RawDump(dumpDirectory);

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
const peer: { datasets: Record<string, PeerDataset> } | undefined = values['peer-json'] ? JSON.parse(readFileSync(values['peer-json'], 'utf8').trim().split('\n').pop()!) : undefined;

function loadDataset(name: string): { base: Matrix; queries: Matrix } {
  const asMatrix = (tensorName: string): Matrix => {
    const tensor = dump.read(tensorName);
    return createMatrix(tensor.shape[0]!, tensor.shape[1]!, tensor.data as Float32Array);
  };
  if (name === 'titles') {
    const base = asMatrix('ann_titles_base');
    const rows = dump.read('ann_titles_query_rows').data as Int32Array;
    return { base, queries: selectRows(base, rows) };
  }
  if (name === 'random') return { base: asMatrix('ann_random_base'), queries: asMatrix('ann_random_query') };
  throw new Error(`unknown dataset ${name}`);
}

/**
 * Peer qps at a given recall: on the peer's Pareto frontier (points not beaten in both recall and
 * qps), log(qps) interpolated linearly in recall. Below the frontier's lowest recall the peer's
 * fastest point is used (it also reaches our recall, so the comparison is conservative, marked
 * `lower`); above its highest recall there is no match.
 */
function peerQpsAtRecall(points: { recall: number; qps: number }[], recall: number): { qps: number; lower: boolean } | undefined {
  const byRecall = [...points].sort((a, b) => b.recall - a.recall || b.qps - a.qps);
  const frontier: { recall: number; qps: number }[] = [];
  for (const point of byRecall) if (frontier.length === 0 || point.qps > frontier[frontier.length - 1]!.qps) frontier.push(point);
  frontier.reverse(); // ascending recall, descending qps
  if (frontier.length === 0 || recall > frontier[frontier.length - 1]!.recall) return undefined;
  if (recall <= frontier[0]!.recall) return { qps: frontier[0]!.qps, lower: true };
  for (let i = 0; i + 1 < frontier.length; i++) {
    const low = frontier[i]!;
    const high = frontier[i + 1]!;
    if (recall >= low.recall && recall <= high.recall) {
      const t = (recall - low.recall) / (high.recall - low.recall);
      return { qps: Math.exp(Math.log(low.qps) + t * (Math.log(high.qps) - Math.log(low.qps))), lower: false };
    }
  }
  return undefined;
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
  const index = new FlatIndex({ dimension: base.cols, metric: 'ip', backend, intraOpNumThreads: threads, initialCapacity: base.rows });
  await index.add(Int32Array.from({ length: base.rows }, (_, i) => i), base);
  const buildSeconds = (performance.now() - start) / 1000;
  return { qps: await batchedQps(index, queries, searchOptions), buildSeconds };
}

/** 50 random "history" ids per query, and a filter that keeps half of the ids. */
function historiesAndFilter(baseRows: number, queryCount: number): { exclude: Set<number>[]; filter: (id: number) => boolean } {
  const rng = new Rng(0);
  const exclude = Array.from({ length: queryCount }, () => new Set(Array.from({ length: 50 }, () => rng.int(baseRows))));
  return { exclude, filter: (id: number) => id % 2 === 0 };
}

const rows: string[][] = [];
const summary: Record<string, unknown> = {};
for (const name of values.datasets!.split(',')) {
  const { base, queries } = loadDataset(name);
  console.error(`[${name}] ${base.rows} x ${base.cols}, ${queries.rows} queries: building HNSW (M=${m}, efConstruction=${efConstruction}, 1 thread)…`);
  const report: RecallThroughputReport = await measureRecallThroughput({
    base,
    queries,
    metric: 'ip',
    k: 10,
    efValues,
    reps,
    flatThreads: 1,
    parallelThreads: 2,
    createIndex: (dimension, metric) => new HnswIndex({ dimension, metric, m, efConstruction, initialCapacity: base.rows }),
  });
  const flatJs = await flatBatchedQps(base, queries, 'javascript');
  const flatOrt = await flatBatchedQps(base, queries, 'onnxruntime');
  const flatOrt2 = await flatBatchedQps(base, queries, 'onnxruntime', 2);
  const { exclude, filter } = historiesAndFilter(base.rows, queries.rows);
  const flatExclude = await flatBatchedQps(base, queries, 'onnxruntime', 1, { exclude });
  const flatFilter = await flatBatchedQps(base, queries, 'onnxruntime', 1, { filter });
  const hnsw = report.index as HnswIndex;
  const hnswExclude = await batchedQps(hnsw, queries, { ef: 64, exclude });
  const hnswFilter = await batchedQps(hnsw, queries, { ef: 64, filter });
  const peerData = peer?.datasets[name];
  const peerCurve = peerData ? efValues.flatMap((ef) => (peerData.hnsw[`ef${ef}`] ? [{ recall: peerData.hnsw[`ef${ef}`]!['recall@10'], qps: peerData.hnsw[`ef${ef}`]!.qps_1thread }] : [])) : [];
  const label = `${name} ${base.rows}x${base.cols}`;
  const f = (value: number | undefined, digits = 0) => (value === undefined ? '' : value.toFixed(digits));
  rows.push([label, 'Flat IP, batched (onnxruntime)', f(flatOrt.buildSeconds, 4), f(flatOrt.qps), f(flatOrt2.qps), f(peerData?.flat_qps_batched_1thread), peerData ? (flatOrt.qps / peerData.flat_qps_batched_1thread).toFixed(2) : '', '1', '']);
  rows.push([label, 'Flat IP, batched, exclude 50 ids/query', '', f(flatExclude.qps), '', '', '', '1', '']);
  rows.push([label, 'Flat IP, batched, filter (half the ids)', '', f(flatFilter.qps), '', '', '', '1', '']);
  rows.push([label, 'Flat IP, batched (JavaScript kernel)', f(flatJs.buildSeconds, 4), f(flatJs.qps), '', '', '', '1', '']);
  rows.push([label, `HNSW build (1 thread), est. ${(report.indexBytes! / 2 ** 20).toFixed(1)} MiB`, f(report.buildSeconds, 2), '', '', f(peerData?.hnsw_build_s['1_thread'], 2), '', '', '']);
  const points = report.points.map((point) => {
    const peerPoint = peerData?.hnsw[`ef${point.ef}`];
    const matched = peerQpsAtRecall(peerCurve, point.recall);
    rows.push([
      label,
      `HNSW ef ${point.ef}`,
      '',
      f(point.qps),
      f(point.qpsParallel),
      f(peerPoint?.qps_1thread),
      matched === undefined ? 'n/a' : `${(point.qps / matched.qps).toFixed(2)}${matched.lower ? ' (≥)' : ''}`,
      `${point.recall.toFixed(4)} / ${point.recallTieAware.toFixed(4)}`,
      peerPoint ? `${peerPoint['recall@10'].toFixed(4)} / ${peerPoint['recall@10_tie_aware'].toFixed(4)}` : '',
    ]);
    return { ...point, peerQps: peerPoint?.qps_1thread, peerRecall: peerPoint?.['recall@10'], qpsRatioAtMatchedRecall: matched === undefined ? undefined : point.qps / matched.qps, matchedIsPeerFastest: matched?.lower };
  });
  rows.push([label, 'HNSW ef 64, exclude 50 ids/query', '', f(hnswExclude), '', '', '', '', '']);
  rows.push([label, 'HNSW ef 64, filter (half the ids)', '', f(hnswFilter), '', '', '', '', '']);
  summary[name] = {
    n: base.rows,
    d: base.cols,
    flatQpsOnnx: flatOrt.qps,
    flatQpsOnnx2Threads: flatOrt2.qps,
    flatQpsExclude50: flatExclude.qps,
    flatQpsFilterHalf: flatFilter.qps,
    hnswEf64QpsExclude50: hnswExclude,
    hnswEf64QpsFilterHalf: hnswFilter,
    flatQpsJavascript: flatJs.qps,
    flatQpsTruthPass: report.flat?.qps,
    peerFlatQps: peerData?.flat_qps_batched_1thread,
    hnswBuildSeconds: report.buildSeconds,
    peerHnswBuildSeconds: peerData?.hnsw_build_s['1_thread'],
    hnswIndexBytes: report.indexBytes,
    buildRssBytes: report.buildRssBytes,
    points,
  };
}

const header = ['data', 'index', 'build (s)', 'qps (1 thread)', 'qps (2 threads)', 'faiss qps (1 thread)', 'ratio*', 'recall@10 / tie-aware', 'faiss recall@10 / tie-aware'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
console.log(line(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const row of rows) console.log(line(row));
console.log("* flat: our qps / faiss IndexFlatIP qps. HNSW: our qps / faiss HNSW qps at our recall, interpolated on faiss's recall-qps frontier; (≥): our recall is below faiss's lowest, compared with faiss's fastest point; n/a: above faiss's best recall");
console.log(JSON.stringify({ workload: 'ann', node: process.version, summary }));
