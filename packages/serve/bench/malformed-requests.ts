/**
 * The malformed-request set: every kind of bad request the service must answer with a 4xx that
 * names the problem (never a 500, a crash or a hang). Used by `bench/load.ts` (sent while valid
 * load runs) and by `src/malformed.test.ts` (in CI). Requests go to 127.0.0.1 only.
 */
import { request } from 'node:http';
import { connect } from 'node:net';

/** One malformed request. */
export interface MalformedCase {
  name: string;
  method: string;
  path: string;
  /** The raw body (a string or bytes). */
  body?: string | Buffer;
  /** Content type header (omitted when undefined). @defaultValue application/json when a body is given */
  contentType?: string | null;
  /** Extra headers. */
  headers?: Record<string, string>;
  /** Bytes written on a raw socket instead (for requests a client library will not send). */
  raw?: string;
  /** The status expected. */
  status: number;
  /** The error code expected in the JSON body (undefined for answers of Node's HTTP parser). */
  code?: string;
}

/** What a malformed request got. */
export interface MalformedAnswer {
  status: number;
  code?: string;
  message?: string;
  milliseconds: number;
}

const json = (value: unknown) => JSON.stringify(value);
/** An id far above any catalogue yet valid in the schema (int32). */
const UNKNOWN_ID = 2_147_483_647;

/**
 * The set (44 kinds). `maxHistoryLength`, `maxBatchUsers` and `maxBodyBytes` are the server's
 * limits (defaults 1000, 256, 1 MiB).
 */
export function malformedCases(limits: { maxHistoryLength: number; maxBatchUsers: number; maxBodyBytes: number } = { maxHistoryLength: 1000, maxBatchUsers: 256, maxBodyBytes: 1_048_576 }): MalformedCase[] {
  const post = (name: string, body: string | Buffer, status: number, code: string, extra: Partial<MalformedCase> = {}): MalformedCase => ({ name, method: 'POST', path: '/v1/recommend', body, status, code, ...extra });
  const batch = (name: string, body: string, status: number, code: string): MalformedCase => ({ name, method: 'POST', path: '/v1/recommend/batch', body, status, code });
  return [
    post('truncated JSON', '{"history": [1, 2', 400, 'MALFORMED_JSON'),
    post('trailing comma', '{"history": [1, 2,]}', 400, 'MALFORMED_JSON'),
    post('single quotes', "{'history': [1]}", 400, 'MALFORMED_JSON'),
    post('NaN literal', '{"history": [NaN]}', 400, 'MALFORMED_JSON'),
    post('deeply nested arrays', '['.repeat(Math.floor(limits.maxBodyBytes / 2) - 16) + ']'.repeat(Math.floor(limits.maxBodyBytes / 2) - 16), 400, 'INVALID_REQUEST'),
    post('empty body', '', 400, 'EMPTY_BODY'),
    post('text/plain body', 'history=1,2,3', 415, 'UNSUPPORTED_MEDIA_TYPE', { contentType: 'text/plain' }),
    post('form-encoded body', 'history=1&k=10', 415, 'UNSUPPORTED_MEDIA_TYPE', { contentType: 'application/x-www-form-urlencoded' }),
    post('body without a content type', json({ history: [1] }), 415, 'UNSUPPORTED_MEDIA_TYPE', { contentType: null }),
    post('JSON array', json([1, 2, 3]), 400, 'INVALID_REQUEST'),
    post('JSON string', json('history'), 400, 'INVALID_REQUEST'),
    post('JSON null', 'null', 400, 'INVALID_REQUEST'),
    post('neither history field', json({ k: 10 }), 400, 'INVALID_REQUEST'),
    post('both history fields', json({ history: [1], externalHistory: ['a'] }), 400, 'INVALID_REQUEST'),
    post('history as a string', json({ history: '1,2,3' }), 400, 'INVALID_REQUEST'),
    post('history as an object', json({ history: { 0: 1 } }), 400, 'INVALID_REQUEST'),
    post('fractional id', json({ history: [1.5] }), 400, 'INVALID_REQUEST'),
    post('id as a string', json({ history: ['12'] }), 400, 'INVALID_REQUEST'),
    post('id 0', json({ history: [0] }), 400, 'INVALID_REQUEST'),
    post('negative id', json({ history: [-7] }), 400, 'INVALID_REQUEST'),
    post('id above int32', json({ history: [2 ** 31] }), 400, 'INVALID_REQUEST'),
    post('null id', json({ history: [null] }), 400, 'INVALID_REQUEST'),
    post('history too long', json({ history: Array.from({ length: limits.maxHistoryLength + 1 }, () => 1) }), 400, 'INVALID_REQUEST'),
    post('k as a string', json({ history: [1], k: '10' }), 400, 'INVALID_REQUEST'),
    post('k = 0', json({ history: [1], k: 0 }), 400, 'INVALID_REQUEST'),
    post('k negative', json({ history: [1], k: -5 }), 400, 'INVALID_REQUEST'),
    post('k huge', json({ history: [1], k: 1e9 }), 400, 'INVALID_REQUEST'),
    post('k fractional', json({ history: [1], k: 2.5 }), 400, 'INVALID_REQUEST'),
    post('excludeHistory as a string', json({ history: [1], excludeHistory: 'no' }), 400, 'INVALID_REQUEST'),
    post('unknown policy', json({ history: [1], unknownItems: 'ignore' }), 400, 'INVALID_REQUEST'),
    post('unknown field', json({ history: [1], userId: 42 }), 400, 'INVALID_REQUEST'),
    post('__proto__ key', '{"history": [1], "__proto__": {"admin": true}}', 400, 'INVALID_REQUEST'),
    post('constructor.prototype key', '{"history": [1], "constructor": {"prototype": {"admin": true}}}', 400, 'INVALID_REQUEST'),
    post('empty external id', json({ externalHistory: [''] }), 400, 'INVALID_REQUEST'),
    post('external id too long', json({ externalHistory: ['x'.repeat(257)] }), 400, 'INVALID_REQUEST'),
    post('exclude not an array', json({ history: [1], exclude: 5 }), 400, 'INVALID_REQUEST'),
    post('unknown item id', json({ history: [1, UNKNOWN_ID] }), 422, 'UNKNOWN_ITEMS'),
    post('body over the limit', json({ history: [1], pad: 'x'.repeat(limits.maxBodyBytes) }), 413, 'BODY_TOO_LARGE'),
    batch('batch without users', json({ k: 5 }), 400, 'INVALID_REQUEST'),
    batch('batch with no users', json({ users: [] }), 400, 'INVALID_REQUEST'),
    batch('batch users not an array', json({ users: { history: [1] } }), 400, 'INVALID_REQUEST'),
    batch('batch over maxBatchUsers', json({ users: Array.from({ length: limits.maxBatchUsers + 1 }, () => ({ history: [1] })) }), 400, 'INVALID_REQUEST'),
    batch('batch with one bad user', json({ users: [{ history: [1] }, { history: ['x'] }] }), 400, 'INVALID_REQUEST'),
    batch('batch with one unknown id', json({ users: [{ history: [1] }, { history: [UNKNOWN_ID] }] }), 422, 'UNKNOWN_ITEMS'),
    { name: 'item id not a number', method: 'GET', path: '/v1/items/abc', status: 400, code: 'INVALID_REQUEST' },
    { name: 'item id 0', method: 'GET', path: '/v1/items/0', status: 400, code: 'INVALID_REQUEST' },
    { name: 'item id beyond the catalogue', method: 'GET', path: `/v1/items/${UNKNOWN_ID}`, status: 404, code: 'NOT_FOUND' },
    { name: 'external id lookup without the parameter', method: 'GET', path: '/v1/items', status: 400, code: 'INVALID_REQUEST' },
    { name: 'unknown route', method: 'GET', path: '/v1/recommendations', status: 404, code: 'NOT_FOUND' },
    { name: 'wrong method', method: 'PUT', path: '/v1/recommend', body: json({ history: [1] }), status: 404, code: 'NOT_FOUND' },
    { name: 'garbage request line', method: 'RAW', path: '', raw: 'HELLO /v1/recommend HTTP/9.9\r\n\r\n', status: 400 },
    { name: 'header block too large', method: 'RAW', path: '', raw: `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, status: 431 },
  ];
}

function assertLoopback(address: string): URL {
  const url = new URL(address);
  if (url.hostname !== '127.0.0.1') throw new Error(`malformed requests go to 127.0.0.1 only, not ${url.hostname}`);
  return url;
}

/**
 * Sends one malformed request to a server on 127.0.0.1 and reads its answer (status, error code
 * and message of a JSON error body).
 *
 * @throws Error for another address, or when no answer comes within `timeoutMs`.
 */
export function sendMalformed(address: string, item: MalformedCase, timeoutMs = 10_000): Promise<MalformedAnswer> {
  const url = assertLoopback(address);
  const started = performance.now();
  if (item.raw !== undefined) {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: Number(url.port) });
      let received = '';
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`${item.name}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.on('data', (chunk) => (received += chunk.toString('latin1')));
      socket.on('error', () => {}); // the server may reset after answering
      socket.on('close', () => {
        clearTimeout(timer);
        const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(received)?.[1] ?? 0);
        resolve({ status, milliseconds: performance.now() - started });
      });
      socket.write(item.raw!);
    });
  }
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...item.headers };
    const body = item.body === undefined ? undefined : Buffer.isBuffer(item.body) ? item.body : Buffer.from(item.body);
    if (body !== undefined) {
      if (item.contentType !== null) headers['content-type'] = item.contentType ?? 'application/json';
      headers['content-length'] = body.length;
    }
    const outgoing = request({ host: '127.0.0.1', port: Number(url.port), method: item.method, path: item.path, headers, agent: false, timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: { code?: string; message?: string } = {};
        try {
          parsed = JSON.parse(text) as typeof parsed;
        } catch {
          // not JSON (Node's own 4xx answers)
        }
        const answer: MalformedAnswer = { status: response.statusCode ?? 0, milliseconds: performance.now() - started };
        if (parsed.code !== undefined) answer.code = parsed.code;
        if (parsed.message !== undefined) answer.message = parsed.message;
        resolve(answer);
      });
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error(`${item.name}: no answer within ${timeoutMs} ms`)));
    outgoing.on('error', (error) => {
      // a server may answer 413 and close before the whole body is written: keep what was answered
      reject(error);
    });
    if (body !== undefined) outgoing.end(body);
    else outgoing.end();
  });
}
