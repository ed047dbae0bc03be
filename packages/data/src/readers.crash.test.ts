import { describe, expect, it } from 'vitest';
import { runCrashCase, type ChildOutcome } from './fuzz/harness.js';

// Crash-class inputs, each read in a child process (fuzz/crash-child.ts): before the fixes these
// killed the process (V8 fatal "invalid size", an uncaught RangeError outside the promise) or
// took seconds and gigabytes. Here a crash fails the test instead of the runner.
describe('crash-class inputs (child process)', () => {
  it('refuses items.jsonl id 200000000 at its line instead of a V8 fatal error', () => {
    const outcome = runCrashCase('catalog-id', '200000000');
    expect(outcome).toMatchObject({ outcome: 'GenrecError', code: 'INVALID_INPUT', line: 1 });
    expect(outcome.message).toMatch(/item id 200000000 is above maxItemId \(16777216\)/);
  });

  it('refuses id 100000000 quickly and without gigabytes (was 5 s and 2.6 GB)', () => {
    const outcome = runCrashCase('catalog-id', '100000000');
    expect(outcome).toMatchObject({ outcome: 'GenrecError', code: 'INVALID_INPUT', line: 1 });
    expect(outcome.ms).toBeLessThan(1000);
    expect(outcome.peakRssMiB).toBeLessThan(400);
  });

  it('refuses ids beyond 2^53 and absurd JSON numbers as PARSE_ERROR', () => {
    for (const id of ['9007199254740993', '1e400', '-5', '3.5']) {
      expect(runCrashCase('catalog-id', id), id).toMatchObject({ outcome: 'GenrecError', code: 'PARSE_ERROR', line: 1 });
    }
  });

  it('renumbers sequence-file ids near 2^31 without arrays sized by the id', () => {
    const outcome = runCrashCase('sequence-ids', '2147483647 5 2000000000');
    expect(outcome.outcome).toBe('valid');
    expect(outcome.result).toEqual({ itemCount: 3, items: [3, 1, 2, 3], externalItemIds: ['', '5', '2000000000', '2147483647'] });
    // Before: a 2 GiB presence array and an 8 GiB remap array, 4.5 s.
    expect(outcome.ms).toBeLessThan(1000);
    expect(outcome.peakRssMiB).toBeLessThan(400);
  });

  it('stops a 600 MiB line (gzip) at the default 64 Mi bound in every line reader, inside the promise', () => {
    const outcomes = runCrashCase<ChildOutcome[]>('huge-line', '600', 120_000);
    expect(outcomes).toHaveLength(5);
    for (const outcome of outcomes) {
      expect(outcome).toMatchObject({ outcome: 'GenrecError', code: 'PARSE_ERROR', line: 1 });
      expect(outcome.message).toMatch(/line too long: more than 67108864 characters/);
    }
    expect(Math.max(...outcomes.map((outcome) => outcome.peakRssMiB))).toBeLessThan(1024);
  });
});
