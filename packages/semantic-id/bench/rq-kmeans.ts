/**
 * RQ-KMeans (3 levels x 256 codes, at most 25 Lloyd iterations per level) on the `rq_kmeans`
 * peer's two data sets, read from its `--dump-dir` output so both sides quantise identical
 * vectors, side by side with the peer's `faiss.ResidualQuantizer` run in the same session.
 *
 *   flock /tmp/genrec-bench.lock pnpm --filter @genrec/semantic-id bench
 *   options: --dump-dir DIR (default /tmp/peer-dumps/rq_kmeans; created by running the peer when
 *   missing), --reps N (median of N, default 3), --no-peer (skip the Python side),
 *   --backend auto|js, --init kmeans++|random, --built (time the built dist/ in a plain `node`
 *   child, bench/rq-kmeans-built.mjs, instead of this tsx process; default options only)
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createMatrix, RawDump, sharedPath, type Matrix } from '@genrec/core';
import { fitResidualKMeans, resolvedBackend, type KernelBackend } from '../src/index.js';

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && process.argv[index + 1] !== undefined ? process.argv[index + 1]! : fallback;
}

const dumpDirectory = argument('dump-dir', '/tmp/peer-dumps/rq_kmeans');
const reps = Number(argument('reps', '3'));
const backend = argument('backend', 'auto') as KernelBackend;
const init = argument('init', 'kmeans++') as 'kmeans++' | 'random';
const runPeer = !process.argv.includes('--no-peer');
const built = process.argv.includes('--built');
const peerScript = sharedPath('peers', 'rq_kmeans.py');
const sequences = sharedPath('data', 'amazon2014-toys', 'Toys_and_Games.txt');

function runPeerScript(extra: string[]): unknown {
  if (!peerScript || !sequences) throw new Error('the shared folder with peers/rq_kmeans.py and the Toys data is missing');
  const out = execFileSync('/usr/bin/python3', [peerScript, sequences, ...extra], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 });
  const line = out.trim().split('\n').pop()!;
  return JSON.parse(line) as unknown;
}

if (!existsSync(join(dumpDirectory, 'manifest.json'))) {
  console.error(`no dump at ${dumpDirectory}: running the peer once to write it`);
  runPeerScript(['--dump-dir', dumpDirectory, '--methods', 'faiss_rq', '--reps', '1']);
}
const dump = new RawDump(dumpDirectory);
const datasets: [string, Matrix][] = ['rq_titles', 'rq_synthetic'].map((name) => {
  const tensor = dump.read(name);
  return [name.replace('rq_', ''), createMatrix(tensor.shape[0]!, tensor.shape[1]!, tensor.data as Float32Array)];
});

interface PeerMethod {
  seconds: number;
  rel_quant_error: number;
  frac_items_sharing_3level_code: number;
  max_items_per_3level_code: number;
}
let peer: Record<string, { methods: Record<string, PeerMethod> }> = {};
if (runPeer) {
  const result = runPeerScript(['--methods', 'faiss_rq', '--reps', String(reps)]) as { datasets: typeof peer };
  peer = result.datasets;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const rows: Record<string, unknown>[] = [];
const kernel = resolvedBackend(backend);
interface GenrecRun {
  times: number[];
  relativeError: number;
  iterationsPerLevel: number[];
  skippedFractionPerLevel: number[];
}
let builtRuns: Record<string, GenrecRun> | undefined;
if (built) {
  if (backend !== 'auto' || init !== 'kmeans++') throw new Error('--built times the default options only (no --backend / --init)');
  const script = join(import.meta.dirname, 'rq-kmeans-built.mjs');
  const out = execFileSync(process.execPath, [script, dumpDirectory, String(reps)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const parsed = JSON.parse(out.trim().split('\n').pop()!) as (GenrecRun & { name: string })[];
  builtRuns = Object.fromEntries(parsed.map((run) => [run.name, run]));
}
for (const [name, vectors] of datasets) {
  let run = builtRuns?.[name];
  if (!run) {
    const times: number[] = [];
    let fit: Awaited<ReturnType<typeof fitResidualKMeans>> | undefined;
    for (let rep = 0; rep < reps; rep++) {
      const started = performance.now();
      fit = await fitResidualKMeans(vectors, { levels: 3, codebookSize: 256, maxIterations: 25, seed: 0, backend, init });
      times.push((performance.now() - started) / 1000);
    }
    run = { times, relativeError: fit!.relativeError, iterationsPerLevel: fit!.iterationsPerLevel, skippedFractionPerLevel: fit!.skippedFractionPerLevel };
  }
  const times = run.times;
  const faiss = peer[name]?.methods.faiss_rq;
  rows.push({
    dataset: name,
    shape: `${vectors.rows}x${vectors.cols}`,
    genrecSeconds: Number(median(times).toFixed(3)),
    genrecSecondsAll: times.map((t) => Number(t.toFixed(3))),
    genrecRelativeError: Number(run.relativeError.toFixed(6)),
    iterationsPerLevel: run.iterationsPerLevel,
    skippedFractionPerLevel: run.skippedFractionPerLevel.map((s) => Number(s.toFixed(3))),
    faissSeconds: faiss?.seconds ?? null,
    faissRelativeError: faiss?.rel_quant_error ?? null,
  });
}

console.log(`RQ-KMeans 3 x 256, <=25 iterations, ${init} init, kernels: ${kernel}, ${built ? 'built dist/ in plain node' : 'sources under tsx'}, median of ${reps}`);
console.log('| data | genrec s | genrec rel. error | iterations | faiss RQ s | faiss rel. error |');
console.log('|---|---|---|---|---|---|');
for (const row of rows) {
  console.log(
    `| ${String(row.dataset)} ${String(row.shape)} | ${String(row.genrecSeconds)} | ${String(row.genrecRelativeError)} | ${(row.iterationsPerLevel as number[]).join(', ')} | ${String(row.faissSeconds ?? '-')} | ${String(row.faissRelativeError ?? '-')} |`,
  );
}
console.log(JSON.stringify({ benchmark: 'rq-kmeans', kernels: kernel, init, reps, built, rows }));
