import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeArtifactDirectory } from '@genrec/core';
import { fitMarkov, fitPopularity, loadMarkov } from '@genrec/models';
import { createServer, startServer, type GenrecServer } from './index.js';
import { baselineFixture, postJson, slowMarkovLoader, slowed, type Fixture } from './test-fixtures.js';

let fixture: Fixture;
beforeAll(async () => {
  fixture = await baselineFixture();
});
afterAll(() => fixture?.cleanup());

const versionOf = (directory: string) => readFileSync(join(directory, 'CURRENT'), 'utf8').trim();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Background work (swaps, reloads, queues) is slow on a loaded CI machine: wait for it by deadline. */
const within = { timeout: 30_000, interval: 20 };
/** A swap's outcome, success or failure, has been counted. */
const swapCounted = (metrics: string) => /genrec_model_swaps_total\{result="(success|failure)"\} [1-9]/.test(metrics);

describe('graceful shutdown', () => {
  it('answers every in-flight and queued request, refuses new connections, then releases the model', async () => {
    const { made, loaders } = slowMarkovLoader(150);
    const server = await createServer({ modelDir: fixture.markovDir, logLevel: 'silent', loaders, maxBatchSize: 4, maxWaitMs: 1, warmup: false });
    const address = await server.listen({ port: 0 });
    // 10 requests: one batch of 4 runs (150 ms), 6 wait in the queue
    const inFlight = fixture.histories.slice(0, 10).map((history) => postJson(`${address}/v1/recommend`, { history, k: 5 }));
    const gauge = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(server.metricsText())?.[1]);
    await vi.waitUntil(() => gauge('genrec_queue_depth') === 6 && gauge('genrec_batches_in_flight') === 1, { ...within, interval: 5 });
    expect([gauge('genrec_queue_depth'), gauge('genrec_batches_in_flight')]).toEqual([6, 1]);
    const closeStarted = performance.now();
    const closing = server.close();
    expect(server.isReady()).toBe(false);
    const answers = await Promise.all(inFlight);
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    for (const [u, answer] of answers.entries()) {
      const expected = await (await loadMarkov(fixture.markovDir)).recommend([fixture.histories[u]!], { k: 5 });
      expect(answer.body.items.map((item: { id: number }) => item.id)).toEqual(Array.from(expected.items));
    }
    await closing;
    // 3 more batches of 150 ms; no wait for keep-alive connections (drainTimeoutMs is 10 s)
    expect(performance.now() - closeStarted).toBeLessThan(2000);
    expect(made[0]!.disposed).toBe(true);
    await expect(fetch(`${address}/healthz`)).rejects.toThrow();
  });

  it('close({ delayMs }) reports not ready but keeps serving during the delay', async () => {
    const server = await createServer({ modelDir: fixture.markovDir, logLevel: 'silent', warmup: false });
    const address = await server.listen({ port: 0 });
    const closing = server.close({ delayMs: 300 });
    await sleep(50);
    const ready = await fetch(`${address}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'shutting-down' });
    expect((await postJson(`${address}/v1/recommend`, { history: [1] })).status).toBe(200);
    await closing;
  });
});

describe('hot swap', () => {
  it('swaps models under concurrent load without a failed request; old model released after its last request', async () => {
    const other = await fitPopularity({ train: fixture.split.train });
    const otherDir = join(fixture.root, 'swap-popularity');
    await other.save(otherDir);
    const { made, loaders } = slowMarkovLoader(5);
    const server = await createServer({ modelDir: fixture.markovDir, logLevel: 'silent', loaders, maxBatchSize: 8, maxWaitMs: 2 });
    const address = await server.listen({ port: 0 });
    const history = fixture.histories[0]!;
    const expectedBy: Record<string, number[]> = {
      [versionOf(fixture.markovDir)]: Array.from((await (await loadMarkov(fixture.markovDir)).recommend([history], { k: 5 })).items),
      [versionOf(otherDir)]: Array.from((await other.recommend([history], { k: 5 })).items),
    };
    let stop = false;
    const seen: { status: number; version?: string; items?: number[] }[] = [];
    const client = async () => {
      while (!stop) {
        const answer = await postJson(`${address}/v1/recommend`, { history, k: 5 });
        seen.push({ status: answer.status, version: answer.body.model?.version, items: answer.body.items?.map((item: { id: number }) => item.id) });
      }
    };
    const clients = Array.from({ length: 8 }, client);
    // at least 15 answers before the first swap and after each one, however slow the machine
    const answersAfter = async (count: number) => {
      const target = seen.length + count;
      while (seen.length < target) await sleep(5);
    };
    await answersAfter(15);
    const swapped: string[] = [];
    for (const directory of [otherDir, fixture.markovDir, otherDir]) {
      swapped.push((await server.swapModel(directory)).version);
      await answersAfter(15);
    }
    stop = true;
    await Promise.all(clients);
    await server.close();
    expect(swapped).toEqual([versionOf(otherDir), versionOf(fixture.markovDir), versionOf(otherDir)]);
    expect(seen.length).toBeGreaterThanOrEqual(60);
    expect(seen.filter((s) => s.status !== 200)).toEqual([]);
    // every answer is right for the model that says it answered
    for (const answer of seen) expect(answer.items).toEqual(expectedBy[answer.version!]);
    expect(new Set(seen.map((s) => s.version)).size).toBe(2);
    // the two markov models made (first load, second swap) were both released
    expect(made.map((m) => m.disposed)).toEqual([true, true]);
    expect(server.metricsText()).toContain('genrec_model_swaps_total{result="success"} 3');
  });

  it('a failed swap keeps the old model serving', async () => {
    const server = await createServer({ modelDir: fixture.markovDir, logLevel: 'silent', warmup: false });
    try {
      const before = server.modelInfo()!.version;
      await expect(server.swapModel(join(fixture.root, 'missing'))).rejects.toThrow(/missing/);
      expect(server.modelInfo()!.version).toBe(before);
      expect((await server.app.inject({ method: 'POST', url: '/v1/recommend', payload: { history: [1] } })).statusCode).toBe(200);
      expect(server.metricsText()).toContain('genrec_model_swaps_total{result="failure"} 1');
    } finally {
      await server.close();
    }
  });

  it('watchIntervalMs: a new version saved into the folder is picked up by itself', async () => {
    const directory = join(fixture.root, 'watched');
    await (await fitMarkov({ train: fixture.split.train })).save(directory);
    const server = await createServer({ modelDir: directory, logLevel: 'silent', watchIntervalMs: 50, warmup: false });
    try {
      const first = server.modelInfo()!.version;
      await (await fitMarkov({ train: fixture.split.train }, { order: 2 })).save(directory);
      const second = versionOf(directory);
      expect(second).not.toBe(first);
      await vi.waitUntil(() => server.modelInfo()!.version === second, within);
      expect(server.modelInfo()!.version).toBe(second);
      // a broken version is tried once, not every interval; the good one keeps serving
      await writeArtifactDirectory(directory, (folder) => writeFileSync(join(folder, 'manifest.json'), '{"kind": "not a model"}'));
      await sleep(400);
      expect(server.metricsText()).toContain('genrec_model_swaps_total{result="failure"} 1');
      expect(server.modelInfo()!.version).toBe(second);
      expect((await server.app.inject({ method: 'POST', url: '/v1/recommend', payload: { history: [1] } })).statusCode).toBe(200);
    } finally {
      await server.close();
    }
  });
});

describe('the model worker thread', () => {
  it("runs the model in a worker by default, in the main thread with custom loaders or execution: 'main'", async () => {
    for (const [options, expected] of [
      [{}, 'worker'],
      [{ execution: 'main' }, 'main'],
      [slowMarkovLoader(0), 'main'],
    ] as const) {
      const server = await createServer({ modelDir: fixture.markovDir, logLevel: 'silent', warmup: false, ...('loaders' in options ? { loaders: options.loaders } : options) });
      try {
        expect((await server.app.inject({ method: 'GET', url: '/v1/model' })).json().execution).toBe(expected);
        expect((await server.app.inject({ method: 'POST', url: '/v1/recommend', payload: { history: [1, 2], k: 3 } })).statusCode).toBe(200);
      } finally {
        await server.close();
      }
    }
  });

  it('a worker that dies is replaced by a reload; requests meanwhile fail with 500, never hang', async () => {
    const lines: string[] = [];
    const server = await createServer({ modelDir: fixture.markovDir, logLevel: 'error', logStream: { write: (line: string) => lines.push(line) } });
    try {
      const address = await server.listen({ port: 0 });
      expect((await postJson(`${address}/v1/recommend`, { history: [1] })).status).toBe(200);
      // kill the worker thread from outside, as a native crash would
      await (server as unknown as { current: { model: { worker: { terminate(): Promise<number> } } } }).current.model.worker.terminate();
      await vi.waitUntil(() => swapCounted(server.metricsText()), within);
      expect(server.metricsText()).toContain('genrec_model_worker_crashes_total 1');
      expect(server.metricsText()).toContain('genrec_model_swaps_total{result="success"} 1');
      const after = await postJson(`${address}/v1/recommend`, { history: [1] });
      expect(after.status).toBe(200);
      expect(lines.some((line) => JSON.parse(line).msg === 'the model worker stopped; reloading the model')).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('a model error in the worker comes back as the same GenrecError (an INVALID_OPTION k is a 400, not a 500)', async () => {
    const server = await createServer({ modelDir: fixture.markovDir, logLevel: 'silent', warmup: false, maxK: 5000 });
    try {
      // bypass the route's maxK check by asking the model for more than its catalogue through the batcher
      const slot = (server as unknown as { current: { batcher: { submit(q: unknown[]): Promise<unknown> } } }).current;
      const error = await slot.batcher.submit([{ history: Int32Array.of(1), exclude: undefined, k: 5000, excludeHistory: true }]).catch((caught: unknown) => caught);
      expect((error as { code?: string }).code).toBe('INVALID_OPTION');
      expect((error as Error).message).toMatch(/k must be an integer in \[1, 2000\]/);
    } finally {
      await server.close();
    }
  });
});

describe('timeouts, overload, readiness', () => {
  it('a request the model cannot answer in requestTimeoutMs gets 503 REQUEST_TIMEOUT in time; the server goes on', async () => {
    const { loaders } = slowMarkovLoader(400);
    const server = await createServer({ modelDir: fixture.markovDir, logLevel: 'silent', loaders, requestTimeoutMs: 100, warmup: false, maxWaitMs: 0 });
    try {
      const address = await server.listen({ port: 0 });
      const started = performance.now();
      const answer = await postJson(`${address}/v1/recommend`, { history: [1] });
      expect(performance.now() - started).toBeLessThan(350);
      expect(answer.status).toBe(503);
      expect(answer.body).toMatchObject({ code: 'REQUEST_TIMEOUT', message: 'no answer within 100 ms (requestTimeoutMs); retry later' });
      expect(server.metricsText()).toContain('genrec_requests_rejected_total{reason="timeout"} 1');
      expect((await fetch(`${address}/healthz`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('beyond maxQueuedUsers requests are refused at once with 503 OVERLOADED and Retry-After', async () => {
    const { loaders } = slowMarkovLoader(200);
    const server = await createServer({ modelDir: fixture.markovDir, logLevel: 'silent', loaders, maxQueuedUsers: 4, maxBatchSize: 2, maxWaitMs: 0, warmup: false });
    try {
      const address = await server.listen({ port: 0 });
      const answers = await Promise.all(
        fixture.histories.slice(0, 12).map(async (history) => {
          const response = await fetch(`${address}/v1/recommend`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ history }) });
          return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as { code: string } };
        }),
      );
      const refused = answers.filter((a) => a.status === 503);
      expect(refused.length).toBeGreaterThan(0);
      expect(answers.filter((a) => a.status === 200).length).toBeGreaterThanOrEqual(4);
      expect(answers.every((a) => a.status === 200 || a.status === 503)).toBe(true);
      for (const answer of refused) {
        expect(answer.body.code).toBe('OVERLOADED');
        expect(answer.retryAfter).toBe('1');
      }
    } finally {
      await server.close();
    }
  });

  it('while the model loads: /healthz 200, /readyz and /v1/* 503 NOT_READY; then ready', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const server = await createServer({
      modelDir: fixture.markovDir,
      logLevel: 'silent',
      waitUntilReady: false,
      loaders: {
        markov: async (directory) => {
          await gate;
          return slowed(await loadMarkov(directory), 0);
        },
      },
    });
    try {
      expect((await server.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      const ready = await server.app.inject({ method: 'GET', url: '/readyz' });
      expect([ready.statusCode, ready.json()]).toEqual([503, { status: 'loading' }]);
      const early = await server.app.inject({ method: 'POST', url: '/v1/recommend', payload: { history: [1] } });
      expect(early.statusCode).toBe(503);
      expect(early.json().code).toBe('NOT_READY');
      expect(early.headers['retry-after']).toBe('1');
      release();
      await server.ready;
      expect((await server.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
      expect((await server.app.inject({ method: 'POST', url: '/v1/recommend', payload: { history: [1] } })).statusCode).toBe(200);
    } finally {
      await server.close();
    }
  });
});

describe('startServer and logs', () => {
  it('listens, serves, reloads on SIGHUP and stops; logs are JSON lines', async () => {
    const lines: string[] = [];
    const running = await startServer({ modelDir: fixture.markovDir, port: 0, logLevel: 'info', logRequests: true, logStream: { write: (line: string) => lines.push(line) } });
    try {
      expect(running.address).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const answer = await postJson(`${running.address}/v1/recommend`, { history: [1, 2], k: 3 });
      expect(answer.status).toBe(200);
      process.emit('SIGHUP');
      // the reload runs in the background: wait until its outcome (success or failure) is counted
      await vi.waitUntil(() => swapCounted(running.server.metricsText()), within);
      expect(running.server.metricsText()).toContain('genrec_model_swaps_total{result="success"} 1');
      expect(running.server.metricsText()).not.toMatch(/genrec_model_swaps_total\{result="failure"\} [1-9]/);
    } finally {
      await running.stop();
    }
    await running.closed;
    expect(process.listenerCount('SIGHUP')).toBe(0);
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const loaded = records.find((r) => r.msg === 'model loaded') as { model: { kind: string; version: string }; level: number } | undefined;
    expect(loaded?.model.kind).toBe('markov');
    expect(loaded?.model.version).toBe(versionOf(fixture.markovDir));
    expect(records.some((r) => r.msg === 'request completed' && (r.res as { statusCode: number }).statusCode === 200 && typeof r.reqId === 'string')).toBe(true);
    expect(records.some((r) => r.msg === 'model swapped')).toBe(true);
    expect(records.at(-1)?.msg).toBe('shut down');
  });

  it('a folder that cannot be loaded makes startServer reject and release the port', async () => {
    await expect(startServer({ modelDir: join(fixture.root, 'absent'), port: 0, logLevel: 'silent', handleSignals: false })).rejects.toThrow();
  });
});

describe('GenrecServer', () => {
  it('exposes the event-loop delay it measures', async () => {
    const server: GenrecServer = await createServer({ modelDir: fixture.markovDir, logLevel: 'silent', warmup: false });
    try {
      await sleep(50);
      const started = performance.now();
      while (performance.now() - started < 60); // block the loop for 60 ms
      await sleep(1100);
      const delay = server.eventLoopDelay();
      expect(delay.maxMs).toBeGreaterThanOrEqual(40);
      expect(server.metricsText()).toMatch(/^genrec_event_loop_delay_seconds_count [1-9]\d*$/m);
    } finally {
      await server.close();
    }
  });
});
