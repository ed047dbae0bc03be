/**
 * The JSON schemas of every route: fastify validates requests (and serialises answers) with them,
 * and the OpenAPI document is generated from the same objects (`openApiDocument`).
 */

/** A JSON schema (draft 2020-12 / OpenAPI 3.1 subset used here). */
export type JsonSchema = Record<string, unknown>;

/** The limits the schemas enforce (from the service's options). */
export interface SchemaLimits {
  /** Largest `k`. */
  maxK: number;
  /** Longest history or exclusion list. */
  maxHistoryLength: number;
  /** Most users of a batch request. */
  maxBatchUsers: number;
}

/** One route: method, path, documentation, and the schemas fastify validates with. */
export interface RouteSpec {
  method: 'GET' | 'POST';
  /** Path in fastify's syntax (`/v1/items/:id`). */
  url: string;
  operationId: string;
  summary: string;
  description: string;
  tags: string[];
  schema: {
    body?: JsonSchema;
    params?: JsonSchema;
    querystring?: JsonSchema;
    /** Answers by status; `text/plain` ones are marked with `contentType`. */
    response: Record<number, JsonSchema>;
  };
  /** Content type of the 200 answer. @defaultValue application/json */
  contentType?: string;
}

/** Largest item id a request may carry (int32); ids above the model's catalogue are unknown items. */
export const MAX_ITEM_ID = 2_147_483_647;

/** Longest external id. */
export const MAX_EXTERNAL_ID_LENGTH = 256;

/** The default `k`. */
export const DEFAULT_K = 10;

const itemId = { type: 'integer', minimum: 1, maximum: MAX_ITEM_ID, description: 'an internal item id (1 .. itemCount)' };
const externalId = { type: 'string', minLength: 1, maxLength: MAX_EXTERNAL_ID_LENGTH, description: "an external item id (the source data's)" };

const modelReference = {
  type: 'object',
  required: ['kind', 'version', 'scoreScale'],
  properties: {
    kind: { type: 'string', description: "the model kind ('sasrec', 'markov', …)" },
    version: { type: 'string', description: "the model folder's version (the folder CURRENT names)" },
    scoreScale: { type: 'string', enum: ['log-probability', 'logit', 'count'], description: 'what the scores mean' },
  },
};

const unknownItem = {
  type: 'object',
  required: ['field', 'index'],
  properties: {
    field: { type: 'string' },
    index: { type: 'integer' },
    id: { type: 'integer' },
    externalId: { type: 'string' },
  },
};

const warning = {
  type: 'object',
  required: ['code', 'message'],
  properties: {
    code: { type: 'string', enum: ['UNKNOWN_ITEMS_DROPPED'] },
    message: { type: 'string' },
    unknownItems: { type: 'array', items: unknownItem },
  },
};

const recommendedItem = {
  type: 'object',
  required: ['id', 'score'],
  properties: {
    id: { type: 'integer', description: 'internal item id' },
    externalId: { type: 'string', description: 'external item id, when the model folder has them' },
    title: { type: 'string', description: 'title, when the model folder has them' },
    score: { type: 'number', description: "the model's score on its scoreScale (higher is better)" },
  },
};

const itemList = { type: 'array', items: recommendedItem, description: 'best first; fewer than k when exclusions leave fewer items' };

/** The body of every error answer. */
export const ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['statusCode', 'code', 'error', 'message'],
  properties: {
    statusCode: { type: 'integer' },
    code: { type: 'string' },
    error: { type: 'string' },
    message: { type: 'string' },
    field: { type: 'string' },
    unknownItems: { type: 'array', items: unknownItem },
  },
};

function errors(...statuses: number[]): Record<number, JsonSchema> {
  return Object.fromEntries(statuses.map((status) => [status, ERROR_SCHEMA]));
}

function userFields(limits: SchemaLimits): Record<string, JsonSchema> {
  const list = (items: JsonSchema, description: string) => ({ type: 'array', maxItems: limits.maxHistoryLength, items, description });
  return {
    history: list(itemId, 'the user history as internal item ids, oldest first (may be empty)'),
    externalHistory: list(externalId, 'the user history as external item ids, oldest first (may be empty)'),
    exclude: list(itemId, 'further internal item ids not to recommend'),
    externalExclude: list(externalId, 'further external item ids not to recommend'),
  };
}

const exactlyOneHistory = [{ required: ['history'] }, { required: ['externalHistory'] }];

function sharedFields(limits: SchemaLimits): Record<string, JsonSchema> {
  return {
    k: { type: 'integer', minimum: 1, maximum: limits.maxK, default: DEFAULT_K, description: `items per user (at most ${limits.maxK} and the model's maxK)` },
    excludeHistory: { type: 'boolean', default: true, description: "leave out the history's items" },
    unknownItems: { type: 'string', enum: ['reject', 'drop'], description: "unknown item ids: 'reject' (422) or 'drop' (with a warning); default: the server's policy" },
  };
}

/** The body of `POST /v1/recommend`. */
export function recommendBodySchema(limits: SchemaLimits): JsonSchema {
  return {
    type: 'object',
    additionalProperties: false,
    properties: { ...userFields(limits), ...sharedFields(limits) },
    oneOf: exactlyOneHistory,
  };
}

/** The body of `POST /v1/recommend/batch`. */
export function batchBodySchema(limits: SchemaLimits): JsonSchema {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['users'],
    properties: {
      users: {
        type: 'array',
        minItems: 1,
        maxItems: limits.maxBatchUsers,
        items: { type: 'object', additionalProperties: false, properties: userFields(limits), oneOf: exactlyOneHistory },
      },
      ...sharedFields(limits),
    },
  };
}

/**
 * Every route of the service with its schemas (one list for registration and for the OpenAPI
 * document).
 *
 * @param limits - the service's limits the schemas enforce.
 * @returns the routes, in registration order.
 * @example
 * ```ts
 * const routes = routeSpecs({ maxK: 100, maxHistoryLength: 1000, maxBatchUsers: 256 });
 * routes.map((route) => `${route.method} ${route.url}`); // ['POST /v1/recommend', …]
 * ```
 */
export function routeSpecs(limits: SchemaLimits): RouteSpec[] {
  const recommendResponse = {
    type: 'object',
    required: ['model', 'k', 'items'],
    properties: { model: modelReference, k: { type: 'integer' }, items: itemList, warnings: { type: 'array', items: warning } },
  };
  const item = {
    type: 'object',
    required: ['id', 'retired', 'model'],
    properties: { id: { type: 'integer' }, externalId: { type: 'string' }, title: { type: 'string' }, retired: { type: 'boolean' }, model: modelReference },
  };
  const modelInfo = {
    type: 'object',
    required: ['kind', 'version', 'scoreScale', 'itemCount', 'maxK', 'loadedAt', 'externalIds', 'titles'],
    properties: {
      ...modelReference.properties,
      itemCount: { type: 'integer' },
      maxK: { type: 'integer', description: 'the largest k this model answers (requests are also capped by the server maxK)' },
      retiredItems: { type: 'integer', description: 'how many items are retired' },
      loadedAt: { type: 'string', description: 'ISO time the model was loaded' },
      externalIds: { type: 'boolean', description: 'whether the folder has external ids' },
      titles: { type: 'boolean', description: 'whether the folder has titles' },
      dataFingerprint: { type: 'string' },
      execution: { type: 'string', enum: ['worker', 'main'], description: "where the model runs: its own worker thread or the service's main thread" },
    },
  };
  return [
    {
      method: 'POST',
      url: '/v1/recommend',
      operationId: 'recommend',
      summary: 'Top-k items for one user',
      description:
        'Give exactly one of `history` (internal ids) or `externalHistory` (external ids). Unknown ids are answered 422 `UNKNOWN_ITEMS` (policy `reject`) or left out with a `warnings` entry (policy `drop`). Concurrent requests are answered by one batched model call.',
      tags: ['recommend'],
      schema: { body: recommendBodySchema(limits), response: { 200: recommendResponse, ...errors(400, 413, 415, 422, 500, 503) } },
    },
    {
      method: 'POST',
      url: '/v1/recommend/batch',
      operationId: 'recommendBatch',
      summary: 'Top-k items for several users',
      description: 'One `k` for all users; `results[i]` answers `users[i]`. Any invalid user makes the whole request a 4xx naming it (`/users/3/history/2`).',
      tags: ['recommend'],
      schema: {
        body: batchBodySchema(limits),
        response: {
          200: {
            type: 'object',
            required: ['model', 'k', 'results'],
            properties: {
              model: modelReference,
              k: { type: 'integer' },
              results: { type: 'array', items: { type: 'object', required: ['items'], properties: { items: itemList, warnings: { type: 'array', items: warning } } } },
            },
          },
          ...errors(400, 413, 415, 422, 500, 503),
        },
      },
    },
    {
      method: 'GET',
      url: '/v1/items/:id',
      operationId: 'getItem',
      summary: 'One item by internal id',
      description: 'Its external id and title when the model folder has them, and whether it is retired.',
      tags: ['items'],
      schema: {
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[1-9][0-9]{0,9}$', description: 'internal item id' } } },
        response: { 200: item, ...errors(400, 404, 503) },
      },
    },
    {
      method: 'GET',
      url: '/v1/items',
      operationId: 'findItem',
      summary: 'One item by external id',
      description: '`?externalId=…`; 404 when the model folder has no such external id.',
      tags: ['items'],
      schema: {
        querystring: { type: 'object', additionalProperties: false, required: ['externalId'], properties: { externalId } },
        response: { 200: item, ...errors(400, 404, 422, 503) },
      },
    },
    {
      method: 'GET',
      url: '/v1/model',
      operationId: 'getModel',
      summary: 'The model being served',
      description: 'Kind, version, catalogue size, maxK and what the folder carries.',
      tags: ['operations'],
      schema: { response: { 200: modelInfo, ...errors(503) } },
    },
    {
      method: 'GET',
      url: '/healthz',
      operationId: 'health',
      summary: 'Liveness',
      description: '200 while the process runs (even while the model loads).',
      tags: ['operations'],
      schema: { response: { 200: { type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['ok'] } } } } },
    },
    {
      method: 'GET',
      url: '/readyz',
      operationId: 'ready',
      summary: 'Readiness',
      description: '200 once the model is loaded and warmed; 503 while it loads and from the start of a shutdown.',
      tags: ['operations'],
      schema: {
        response: {
          200: { type: 'object', required: ['status'], properties: { status: { type: 'string' }, model: modelReference } },
          503: { type: 'object', required: ['status'], properties: { status: { type: 'string' } } },
        },
      },
    },
    {
      method: 'GET',
      url: '/metrics',
      operationId: 'metrics',
      summary: 'Prometheus metrics',
      description: 'Text exposition format 0.0.4: requests by route and status, latency, batch sizes and durations, queue depth, event-loop delay, model info, process memory and CPU.',
      tags: ['operations'],
      contentType: 'text/plain',
      schema: { response: { 200: { type: 'string' } } },
    },
    {
      method: 'GET',
      url: '/openapi.json',
      operationId: 'openapi',
      summary: 'This OpenAPI document',
      description: 'Generated from the schemas the routes validate with.',
      tags: ['operations'],
      schema: { response: { 200: { type: 'object', additionalProperties: true } } },
    },
  ];
}
