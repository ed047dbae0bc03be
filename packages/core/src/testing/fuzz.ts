import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { GenrecError } from '../errors.js';

/** What a fuzz run reports: inputs tried and their outcomes by class. */
export interface FuzzReport {
  /** Which reader was fuzzed. */
  reader: string;
  /** Inputs tried. */
  cases: number;
  /** Outcomes by class: `accepted` (data passed the invariants) or `GenrecError:<code>`. */
  outcomes: Record<string, number>;
  /** The slowest single case, in milliseconds (a hang shows here first). */
  slowestCaseMs: number;
  /** Anything else worth printing (a reference parser's verdicts, a skipped cross-check). */
  notes: string[];
}

/** The contract of a fuzz module run by {@link fuzzInChild}. */
export interface FuzzModule {
  fuzz(options: { runs: number; seed: number }): FuzzReport | Promise<FuzzReport>;
}

/** Options of {@link fuzzInChild}. */
export interface FuzzInChildOptions {
  /** Path of a module (`.ts` or `.js`) exporting `fuzz({ runs, seed })` ({@link FuzzModule}). */
  module: string;
  /** Cases to run. */
  runs: number;
  /** Seed of the case generator. */
  seed: number;
  /** Wall-clock limit for the whole child process; past it the child is killed and the run fails as a hang. */
  timeoutMs: number;
}

const REPORT_PREFIX = 'GENREC-FUZZ-REPORT ';
const runner = fileURLToPath(new URL(`./fuzz-child${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));

/**
 * Cases per reader for a fuzz test: `defaultRuns` normally, `longRuns` when the environment sets
 * `GENREC_LONG_RUN=1`.
 *
 * @param defaultRuns - cases in the default run @defaultValue 1000
 * @param longRuns - cases in a long run @defaultValue 20000
 * @returns the number of cases to run
 * @example
 * ```ts
 * const runs = fuzzRuns(); // 1000, or 20000 with GENREC_LONG_RUN=1
 * ```
 */
export function fuzzRuns(defaultRuns = 1000, longRuns = 20_000): number {
  return process.env.GENREC_LONG_RUN === '1' ? longRuns : defaultRuns;
}

/**
 * Runs a fuzz module in a child process (under `tsx` with the `@genrec/source` condition), so that
 * a native crash or an out-of-memory kill fails the test instead of killing the test runner, and
 * a hang is cut off by `timeoutMs`.
 *
 * @param options - {@link FuzzInChildOptions}
 * @returns the child's report
 * @throws Error when the child crashes (signal), fails (its property found a counterexample: the
 * message carries fast-check's report) or runs past `timeoutMs`.
 * @example
 * ```ts
 * const report = await fuzzInChild({ module: fileURLToPath(new URL('./npy.fuzz.ts', import.meta.url)), runs: 1000, seed: 1, timeoutMs: 120_000 });
 * ```
 */
export function fuzzInChild(options: FuzzInChildOptions): Promise<FuzzReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=@genrec/source', '--import', 'tsx', runner, options.module, String(options.runs), String(options.seed)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (output += chunk));
    child.stderr.on('data', (chunk: string) => (output += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const tail = output.slice(-6000);
      if (timedOut) return reject(new Error(`fuzz child ${options.module} ran past ${options.timeoutMs} ms (a hang?):\n${tail}`));
      if (signal !== null) return reject(new Error(`fuzz child ${options.module} crashed with ${signal}:\n${tail}`));
      if (code !== 0) return reject(new Error(`fuzz child ${options.module} failed (exit ${code}):\n${tail}`));
      const line = output.split('\n').find((candidate) => candidate.startsWith(REPORT_PREFIX));
      if (line === undefined) return reject(new Error(`fuzz child ${options.module} printed no report:\n${tail}`));
      resolve(JSON.parse(line.slice(REPORT_PREFIX.length)) as FuzzReport);
    });
  });
}

/** @internal the child's side of {@link fuzzInChild}. */
export function printFuzzReport(report: FuzzReport): void {
  process.stdout.write(`\n${REPORT_PREFIX}${JSON.stringify(report)}\n`);
}

/**
 * Counts outcomes of fuzz cases by class and times each case.
 *
 * @example
 * ```ts
 * const counter = new FuzzOutcomes('npy');
 * counter.run(() => { decodeNpy(bytes); return 'accepted'; });
 * ```
 */
export class FuzzOutcomes {
  private readonly counts = new Map<string, number>();
  private slowest = 0;
  private total = 0;
  /** Notes for the report. */
  readonly notes: string[] = [];

  constructor(
    /** The reader's name in the report. */
    readonly reader: string,
    /** A case slower than this fails as a near-hang. @defaultValue 5000 */
    readonly caseLimitMs = 5000,
  ) {}

  /**
   * Runs one case: `attempt` returns its outcome class when the input is accepted (after checking
   * its invariants); a `GenrecError` it throws counts as `GenrecError:<code>`; any other exception
   * is rethrown (the property fails), as is a case slower than `caseLimitMs`.
   *
   * @param attempt - reads one input and checks the result
   * @returns the outcome class
   */
  run(attempt: () => string): string {
    const start = performance.now();
    let outcome: string;
    try {
      outcome = attempt();
    } catch (error) {
      if (!GenrecError.isInstance(error)) throw error;
      outcome = `GenrecError:${error.code}`;
    }
    this.finish(outcome, performance.now() - start);
    return outcome;
  }

  /**
   * The asynchronous form of {@link FuzzOutcomes.run}.
   *
   * @param attempt - reads one input and checks the result
   * @returns the outcome class
   */
  async runAsync(attempt: () => Promise<string>): Promise<string> {
    const start = performance.now();
    let outcome: string;
    try {
      outcome = await attempt();
    } catch (error) {
      if (!GenrecError.isInstance(error)) throw error;
      outcome = `GenrecError:${error.code}`;
    }
    this.finish(outcome, performance.now() - start);
    return outcome;
  }

  private finish(outcome: string, elapsed: number): void {
    if (elapsed > this.caseLimitMs) throw new Error(`one case took ${elapsed.toFixed(0)} ms (limit ${this.caseLimitMs} ms): a near-hang`);
    this.slowest = Math.max(this.slowest, elapsed);
    this.total += 1;
    this.counts.set(outcome, (this.counts.get(outcome) ?? 0) + 1);
  }

  /**
   * The report so far (fast-check's shrinking runs are counted too, but a run that shrinks has failed).
   *
   * @returns the report
   */
  report(): FuzzReport {
    return {
      reader: this.reader,
      cases: this.total,
      outcomes: Object.fromEntries([...this.counts.entries()].sort(([a], [b]) => a.localeCompare(b))),
      slowestCaseMs: Math.round(this.slowest * 10) / 10,
      notes: [...this.notes],
    };
  }
}

const HUGE_NUMBERS: readonly (readonly number[])[] = [
  [0xff, 0xff, 0xff, 0xff],
  [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
  [0xff, 0xff, 0xff, 0x7f],
  [0x00, 0x00, 0x00, 0x80],
  [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00], // 2^53
  [0x00, 0x00, 0x00, 0x00],
  [0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
];

/** Characters that matter to the text parts of file formats (headers, JSON, Python literals). */
const SYNTAX = Buffer.from('{}[](),:\'"\\#\n\r\t .-+eEL0123456789_xTFN', 'latin1');

/**
 * Applies a mutation plan to a file's bytes: the plan is a list of integers read three at a time
 * (operation, position, argument), so a property-testing library can generate and shrink it.
 * Operations: set a byte, flip a bit, truncate, delete a slice, insert bytes, duplicate a slice,
 * write a huge little-endian number (2^32-1, 2^64-1, 2^31-1, 2^31, 2^53, 0, 1), and put a syntax
 * character (`{}[](),:'"\#` newlines, digits…). The result never grows past twice the input plus
 * 256 bytes.
 *
 * @param bytes - a valid file
 * @param plan - the mutation plan
 * @returns a new, mutated copy
 * @example
 * ```ts
 * fc.property(fc.array(fc.nat(), { maxLength: 24 }), (plan) => { decodeNpy(mutateBytes(valid, plan)); });
 * ```
 */
export function mutateBytes(bytes: Uint8Array, plan: readonly number[]): Uint8Array {
  let out = Array.from(bytes);
  const limit = bytes.length * 2 + 256;
  for (let i = 0; i < plan.length; i += 3) {
    const operation = plan[i]! % 8;
    const a = plan[i + 1] ?? 0;
    const b = plan[i + 2] ?? 0;
    const at = out.length === 0 ? 0 : a % out.length;
    switch (operation) {
      case 0:
        if (out.length > 0) out[at] = b & 0xff;
        break;
      case 1:
        if (out.length > 0) out[at] = out[at]! ^ (1 << (b % 8));
        break;
      case 2:
        out = out.slice(0, a % (out.length + 1));
        break;
      case 3:
        out.splice(at, (b % 16) + 1);
        break;
      case 4:
        out.splice(at, 0, ...new Array<number>((b >>> 8) % 4 + 1).fill(b & 0xff));
        break;
      case 5:
        out.splice(at, 0, ...out.slice(at, at + (b % 32) + 1));
        break;
      case 6: {
        const number = HUGE_NUMBERS[b % HUGE_NUMBERS.length]!;
        for (let k = 0; k < number.length && at + k < out.length; k++) out[at + k] = number[k]!;
        break;
      }
      case 7:
        if (out.length > 0) out[at] = SYNTAX[b % SYNTAX.length]!;
        break;
    }
    if (out.length > limit) out = out.slice(0, limit);
  }
  return Uint8Array.from(out);
}
