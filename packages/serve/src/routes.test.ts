import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GenrecError, type Recommender } from '@genrec/core';
import { loadRecommender } from '@genrec/models';
import { createServer, type GenrecServer } from './index.js';
import { baselineFixture, externalIdOf, type Fixture } from './test-fixtures.js';

let fixture: Fixture;
let server: GenrecServer;
let reference: Recommender; // the same folder loaded directly: the golden answers
let version: string;

beforeAll(async () => {
  fixture = await baselineFixture();
  server = await createServer({ modelDir: fixture.markovDir, logLevel: 'silent', maxBatchSize: 8, maxWaitMs: 1, maxHistoryLength: 60, maxBatchUsers: 4, maxBodyBytes: 4096 });
  reference = await loadRecommender(fixture.markovDir);
  version = readFileSync(join(fixture.markovDir, 'CURRENT'), 'utf8').trim();
});
afterAll(async () => {
  await server?.close();
  fixture?.cleanup();
});

const inject = (method: 'GET' | 'POST', url: string, payload?: unknown, headers?: Record<string, string>) =>
  server.app.inject({ method, url, ...(payload === undefined ? {} : { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }), headers: { 'content-type': 'application/json', ...headers } });

const titleOf = (id: number) => (JSON.parse(readFileSync(join(fixture.markovDir, version, 'items.json'), 'utf8')) as { title?: string }[])[id - 1]?.title;

describe('routes', () => {
  it('POST /v1/recommend answers what the model answers, with external ids, titles, kind and version', async () => {
    for (const history of fixture.histories.slice(0, 8)) {
      const response = await inject('POST', '/v1/recommend', { history, k: 7 });
      expect(response.statusCode).toBe(200);
      const body = response.json();
      const expected = await reference.recommend([history], { k: 7 });
      expect(body.model).toEqual({ kind: 'markov', version, scoreScale: 'log-probability' });
      expect(body.k).toBe(7);
      expect(body.items.map((item: { id: number }) => item.id)).toEqual(Array.from(expected.items.subarray(0, expected.lengths[0])));
      body.items.forEach((item: { id: number; score: number; externalId: string; title: string }, i: number) => {
        expect(item.score).toBeCloseTo(expected.scores[i]!, 6);
        expect(item.externalId).toBe(externalIdOf(item.id));
        expect(item.title).toBe(titleOf(item.id));
      });
    }
  });

  it('externalHistory, exclude, externalExclude and excludeHistory: false match the model called with the same ids', async () => {
    const history = fixture.histories[3]!;
    const viaExternal = (await inject('POST', '/v1/recommend', { externalHistory: history.map(externalIdOf), k: 10 })).json();
    const viaInternal = (await inject('POST', '/v1/recommend', { history, k: 10 })).json();
    expect(viaExternal.items).toEqual(viaInternal.items);
    const excluded = viaInternal.items.slice(0, 3).map((item: { id: number }) => item.id);
    const withExclusions = (await inject('POST', '/v1/recommend', { history, k: 10, exclude: [excluded[0]], externalExclude: excluded.slice(1).map(externalIdOf) })).json();
    const expected = await reference.recommend([history], { k: 10, exclude: [excluded] });
    expect(withExclusions.items.map((item: { id: number }) => item.id)).toEqual(Array.from(expected.items));
    const keepHistory = (await inject('POST', '/v1/recommend', { history, k: 10, excludeHistory: false })).json();
    const expectedKeep = await reference.recommend([history], { k: 10, excludeHistory: false });
    expect(keepHistory.items.map((item: { id: number }) => item.id)).toEqual(Array.from(expectedKeep.items));
  });

  it('an empty history gets the model fallback; k defaults to 10', async () => {
    const body = (await inject('POST', '/v1/recommend', { history: [] })).json();
    const expected = await reference.recommend([[]], { k: 10 });
    expect(body.k).toBe(10);
    expect(body.items.map((item: { id: number }) => item.id)).toEqual(Array.from(expected.items));
  });

  it('POST /v1/recommend/batch answers each user as the single route does', async () => {
    const users = fixture.histories.slice(10, 14);
    const body = (await inject('POST', '/v1/recommend/batch', { users: users.map((history, u) => (u % 2 ? { externalHistory: history.map(externalIdOf) } : { history })), k: 5 })).json();
    expect(body.results).toHaveLength(4);
    for (const [u, history] of users.entries()) {
      const single = (await inject('POST', '/v1/recommend', { history, k: 5 })).json();
      expect(body.results[u].items).toEqual(single.items);
    }
  });

  it('GET /v1/items/{id} and /v1/items?externalId= describe an item; /v1/model the model', async () => {
    const item = (await inject('GET', '/v1/items/42')).json();
    expect(item).toEqual({ id: 42, externalId: 'item-42', title: titleOf(42), retired: false, model: { kind: 'markov', version, scoreScale: 'log-probability' } });
    expect((await inject('GET', '/v1/items?externalId=item-42')).json()).toEqual(item);
    const model = (await inject('GET', '/v1/model')).json();
    expect(model).toMatchObject({ kind: 'markov', version, itemCount: fixture.split.train.itemCount, maxK: reference.maxK, externalIds: true, titles: true, retiredItems: 0 });
    expect(model.modelDir).toBeUndefined();
  });

  it('/healthz, /readyz, /openapi.json and /metrics', async () => {
    expect((await inject('GET', '/healthz')).json()).toEqual({ status: 'ok' });
    expect((await inject('GET', '/readyz')).json()).toEqual({ status: 'ready', model: { kind: 'markov', version, scoreScale: 'log-probability' } });
    expect((await inject('GET', '/openapi.json')).json()).toEqual(JSON.parse(JSON.stringify(server.openApi())));
    const before = server.metricsText();
    const count = (text: string, series: string) => Number(text.split('\n').find((line) => line.startsWith(series + ' '))?.split(' ')[1] ?? 0);
    const series = 'genrec_http_requests_total{method="POST",route="/v1/recommend",status="200"}';
    for (let i = 0; i < 3; i++) await inject('POST', '/v1/recommend', { history: [1, 2] });
    await inject('POST', '/v1/recommend', { history: [1.5] });
    const response = await inject('GET', '/metrics');
    expect(response.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = response.body;
    expect(count(text, series) - count(before, series)).toBe(3);
    expect(count(text, 'genrec_http_requests_total{method="POST",route="/v1/recommend",status="400"}') - count(before, 'genrec_http_requests_total{method="POST",route="/v1/recommend",status="400"}')).toBe(1);
    for (const name of [
      'genrec_http_request_duration_seconds_bucket',
      'genrec_batch_size_bucket',
      'genrec_batch_duration_seconds_count',
      'genrec_queue_depth',
      'genrec_batches_in_flight',
      'genrec_event_loop_delay_max_seconds',
      'genrec_gc_pause_max_seconds',
      'genrec_model_ready 1',
      `genrec_model_info{kind="markov",score_scale="log-probability",version="${version}"} 1`,
      'process_resident_memory_bytes',
      'process_cpu_seconds_total',
    ]) {
      expect(text, name).toContain(name);
    }
  });
});

interface Case {
  name: string;
  method?: 'GET' | 'POST';
  url?: string;
  payload?: unknown;
  headers?: Record<string, string>;
  status: number;
  code: string;
  message: RegExp;
  field?: string;
}

const CASES: Case[] = [
  { name: 'malformed JSON', payload: '{"history": [1, 2', status: 400, code: 'MALFORMED_JSON', message: /not valid JSON/ },
  { name: 'empty body', payload: '', status: 400, code: 'EMPTY_BODY', message: /empty/ },
  { name: 'an empty content type', payload: '{}', headers: { 'content-type': '' }, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: /application\/json/ },
  { name: 'a JSON string body', payload: '"history"', status: 400, code: 'INVALID_REQUEST', message: /the body must be an object, got "history"/ },
  { name: 'a JSON array body', payload: [1, 2], status: 400, code: 'INVALID_REQUEST', message: /the body must be an object, got an array of 2/ },
  { name: 'a text body', payload: 'history=1', headers: { 'content-type': 'text/plain' }, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: /application\/json/ },
  { name: 'a body over maxBodyBytes', payload: `{"history": [1]${' '.repeat(5000)}}`, status: 413, code: 'BODY_TOO_LARGE', message: /larger than 4096 bytes/ },
  { name: 'neither history field', payload: { k: 3 }, status: 400, code: 'INVALID_REQUEST', message: /exactly one of "history".*found neither/, field: '/' },
  { name: 'both history fields', payload: { history: [1], externalHistory: ['item-1'] }, status: 400, code: 'INVALID_REQUEST', message: /not both/ },
  { name: 'history as a string', payload: { history: '1,2,3' }, status: 400, code: 'INVALID_REQUEST', message: /\/history must be an array, got "1,2,3"/, field: '/history' },
  { name: 'a fractional id', payload: { history: [1, 2.5] }, status: 400, code: 'INVALID_REQUEST', message: /\/history\/1 must be an integer, got 2.5/, field: '/history/1' },
  { name: 'a string id', payload: { history: ['7'] }, status: 400, code: 'INVALID_REQUEST', message: /\/history\/0 must be an integer, got "7"/ },
  { name: 'id 0', payload: { history: [0] }, status: 400, code: 'INVALID_REQUEST', message: /\/history\/0 must be ≥ 1, got 0/ },
  { name: 'a negative id', payload: { history: [-3] }, status: 400, code: 'INVALID_REQUEST', message: /must be ≥ 1, got -3/ },
  { name: 'an id beyond int32', payload: { history: [2 ** 40] }, status: 400, code: 'INVALID_REQUEST', message: /must be ≤ 2147483647/ },
  { name: 'null in history', payload: { history: [null] }, status: 400, code: 'INVALID_REQUEST', message: /must be an integer, got null/ },
  { name: 'a history over maxHistoryLength', payload: { history: Array.from({ length: 61 }, () => 1) }, status: 400, code: 'INVALID_REQUEST', message: /\/history holds 61 entries; at most 60/ },
  { name: 'k as a string', payload: { history: [1], k: '10' }, status: 400, code: 'INVALID_REQUEST', message: /\/k must be an integer, got "10"/, field: '/k' },
  { name: 'k = 0', payload: { history: [1], k: 0 }, status: 400, code: 'INVALID_REQUEST', message: /\/k must be ≥ 1, got 0/ },
  { name: 'k above the server cap', payload: { history: [1], k: 101 }, status: 400, code: 'INVALID_REQUEST', message: /\/k must be ≤ 100, got 101/ },
  { name: 'k fractional', payload: { history: [1], k: 2.5 }, status: 400, code: 'INVALID_REQUEST', message: /\/k must be an integer/ },
  { name: 'excludeHistory not boolean', payload: { history: [1], excludeHistory: 'yes' }, status: 400, code: 'INVALID_REQUEST', message: /\/excludeHistory must be true or false, got "yes"/ },
  { name: 'an unknown policy', payload: { history: [1], unknownItems: 'ignore' }, status: 400, code: 'INVALID_REQUEST', message: /\/unknownItems must be one of "reject", "drop", got "ignore"/ },
  { name: 'an unknown field', payload: { history: [1], user: 7 }, status: 400, code: 'INVALID_REQUEST', message: /unknown field "user" \(allowed: history/, field: '/user' },
  { name: 'a __proto__ key', payload: '{"history":[1],"__proto__":{"polluted":true}}', status: 400, code: 'INVALID_REQUEST', message: /unknown field "__proto__"/ },
  { name: 'an empty external id', payload: { externalHistory: [''] }, status: 400, code: 'INVALID_REQUEST', message: /\/externalHistory\/0 must be at least 1 characters long/ },
  { name: 'exclude with a string', payload: { history: [1], exclude: ['x'] }, status: 400, code: 'INVALID_REQUEST', message: /\/exclude\/0 must be an integer/ },
  { name: 'unknown internal ids (reject)', payload: { history: [1, 2001, 5, 99_999] }, status: 422, code: 'UNKNOWN_ITEMS', message: /2 item ids are not in this model's catalogue \(internal ids 1\.\.2000\): \/history\/1 = 2001, \/history\/3 = 99999/, field: '/history/1' },
  { name: 'unknown external ids (reject)', payload: { externalHistory: ['item-1', 'nope'] }, status: 422, code: 'UNKNOWN_ITEMS', message: /\/externalHistory\/1 = "nope"/ },
  { name: 'an unknown excluded id (reject)', payload: { history: [1], exclude: [5000] }, status: 422, code: 'UNKNOWN_ITEMS', message: /\/exclude\/0 = 5000/ },
  { name: 'batch: no users', url: '/v1/recommend/batch', payload: { users: [] }, status: 400, code: 'INVALID_REQUEST', message: /\/users needs at least 1 entry/ },
  { name: 'batch: users missing', url: '/v1/recommend/batch', payload: { k: 3 }, status: 400, code: 'INVALID_REQUEST', message: /missing the required field "users"/, field: '/users' },
  { name: 'batch: too many users', url: '/v1/recommend/batch', payload: { users: Array.from({ length: 5 }, () => ({ history: [1] })) }, status: 400, code: 'INVALID_REQUEST', message: /\/users holds 5 entries; at most 4/ },
  { name: 'batch: one bad user named', url: '/v1/recommend/batch', payload: { users: [{ history: [1] }, { history: [1, 'x'] }] }, status: 400, code: 'INVALID_REQUEST', message: /\/users\/1\/history\/1 must be an integer/, field: '/users/1/history/1' },
  { name: 'batch: one unknown id named', url: '/v1/recommend/batch', payload: { users: [{ history: [1] }, { history: [3000] }] }, status: 422, code: 'UNKNOWN_ITEMS', message: /\/users\/1\/history\/0 = 3000/ },
  { name: 'batch: a user with both fields', url: '/v1/recommend/batch', payload: { users: [{ history: [1], externalHistory: [] }] }, status: 400, code: 'INVALID_REQUEST', message: /\/users\/0 must give exactly one of/ },
  { name: 'item id not a number', method: 'GET', url: '/v1/items/abc', status: 400, code: 'INVALID_REQUEST', message: /path parameter id must be a positive integer item id, got "abc"/ },
  { name: 'item id beyond the catalogue', method: 'GET', url: '/v1/items/2001', status: 404, code: 'NOT_FOUND', message: /item 2001 does not exist: this model's ids are 1\.\.2000/ },
  { name: 'unknown external id lookup', method: 'GET', url: '/v1/items?externalId=zzz', status: 404, code: 'NOT_FOUND', message: /no item has the external id "zzz"/ },
  { name: 'external id lookup without the parameter', method: 'GET', url: '/v1/items', status: 400, code: 'INVALID_REQUEST', message: /missing the required field "externalId"/ },
  { name: 'an unknown route', method: 'GET', url: '/v2/recommend', status: 404, code: 'NOT_FOUND', message: /no route GET \/v2\/recommend/ },
  { name: 'a wrong method', method: 'GET', url: '/v1/recommend', status: 404, code: 'NOT_FOUND', message: /no route GET \/v1\/recommend/ },
];

describe('validation: every bad request is a 4xx naming the problem, and never reaches the model', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const batches = (text: string) => Number(/^genrec_batch_size_count (\d+)/m.exec(text)?.[1] ?? 0);
      const before = batches(server.metricsText());
      const response = await inject(c.method ?? 'POST', c.url ?? '/v1/recommend', c.method === 'GET' ? undefined : c.payload, c.headers);
      expect(response.statusCode, response.body).toBe(c.status);
      const body = response.json();
      expect(body.code).toBe(c.code);
      expect(body.statusCode).toBe(c.status);
      expect(body.message).toMatch(c.message);
      if (c.field !== undefined) expect(body.field).toBe(c.field);
      expect(batches(server.metricsText())).toBe(before);
    });
  }

  it('a POST without a body or content type', async () => {
    const response = await server.app.inject({ method: 'POST', url: '/v1/recommend' });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'INVALID_REQUEST', message: 'the request has no JSON object body (found null); send one with Content-Type: application/json' });
  });

  it('k above the model maxK (with a server cap above it) is refused, not clamped', async () => {
    const wide = await createServer({ modelDir: fixture.markovDir, logLevel: 'silent', maxK: 5000, warmup: false });
    try {
      const response = await wide.app.inject({ method: 'POST', url: '/v1/recommend', payload: { history: [1], k: 2001 } });
      expect(response.statusCode).toBe(400);
      expect(response.json().message).toBe('/k must be ≤ 2000, the largest k this model answers (its maxK), got 2001');
    } finally {
      await wide.close();
    }
  });

  it("policy 'drop' leaves unknown ids out and says so; the answer equals the known ids' answer", async () => {
    const response = await inject('POST', '/v1/recommend', { history: [4, 2500, 9], externalExclude: ['ghost'], unknownItems: 'drop', k: 5 });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.warnings).toEqual([
      {
        code: 'UNKNOWN_ITEMS_DROPPED',
        message: '2 unknown item ids were left out: /history/1 = 2500, /externalExclude/0 = "ghost"',
        unknownItems: [
          { field: '/history', index: 1, id: 2500 },
          { field: '/externalExclude', index: 0, externalId: 'ghost' },
        ],
      },
    ]);
    expect(body.items).toEqual((await inject('POST', '/v1/recommend', { history: [4, 9], k: 5 })).json().items);
    // the server-wide policy
    const dropping = await createServer({ modelDir: fixture.markovDir, logLevel: 'silent', unknownItems: 'drop', warmup: false });
    try {
      const answer = (await dropping.app.inject({ method: 'POST', url: '/v1/recommend', payload: { history: [4, 2500, 9], k: 5 } })).json();
      expect(answer.items).toEqual(body.items);
      expect(answer.warnings[0].unknownItems).toEqual([{ field: '/history', index: 1, id: 2500 }]);
      expect(dropping.metricsText()).toContain('genrec_unknown_items_total{policy="drop"} 1');
    } finally {
      await dropping.close();
    }
  });

  it('external ids sent to a folder without them: 422 NO_EXTERNAL_IDS', async () => {
    const plain = await createServer({ modelDir: fixture.popularityDir, logLevel: 'silent', warmup: false });
    try {
      const response = await plain.app.inject({ method: 'POST', url: '/v1/recommend', payload: { externalHistory: ['item-1'] } });
      expect(response.statusCode).toBe(422);
      expect(response.json()).toMatchObject({ code: 'NO_EXTERNAL_IDS', field: '/externalHistory' });
      expect(response.json().message).toMatch(/has no external item ids; send internal ids in history/);
      const lookup = await plain.app.inject({ method: 'GET', url: '/v1/items?externalId=item-1' });
      expect(lookup.statusCode).toBe(422);
      // titles still come from items.json
      const item = (await plain.app.inject({ method: 'GET', url: '/v1/items/3' })).json();
      expect(item.title).toBe(titleOf(3));
      expect(item.externalId).toBeUndefined();
    } finally {
      await plain.close();
    }
  });
});

describe('createServer options', () => {
  it('refuses bad options before loading anything', async () => {
    const fails = async (options: object, pattern: RegExp) => {
      const error = await createServer(options as never).catch((caught: unknown) => caught);
      expect(GenrecError.isInstance(error) && error.code).toBe('INVALID_OPTION');
      expect((error as Error).message).toMatch(pattern);
    };
    await fails({}, /modelDir must name a saved model folder/);
    await fails({ modelDir: fixture.markovDir, maxBatchSize: 0 }, /maxBatchSize must be an integer in \[1, 4096\], got 0/);
    await fails({ modelDir: fixture.markovDir, maxWaitMs: -1 }, /maxWaitMs/);
    await fails({ modelDir: fixture.markovDir, unknownItems: 'ignore' }, /unknownItems must be one of 'reject', 'drop'/);
    await fails({ modelDir: fixture.markovDir, batchSize: 3 }, /unknown option "batchSize"/);
  });

  it('a missing folder fails createServer with NOT_FOUND', async () => {
    const error = await createServer({ modelDir: join(fixture.root, 'nothing-here'), logLevel: 'silent' }).catch((caught: unknown) => caught);
    expect(GenrecError.isInstance(error) && error.code).toBe('NOT_FOUND');
  });
});
