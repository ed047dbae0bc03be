// Smoke test on a tiny data folder: a run folder per model, the combined report and table, and a
// rerun that skips finished runs and retrains an unfinished one.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateSyntheticDataset } from '@genrec/data';
import { runBenchmark } from './benchmark.js';

const folder = mkdtempSync(join(tmpdir(), 'genrec-benchmark-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('benchmark', () => {
  it('trains every model once, reports them together, and resumes', async () => {
    const data = join(folder, 'tiny');
    mkdirSync(data);
    const { dataset } = generateSyntheticDataset({ userCount: 300, itemCount: 120, seed: 5 });
    const lines = Array.from({ length: dataset.userCount }, (_, row) => `${row + 1} ${Array.from(dataset.items.subarray(dataset.offsets[row]!, dataset.offsets[row + 1]!)).join(' ')}`);
    writeFileSync(join(data, 'tiny.txt'), lines.join('\n') + '\n');
    const quiet = { stdout: { write: () => true }, stderr: { write: () => true, isTTY: false }, stdoutIsTTY: false, env: {} };
    const said: string[] = [];
    const options = { data, out: join(folder, 'out'), models: ['markov', 'item-knn'], io: quiet, say: (line: string) => said.push(line) };
    const first = await runBenchmark(options);
    expect(first.exitCode).toBe(0);
    expect(first.trained).toEqual(['markov', 'item-knn']);
    expect(first.table).toMatch(/^popularity \(baseline\)/m);
    expect(first.markdown).toMatch(/^\| markov \| 0\.\d{4} ▲ \| 0\.\d{4} ▲ \|/m);
    expect(first.markdown).toMatch(/^\| item-knn \| 0\.\d{4}/m);
    expect(readFileSync(first.report, 'utf8')).toContain('<title>genrec benchmark: tiny</title>');
    // resumable: both finished runs are kept; an unfinished one is trained again
    const again = await runBenchmark(options);
    expect(again.skipped).toEqual(['markov', 'item-knn']);
    expect(again.trained).toEqual([]);
    expect(again.markdown).toBe(first.markdown);
    const record = join(folder, 'out', 'tiny', 'runs', 'item-knn', 'run.json');
    writeFileSync(record, readFileSync(record, 'utf8').replace('"status": "complete"', '"status": "interrupted"'));
    const resumed = await runBenchmark(options);
    expect(resumed.skipped).toEqual(['markov']);
    expect(resumed.trained).toEqual(['item-knn']);
    expect(said).toContain(`item-knn: the run in ${join(folder, 'out', 'tiny', 'runs', 'item-knn')} is interrupted; training again`);
    expect(resumed.markdown).toBe(first.markdown); // the same numbers: training is deterministic
  });

  it('passes model options by kind to genrec train, recorded in the run folder', async () => {
    const data = join(folder, 'tiny');
    const quiet = { stdout: { write: () => true }, stderr: { write: () => true, isTTY: false }, stdoutIsTTY: false, env: {} };
    const said: string[] = [];
    const out = join(folder, 'out-options');
    const result = await runBenchmark({ data, out, models: ['item-knn'], modelOptions: { 'item-knn': { neighbours: 7, window: 3 } }, io: quiet, say: (line: string) => said.push(line) });
    expect(result.exitCode).toBe(0);
    expect(said).toContain(`$ genrec train item-knn --config ${join(out, 'tiny', 'genrec.json')} --run-id item-knn --set model.options.neighbours=7 --set model.options.window=3`);
    const config = JSON.parse(readFileSync(join(out, 'tiny', 'runs', 'item-knn', 'config.json'), 'utf8')) as { model: { options: Record<string, unknown> } };
    expect(config.model.options).toEqual({ neighbours: 7, window: 3 });
  });
});
