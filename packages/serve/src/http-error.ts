/**
 * The error codes of the service's 4xx/5xx answers (the `code` field of every error body).
 *
 * - `MALFORMED_JSON` 400: the body is not valid JSON (or carries `__proto__`/`constructor.prototype` keys).
 * - `EMPTY_BODY` 400: a JSON content type with an empty body.
 * - `INVALID_REQUEST` 400: the body, path or query does not match the route's schema, or `k` is above the model's `maxK`.
 * - `NOT_FOUND` 404: no such route, or no such item.
 * - `BODY_TOO_LARGE` 413: the body is larger than `maxBodyBytes`.
 * - `UNSUPPORTED_MEDIA_TYPE` 415: a body that is not `application/json`.
 * - `UNKNOWN_ITEMS` 422: item ids the model does not know, with `unknownItems: 'reject'` (the default).
 * - `NO_EXTERNAL_IDS` 422: external ids given to a model folder that has none.
 * - `NOT_READY` 503: the model is still loading.
 * - `OVERLOADED` 503: more users are waiting than `maxQueuedUsers`.
 * - `REQUEST_TIMEOUT` 503: no answer within `requestTimeoutMs`.
 * - `SHUTTING_DOWN` 503: the server is closing.
 * - `INTERNAL` 500: a failure of the model or the service itself (never bad input).
 */
export type ServeErrorCode =
  | 'MALFORMED_JSON'
  | 'EMPTY_BODY'
  | 'INVALID_REQUEST'
  | 'NOT_FOUND'
  | 'BODY_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'UNKNOWN_ITEMS'
  | 'NO_EXTERNAL_IDS'
  | 'NOT_READY'
  | 'OVERLOADED'
  | 'REQUEST_TIMEOUT'
  | 'SHUTTING_DOWN'
  | 'INTERNAL';

/** Every {@link ServeErrorCode} with its HTTP status. */
export const SERVE_ERROR_STATUS: Readonly<Record<ServeErrorCode, number>> = Object.freeze({
  MALFORMED_JSON: 400,
  EMPTY_BODY: 400,
  INVALID_REQUEST: 400,
  NOT_FOUND: 404,
  BODY_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNKNOWN_ITEMS: 422,
  NO_EXTERNAL_IDS: 422,
  NOT_READY: 503,
  OVERLOADED: 503,
  REQUEST_TIMEOUT: 503,
  SHUTTING_DOWN: 503,
  INTERNAL: 500,
});

/** One unknown item of a request (field, position in it, and the id as given). */
export interface UnknownItem {
  /** The request field: `history`, `externalHistory`, `exclude`, `externalExclude` (prefixed with `users[i].` on the batch route). */
  field: string;
  /** Position in that array (0-based). */
  index: number;
  /** The internal id given, for `history` / `exclude`. */
  id?: number;
  /** The external id given, for `externalHistory` / `externalExclude`. */
  externalId?: string;
}

/** The JSON body of every error answer. */
export interface ErrorBody {
  /** The HTTP status. */
  statusCode: number;
  /** What kind of failure (see {@link ServeErrorCode}). */
  code: ServeErrorCode;
  /** The HTTP reason phrase. */
  error: string;
  /** What was expected, what was found, and where. */
  message: string;
  /** The request field at fault (a JSON pointer such as `/users/3/history/2`, or a field name). */
  field?: string;
  /** The unknown items (`UNKNOWN_ITEMS`; at most 20 are listed). */
  unknownItems?: UnknownItem[];
}

/** An error the service answers with a given status and code (thrown inside handlers). */
export class HttpError extends Error {
  /** The HTTP status. */
  readonly statusCode: number;

  constructor(
    readonly code: ServeErrorCode,
    message: string,
    readonly extra: { field?: string; unknownItems?: UnknownItem[]; retryAfterSeconds?: number } = {},
  ) {
    super(message);
    this.name = 'HttpError';
    this.statusCode = SERVE_ERROR_STATUS[code];
  }
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** The error body of an {@link HttpError}. */
export function errorBody(error: HttpError): ErrorBody {
  const body: ErrorBody = { statusCode: error.statusCode, code: error.code, error: REASONS[error.statusCode] ?? 'Error', message: error.message };
  if (error.extra.field !== undefined) body.field = error.extra.field;
  if (error.extra.unknownItems !== undefined) body.unknownItems = error.extra.unknownItems;
  return body;
}
