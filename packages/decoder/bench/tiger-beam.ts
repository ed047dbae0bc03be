/**
 * Trie-constrained beam search throughput on the TIGER peer's ONNX fixture (beam 20, top-10),
 * batch 1 and batch 64, constrained and unconstrained calls interleaved, as the PyTorch peer
 * `shared/peers/tiger_beam.py` measures it (README section 2 of shared/peers).
 *
 * Inputs: the 256 users' `src_tokens` of the fixture's cases.json (batch 1: users 0..255, one call
 * each; batch 64: 20 calls over users 0..1279 taken cyclically from the 256, i.e. each user 5 times).
 *
 * Model: `--model transformer` (default) runs {@link TransformerStepModel} on the fixture's weights (read
 * from the two .onnx files): genrec's own graphs, `--workers N` (default 2) worker threads with 1
 * onnxruntime thread each, `--sub-batch U` users per concurrent sub-batch (default: the model's).
 * `--model onnx` runs the exported files themselves: {@link ParallelOnnxStepModel} with `--workers N`,
 * or with `--workers 0` the plain {@link OnnxSeq2SeqStepModel} on `--threads` intra-op threads.
 * `--workers-b1` overrides the worker count for batch 1 (default: same as `--workers`).
 *
 * Also, apart from the ratio table: `--streams-b1 S` (default: max(2, workers)) concurrent callers making
 * batch-1 calls, as a server answering concurrent single-user requests would (not the peer's protocol).
 *
 * Usage: tsx --conditions=@genrec/source bench/tiger-beam.ts [--model transformer|onnx] [--workers 2] [--workers-b1 N]
 *        [--sub-batch U] [--threads 2] [--no-spin] [--peer PEER.json] [--users-b1 256] [--calls-b64 20] [--warmup 3]
 *        [--streams-b1 S]
 * Prints a table and one JSON line (stdout).
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { sharedPath } from '@genrec/core';
import { beamSearch, createBeamSearchStats, type BeamSearchResult } from '../src/beam-search.js';
import { OnnxSeq2SeqStepModel } from '../src/onnx-seq2seq-step-model.js';
import { ParallelOnnxStepModel } from '../src/parallel-onnx-step-model.js';
import { fixtureBatch, loadTigerFixture, loadTigerFixtureTransformer } from '../src/testing/tiger-fixture.js';
import { TransformerStepModel } from '../src/transformer/transformer-step-model.js';

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && process.argv[index + 1] !== undefined ? process.argv[index + 1]! : fallback;
}
const threads = Number(argument('threads', '2'));
const spin = !process.argv.includes('--no-spin');
const peerFile = process.argv.includes('--peer') ? argument('peer', '') : undefined;
const usersB1 = Number(argument('users-b1', '256'));
const callsB64 = Number(argument('calls-b64', '20'));
const warmupCalls = Number(argument('warmup', '3'));
const workers = Number(argument('workers', '2'));
const workersB1 = Number(argument('workers-b1', String(workers)));
const modelKind = argument('model', 'transformer');
const subBatch = process.argv.includes('--sub-batch') ? Number(argument('sub-batch', '8')) : undefined;
if (modelKind !== 'transformer' && modelKind !== 'onnx') throw new Error(`--model must be transformer or onnx, got ${modelKind}`);

const directory = sharedPath('peers', 'fixtures', 'tiger_onnx');
if (!directory) {
  console.error('shared/peers/fixtures/tiger_onnx not found (set GENREC_SHARED_DIR); nothing to measure');
  process.exit(0);
}
const fixture = loadTigerFixture(directory);
const sessionOptions = { extra: { session: { intra_op: { allow_spinning: spin ? '1' : '0' } } } };
const transformer = modelKind === 'transformer' ? loadTigerFixtureTransformer(fixture) : undefined;
async function createModel(workerCount: number): Promise<OnnxSeq2SeqStepModel | ParallelOnnxStepModel | TransformerStepModel> {
  if (transformer) {
    return TransformerStepModel.create({ ...transformer, workers: workerCount, allowSpinning: spin, ...(subBatch !== undefined ? { subBatchUsers: subBatch } : {}) });
  }
  return workerCount > 0
    ? ParallelOnnxStepModel.create({ encoder: fixture.encoderPath, decoder: fixture.decoderPath, workers: workerCount, sessionOptions })
    : OnnxSeq2SeqStepModel.create({ encoder: fixture.encoderPath, decoder: fixture.decoderPath, intraOpNumThreads: threads, sessionOptions });
}
let model: OnnxSeq2SeqStepModel | ParallelOnnxStepModel | TransformerStepModel;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

interface ModeRun {
  batch: number;
  users: number;
  calls: number;
  users_per_s: number;
  ms_per_call_median: number;
  ms_per_call_mean: number;
  valid_fraction: number;
}

async function measure(batch: number, calls: number): Promise<{ trie: ModeRun; noTrie: ModeRun; trieOpsMsPerCall: number; searchMsPerCall: number; matchesPeer: number; checked: number }> {
  const run = (first: number, constrain: boolean, stats?: ReturnType<typeof createBeamSearchStats>): Promise<BeamSearchResult> =>
    beamSearch(model, fixtureBatch(fixture, first, batch), { trie: fixture.trie, constrain, beamWidth: 20, resultCount: 10, ...(stats ? { stats } : {}) });
  for (let c = 0; c < warmupCalls; c++) {
    await run(c * batch, true);
    await run(c * batch, false);
  }
  const times = { trie: [] as number[], noTrie: [] as number[] };
  const valid = { trie: 0, noTrie: 0 };
  const stats = createBeamSearchStats();
  let matchesPeer = 0;
  let checked = 0;
  for (let c = 0; c < calls; c++) {
    const order = c % 2 === 0 ? [true, false] : [false, true];
    for (const constrain of order) {
      const started = performance.now();
      const result = await run(c * batch, constrain, constrain ? stats : undefined);
      const elapsed = performance.now() - started;
      (constrain ? times.trie : times.noTrie).push(elapsed);
      let ok = 0;
      for (const id of result.itemIds) if (id >= 0) ok++;
      if (constrain) valid.trie += ok;
      else valid.noTrie += ok;
      if (constrain) {
        for (let u = 0; u < batch; u++) {
          const index = c * batch + u;
          if (index >= fixture.users.length) continue; // only the first pass over the 256 users is checked
          checked++;
          if (Array.from(result.user(u).itemIds).join() === fixture.users[index]!.itemIds.join()) matchesPeer++;
        }
      }
    }
  }
  const users = calls * batch;
  const mode = (list: number[], validCount: number): ModeRun => ({
    batch,
    users,
    calls,
    users_per_s: Number(((users / list.reduce((a, b) => a + b, 0)) * 1000).toFixed(2)),
    ms_per_call_median: Number(median(list).toFixed(3)),
    ms_per_call_mean: Number((list.reduce((a, b) => a + b, 0) / list.length).toFixed(3)),
    valid_fraction: Number((validCount / (users * 10)).toFixed(4)),
  });
  return {
    trie: mode(times.trie, valid.trie),
    noTrie: mode(times.noTrie, valid.noTrie),
    trieOpsMsPerCall: stats.trieMs / calls,
    searchMsPerCall: stats.searchMs / calls,
    matchesPeer,
    checked,
  };
}

model = await createModel(workersB1);
const b1 = await measure(1, usersB1);
/*
 * Extra, not the peer's protocol: `streams` concurrent callers, each making batch-1 calls one after
 * another (a server answering concurrent single-user requests); constrained mode, users 0..255
 * dealt round-robin to the streams. Reported apart from the ratio table.
 */
async function concurrentBatchOne(streams: number): Promise<{ streams: number; users: number; users_per_s: number }> {
  const options = { trie: fixture.trie, beamWidth: 20, resultCount: 10 };
  for (let s = 0; s < streams; s++) await beamSearch(model, fixtureBatch(fixture, s, 1), options);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: streams }, async (_, s) => {
      for (let user = s; user < usersB1; user += streams) await beamSearch(model, fixtureBatch(fixture, user, 1), options);
    }),
  );
  return { streams, users: usersB1, users_per_s: Number(((usersB1 / (performance.now() - started)) * 1000).toFixed(2)) };
}
const streamsB1 = Number(argument('streams-b1', String(Math.max(2, workersB1))));
const b1Concurrent = streamsB1 > 1 ? await concurrentBatchOne(streamsB1) : undefined;
await model.dispose();
model = await createModel(workers);
const b64 = await measure(64, callsB64);
await model.dispose();

interface PeerResult {
  runs: Record<string, { users_per_s: number; ms_per_call_median: number }>;
  trie_ops_ms_per_call_b1?: number;
  trie_ops_ms_per_call_b64?: number;
  trie_overhead_b1?: number;
  trie_overhead_b64?: number;
}
const peer = peerFile ? (JSON.parse(readFileSync(peerFile, 'utf8').trim().split('\n').at(-1)!) as PeerResult) : undefined;

const rows: string[] = [];
rows.push('| batch | mode | users | ours users/s | ours median ms/call | peer users/s | ratio ours/peer | valid ids |');
rows.push('|---|---|---|---|---|---|---|---|');
const result: Record<string, unknown> = { workload: 'tiger_beam', implementation: 'genrec-decoder', model: modelKind === 'transformer' ? 'TransformerStepModel' : workers > 0 ? 'ParallelOnnxStepModel' : 'OnnxSeq2SeqStepModel', sub_batch_users: subBatch ?? 'default', workers_b1: workersB1, workers_b64: workers, ort_threads_b1: workersB1 > 0 || transformer ? 1 : threads, ort_threads_b64: workers > 0 || transformer ? 1 : threads, ort_spinning: spin, cpus: cpus().length, runs: {} };
for (const [name, measured] of [['b1', b1], ['b64', b64]] as const) {
  for (const [modeName, run] of [['trie', measured.trie], ['no_trie', measured.noTrie]] as const) {
    const key = `${name}_${modeName}`;
    const peerRun = peer?.runs[key];
    const ratio = peerRun ? run.users_per_s / peerRun.users_per_s : undefined;
    (result.runs as Record<string, unknown>)[key] = { ...run, ...(peerRun ? { peer_users_per_s: peerRun.users_per_s, ratio_vs_peer: Number(ratio!.toFixed(3)) } : {}) };
    rows.push(`| ${run.batch} | ${modeName} | ${run.users} | ${run.users_per_s.toFixed(1)} | ${run.ms_per_call_median.toFixed(2)} | ${peerRun ? peerRun.users_per_s.toFixed(1) : '-'} | ${ratio ? ratio.toFixed(2) + 'x' : '-'} | ${run.valid_fraction} |`);
  }
  const overhead = measured.trie.ms_per_call_median / measured.noTrie.ms_per_call_median - 1;
  result[`trie_overhead_${name}`] = Number(overhead.toFixed(4));
  result[`trie_ops_ms_per_call_${name}`] = Number(measured.trieOpsMsPerCall.toFixed(4));
  result[`trie_ops_fraction_${name}`] = Number((measured.trieOpsMsPerCall / measured.trie.ms_per_call_median).toFixed(5));
  result[`search_ms_per_call_${name}`] = Number(measured.searchMsPerCall.toFixed(3));
  result[`same_top10_as_peer_${name}`] = `${measured.matchesPeer}/${measured.checked}`;
}
console.log(rows.join('\n'));
for (const name of ['b1', 'b64']) {
  console.log(
    `${name}: trie ops ${(result[`trie_ops_ms_per_call_${name}`] as number).toFixed(3)} ms/call (${((result[`trie_ops_fraction_${name}`] as number) * 100).toFixed(2)}% of a call), ` +
      `interleaved median overhead ${((result[`trie_overhead_${name}`] as number) * 100).toFixed(1)}%` +
      (peer ? ` (peer: ${peer[`trie_ops_ms_per_call_${name}` as 'trie_ops_ms_per_call_b1']} ms/call, ${((peer[`trie_overhead_${name}` as 'trie_overhead_b1'] ?? 0) * 100).toFixed(1)}%)` : '') +
      `, same top-10 as cases.json ${result[`same_top10_as_peer_${name}`]}`,
  );
}
if (b1Concurrent) {
  result.b1_concurrent_streams = b1Concurrent;
  console.log(`b1, ${b1Concurrent.streams} concurrent streams of batch-1 calls (not the peer's protocol): ${b1Concurrent.users_per_s} users/s`);
}
console.log(JSON.stringify(result));
