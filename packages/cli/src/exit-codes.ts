import { GenrecError, type GenrecErrorCode } from '@genrec/core';

/**
 * The exit codes of `genrec` (also in the README):
 *
 * | code | meaning |
 * |---|---|
 * | 0 | success (`reproduce`: every number matched; `serve`: shut down gracefully after Ctrl-C or SIGTERM) |
 * | 1 | an unexpected internal error (a bug: `GENREC_DEBUG=1` prints its stack trace) |
 * | 2 | usage or configuration: unknown command or flag, a config field unknown or of the wrong type, an unknown model kind, an option out of range (`serve`: a bad flag or `GENREC_SERVE_*` variable, an address it cannot listen on; `align`: a model kind without a preference hook) |
 * | 3 | input data: a data file missing, unreadable or malformed |
 * | 4 | an artifact (run folder, model folder, ids) missing, corrupt or of another format version (`serve`: a folder that cannot be loaded) |
 * | 5 | `reproduce`: the rerun's numbers differ from the run's |
 * | 130 | interrupted (Ctrl-C): training stopped cleanly, the best epoch's model was kept |
 */
export const EXIT_CODES = Object.freeze({
  ok: 0,
  internal: 1,
  usage: 2,
  data: 3,
  artifact: 4,
  mismatch: 5,
  interrupted: 130,
});

/** One of {@link EXIT_CODES}' values. */
export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

const BY_ERROR_CODE: Partial<Record<GenrecErrorCode, ExitCode>> = {
  INVALID_OPTION: EXIT_CODES.usage,
  UNSUPPORTED: EXIT_CODES.usage,
  INVALID_INPUT: EXIT_CODES.data,
  PARSE_ERROR: EXIT_CODES.data,
  NOT_FOUND: EXIT_CODES.data,
  IO_ERROR: EXIT_CODES.data,
  DUPLICATE_ID: EXIT_CODES.data,
  UNKNOWN_ID: EXIT_CODES.data,
  SHAPE_MISMATCH: EXIT_CODES.data,
  CORRUPT_ARTIFACT: EXIT_CODES.artifact,
  FORMAT_VERSION: EXIT_CODES.artifact,
};

/**
 * A `GenrecError` that carries the exit code it ends the command with (when the error code alone
 * does not say it: a missing run folder is an artifact problem, not a data one).
 */
export class CliError extends GenrecError {
  /** The exit code of the command. */
  readonly exitCode: ExitCode;

  constructor(exitCode: ExitCode, code: GenrecErrorCode, message: string, options: ConstructorParameters<typeof GenrecError>[2] = {}) {
    super(code, message, options);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/**
 * The exit code an error ends a command with: a {@link CliError}'s own, a `GenrecError`'s by its
 * code (`INVALID_OPTION` 2, data errors 3, artifact errors 4), 1 for anything else.
 *
 * @param error - what was thrown
 * @returns the exit code
 * @example
 * ```ts
 * exitCodeOf(new GenrecError('PARSE_ERROR', 'bad line')); // 3
 * ```
 */
export function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof CliError) return error.exitCode;
  if (GenrecError.isInstance(error)) return BY_ERROR_CODE[error.code] ?? EXIT_CODES.internal;
  return EXIT_CODES.internal;
}
