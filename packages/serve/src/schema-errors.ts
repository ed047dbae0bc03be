import { HttpError } from './http-error.js';

/** The fields of an ajv error the messages use (ajv runs with `verbose: true`, so `data` is there). */
export interface SchemaValidationError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
  data?: unknown;
  parentSchema?: Record<string, unknown>;
}

function found(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

const ARTICLES: Record<string, string> = { integer: 'an integer', object: 'an object', array: 'an array', string: 'a string', number: 'a number', boolean: 'true or false', null: 'null' };

/**
 * Turns ajv's first error into one sentence that says where, what was expected and what was
 * found (`/k must be ≤ 100, got 1000`), and the JSON pointer of the field at fault.
 *
 * @param errors - ajv's errors (fastify passes them to `schemaErrorFormatter`).
 * @param dataVar - what was validated: `body`, `params`, `querystring`, `headers`.
 * @returns an `INVALID_REQUEST` error (400).
 */
export function schemaError(errors: readonly SchemaValidationError[], dataVar: string): HttpError {
  const part = dataVar === 'querystring' ? 'query' : dataVar === 'params' ? 'path' : dataVar;
  // "exactly one of history / externalHistory" fails as oneOf (after its branches' `required` errors)
  const oneOf = errors.find((e) => e.keyword === 'oneOf');
  if (oneOf !== undefined && (typeof oneOf.data !== 'object' || oneOf.data === null || Array.isArray(oneOf.data))) {
    // not an object at all: `required` holds vacuously in both branches
    const where = oneOf.instancePath === '' ? `the ${part}` : oneOf.instancePath;
    if (oneOf.instancePath === '' && (oneOf.data === undefined || oneOf.data === null)) {
      return new HttpError('INVALID_REQUEST', `the request has no JSON object body (found ${found(oneOf.data)}); send one with Content-Type: application/json`, { field: '/' });
    }
    return new HttpError('INVALID_REQUEST', `${where} must be an object, got ${found(oneOf.data)}`, { field: oneOf.instancePath === '' ? '/' : oneOf.instancePath });
  }
  if (oneOf !== undefined) {
    const data = oneOf.data as Record<string, unknown> | undefined;
    const both = data !== undefined && data !== null && typeof data === 'object' && 'history' in data && 'externalHistory' in data;
    const where = oneOf.instancePath === '' ? `the ${part}` : oneOf.instancePath;
    return new HttpError('INVALID_REQUEST', `${where} must give exactly one of "history" (internal item ids) or "externalHistory" (external ids), ${both ? 'not both' : 'found neither'}`, {
      field: oneOf.instancePath === '' ? '/' : oneOf.instancePath,
    });
  }
  const error = errors[0];
  if (error === undefined) return new HttpError('INVALID_REQUEST', `the ${part} is invalid`);
  const path = error.instancePath;
  const where = path === '' ? `the ${part}` : dataVar === 'body' ? path : `${part} parameter ${path.slice(1)}`;
  const params = error.params;
  const got = `, got ${found(error.data)}`;
  let field = path === '' ? '/' : path;
  let message: string;
  switch (error.keyword) {
    case 'type': {
      const type = String(params.type);
      if (path === '' && (error.data === undefined || error.data === null)) message = `the request has no JSON object body (found ${found(error.data)}); send one with Content-Type: application/json`;
      else message = `${where} must be ${type.split(',').map((t) => ARTICLES[t] ?? t).join(' or ')}${got}`;
      break;
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      message = `${where} must be ${String(params.comparison).replace('<=', '≤').replace('>=', '≥')} ${String(params.limit)}${got}`;
      break;
    case 'maxItems':
      message = `${where} holds ${Array.isArray(error.data) ? error.data.length : 'too many'} entries; at most ${String(params.limit)} are allowed`;
      break;
    case 'minItems':
      message = `${where} needs at least ${String(params.limit)} entr${params.limit === 1 ? 'y' : 'ies'}${got}`;
      break;
    case 'maxLength':
    case 'minLength':
      message = `${where} must be ${error.keyword === 'maxLength' ? 'at most' : 'at least'} ${String(params.limit)} characters long${got}`;
      break;
    case 'required':
      field = `${path}/${String(params.missingProperty)}`;
      message = `${where} is missing the required field "${String(params.missingProperty)}"`;
      break;
    case 'additionalProperties': {
      field = `${path}/${String(params.additionalProperty)}`;
      const allowed = Object.keys((error.parentSchema?.properties as Record<string, unknown> | undefined) ?? {});
      message = `${where} has an unknown field "${String(params.additionalProperty)}"${allowed.length > 0 ? ` (allowed: ${allowed.join(', ')})` : ''}`;
      break;
    }
    case 'enum':
      message = `${where} must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}${got}`;
      break;
    case 'pattern':
      message = part === 'path' ? `${where} must be a positive integer item id${got}` : `${where} must match ${String(params.pattern)}${got}`;
      break;
    default:
      message = `${where} ${error.message ?? 'is invalid'}${got}`;
  }
  return new HttpError('INVALID_REQUEST', message, { field });
}
