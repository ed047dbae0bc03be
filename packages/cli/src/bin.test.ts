// The real binary in a child process: exit codes and stderr of a bad config, plain progress lines
// when piped, Ctrl-C (SIGINT) stopping a training cleanly with the best model kept, and SIGTERM
// shutting `genrec serve` down gracefully (a request in flight answered, exit 0).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadRecommender } from '@genrec/models';
import { RUN_FILES, type EpochRecord } from './run/run-folder.js';
import { queueRequests, saveMarkovModel, scratch } from './test-support.js';

const tsx = pathToFileURL(createRequire(join(import.meta.dirname, '..', '..', '..', 'package.json')).resolve('tsx')).href;
const bin = join(import.meta.dirname, 'bin.ts');
const nodeArgs = ['--conditions=@genrec/source', '--import', tsx, bin];
const space = scratch();
afterAll(() => space.remove());

describe('the genrec binary', () => {
  it('a bad config: exit 2, one line on stderr, no stack trace; piped progress is plain lines', () => {
    const bad = spawnSync(process.execPath, [...nodeArgs, 'train', 'sasrec', '--config', space.config, '--set', 'model.options.epochs="3"'], { cwd: space.folder, encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toBe('genrec train: error: config field model.options.epochs: expected an integer >= 1, found "3" (a string)\n');
    const piped = spawnSync(process.execPath, [...nodeArgs, 'train', 'markov', '--config', space.config, '--run-id', 'piped'], { cwd: space.folder, encoding: 'utf8' });
    expect(piped.status, piped.stderr).toBe(0);
    expect(piped.stderr).not.toContain('\u001b['); // no terminal control codes
    expect(piped.stderr).toMatch(/^\[train markov\] training markov: 1 epoch x 300 steps$/m);
    expect(piped.stdout).toMatch(/^markov\s+0\.\d{4} ▲†/m);
  });

  it('Ctrl-C stops training at the next step, saves the best epoch, marks the run interrupted, exits 130', async () => {
    const child = spawn(process.execPath, [...nodeArgs, 'train', 'sasrec', '--config', space.config, '--preset', 'small', '--epochs', '500', '--run-id', 'interrupted', '--progress', 'plain'], { cwd: space.folder });
    let stderr = '';
    let sent = false;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!sent && /epoch 3\/500/.test(stderr)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(sent, stderr).toBe(true);
    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(/Ctrl-C: stopping at the next step and keeping the best model so far/);
    expect(stderr).toMatch(/training stopped by abort after \d+ epochs; kept epoch \d+/);
    const run = join(space.folder, 'runs', 'interrupted');
    expect(JSON.parse(readFileSync(join(run, RUN_FILES.record), 'utf8'))).toMatchObject({ status: 'interrupted' });
    const epochs = readFileSync(join(run, 'seeds', '42', 'epochs.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as EpochRecord);
    expect(epochs.length).toBeGreaterThanOrEqual(3);
    const best = epochs.filter((epoch) => epoch.best).at(-1)!;
    const model = await loadRecommender(join(run, 'seeds', '42', 'model'));
    try {
      expect(model.describe().epoch).toBe(best.epoch); // the best epoch's weights, not the last step's
    } finally {
      await model.dispose();
    }
    expect(existsSync(join(run, RUN_FILES.metrics))).toBe(false); // not evaluated
  });

  it('serve: SIGTERM drains the request in flight, then exit 0', async () => {
    const { modelDir, histories } = await saveMarkovModel(space.folder, 'serve-model');
    // --max-wait-ms 5000: a queued request waits until the shutdown runs it
    const child = spawn(process.execPath, [...nodeArgs, 'serve', modelDir, '--port', '0', '--execution', 'main', '--max-wait-ms', '5000', '--log-level', 'warn'], { cwd: space.folder });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    let address: string | undefined;
    for (let i = 0; i < 1500 && address === undefined && child.exitCode === null; i++) {
      address = /^genrec serve: listening on (http:\/\/127\.0\.0\.1:\d+) \(model markov \S+\)$/m.exec(stderr)?.[1];
      if (address === undefined) await sleep(10);
    }
    expect(address, stderr).toBeDefined();
    const [answer] = await queueRequests(address!, [histories[0]!]); // waiting in the queue (checked on /metrics)
    child.kill('SIGTERM');
    const response = await answer!;
    expect(response.status).toBe(200);
    expect(response.body['items']).toHaveLength(4);
    expect(await exited, stderr).toBe(0);
    expect(stderr).toMatch(/^genrec serve: shutting down \(SIGTERM\): draining in-flight requests$/m);
    expect(stderr).toMatch(/^genrec serve: shut down after /m);
  }, 30_000);
});
