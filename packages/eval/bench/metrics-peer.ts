/**
 * The peer `metrics` workload (/work/shared/peers/README.md, section 5): 1,000,000 synthetic users,
 * top-50 lists over 50,000 items, 1–5 relevant items, Recall/NDCG/MRR/HitRate at K = 10 and K = 50.
 * Regenerates the peer's data with splitmix64 (ids shifted to genrec's 1..items at that boundary),
 * checks the checksums and the values against the peer's
 * output (to 1e-9), and times one evaluation call per K (1 warm-up + 5 timed calls, median), like
 * the peer. Run back to back with the peer under the bench lock:
 *
 *   flock /tmp/genrec-bench.lock bash -c '/usr/bin/python3 /work/shared/peers/metrics.py > /tmp/peer-metrics.json \
 *     && pnpm --filter @genrec/eval bench -- --peer-json /tmp/peer-metrics.json'
 *
 * Options: --users N (default 1000000), --reps N (5), --peer-json FILE (default: the recorded
 * /work/shared/peers/results/metrics.json, values only — its timing is from another session).
 */
import { readFileSync, existsSync } from 'node:fs';
import { sharedPath } from '@genrec/core';
import { createRankedLists, evaluateRankedLists, generatePeerMetricsData, itemSetsFromPadded } from '../src/index.js';

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

const users = Number(argument('users') ?? 1_000_000);
const reps = Number(argument('reps') ?? 5);
const ks = [10, 50];
const peerPath = argument('peer-json') ?? sharedPath('peers', 'results', 'metrics.json');

const generateStart = performance.now();
const data = generatePeerMetricsData({ users });
const generateMs = performance.now() - generateStart;
const lists = createRankedLists(data.ranked, 50);
const relevance = itemSetsFromPadded(data.relevant, 5);

interface PeerJson {
  config: { users: number };
  checksum_ranked_sum: number;
  checksum_relevant_sum: number;
  values: Record<string, number>;
  time_ms: Record<string, { median: number }>;
}
let peer: PeerJson | undefined;
if (peerPath !== undefined && existsSync(peerPath)) {
  const text = readFileSync(peerPath, 'utf8').trim().split('\n').pop()!;
  const parsed = JSON.parse(text) as PeerJson;
  if (parsed.config.users === users) peer = parsed;
  else console.error(`peer output ${peerPath} is for ${parsed.config.users} users, not ${users}: values not compared`);
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

const rows: { k: number; mode: string; medianMs: number; minMs: number }[] = [];
const values: Record<string, number> = {};
let maxDifference = 0;
// Modes: `max-k` + means only computes what the peer computes (metrics at K from the top K);
// the default (`whole-list`, per-user values kept) also reads the rest of each list (decoding
// diagnostics, mrr@full) and stores 7 per-user arrays.
const modes = [
  { name: 'top-K read, means only (= peer)', listDepth: 'max-k', keepPerUser: false },
  { name: 'top-K read, per-user kept', listDepth: 'max-k', keepPerUser: true },
  { name: 'whole list read, per-user kept (defaults)', listDepth: 'whole-list', keepPerUser: true },
] as const;
for (const mode of modes) {
  for (const k of ks) {
    const run = () => evaluateRankedLists(lists, relevance, { itemCount: data.items, ks: [k], keepPerUser: mode.keepPerUser, listDepth: mode.listDepth });
    run(); // warm-up
    const times: number[] = [];
    let result = run();
    for (let r = 0; r < reps; r++) {
      const start = performance.now();
      result = run();
      times.push(performance.now() - start);
    }
    rows.push({ k, mode: mode.name, medianMs: median(times), minMs: Math.min(...times) });
    for (const name of ['recall', 'ndcg', 'mrr', 'hitrate']) {
      const key = `${name}@${k}`;
      values[key] = result.metrics[key]!;
      if (peer !== undefined) maxDifference = Math.max(maxDifference, Math.abs(result.metrics[key]! - peer.values[key]!));
    }
  }
}

const checksumsMatch = peer === undefined ? null : peer.checksum_ranked_sum === data.rankedChecksum && peer.checksum_relevant_sum === data.relevantChecksum;
console.log(`data: ${users} users, generated in ${generateMs.toFixed(0)} ms; checksums ranked ${data.rankedChecksum}, relevant ${data.relevantChecksum}` + (checksumsMatch === null ? '' : checksumsMatch ? ' (= peer)' : ' (DIFFER from peer)'));
console.log('| K | mode | median ms | min ms | numpy peer median ms | peer / ours |');
console.log('|---|---|---:|---:|---:|---:|');
for (const row of rows) {
  const peerMs = peer?.time_ms[`k${row.k}`]?.median;
  console.log(`| ${row.k} | ${row.mode} | ${row.medianMs.toFixed(1)} | ${row.minMs.toFixed(1)} | ${peerMs?.toFixed(1) ?? 'n/a'} | ${peerMs === undefined ? 'n/a' : (peerMs / row.medianMs).toFixed(2)} |`);
}
for (const [key, value] of Object.entries(values)) console.log(`${key} = ${value}` + (peer ? ` (peer ${peer.values[key]})` : ''));
if (peer !== undefined) console.log(`max |ours - peer| = ${maxDifference.toExponential(2)} ${maxDifference <= 1e-9 ? '<= 1e-9: agree' : '> 1e-9: DISAGREE'}`);
const sumOf = (mode: string) => rows.filter((row) => row.mode === mode).reduce((sum, row) => sum + row.medianMs, 0);
const modeKey = (name: string) => (name.startsWith('top-K read, means') ? 'topKMeansOnly' : name.startsWith('top-K read, per-user') ? 'topKPerUser' : 'wholeListPerUser');
const peerSum = peer === undefined ? null : ks.reduce((sum, k) => sum + peer!.time_ms[`k${k}`]!.median, 0);
console.log(
  JSON.stringify({
    workload: 'metrics',
    implementation: '@genrec/eval',
    users,
    reps,
    generateMs: Math.round(generateMs),
    checksumsMatch,
    values,
    maxAbsDifferenceToPeer: peer === undefined ? null : maxDifference,
    timeMs: Object.fromEntries(rows.map((row) => [`${modeKey(row.mode)}.k${row.k}`, Number(row.medianMs.toFixed(2))])),
    allKMedianSumMs: Object.fromEntries(modes.map((mode) => [modeKey(mode.name), Number(sumOf(mode.name).toFixed(2))])),
    peerAllKMedianSumMs: peerSum,
    peerTimeMs: peer === undefined ? null : Object.fromEntries(ks.map((k) => [`k${k}`, peer!.time_ms[`k${k}`]!.median])),
    ratioPeerOverOurs: peerSum === null ? null : Object.fromEntries(modes.map((mode) => [modeKey(mode.name), Number((peerSum / sumOf(mode.name)).toFixed(3))])),
    node: process.version,
  }),
);
