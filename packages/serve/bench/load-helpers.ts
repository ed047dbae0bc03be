/**
 * Helpers of `bench/load.ts`: a typed autocannon call that only ever targets 127.0.0.1, a child
 * process running the service, and a Prometheus text scraper.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';

/** The autocannon options used here. */
export interface LoadOptions {
  url: string;
  connections: number;
  /** Seconds. */
  duration: number;
  /** Hard cap on requests (the run also stops at `duration`). */
  maxOverallRequests: number;
  requests: { method: 'POST' | 'GET'; path: string; headers?: Record<string, string>; body?: string }[];
  /** Seconds before a request counts as a timeout. */
  timeout: number;
}

/** The autocannon result fields used here. */
export interface LoadResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  requests: { total: number; average: number };
  latency: { p50: number; p90: number; p99: number; average: number; max: number };
}

const require = createRequire(import.meta.url);
const autocannon = require('autocannon') as (options: LoadOptions & { pipelining: number }) => Promise<LoadResult>;

/**
 * Runs autocannon against a server on 127.0.0.1, bounded by `duration` and `maxOverallRequests`.
 *
 * @throws Error for any address other than 127.0.0.1.
 */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  const url = new URL(options.url);
  if (url.hostname !== '127.0.0.1') throw new Error(`load tests target 127.0.0.1 only, not ${url.hostname}`);
  if (!(options.duration > 0 && options.duration <= 3600) || !(options.maxOverallRequests > 0)) throw new Error('a load run must be bounded in time and count');
  return autocannon({ ...options, pipelining: 1 });
}

/** A service process started by {@link startServiceProcess}. */
export interface ServiceProcess {
  address: string;
  child: ChildProcess;
  /** SIGTERM (graceful shutdown) and wait for the exit. */
  stop(): Promise<number | null>;
}

const here = dirname(fileURLToPath(import.meta.url));

/** Starts `bench/serve-process.ts` with these `GENREC_SERVE_*` variables; resolves when it listens. */
export function startServiceProcess(env: Record<string, string>): Promise<ServiceProcess> {
  // tsx is the workspace's (root) dev dependency
  const tsx = pathToFileURL(require.resolve('tsx')).href;
  const child = spawn(process.execPath, ['--conditions=@genrec/source', '--import', tsx, join(here, 'serve-process.ts')], {
    cwd: join(here, '..'),
    env: { ...process.env, GENREC_SERVE_LOG_LEVEL: 'warn', ...env, GENREC_SERVE_HOST: '127.0.0.1', GENREC_SERVE_PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new Error('the service did not start within 120 s')), 120_000);
    lines.on('line', (line) => {
      if (!line.startsWith('{"address"')) return;
      clearTimeout(timer);
      const { address } = JSON.parse(line) as { address: string };
      resolve({
        address,
        child,
        stop: async () => {
          child.kill('SIGTERM');
          return exited;
        },
      });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the service exited with code ${code} before it was ready`));
    });
  });
}

/** Parses the Prometheus text format into series → value (`name{labels}` as written). */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

/** Scrapes `/metrics` of a server on 127.0.0.1. */
export async function scrape(address: string): Promise<Map<string, number>> {
  if (new URL(address).hostname !== '127.0.0.1') throw new Error('scrapes go to 127.0.0.1 only');
  const response = await fetch(`${address}/metrics`);
  return parseMetrics(await response.text());
}

/** `after - before` of one series (0 when absent). */
export function delta(before: Map<string, number>, after: Map<string, number>, series: string): number {
  return (after.get(series) ?? 0) - (before.get(series) ?? 0);
}
