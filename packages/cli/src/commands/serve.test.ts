// `genrec serve` in-process through runCli: a Markov model of the synthetic default served over
// HTTP, the option layers (defaults < GENREC_SERVE_* < flags), one-line errors with their exit
// codes, SIGHUP hot swap, and a graceful shutdown on the abort signal with a request in flight.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRecommender } from '@genrec/models';
import { SERVE_OPTIONS } from '@genrec/serve';
import { runCli } from '../run-cli.js';
import { cli, postJson as post, queueRequests, saveMarkovModel, scratch } from '../test-support.js';
import type { ServeSummary } from './serve.js';

const space = scratch();
afterAll(() => space.remove());
let modelDir: string;
let histories: number[][];
beforeAll(async () => {
  ({ modelDir, histories } = await saveMarkovModel(space.folder));
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const versionOf = (directory: string) => readFileSync(join(directory, 'CURRENT'), 'utf8').trim();

/** `genrec serve <argv>` started in this process, with live stderr, stopped through its abort signal. */
function serve(argv: readonly string[], env: Record<string, string> = {}) {
  const controller = new AbortController();
  let stdout = '';
  let stderr = '';
  let onWrite = (): void => {};
  const code = runCli(['serve', ...argv], {
    io: { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => ((stderr += text), onWrite()), isTTY: false }, stdoutIsTTY: false, cwd: space.folder, env },
    signal: controller.signal,
  });
  const address = new Promise<string>((resolve, reject) => {
    onWrite = () => {
      const match = /^genrec serve: listening on (http:\/\/127\.0\.0\.1:\d+) \(model markov (\S+)\)$/m.exec(stderr);
      if (match) resolve(match[1]!);
    };
    void code.then((exit) => reject(new Error(`genrec serve exited ${exit} before listening: ${stderr}`)));
  });
  return { controller, code, address, stdout: () => stdout, stderr: () => stderr, waitFor: async (pattern: RegExp) => {
    for (let i = 0; i < 500 && !pattern.test(stderr); i++) await sleep(10);
    expect(stderr).toMatch(pattern);
  } };
}

const ids = (body: Record<string, unknown>) => (body['items'] as { id: number }[]).map((item) => item.id);
const oneLine = (text: string) => {
  expect(text).not.toMatch(/\n\s+at /);
  expect(text.trim().split('\n')).toHaveLength(1);
};

describe('genrec serve', () => {
  it('serves the model: POST /v1/recommend answers the model’s own top k; --json prints a summary once shut down', async () => {
    const run = serve([modelDir, '--port', '0', '--json']); // the model in its worker thread (the default)
    const address = await run.address;
    expect(run.stderr()).toContain(`genrec serve: listening on ${address} (model markov ${versionOf(modelDir)})\n`);
    const model = await loadRecommender(modelDir);
    try {
      for (const history of histories.slice(0, 3)) {
        const answer = await post(`${address}/v1/recommend`, { history, k: 7 });
        expect(answer.status).toBe(200);
        const expected = await model.recommend([history], { k: 7 });
        expect(ids(answer.body)).toEqual(Array.from(expected.items));
        expect(ids(answer.body)).toHaveLength(7);
        expect(answer.body['model']).toMatchObject({ kind: 'markov', version: versionOf(modelDir) });
      }
    } finally {
      await model.dispose();
    }
    run.controller.abort(new Error('test stop'));
    expect(await run.code).toBe(0);
    // stdout holds the one JSON document (the service's log lines went to stderr)
    const summary = JSON.parse(run.stdout()) as ServeSummary;
    expect(summary).toMatchObject({ ok: true, command: 'serve', address, modelDir, reason: 'test stop', model: { kind: 'markov', version: versionOf(modelDir), execution: 'worker' } });
    expect(summary.options['port']).toEqual({ value: 0, source: 'flag' });
    expect(summary.options['modelDir']).toEqual({ value: modelDir, source: 'argument' });
    expect(summary.options['maxBatchSize']).toEqual({ value: 64, source: 'default' });
    expect(summary.options['batching']).toEqual({ value: true, source: 'default' }); // an unset boolean flag leaves the default
    expect(Object.keys(summary.options)).toEqual(SERVE_OPTIONS.map((option) => option.name));
    expect(run.stderr()).toMatch(/^\{"level":30,.*"msg":"model loaded"/m); // pino JSON lines on stderr
    expect(run.stderr()).toMatch(/^genrec serve: shutting down \(test stop\): draining in-flight requests$/m);
    expect(run.stderr()).toMatch(/^genrec serve: shut down after \d+\.\d s$/m);
  });

  it('options: defaults < GENREC_SERVE_* variables < flags', async () => {
    const fromEnv = serve([modelDir, '--port', '0', '--json'], { GENREC_SERVE_MAX_K: '5', GENREC_SERVE_EXECUTION: 'main', GENREC_SERVE_LOG_LEVEL: 'silent' });
    let address = await fromEnv.address;
    expect((await post(`${address}/v1/recommend`, { history: histories[0], k: 5 })).status).toBe(200);
    const over = await post(`${address}/v1/recommend`, { history: histories[0], k: 6 });
    expect(over.status).toBe(400);
    expect(over.body).toMatchObject({ code: 'INVALID_REQUEST', field: '/k' });
    fromEnv.controller.abort();
    expect(await fromEnv.code).toBe(0);
    const envSummary = JSON.parse(fromEnv.stdout()) as ServeSummary;
    expect(envSummary.options['maxK']).toEqual({ value: 5, source: 'env' });
    expect(envSummary.model.execution).toBe('main');
    expect(fromEnv.stderr()).not.toMatch(/"level"/); // GENREC_SERVE_LOG_LEVEL=silent

    const fromFlag = serve([modelDir, '--port', '0', '--json', '--max-k', '7', '--execution', 'main'], { GENREC_SERVE_MAX_K: '5', GENREC_SERVE_EXECUTION: 'worker', GENREC_SERVE_LOG_LEVEL: 'silent' });
    address = await fromFlag.address;
    const seven = await post(`${address}/v1/recommend`, { history: histories[0], k: 7 });
    expect(seven.status).toBe(200);
    expect(ids(seven.body)).toHaveLength(7);
    expect((await post(`${address}/v1/recommend`, { history: histories[0], k: 8 })).status).toBe(400);
    fromFlag.controller.abort();
    expect(await fromFlag.code).toBe(0);
    const flagSummary = JSON.parse(fromFlag.stdout()) as ServeSummary;
    expect(flagSummary.options['maxK']).toEqual({ value: 7, source: 'flag' });
    expect(flagSummary.options['execution']).toEqual({ value: 'main', source: 'flag' });
    expect(flagSummary.model.execution).toBe('main');
  });

  it('bad flags and variables: one line, exit 2', async () => {
    const cases: [string[], Record<string, string>, string][] = [
      [[modelDir, '--max-k', 'abc'], {}, 'genrec serve: error: --max-k must be an integer in [1, 100000], got "abc" (field "--max-k")'],
      [[modelDir, '--max-k', '0'], {}, 'genrec serve: error: --max-k must be an integer in [1, 100000], got "0" (field "--max-k")'],
      [[modelDir, '--unknown-items', 'ignore'], {}, 'genrec serve: error: --unknown-items must be one of reject, drop, got "ignore" (field "--unknown-items")'],
      [[modelDir, '--max-wait-ms', '2ms'], {}, 'genrec serve: error: --max-wait-ms must be a number in [0, 10000], got "2ms" (field "--max-wait-ms")'],
      [[modelDir], { GENREC_SERVE_PORT: 'http' }, 'genrec serve: error: GENREC_SERVE_PORT must be an integer in [0, 65535], got "http" (field "GENREC_SERVE_PORT")'],
      [[modelDir], { GENREC_SERVE_MAX_KK: '5' }, 'genrec serve: error: unknown environment variable GENREC_SERVE_MAX_KK (known: '],
      [[], {}, 'genrec serve: error: give the model folder to serve: genrec serve <model> (a model folder or a run folder), or --model-dir / GENREC_SERVE_MODEL_DIR (field "model")'],
      [[modelDir, '--model-dir', modelDir], {}, 'genrec serve: error: give the model folder once: as <model> or as --model-dir, not both (field "model-dir")'],
    ];
    for (const [argv, env, line] of cases) {
      const run = await cli(['serve', ...argv], space.folder, { io: { env } });
      expect(run.code, run.stderr).toBe(2);
      oneLine(run.stderr);
      expect(run.stderr.startsWith(line), run.stderr).toBe(true);
      expect(run.stdout).toBe('');
    }
    const unknown = await cli(['serve', modelDir, '--max-kay', '3'], space.folder);
    expect(unknown.code).toBe(2);
    oneLine(unknown.stderr);
    expect(unknown.stderr).toMatch(/^genrec serve: error: Unknown arguments?: max-kay/);
    const json = await cli(['serve', modelDir, '--max-k', 'abc', '--json'], space.folder);
    expect(json.code).toBe(2);
    expect(json.json()).toEqual({ ok: false, command: 'serve', exitCode: 2, error: { code: 'INVALID_OPTION', message: '--max-k must be an integer in [1, 100000], got "abc" (field "--max-k")', field: '--max-k' } });
  });

  it('a missing folder or one that is not a model: one line, exit 4; the model folder can come from GENREC_SERVE_MODEL_DIR', async () => {
    const missing = await cli(['serve', 'no/such/model', '--port', '0'], space.folder);
    expect(missing.code).toBe(4);
    oneLine(missing.stderr);
    expect(missing.stderr).toBe(`genrec serve: error: ${join(space.folder, 'no/such/model')} does not exist (give a model folder or a run folder) (${join(space.folder, 'no/such/model')})\n`);
    const fromEnv = await cli(['serve', '--port', '0'], space.folder, { io: { env: { GENREC_SERVE_MODEL_DIR: 'no/such/model' } } });
    expect(fromEnv.code).toBe(4);
    expect(fromEnv.stderr).toBe(missing.stderr);
    const empty = join(space.folder, 'empty');
    mkdirSync(empty);
    const notModel = await cli(['serve', empty, '--port', '0', '--json'], space.folder);
    expect(notModel.code).toBe(4);
    oneLine(notModel.stderr); // no log record of the failed load
    expect(notModel.stderr).toMatch(new RegExp(`^genrec serve: error: model folder ${empty} could not be loaded: `));
    expect(notModel.json()).toMatchObject({ ok: false, command: 'serve', exitCode: 4 });
  });

  it('serves a run folder’s model (its first seed’s)', async () => {
    const trained = await cli(['train', 'markov', '--config', space.config, '--run-id', 'markov-run', '--progress', 'none'], space.folder);
    expect(trained.code, trained.stderr).toBe(0);
    const run = serve(['runs/markov-run', '--port', '0', '--json', '--execution', 'main', '--log-level', 'warn']);
    const address = await run.address;
    const served = await (await fetch(`${address}/v1/model`)).json() as { kind: string; itemCount: number };
    expect(served).toMatchObject({ kind: 'markov', itemCount: 120 }); // the tiny data of the config
    run.controller.abort();
    expect(await run.code).toBe(0);
    expect((JSON.parse(run.stdout()) as ServeSummary).modelDir).toBe(join(space.folder, 'runs', 'markov-run', 'seeds', '42', 'model'));
  });

  it('SIGHUP hot-swaps the folder’s new version; the SIGHUP listener is removed at shutdown', async () => {
    const swapRoot = join(space.folder, 'swap');
    mkdirSync(swapRoot);
    const { modelDir: swapDir } = await saveMarkovModel(swapRoot, 'model');
    const first = versionOf(swapDir);
    const listeners = process.listenerCount('SIGHUP');
    const run = serve([swapDir, '--port', '0', '--json', '--execution', 'main', '--log-level', 'silent']);
    const address = await run.address;
    expect(process.listenerCount('SIGHUP')).toBe(listeners + 1);
    await saveMarkovModel(swapRoot, 'model', { order: 2 }); // a new version in the served folder
    const second = versionOf(swapDir);
    expect(second).not.toBe(first);
    process.emit('SIGHUP');
    await run.waitFor(new RegExp(`^genrec serve: now serving model markov ${second}$`, 'm'));
    const answer = await post(`${address}/v1/recommend`, { history: histories[0], k: 3 });
    expect(answer.body['model']).toMatchObject({ version: second });
    run.controller.abort();
    expect(await run.code).toBe(0);
    expect(process.listenerCount('SIGHUP')).toBe(listeners);
    const summary = JSON.parse(run.stdout()) as ServeSummary;
    expect([summary.model.version, summary.modelAtShutdown.version]).toEqual([first, second]);
  });

  it('abort: requests in flight are answered, then exit 0 and the port is closed', async () => {
    // with --max-wait-ms 5000 the two requests wait in the queue: the shutdown must run them at once
    const run = serve([modelDir, '--port', '0', '--execution', 'main', '--max-wait-ms', '5000', '--log-level', 'silent', '--shutdown-delay-ms', '50']);
    const address = await run.address;
    const inFlight = await queueRequests(address, [histories[1]!, histories[2]!]); // both waiting in the queue
    const aborted = performance.now();
    run.controller.abort();
    // answered (a shutdown that did not drain would cut their connections), then exit 0
    const answers = await Promise.all(inFlight);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    expect(answers.map((answer) => ids(answer.body).length)).toEqual([4, 4]);
    expect(await run.code).toBe(0);
    expect(performance.now() - aborted).toBeLessThan(3000); // run by the drain, not after their 5 s wait
    await expect(fetch(`${address}/healthz`)).rejects.toThrow();
    expect(run.stderr()).toMatch(/^genrec serve: shutting down \(This operation was aborted\): draining in-flight requests$/m);
  });

  it('--help lists every service option with its variable', async () => {
    const run = await cli(['serve', '--help'], space.folder);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('genrec serve [model]');
    for (const option of SERVE_OPTIONS) {
      expect(run.stdout).toContain(option.flag);
      expect(run.stdout).toContain(option.env);
    }
  });
});
