// Helpers of the CLI's tests (excluded from the build): run `genrec` in-process with captured
// streams, on a tiny synthetic dataset written as a config file.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSyntheticDataset, leaveOneOutSplit } from '@genrec/data';
import { fitMarkov } from '@genrec/models';
import { runCli, type RunCliOptions } from './run-cli.js';

/** The tiny synthetic data of the tests: 300 users, 120 items (about 3,500 interactions). */
export const TINY_SYNTHETIC = { userCount: 300, itemCount: 120, topicCount: 4, subtopicsPerTopic: 3, seed: 7 } as const;

/** What one in-process run of `genrec` printed and returned. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (with `--json`). */
  json<T = Record<string, unknown>>(): T;
}

/** A scratch folder with a tiny-data config file; `remove()` deletes it. */
export function scratch(config: Record<string, unknown> = {}): { folder: string; config: string; remove(): void } {
  const folder = mkdtempSync(join(tmpdir(), 'genrec-cli-'));
  const path = join(folder, 'genrec.json');
  writeFileSync(path, JSON.stringify({ data: { synthetic: TINY_SYNTHETIC }, output: 'runs', ...config }, null, 2));
  return { folder, config: path, remove: () => rmSync(folder, { recursive: true, force: true }) };
}

/**
 * Runs `genrec <argv>` in this process with captured stdout/stderr (not terminals: plain
 * progress lines), working directory `cwd`.
 */
export async function cli(argv: readonly string[], cwd: string, options: RunCliOptions = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    ...options,
    io: { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text), isTTY: false }, stdoutIsTTY: false, cwd, env: {}, ...options.io },
  });
  return { code, stdout, stderr, json: <T,>() => JSON.parse(stdout) as T };
}

/**
 * A Markov model fitted on the synthetic default's leave-one-out training split (5,000 users,
 * 2,000 items), saved in `<folder>/<name>`; returns the model folder and a few test histories.
 */
export async function saveMarkovModel(folder: string, name = 'markov-model', options: { order?: number } = {}): Promise<{ modelDir: string; histories: number[][] }> {
  const { dataset, catalog } = generateSyntheticDataset();
  const split = leaveOneOutSplit(dataset, { maxHistoryLength: 50 });
  const modelDir = join(folder, name);
  await (await fitMarkov({ train: split.train, catalog }, options)).save(modelDir);
  const test = split.test;
  const histories = Array.from({ length: 8 }, (_, u) => Array.from(test.historyItems.subarray(test.historyOffsets[u]!, test.historyOffsets[u + 1]!)));
  return { modelDir, histories };
}

/** A POST answer: status and JSON body. */
export interface JsonAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** POSTs `body` as JSON to `url`. */
export async function postJson(url: string, body: unknown): Promise<JsonAnswer> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/**
 * Leaves `histories.length` requests (k 4) waiting in the queue of a `genrec serve` started with a
 * long `--max-wait-ms`: `@genrec/serve`'s batcher serves a lone client at once and waits only for
 * as many users as were in it at once during the last second, so a batch request of 8 users goes
 * first; the requests that follow then wait. Checked on `/metrics` (`genrec_queue_depth`), retried
 * (a second between the two would reset the batcher's target). Returns the waiting answers.
 */
export async function queueRequests(address: string, histories: readonly number[][]): Promise<Promise<JsonAnswer>[]> {
  const depth = async () => Number(/^genrec_queue_depth (\d+)$/m.exec(await (await fetch(`${address}/metrics`)).text())?.[1]);
  for (let attempt = 0; attempt < 3; attempt++) {
    const warm = await postJson(`${address}/v1/recommend/batch`, { users: Array.from({ length: 8 }, () => ({ history: histories[0] })), k: 4 });
    if (warm.status !== 200) throw new Error(`the batch request failed: ${JSON.stringify(warm)}`);
    const waiting = histories.map((history) => postJson(`${address}/v1/recommend`, { history, k: 4 }));
    let settled = false;
    void Promise.all(waiting).then(() => (settled = true));
    for (let i = 0; i < 200 && !settled; i++) {
      if ((await depth()) === histories.length) return waiting;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await Promise.all(waiting);
  }
  throw new Error(`no ${histories.length} requests stayed queued in 3 attempts`);
}
