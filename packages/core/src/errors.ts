/**
 * The error codes every genrec package uses. A code says what kind of failure it was;
 * the message says what was expected, what was found and where.
 */
export type GenrecErrorCode =
  /** An argument or a value in the data is not acceptable (NaN, out of range, unknown id…). */
  | 'INVALID_INPUT'
  /** An option passed by the user is not acceptable. */
  | 'INVALID_OPTION'
  /** Two shapes that must agree do not. */
  | 'SHAPE_MISMATCH'
  /** A dtype is not the one required. */
  | 'DTYPE_MISMATCH'
  /** A file could not be parsed; `details.file` and `details.line` say where. */
  | 'PARSE_ERROR'
  /** An artifact was written with another format version or for another kind of object. */
  | 'FORMAT_VERSION'
  /** An artifact is truncated, its checksum does not match, or its parts disagree. */
  | 'CORRUPT_ARTIFACT'
  /** A model or tokenizer is used before it was fitted. */
  | 'NOT_FITTED'
  /** An id to add is already present (and replacing was not asked for). */
  | 'DUPLICATE_ID'
  /** An id is not known to the object it was given to. */
  | 'UNKNOWN_ID'
  /** A file or folder does not exist. */
  | 'NOT_FOUND'
  /** Reading or writing a file failed. */
  | 'IO_ERROR'
  /** The compute runtime (onnxruntime) failed. */
  | 'RUNTIME_ERROR'
  /** The request is valid but not supported by this implementation. */
  | 'UNSUPPORTED';

/** Where an error happened, when that is known: a file and line for data, an option name, an op. */
export interface GenrecErrorDetails {
  /** Path of the file being read or written. */
  file?: string;
  /** 1-based line number in `file`. */
  line?: number;
  /** Name of the option, argument or field at fault. */
  field?: string;
  /** Any other machine-readable facts (shapes, ids, versions). */
  [key: string]: unknown;
}

const MARKER = Symbol.for('genrec.error');

/** Options of the {@link GenrecError} constructor. */
export interface GenrecErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
  /** Where it happened. */
  details?: GenrecErrorDetails;
}

/**
 * The one error class of genrec. Every failure that is the caller's or the data's fault is a
 * `GenrecError` with a {@link GenrecErrorCode}, so callers can branch on `code` instead of parsing
 * messages.
 *
 * @example
 * ```ts
 * try { readSequenceFile('x.txt'); }
 * catch (error) { if (GenrecError.isInstance(error) && error.code === 'PARSE_ERROR') console.log(error.details.line); }
 * ```
 */
export class GenrecError extends Error {
  /** What kind of failure this is. */
  readonly code: GenrecErrorCode;
  /** Where it happened (file and line for data). */
  readonly details: GenrecErrorDetails;
  private readonly [MARKER] = true;

  constructor(code: GenrecErrorCode, message: string, options: GenrecErrorOptions = {}) {
    const where = locationSuffix(options.details);
    super(where ? `${message} (${where})` : message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GenrecError';
    this.code = code;
    this.details = options.details ?? {};
  }

  /**
   * True when `value` is a GenrecError, also when it was created by another copy of this package
   * (a duplicated dependency), where `instanceof` would say false.
   */
  static isInstance(value: unknown): value is GenrecError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
  }
}

function locationSuffix(details: GenrecErrorDetails | undefined): string {
  if (!details) return '';
  const parts: string[] = [];
  if (details.file !== undefined) parts.push(details.line !== undefined ? `${details.file}:${details.line}` : details.file);
  else if (details.line !== undefined) parts.push(`line ${details.line}`);
  if (details.field !== undefined) parts.push(`field "${details.field}"`);
  return parts.join(', ');
}

/**
 * Throws a GenrecError with `code` and `message` unless `condition` holds. The message may be a
 * function so hot paths build no string unless the check fails.
 */
export function ensure(
  condition: unknown,
  code: GenrecErrorCode,
  message: string | (() => string),
  details?: GenrecErrorDetails,
): asserts condition {
  if (!condition) {
    throw new GenrecError(code, typeof message === 'function' ? message() : message, details ? { details } : {});
  }
}
