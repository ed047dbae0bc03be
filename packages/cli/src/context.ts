import type { ExitCode } from './exit-codes.js';
import type { ModelRegistry } from './models/registry.js';
import type { ProgressDisplay, ProgressStream } from './progress/display.js';

/** Where a command reads and writes: the process's streams, or a test's. */
export interface CliIo {
  /** Results: tables, or one JSON document with `--json`. */
  stdout: { write(text: string): unknown };
  /** Progress bars or lines, messages and errors. */
  stderr: ProgressStream;
  /** Whether stdout is a terminal (bars need both stdout and stderr to be terminals). */
  stdoutIsTTY: boolean;
  /** Working directory relative paths resolve against. */
  cwd: string;
  /** Environment variables (`GENREC_DEBUG=1` prints stack traces of internal errors). */
  env: Readonly<Record<string, string | undefined>>;
}

/** What every command receives. */
export interface CommandContext {
  io: CliIo;
  /** Model kinds. */
  registry: ModelRegistry;
  /** Progress display (stderr). */
  display: ProgressDisplay;
  /** `--json`: stdout gets one JSON document and nothing else. */
  json: boolean;
  /** Aborted by Ctrl-C: training stops at the next step and keeps its best model. */
  signal: AbortSignal;
  /** The command line, for run folders. */
  argv: readonly string[];
}

/** How a command ended. */
export interface CommandOutcome {
  /** The process exit code. */
  exitCode: ExitCode;
  /** The text printed to stdout without `--json`. */
  text?: string;
  /** The JSON document printed with `--json`. */
  json?: unknown;
  /** A one-line message for stderr (an outcome that is not a success but not an exception either). */
  error?: string;
}
