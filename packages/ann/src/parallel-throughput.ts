import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { GenrecError, checkIntegerOption, checkResultSize, openArtifactDirectory, type Matrix } from '@genrec/core';
import { maxSearchK } from './index-input.js';
import type { HnswIndex } from './hnsw-index.js';

/** Options of {@link measureHnswParallelQps}. */
export interface ParallelQpsOptions {
  /** Worker threads, each searching a contiguous share of the queries. */
  threads: number;
  /** Results per query. @defaultValue 10 */
  k?: number;
  /** Search breadth. @defaultValue the index's `ef` */
  ef?: number;
  /** Timed passes (after one warm-up pass); the median is reported. @defaultValue 3 */
  reps?: number;
}

/** Multi-threaded throughput of one setting. */
export interface ParallelQps {
  threads: number;
  ef: number;
  /** Queries per second over all threads (queries / median wall time of a pass). */
  qps: number;
  /** Median wall seconds of one pass over all queries. */
  seconds: number;
  /** Neighbours the workers returned in the last pass (queries x k when the index holds k or more). */
  resultsFound: number;
}

/*
 * hnswlib-node searches synchronously on the calling thread, so parallel queries need one graph
 * per worker thread. Each worker reads the graph that `save` wrote (hnswlib's own file) with
 * hnswlib-node directly, so the code below is plain CommonJS run with `eval` (no TypeScript loader
 * is needed in the worker), and the queries are shared through a SharedArrayBuffer.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const hnswlib = require(workerData.modulePath);
const graph = new hnswlib.HierarchicalNSW(workerData.metric, workerData.dimension);
graph.readIndexSync(workerData.file);
const queries = new Float32Array(workerData.queries);
const dimension = workerData.dimension;
const point = new Array(dimension).fill(0);
parentPort.on('message', ({ start, end, ef, k }) => {
  graph.setEf(ef);
  let found = 0;
  for (let q = start; q < end; q++) {
    for (let c = 0; c < dimension; c++) point[c] = queries[q * dimension + c];
    found += graph.searchKnn(point, k).neighbors.length;
  }
  parentPort.postMessage({ found });
});
parentPort.postMessage({ ready: true });
`;

function nextMessage(worker: Worker): Promise<{ found?: number; ready?: boolean }> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { found?: number; ready?: boolean }) => {
      worker.off('error', onError);
      resolve(message);
    };
    const onError = (error: Error) => {
      worker.off('message', onMessage);
      reject(new GenrecError('RUNTIME_ERROR', `search worker failed: ${error.message}`, { cause: error }));
    };
    worker.once('message', onMessage);
    worker.once('error', onError);
  });
}

/**
 * Queries per second of an {@link HnswIndex} searched by several worker threads at once (plain
 * searches, no filter or exclusion): the index is saved to a temporary folder, every worker loads
 * its own copy of the graph (memory x threads), and each pass splits the queries evenly between
 * the workers. Timing covers the passes only, not loading.
 *
 * @throws GenrecError `INVALID_OPTION` for a bad option, `SHAPE_MISMATCH` for queries of another
 * width, `RUNTIME_ERROR` when a worker fails.
 * @example
 * ```ts
 * const { qps } = await measureHnswParallelQps(index, queries, { threads: 2, ef: 64 });
 * ```
 */
export async function measureHnswParallelQps(index: HnswIndex, queries: Matrix, options: ParallelQpsOptions): Promise<ParallelQps> {
  const threads = checkIntegerOption(options.threads, 'threads', 1, 256);
  // the one rule of index searches (k up to max(size, 1024)); hnswlib itself is asked for at most
  // `size` neighbours, as HnswIndex.search does, and the rest of a row would be padding
  const k = checkResultSize(options.k ?? 10, 'k', maxSearchK(index.size), `the index holds ${index.size} vectors`);
  const neighbours = Math.max(1, Math.min(k, index.size));
  const ef = checkIntegerOption(options.ef ?? index.ef, 'ef', 1);
  const reps = checkIntegerOption(options.reps ?? 3, 'reps', 1);
  if (queries.cols !== index.dimension) {
    throw new GenrecError('SHAPE_MISMATCH', `queries have ${queries.cols} columns, the index dimension is ${index.dimension}`, { details: { field: 'queries' } });
  }
  const directory = mkdtempSync(join(tmpdir(), 'genrec-ann-parallel-'));
  const workers: Worker[] = [];
  try {
    await index.save(join(directory, 'index'));
    // the saved folder is versioned: the graph file lives in the version CURRENT names
    const file = openArtifactDirectory(join(directory, 'index')).verifiedPath('index.hnsw');
    const shared = new SharedArrayBuffer(queries.data.byteLength);
    new Float32Array(shared).set(queries.data);
    const modulePath = createRequire(import.meta.url).resolve('hnswlib-node');
    for (let t = 0; t < threads; t++) {
      workers.push(
        new Worker(WORKER_SOURCE, {
          eval: true,
          workerData: { modulePath, metric: index.metric, dimension: index.dimension, file, queries: shared },
        }),
      );
    }
    await Promise.all(workers.map((worker) => nextMessage(worker)));
    const share = Math.ceil(queries.rows / threads);
    let resultsFound = 0;
    const pass = async (): Promise<number> => {
      const start = performance.now();
      const answers = workers.map((worker, t) => {
        const answer = nextMessage(worker);
        worker.postMessage({ start: Math.min(queries.rows, t * share), end: Math.min(queries.rows, (t + 1) * share), ef, k: neighbours });
        return answer;
      });
      const messages = await Promise.all(answers);
      const seconds = (performance.now() - start) / 1000;
      resultsFound = messages.reduce((sum, message) => sum + (message.found ?? 0), 0);
      return seconds;
    };
    await pass();
    const times: number[] = [];
    for (let r = 0; r < reps; r++) times.push(await pass());
    times.sort((a, b) => a - b);
    const seconds = times.length % 2 === 1 ? times[times.length >> 1]! : (times[times.length / 2 - 1]! + times[times.length / 2]!) / 2;
    return { threads, ef, qps: queries.rows / seconds, seconds, resultsFound };
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
    rmSync(directory, { recursive: true, force: true });
  }
}
