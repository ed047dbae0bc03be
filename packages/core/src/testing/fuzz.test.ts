import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GenrecError } from '../errors.js';
import { FuzzOutcomes, fuzzInChild, mutateBytes } from './fuzz.js';
import { TemporaryFolders } from './temporary-folders.js';

// Removed once every child process that imported a module has ended (fuzzInChild settles after that).
const folders = new TemporaryFolders();
afterAll(() => folders.removeAll());

function module(body: string): string {
  const path = join(folders.create('genrec-fuzz-'), 'module.ts');
  writeFileSync(path, body);
  return path;
}

describe('fuzz helpers', () => {
  it('mutateBytes applies a plan deterministically and never grows past twice the input', () => {
    const input = Uint8Array.from({ length: 40 }, (_, i) => i);
    expect(Array.from(mutateBytes(input, [0, 3, 0xff]))).toEqual([0, 1, 2, 255, ...Array.from(input.subarray(4))]);
    expect(mutateBytes(input, [2, 10, 0]).length).toBe(10);
    expect(Array.from(mutateBytes(input, [6, 0, 1]).subarray(0, 8))).toEqual([255, 255, 255, 255, 255, 255, 255, 255]);
    const plan = Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? 5 : 31));
    expect(mutateBytes(input, plan).length).toBeLessThanOrEqual(2 * 40 + 256);
    expect(Array.from(mutateBytes(input, plan))).toEqual(Array.from(mutateBytes(input, plan)));
    expect(input[3]).toBe(3); // the input is not modified
  });

  it('FuzzOutcomes counts GenrecErrors by code and rethrows anything else', () => {
    const outcomes = new FuzzOutcomes('x');
    outcomes.run(() => 'accepted');
    outcomes.run(() => {
      throw new GenrecError('PARSE_ERROR', 'bad');
    });
    expect(() => outcomes.run(() => JSON.parse('{') as string)).toThrow(SyntaxError);
    expect(outcomes.report()).toMatchObject({ reader: 'x', cases: 2, outcomes: { accepted: 1, 'GenrecError:PARSE_ERROR': 1 } });
  });

  it('fuzzInChild returns the report, and fails on a crash, a hang or a counterexample', async () => {
    const ok = module(`export function fuzz({ runs }: { runs: number }) { return { reader: 'ok', cases: runs, outcomes: { accepted: runs }, slowestCaseMs: 0, notes: [] }; }`);
    expect(await fuzzInChild({ module: ok, runs: 7, seed: 1, timeoutMs: 60_000 })).toEqual({ reader: 'ok', cases: 7, outcomes: { accepted: 7 }, slowestCaseMs: 0, notes: [] });
    const crash = module('export function fuzz() { process.abort(); }');
    await expect(fuzzInChild({ module: crash, runs: 1, seed: 1, timeoutMs: 60_000 })).rejects.toThrow(/crashed with SIGABRT/);
    const hang = module('export function fuzz() { for (;;) {} }');
    await expect(fuzzInChild({ module: hang, runs: 1, seed: 1, timeoutMs: 4000 })).rejects.toThrow(/ran past 4000 ms/);
    const failing = module("export function fuzz() { throw new Error('counterexample: [1, 2]'); }");
    await expect(fuzzInChild({ module: failing, runs: 1, seed: 1, timeoutMs: 60_000 })).rejects.toThrow(/failed \(exit 1\)[\s\S]*counterexample: \[1, 2\]/);
  }, 120_000);
});
