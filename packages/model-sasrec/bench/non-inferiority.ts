/**
 * Compares `bench/toys.ts` runs with the `sasrec_ce.py` peer's runs, paired by seed: for each
 * test metric (history excluded and not), the means, the peer's seed range, and a one-sided paired
 * t-test of non-inferiority with a 2% relative margin at 0.05:
 *
 *   H0: mean(ours_s - peer_s) <= -0.02 * mean(peer_s)   vs   H1: ours is worse by less than 2%
 *
 * t = (mean(d) + 0.02 * mean(peer)) / (sd(d) / sqrt(n)), rejected when t > t(0.95, n - 1).
 * A metric passes when our mean lies inside the peer's seed range or H0 is rejected.
 *
 *   npx tsx bench/non-inferiority.ts --ours a.json,b.json,c.json --peer p42.json,p1.json,p2.json
 *
 * Prints a Markdown table on stdout.
 */
import { readFileSync } from 'node:fs';

function option(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0 || process.argv[i + 1] === undefined) throw new Error(`--${name} FILE,FILE,... is required`);
  return process.argv[i + 1]!;
}

type Metrics = Record<string, number>;
interface Run {
  seed: number;
  excluded: Metrics;
  notExcluded: Metrics;
}

function readOurs(path: string): Run {
  const run = JSON.parse(readFileSync(path, 'utf8')) as { config: { seed: number }; test: { history_excluded: Metrics; history_not_excluded: Metrics } };
  return { seed: run.config.seed, excluded: run.test.history_excluded, notExcluded: run.test.history_not_excluded };
}

function readPeer(path: string): Run {
  const run = JSON.parse(readFileSync(path, 'utf8')) as { config: { seed: number }; test: { history_masked: Metrics; unmasked: Metrics } };
  return { seed: run.config.seed, excluded: run.test.history_masked, notExcluded: run.test.unmasked };
}

/** One-sided 95% quantiles of Student's t, by degrees of freedom. */
const T95: Record<number, number> = { 1: 6.314, 2: 2.92, 3: 2.353, 4: 2.132, 5: 2.015, 6: 1.943, 7: 1.895, 8: 1.86, 9: 1.833 };

const ours = option('ours').split(',').map(readOurs);
const peer = option('peer').split(',').map(readPeer);
const seeds = ours.map((run) => run.seed);
const peerBySeed = new Map(peer.map((run) => [run.seed, run]));
for (const seed of seeds) if (!peerBySeed.has(seed)) throw new Error(`no peer run for seed ${seed}`);
const n = seeds.length;
if (T95[n - 1] === undefined) throw new Error(`between 2 and 10 paired seeds are supported, got ${n}`);
const margin = 0.02;

const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
const sd = (values: number[]): number => {
  const m = mean(values);
  return Math.sqrt(values.reduce((a, b) => a + (b - m) ** 2, 0) / (values.length - 1));
};

console.log(`Seeds ${seeds.join(', ')} (paired by seed); margin ${margin * 100}% relative; t(0.95, ${n - 1}) = ${T95[n - 1]}`);
console.log('');
console.log('| metric | ours (mean) | ours by seed | peer (mean) | peer range | ours/peer | t | inside range | non-inferior | passes |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const [history, key] of [
  ['excluded', 'excluded'],
  ['not excluded', 'notExcluded'],
] as const) {
  for (const metric of ['recall@10', 'ndcg@10']) {
    const a = seeds.map((seed) => ours.find((run) => run.seed === seed)![key][metric]!);
    const b = seeds.map((seed) => peerBySeed.get(seed)![key][metric]!);
    const d = a.map((value, i) => value - b[i]!);
    const sdD = sd(d);
    const t = sdD === 0 ? (mean(d) + margin * mean(b) > 0 ? Infinity : -Infinity) : (mean(d) + margin * mean(b)) / (sdD / Math.sqrt(n));
    const low = Math.min(...b);
    const high = Math.max(...b);
    const inside = mean(a) >= low && mean(a) <= high;
    const nonInferior = t > T95[n - 1]!;
    console.log(
      `| ${metric} (history ${history}) | ${mean(a).toFixed(4)} | ${a.map((v) => v.toFixed(4)).join(' / ')} | ${mean(b).toFixed(4)} | ${low.toFixed(4)}–${high.toFixed(4)} | ${(mean(a) / mean(b)).toFixed(3)} | ${t.toFixed(2)} | ${inside ? 'yes' : 'no'} | ${nonInferior ? 'yes' : 'no'} | ${inside || nonInferior ? 'yes' : 'no'} |`,
    );
  }
}
