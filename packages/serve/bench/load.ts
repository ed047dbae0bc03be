/**
 * Load tests of the service with autocannon, against 127.0.0.1 only, every run bounded in time
 * and request count. The service runs as its own process (bench/serve-process.ts).
 *
 *   flock /tmp/genrec-bench.lock npx tsx --conditions=@genrec/source bench/load.ts \
 *     --model /tmp/genrec-serve-bench/sasrec-toys [--scenarios throughput,malformed,soak] \
 *     [--duration 60] [--short-duration 20] [--concurrency 1,16,64] [--max-batch 64] [--max-wait-ms 2] \
 *     [--soak-seconds 300] [--threads N (default: the service's, cores - 1)] [--execution worker|main] [--modes batched,unbatched] [--json out.json]
 *
 * Scenarios:
 * - throughput: with and without micro-batching (without = every request its own one-user model
 *   call, run concurrently), at each concurrency: requests/s, p50/p99 latency, errors, timeouts,
 *   mean batch size and call time, event-loop delay (longest one-second-window maximum, share of
 *   samples above 25 ms), the CPU share of the service and of autocannon (this process). The
 *   highest concurrency runs `--duration` seconds, the others `--short-duration`.
 * - malformed: valid load at concurrency 16 while the malformed-request set
 *   (bench/malformed-requests.ts) is sent 3 times; then valid load again. Every malformed request
 *   must get its 4xx, the valid ones 0 errors.
 * - soak: valid load at concurrency 16 for `--soak-seconds`; RSS sampled every 5 s, growth =
 *   mean of the last minute over the mean of the second minute.
 *
 * Request bodies are Toys test histories (the last 50 items before each user's test item) when
 * the model has Toys' 11,924 items and ../shared/data is there, else seeded random histories.
 */
import { execSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

import { sharedPath } from '@genrec/core';
import { leaveOneOutSplit, readSequenceFile } from '@genrec/data';
import { malformedCases, sendMalformed, type MalformedAnswer } from './malformed-requests.js';
import { delta, runLoad, scrape, startServiceProcess, type LoadResult, type ServiceProcess } from './load-helpers.js';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const modelDir = option('model', '/tmp/genrec-serve-bench/sasrec-toys');
const scenarios = option('scenarios', 'throughput,malformed').split(',');
const duration = Number(option('duration', '60'));
const shortDuration = Number(option('short-duration', '20'));
const concurrencies = option('concurrency', '1,16,64').split(',').map(Number);
const maxBatch = option('max-batch', '64');
const maxWait = option('max-wait-ms', '2');
const soakSeconds = Number(option('soak-seconds', '300'));
const threads = option('threads', '');
const jsonPath = option('json', '');
const modes = option('modes', 'batched,unbatched').split(',');
const execution = option('execution', 'worker');
const REQUESTS_PER_SECOND_CAP = 50_000; // the count bound of every run: duration x this
const log = (line: string) => process.stderr.write(`${line}\n`);

const uptime = () => execSync('uptime').toString().trim();
log(`load before: ${uptime()}`);

// ---- request bodies ----
async function requestBodies(itemCount: number, count: number): Promise<string[]> {
  const file = sharedPath('data', 'amazon2014-toys', 'Toys_and_Games.txt');
  if (itemCount === 11_924 && file !== undefined) {
    const split = leaveOneOutSplit(await readSequenceFile(file));
    const bodies: string[] = [];
    for (let u = 0; u < Math.min(count, split.test.size); u++) {
      const to = split.test.historyOffsets[u + 1]!;
      const history = Array.from(split.test.historyItems.subarray(Math.max(split.test.historyOffsets[u]!, to - 50), to));
      bodies.push(JSON.stringify({ history, k: 10 }));
    }
    return bodies;
  }
  let state = 42;
  const next = () => (state = (state * 1_103_515_245 + 12_345) % 2 ** 31);
  return Array.from({ length: count }, () => JSON.stringify({ history: Array.from({ length: 1 + (next() % 30) }, () => 1 + (next() % itemCount)), k: 10 }));
}

interface RunFigures {
  mode: string;
  concurrency: number;
  seconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  ok: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  meanBatchSize: number;
  meanBatchMs: number;
  eventLoopWindowMaxMs: number;
  /** The longest garbage-collection pause in the window of the longest block, and in any window. */
  gcPauseInThatWindowMs: number;
  gcPauseMaxMs: number;
  /**
   * Time the service's main thread spent runnable but not running (waiting for a core: Linux
   * `/proc/PID/task/PID/schedstat`) in the second of the longest block, and at most in any second.
   */
  runQueueWaitInThatWindowMs: number;
  runQueueWaitMaxMs: number;
  eventLoopShareOver25Ms: number;
  serviceCpuShare: number;
  autocannonCpuShare: number;
  serviceRssMiB: number;
}

async function measure(service: ServiceProcess, mode: string, bodies: string[], connections: number, seconds: number): Promise<RunFigures> {
  const before = await scrape(service.address);
  const windowMaxima: { loopMs: number; gcMs: number; waitMs: number }[] = [];
  let lastWait = mainThreadRunQueueWaitMs(service);
  /** Run-queue wait since the last call, ms (read every second, whether or not that second's scrape succeeds). */
  const waitSinceLast = () => {
    const wait = mainThreadRunQueueWaitMs(service);
    const waitMs = wait - lastWait;
    lastWait = wait;
    return waitMs;
  };
  const windowOf = (metrics: Map<string, number>, waitMs: number) => ({
    loopMs: (metrics.get('genrec_event_loop_delay_max_seconds') ?? 0) * 1000,
    gcMs: (metrics.get('genrec_gc_pause_max_seconds') ?? 0) * 1000,
    waitMs,
  });
  const poller = setInterval(() => {
    const waitMs = waitSinceLast();
    scrape(service.address).then(
      (metrics) => windowMaxima.push(windowOf(metrics, waitMs)),
      () => {},
    );
  }, 1000);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const result: LoadResult = await runLoad({
    url: service.address,
    connections,
    duration: seconds,
    maxOverallRequests: seconds * REQUESTS_PER_SECOND_CAP,
    timeout: 10,
    requests: bodies.map((body) => ({ method: 'POST', path: '/v1/recommend', headers: { 'content-type': 'application/json' }, body })),
  });
  const wall = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  clearInterval(poller);
  await new Promise((resolve) => setTimeout(resolve, 1100)); // let the last event-loop window close
  const after = await scrape(service.address);
  windowMaxima.push(windowOf(after, waitSinceLast()));
  const longest = windowMaxima.reduce((a, b) => (b.loopMs > a.loopMs ? b : a));
  const batches = delta(before, after, 'genrec_batch_size_count');
  const loopSamples = delta(before, after, 'genrec_event_loop_delay_seconds_count');
  const loopAt25 = delta(before, after, 'genrec_event_loop_delay_seconds_bucket{le="0.025"}');
  const figures: RunFigures = {
    mode,
    concurrency: connections,
    seconds: Math.round(wall),
    requestsPerSecond: Math.round(result['2xx'] / result.duration),
    p50Ms: result.latency.p50,
    p90Ms: result.latency.p90,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    ok: result['2xx'],
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    meanBatchSize: batches > 0 ? delta(before, after, 'genrec_batch_size_sum') / batches : 0,
    meanBatchMs: batches > 0 ? (1000 * delta(before, after, 'genrec_batch_duration_seconds_sum')) / batches : 0,
    eventLoopWindowMaxMs: longest.loopMs,
    gcPauseInThatWindowMs: longest.gcMs,
    gcPauseMaxMs: Math.max(...windowMaxima.map((w) => w.gcMs)),
    runQueueWaitInThatWindowMs: longest.waitMs,
    runQueueWaitMaxMs: Math.max(...windowMaxima.map((w) => w.waitMs)),
    eventLoopShareOver25Ms: loopSamples > 0 ? 1 - loopAt25 / loopSamples : 0,
    serviceCpuShare: delta(before, after, 'process_cpu_seconds_total') / wall,
    autocannonCpuShare: (cpu.user + cpu.system) / 1e6 / wall,
    serviceRssMiB: (after.get('process_resident_memory_bytes') ?? 0) / 2 ** 20,
  };
  log(
    `${mode} c=${connections}: ${figures.requestsPerSecond} req/s, p50 ${figures.p50Ms} ms, p99 ${figures.p99Ms} ms, errors ${figures.errors}, timeouts ${figures.timeouts}, non-2xx ${figures.non2xx}, ` +
      `batch ${figures.meanBatchSize.toFixed(1)} users / ${figures.meanBatchMs.toFixed(1)} ms, loop max ${figures.eventLoopWindowMaxMs.toFixed(1)} ms (gc ${figures.gcPauseInThatWindowMs.toFixed(1)} ms in that window, ${figures.gcPauseMaxMs.toFixed(1)} ms at most; main thread waited for a core ${figures.runQueueWaitInThatWindowMs.toFixed(1)} ms of that second, ${figures.runQueueWaitMaxMs.toFixed(1)} ms at most), cpu service ${(figures.serviceCpuShare * 100).toFixed(0)}% autocannon ${(figures.autocannonCpuShare * 100).toFixed(0)}%`,
  );
  return figures;
}

/** Run-queue wait of the service's main thread so far, ms (0 where /proc has no schedstat). */
function mainThreadRunQueueWaitMs(service: ServiceProcess): number {
  const pid = service.child.pid;
  try {
    return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e6;
  } catch {
    return 0;
  }
}

function serviceEnv(batching: boolean): Record<string, string> {
  return {
    GENREC_SERVE_MODEL_DIR: modelDir,
    GENREC_SERVE_BATCHING: String(batching),
    GENREC_SERVE_MAX_BATCH_SIZE: maxBatch,
    GENREC_SERVE_MAX_WAIT_MS: maxWait,
    ...(threads === '' ? {} : { GENREC_SERVE_THREADS: threads }),
    GENREC_SERVE_EXECUTION: execution,
    GENREC_SERVE_MAX_QUEUED_USERS: '100000',
  };
}

const report: Record<string, unknown> = { model: modelDir, loadBefore: uptime(), options: { maxBatch, maxWait, threads: threads === '' ? 'default (cores - 1)' : threads, execution, duration, shortDuration, concurrencies } };
let bodies: string[] = [];

async function withService<T>(batching: boolean, use: (service: ServiceProcess) => Promise<T>): Promise<T> {
  const service = await startServiceProcess(serviceEnv(batching));
  try {
    if (bodies.length === 0) {
      const model = (await (await fetch(`${service.address}/v1/model`)).json()) as { itemCount: number; kind: string; version: string };
      report.modelInfo = model;
      bodies = await requestBodies(model.itemCount, 1000);
      log(`model ${model.kind} ${model.version}: ${model.itemCount} items; ${bodies.length} request bodies`);
    }
    // warm-up (not recorded)
    await runLoad({ url: service.address, connections: 16, duration: 3, maxOverallRequests: 3 * REQUESTS_PER_SECOND_CAP, timeout: 10, requests: bodies.slice(0, 100).map((body) => ({ method: 'POST', path: '/v1/recommend', headers: { 'content-type': 'application/json' }, body })) });
    return await use(service);
  } finally {
    const code = await service.stop();
    if (code !== 0) log(`the service exited with code ${code}`);
  }
}

if (scenarios.includes('throughput')) {
  const runs: RunFigures[] = [];
  for (const batching of [true, false]) {
    if (!modes.includes(batching ? 'batched' : 'unbatched')) continue;
    await withService(batching, async (service) => {
      for (const connections of concurrencies) {
        const seconds = connections === Math.max(...concurrencies) ? duration : shortDuration;
        runs.push(await measure(service, batching ? 'batched' : 'unbatched', bodies, connections, seconds));
      }
    });
  }
  const comparison = concurrencies.flatMap((connections) => {
    const batched = runs.find((r) => r.mode === 'batched' && r.concurrency === connections);
    const unbatched = runs.find((r) => r.mode === 'unbatched' && r.concurrency === connections);
    if (!batched || !unbatched) return [];
    return {
      concurrency: connections,
      speedup: batched.requestsPerSecond / unbatched.requestsPerSecond,
      p99Batched: batched.p99Ms,
      p99Unbatched: unbatched.p99Ms,
      p99Bound: Number(maxWait) + 2 * batched.meanBatchMs,
    };
  });
  report.throughput = { runs, comparison };
  console.log('\n| mode | c | s | req/s | p50 ms | p90 ms | p99 ms | errors | timeouts | non-2xx | mean batch | batch ms | loop max ms | loop >25 ms | service CPU | autocannon CPU |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of runs) {
    console.log(
      `| ${r.mode} | ${r.concurrency} | ${r.seconds} | ${r.requestsPerSecond} | ${r.p50Ms} | ${r.p90Ms} | ${r.p99Ms} | ${r.errors} | ${r.timeouts} | ${r.non2xx} | ${r.meanBatchSize.toFixed(1)} | ${r.meanBatchMs.toFixed(1)} | ${r.eventLoopWindowMaxMs.toFixed(1)} | ${(r.eventLoopShareOver25Ms * 100).toFixed(2)}% | ${(r.serviceCpuShare * 100).toFixed(0)}% | ${(r.autocannonCpuShare * 100).toFixed(0)}% |`,
    );
  }
  for (const c of comparison) console.log(`c=${c.concurrency}: batched/unbatched throughput ${c.speedup.toFixed(2)}x; p99 ${c.p99Batched} vs ${c.p99Unbatched} ms (bound max wait + 2 x batch call = ${c.p99Bound.toFixed(1)} ms)`);
}

if (scenarios.includes('malformed')) {
  await withService(true, async (service) => {
    const cases = malformedCases();
    const valid = runLoad({ url: service.address, connections: 16, duration: 20, maxOverallRequests: 20 * REQUESTS_PER_SECOND_CAP, timeout: 10, requests: bodies.map((body) => ({ method: 'POST', path: '/v1/recommend', headers: { 'content-type': 'application/json' }, body })) });
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const answers: { name: string; expected: number; answer: MalformedAnswer | { error: string } }[] = [];
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < cases.length; i += 4) {
        const group = cases.slice(i, i + 4);
        const settled = await Promise.allSettled(group.map((item) => sendMalformed(service.address, item)));
        settled.forEach((result, j) => answers.push({ name: group[j]!.name, expected: group[j]!.status, answer: result.status === 'fulfilled' ? result.value : { error: String(result.reason) } }));
      }
    }
    const during = await valid;
    const afterwards = await runLoad({ url: service.address, connections: 16, duration: 5, maxOverallRequests: 5 * REQUESTS_PER_SECOND_CAP, timeout: 10, requests: bodies.map((body) => ({ method: 'POST', path: '/v1/recommend', headers: { 'content-type': 'application/json' }, body })) });
    const wrong = answers.filter((a) => !('status' in a.answer) || a.answer.status !== a.expected || a.answer.status < 400 || a.answer.status >= 500);
    const summary = {
      kinds: cases.length,
      sent: answers.length,
      all4xxAsExpected: wrong.length === 0,
      wrong,
      slowestMs: Math.max(...answers.map((a) => ('milliseconds' in a.answer ? a.answer.milliseconds : Infinity))),
      validDuring: { ok: during['2xx'], errors: during.errors, timeouts: during.timeouts, non2xx: during.non2xx, requestsPerSecond: Math.round(during['2xx'] / during.duration) },
      validAfter: { ok: afterwards['2xx'], errors: afterwards.errors, timeouts: afterwards.timeouts, non2xx: afterwards.non2xx },
      statuses: Object.fromEntries(cases.map((c) => [c.name, answers.filter((a) => a.name === c.name).map((a) => ('status' in a.answer ? `${a.answer.status} ${a.answer.code ?? ''}`.trim() : a.answer.error))[0]])),
    };
    report.malformed = summary;
    console.log(
      `\nmalformed: ${summary.kinds} kinds x 3 = ${summary.sent} requests, every one its expected 4xx: ${summary.all4xxAsExpected} (slowest ${summary.slowestMs.toFixed(0)} ms); ` +
        `valid load during: ${summary.validDuring.ok} ok, ${summary.validDuring.errors} errors, ${summary.validDuring.timeouts} timeouts, ${summary.validDuring.non2xx} non-2xx; after: ${summary.validAfter.ok} ok, ${summary.validAfter.errors} errors, ${summary.validAfter.non2xx} non-2xx`,
    );
    for (const w of wrong) console.log(`  wrong: ${w.name}: ${JSON.stringify(w.answer)} (expected ${w.expected})`);
  });
}

if (scenarios.includes('soak')) {
  await withService(true, async (service) => {
    const samples: { second: number; rssMiB: number }[] = [];
    const started = performance.now();
    const sampler = setInterval(() => {
      scrape(service.address).then(
        (metrics) => samples.push({ second: (performance.now() - started) / 1000, rssMiB: (metrics.get('process_resident_memory_bytes') ?? 0) / 2 ** 20 }),
        () => {},
      );
    }, 5000);
    const result = await runLoad({ url: service.address, connections: 16, duration: soakSeconds, maxOverallRequests: soakSeconds * REQUESTS_PER_SECOND_CAP, timeout: 10, requests: bodies.map((body) => ({ method: 'POST', path: '/v1/recommend', headers: { 'content-type': 'application/json' }, body })) });
    clearInterval(sampler);
    const mean = (list: { rssMiB: number }[]) => list.reduce((sum, s) => sum + s.rssMiB, 0) / Math.max(1, list.length);
    const early = samples.filter((s) => s.second >= 60 && s.second < 120);
    const late = samples.filter((s) => s.second >= soakSeconds - 60);
    const growth = mean(late) / mean(early) - 1;
    report.soak = { seconds: soakSeconds, ok: result['2xx'], errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx, requestsPerSecond: Math.round(result['2xx'] / result.duration), p99Ms: result.latency.p99, rssSecondMinuteMiB: mean(early), rssLastMinuteMiB: mean(late), rssGrowth: growth, samples };
    console.log(
      `\nsoak ${soakSeconds} s at c=16: ${result['2xx']} ok (${Math.round(result['2xx'] / result.duration)} req/s), ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx; ` +
        `RSS second minute ${mean(early).toFixed(1)} MiB, last minute ${mean(late).toFixed(1)} MiB: growth ${(growth * 100).toFixed(2)}%`,
    );
  });
}

report.loadAfter = uptime();
log(`load after: ${report.loadAfter}`);
if (jsonPath !== '') writeFileSync(jsonPath, JSON.stringify(report, null, 2) + '\n');

