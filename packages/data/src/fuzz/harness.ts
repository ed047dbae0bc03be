/**
 * Shared pieces of the readers' property-based fuzz tests (fast-check): byte-level mutations of
 * valid files, the case budget (`GENREC_LONG_RUN=1` raises it), outcome tallies, and a runner for
 * crash-class cases in a child process. Test-only; not part of the package build.
 *
 * @module
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GenrecError } from '@genrec/core';
import fc from 'fast-check';
import { afterAll } from 'vitest';

/** True when `GENREC_LONG_RUN=1`: fuzz tests run their long budget. */
export const longRun = process.env.GENREC_LONG_RUN === '1';

/** Fuzz cases per reader: 1,000 by default, 20,000 with `GENREC_LONG_RUN=1` (or `GENREC_FUZZ_RUNS`). */
export const fuzzRuns = Number(process.env.GENREC_FUZZ_RUNS ?? (longRun ? 20_000 : 1_000));

/** Base seed of the fuzz tests (`GENREC_FUZZ_SEED` overrides; each reader adds its own offset). */
export const fuzzSeed = Number(process.env.GENREC_FUZZ_SEED ?? 20_240_611);

/** A vitest timeout that fits the budget (about 20 ms per case, at least two minutes). */
export const fuzzTimeoutMs = Math.max(120_000, fuzzRuns * 20);

/** The repository root (where `tsx` and the `@genrec/source` condition resolve). */
export const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

/** A temporary folder removed after the calling test file. */
export function fuzzDirectory(prefix: string): string {
  const directory = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

const encoder = new TextEncoder();
const bytes = (text: string): Uint8Array => encoder.encode(text);

/** Byte strings worth inserting: separators, quotes, line breaks, huge numbers, odd unicode, broken UTF-8. */
const INSERTIONS: readonly Uint8Array[] = [
  ...['\n', '\r', '\r\n', '\n\n', ' \n', '"', '""', ',', '\t', ' ', '::', ':', ';'].map(bytes),
  ...['{', '}', '[', ']', '\\', '"item_id": ', '"__proto__": {"x": 1}, ', '"title": 5, ', '"categories": [[1]], '].map(bytes),
  ...['0', '-1', '+7', '007', '1.5', '1e3', '0x1F', 'NaN', 'Infinity', '99999999999999999999', '2147483647', '2147483648', '200000000', '100000000', '1e309', '-1e309'].map(bytes),
  ...['foo 12', '2021-02-30', '2021-01-01T25:00', '2021-01-01T00:00:00', '2021-01-01T00:00:00+05:30', '2021-13-01', 'T', 'Z'].map(bytes),
  ...['\u00e9', '\u{1f600}', '\u2028', '\u00a0', '\ufeff', '\u0000', '\u000b'].map(bytes),
  Uint8Array.of(0xff),
  Uint8Array.of(0xc3),
  Uint8Array.of(0xed, 0xa0, 0x80),
  Uint8Array.of(0xe2, 0x82),
];

/** One byte-level edit of a file. Positions are taken modulo the current length. */
export type Mutation =
  | { kind: 'flip'; position: number; bit: number }
  | { kind: 'set'; position: number; byte: number }
  | { kind: 'truncate'; position: number }
  | { kind: 'insert'; position: number; insertion: number }
  | { kind: 'delete'; position: number; length: number }
  | { kind: 'duplicate'; position: number; length: number };

const position = fc.nat({ max: 1 << 20 });

/** An arbitrary list of 0 to 4 mutations (about one case in six is left unmutated). */
export const mutationsArbitrary: fc.Arbitrary<Mutation[]> = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), position, bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('set' as const), position, byte: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('truncate' as const), position }),
    { arbitrary: fc.record({ kind: fc.constant('insert' as const), position, insertion: fc.nat({ max: INSERTIONS.length - 1 }) }), weight: 4 },
    fc.record({ kind: fc.constant('delete' as const), position, length: fc.integer({ min: 1, max: 8 }) }),
    fc.record({ kind: fc.constant('duplicate' as const), position, length: fc.integer({ min: 1, max: 60 }) }),
  ),
  { maxLength: 4 },
);

/** Applies `mutations` in order to a copy of `input`. */
export function mutate(input: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let data = input;
  for (const mutation of mutations) {
    const length = data.length;
    const at = length === 0 ? 0 : mutation.position % (length + (mutation.kind === 'insert' ? 1 : 0));
    switch (mutation.kind) {
      case 'flip':
        if (length > 0) (data = Uint8Array.from(data))[at] = data[at]! ^ (1 << mutation.bit);
        break;
      case 'set':
        if (length > 0) (data = Uint8Array.from(data))[at] = mutation.byte;
        break;
      case 'truncate':
        data = data.slice(0, at);
        break;
      case 'insert':
        data = concat(data.subarray(0, at), INSERTIONS[mutation.insertion]!, data.subarray(at));
        break;
      case 'delete':
        data = concat(data.subarray(0, at), data.subarray(at + mutation.length));
        break;
      case 'duplicate':
        data = concat(data.subarray(0, at + mutation.length), data.subarray(at));
        break;
    }
  }
  return data;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Outcome counts of a fuzz run by class: `'valid'` or `'GenrecError <CODE>'`. Anything else thrown
 * by a reader fails the property (fast-check then shrinks and reports the case).
 */
export class OutcomeTally {
  readonly counts = new Map<string, number>();
  cases = 0;

  /** Runs `read`; returns its value, or `undefined` after counting a GenrecError. Other errors propagate. */
  async run<T>(read: () => Promise<T>): Promise<T | undefined> {
    this.cases++;
    try {
      const value = await read();
      this.add('valid');
      return value;
    } catch (error) {
      if (!GenrecError.isInstance(error)) throw error;
      this.add(`GenrecError ${error.code}`);
      return undefined;
    }
  }

  add(outcome: string): void {
    this.counts.set(outcome, (this.counts.get(outcome) ?? 0) + 1);
  }

  /** One line: `reader: N cases (valid 412, GenrecError PARSE_ERROR 530, ...)`. */
  summary(reader: string): string {
    const parts = [...this.counts].sort((a, b) => b[1] - a[1]).map(([outcome, count]) => `${outcome} ${count}`);
    return `fuzz ${reader}: ${this.cases} cases (${parts.join(', ')})`;
  }
}

/** Runs an async property for the fuzz budget with the reader's seed and a per-case time limit (a hang fails). */
export async function assertFuzz<Ts extends [unknown, ...unknown[]]>(
  property: fc.IAsyncPropertyWithHooks<Ts>,
  seedOffset: number,
  runs: number = fuzzRuns,
): Promise<void> {
  await fc.assert(property, { numRuns: runs, seed: fuzzSeed + seedOffset, timeout: 10_000 });
}

/** What a crash-class case in the child process reported. */
export interface ChildOutcome {
  outcome: 'valid' | 'GenrecError' | 'other';
  code?: string;
  message?: string;
  line?: number;
  ms: number;
  peakRssMiB: number;
  result?: unknown;
}

/**
 * Runs one crash-class case of `crash-child.ts` in a fresh Node process (so a V8 fatal error, an
 * uncaught exception or an out-of-memory kill fails the test instead of killing the runner) and
 * returns what it printed.
 *
 * @throws Error when the child did not exit normally with one JSON line.
 */
export function runCrashCase<T = ChildOutcome>(name: string, argument: string, timeoutMs = 60_000): T {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'crash-child.ts');
  // The parent owns the child's scratch folder, so it is removed even when the child crashes.
  const scratch = mkdtempSync(join(tmpdir(), 'genrec-crash-'));
  const child = spawnSync(process.execPath, ['--conditions=@genrec/source', '--import', 'tsx', script, name, argument, scratch], {
    cwd: repositoryRoot,
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 1 << 20,
  });
  rmSync(scratch, { recursive: true, force: true });
  const stdout = child.stdout ?? '';
  if (child.status !== 0 || child.signal !== null) {
    throw new Error(`crash case ${name} (${argument}): child ended with status ${child.status}, signal ${child.signal}\n${stdout}\n${(child.stderr ?? '').slice(-2000)}`);
  }
  const line = stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new Error(`crash case ${name}: child printed no JSON line:\n${stdout}\n${child.stderr}`);
  }
}
