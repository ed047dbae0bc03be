/**
 * LanceIndex at scale: insert N seeded, clustered vectors in batches, train IVF-PQ, compute the
 * exact top-10 of the queries by streaming the same batches again, then sweep nprobes (and refine
 * factors) for queries per second and recall@10.
 *
 * Data: `--centres` (4096) Gaussian centres in `--dimension` (128) dimensions, each normalised to
 * length 1; a point is a uniformly chosen centre plus Gaussian noise of total norm about `--noise`
 * (0.5: per coordinate noise / sqrt(dimension)), normalised to length 1 again (unit vectors, so ip,
 * cosine and l2 rank alike; the default metric is cosine). Batch b is drawn from its own seeded
 * generator, so it can be regenerated for the ground truth without keeping anything: peak memory is
 * a few batches (a 100,000 x 128 batch is 51 MB), never the N x d matrix. Queries come from the same
 * distribution (new points, not stored ones).
 *
 * Run (from the repository root; the 10M run needs about 6 GB of disk and tens of minutes):
 *   pnpm --filter @genrec/ann-lancedb bench -- --count 10000000 --dimension 128 --queries 1000 --nprobes 10,20,40,80
 *   pnpm --filter @genrec/ann-lancedb bench -- --count 200000 --queries 1000          # smoke
 * Options: --count --dimension --queries --nprobes (list) --refine-factors (list) --partitions
 * --sub-vectors --metric --centres --noise --batch --k --concurrency --seed --dir --keep
 * Output: progress lines on stderr; the JSON report and then a one-line summary on stdout.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { GenrecError, Rng, progressReporter, type ProgressEvent, type VectorMetric } from '@genrec/core';
import { FlatIndex, recallAtK } from '@genrec/ann';
import { LanceIndex } from '../src/index.js';
import { folderBytes } from '../src/lance-folder.js';

const { values: args } = parseArgs({
  // `pnpm bench -- --count …` passes the `--` through
  args: process.argv.slice(2).filter((arg, position) => !(position === 0 && arg === '--')),
  options: {
    count: { type: 'string', default: '10000000' },
    dimension: { type: 'string', default: '128' },
    queries: { type: 'string', default: '1000' },
    nprobes: { type: 'string', default: '10,20,40,80' },
    'refine-factors': { type: 'string', default: '1,4,16' },
    partitions: { type: 'string' },
    'sub-vectors': { type: 'string' },
    metric: { type: 'string', default: 'cosine' },
    centres: { type: 'string', default: '4096' },
    noise: { type: 'string', default: '0.5' },
    batch: { type: 'string', default: '100000' },
    k: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '4' },
    seed: { type: 'string', default: '42' },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});

function integer(name: string, value: string | undefined, minimum = 1): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < minimum) throw new GenrecError('INVALID_OPTION', `--${name} must be an integer >= ${minimum}, got ${value}`);
  return parsed;
}
const list = (name: string, value: string): number[] => value.split(',').map((part) => integer(name, part.trim(), 0));

const count = integer('count', args.count);
const dimension = integer('dimension', args.dimension);
const queryCount = integer('queries', args.queries);
const nprobesList = list('nprobes', args.nprobes);
const refineFactors = list('refine-factors', args['refine-factors']);
const partitions = args.partitions === undefined ? Math.max(1, Math.round(Math.sqrt(count))) : integer('partitions', args.partitions);
const subVectors = args['sub-vectors'] === undefined ? (dimension % 8 === 0 ? dimension / 8 : 1) : integer('sub-vectors', args['sub-vectors']);
const metric = args.metric as VectorMetric;
if (!['ip', 'cosine', 'l2'].includes(metric)) throw new GenrecError('INVALID_OPTION', `--metric must be ip, cosine or l2, got ${metric}`);
const centreCount = integer('centres', args.centres);
const noise = Number(args.noise);
const batchSize = integer('batch', args.batch);
const k = integer('k', args.k);
const concurrency = integer('concurrency', args.concurrency);
const seed = integer('seed', args.seed, 0);
if (args.dir !== undefined && existsSync(args.dir)) throw new GenrecError('INVALID_OPTION', `--dir ${args.dir} exists: remove it or name another folder`);
/** What the run removes at the end unless --keep: the index folder, or the temporary folder made for it. */
const scratch = args.dir ?? mkdtempSync(join(tmpdir(), 'genrec-lance-bench-'));
const directory = args.dir ?? join(scratch, 'index');

const started = performance.now();
const onProgress = (event: ProgressEvent): void => {
  if (event.type !== 'task-start' && event.type !== 'task-progress' && event.type !== 'task-end') return;
  const total = event.total === undefined ? '' : `/${event.total}`;
  const share = event.total === undefined || event.total === 0 ? '' : ` (${((100 * event.done) / event.total).toFixed(0)}%)`;
  const elapsed = ((performance.now() - started) / 1000).toFixed(1);
  process.stderr.write(`[${event.task}] ${event.type.slice(5)} ${event.done}${total} ${event.unit ?? ''}${share} ${event.message ?? ''} t=${elapsed}s\n`);
};

/** Unit-length centres, drawn once from the seed. */
const centres = new Rng(seed).fillNormal(new Float32Array(centreCount * dimension));
normalize(centres);

function normalize(rows: Float32Array): void {
  for (let offset = 0; offset < rows.length; offset += dimension) {
    let norm = 0;
    for (let c = 0; c < dimension; c++) norm += rows[offset + c]! ** 2;
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let c = 0; c < dimension; c++) rows[offset + c] = rows[offset + c]! * scale;
  }
}

/** `rows` points of the clustered distribution from the generator `stream` (batch b uses stream b + 1). */
function points(stream: bigint, rows: number): Float32Array {
  const rng = new Rng((BigInt(seed) << 32n) | stream);
  const out = new Float32Array(rows * dimension);
  const spread = noise / Math.sqrt(dimension);
  for (let i = 0; i < rows; i++) {
    const centre = rng.int(centreCount) * dimension;
    for (let c = 0; c < dimension; c++) out[i * dimension + c] = centres[centre + c]! + spread * rng.normal();
  }
  normalize(out);
  return out;
}

const batchCount = Math.ceil(count / batchSize);
function batch(b: number): { ids: Int32Array; vectors: Float32Array } {
  const rows = Math.min(batchSize, count - b * batchSize);
  return { ids: Int32Array.from({ length: rows }, (_, i) => b * batchSize + i + 1), vectors: points(BigInt(b + 1), rows) };
}
const queries = points(0xffffffffn, queryCount);

async function main(): Promise<void> {
  // 1. insert
  const index = await LanceIndex.create({ path: directory, dimension, metric, searchConcurrency: concurrency });
  const insert = progressReporter(onProgress, 'insert', { total: count, unit: 'rows' });
  insert.start(`${batchCount} batches of ${batchSize} into ${directory}`);
  let insertSeconds = 0;
  for (let b = 0; b < batchCount; b++) {
    const { ids, vectors } = batch(b);
    const t0 = performance.now();
    await index.add(ids, vectors);
    insertSeconds += (performance.now() - t0) / 1000;
    insert.update(Math.min(count, (b + 1) * batchSize));
  }
  insert.end(count);

  // 2. IVF-PQ
  const build = progressReporter(onProgress, 'build-index', {});
  build.start(`numPartitions ${partitions}, numSubVectors ${subVectors}`);
  let t0 = performance.now();
  await index.buildIndex({ numPartitions: partitions, numSubVectors: subVectors });
  const indexSeconds = (performance.now() - t0) / 1000;
  build.end(1);
  await index.save(index.path);
  const diskBytes = folderBytes(index.path);

  // 3. exact top-k by streaming the same batches again (onnxruntime products, 1 thread)
  const truthIds = new Int32Array(queryCount * k).fill(-1);
  const truthScores = new Float32Array(queryCount * k).fill(Number.NEGATIVE_INFINITY);
  const truth = progressReporter(onProgress, 'ground-truth', { total: count, unit: 'rows' });
  truth.start(`${queryCount} queries, exact top-${k}`);
  t0 = performance.now();
  for (let b = 0; b < batchCount; b++) {
    const { ids, vectors } = batch(b);
    // one search per chunk: compiling its vectors would not pay
    const chunk = new FlatIndex({ dimension, metric, backend: 'onnxruntime', prepare: 'never', intraOpNumThreads: 1, initialCapacity: ids.length });
    await chunk.add(ids, vectors);
    const found = await chunk.search(queries, Math.min(k, ids.length));
    mergeTopK(truthIds, truthScores, found.ids, found.scores, found.k);
    truth.update(Math.min(count, (b + 1) * batchSize));
  }
  const truthSeconds = (performance.now() - t0) / 1000;
  truth.end(count);

  // 4. sweep (one warm-up pass first: the first configuration would otherwise pay for a cold cache)
  await index.search(queries.subarray(0, Math.min(queryCount, 100) * dimension), k, { nprobes: nprobesList[0]!, refineFactor: refineFactors[0]! });
  const sweep: { nprobes: number; refineFactor: number; qps: number; recallAt10: number; seconds: number }[] = [];
  const search = progressReporter(onProgress, 'sweep', { total: nprobesList.length * refineFactors.length, unit: 'configurations' });
  search.start();
  for (const refineFactor of refineFactors) {
    for (const nprobes of nprobesList) {
      t0 = performance.now();
      const result = await index.search(queries, k, { nprobes, refineFactor });
      const seconds = (performance.now() - t0) / 1000;
      const point = { nprobes, refineFactor, qps: queryCount / seconds, recallAt10: recallAtK(result.ids, truthIds, queryCount, k), seconds };
      sweep.push(point);
      search.update(sweep.length, { message: `nprobes ${nprobes} refine ${refineFactor}: ${point.qps.toFixed(0)} q/s, recall@${k} ${point.recallAt10.toFixed(3)}` });
    }
  }
  search.end();
  await index.close();
  if (!args.keep) rmSync(scratch, { recursive: true, force: true });

  const report = {
    benchmark: 'ann-lancedb/ten-million',
    count,
    dimension,
    metric,
    data: { generator: 'clustered, unit vectors', centres: centreCount, noise, seed, batch: batchSize },
    queries: queryCount,
    k,
    searchConcurrency: concurrency,
    index: { type: 'IVF_PQ', numPartitions: partitions, numSubVectors: subVectors, numBits: 8 },
    insert: { seconds: insertSeconds, rowsPerSecond: count / insertSeconds },
    buildIndex: { seconds: indexSeconds },
    diskBytes,
    groundTruth: { seconds: truthSeconds, method: 'FlatIndex per batch (onnxruntime, 1 thread), merged top-k' },
    sweep,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    totalSeconds: (performance.now() - started) / 1000,
    kept: args.keep ? directory : null,
  };
  process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  const best = sweep.map((point) => `np${point.nprobes}/rf${point.refineFactor} ${point.qps.toFixed(0)}q/s r@${k}=${point.recallAt10.toFixed(3)}`).join(', ');
  process.stdout.write(
    `lancedb ${count}x${dimension} ${metric}: insert ${insertSeconds.toFixed(1)}s, IVF-PQ(${partitions},${subVectors}) ${indexSeconds.toFixed(1)}s, ` +
      `disk ${(diskBytes / 2 ** 30).toFixed(2)} GiB, truth ${truthSeconds.toFixed(1)}s, peak RSS ${report.peakRssMiB.toFixed(0)} MiB, total ${report.totalSeconds.toFixed(0)}s | ${best}\n`,
  );
}

/** Merges one batch's top-k rows into the running top-k (both best first, -1 / -Infinity padded). */
function mergeTopK(ids: Int32Array, scores: Float32Array, batchIds: Int32Array, batchScores: Float32Array, batchK: number): void {
  const mergedIds = new Int32Array(k);
  const mergedScores = new Float32Array(k);
  for (let q = 0; q < queryCount; q++) {
    let a = q * k;
    let b = q * batchK;
    const aEnd = a + k;
    const bEnd = b + batchK;
    for (let j = 0; j < k; j++) {
      // the running top-k wins ties: its ids come from earlier batches, i.e. smaller ids
      const takeA = b >= bEnd || batchIds[b]! < 0 || (a < aEnd && scores[a]! >= batchScores[b]!);
      if (takeA) {
        mergedIds[j] = ids[a]!;
        mergedScores[j] = scores[a]!;
        a++;
      } else {
        mergedIds[j] = batchIds[b]!;
        mergedScores[j] = batchScores[b]!;
        b++;
      }
    }
    ids.set(mergedIds, q * k);
    scores.set(mergedScores, q * k);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  if (!args.keep) rmSync(scratch, { recursive: true, force: true });
  process.exit(1);
});
