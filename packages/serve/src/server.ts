import { fastify, LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { GenrecError } from '@genrec/core';
import { HttpError, errorBody, type UnknownItem } from './http-error.js';
import type { UserAnswer, UserQuery } from './micro-batcher.js';
import { ModelSlot, readCurrentVersion, type ModelInfo, type SlotLoadOptions } from './model-slot.js';
import { openApiDocument } from './openapi.js';
import { resolveServeOptions, type ResolvedServeOptions, type ServeOptions, type UnknownItemsPolicy } from './options.js';
import { PROMETHEUS_CONTENT_TYPE } from './metrics.js';
import { droppedWarning, resolveUser, type AnswerWarning, type ResolvedUser, type UserFields } from './resolve-user.js';
import { DEFAULT_K, routeSpecs, type RouteSpec } from './route-schemas.js';
import { schemaError, type SchemaValidationError } from './schema-errors.js';
import { ServiceMetrics } from './service-metrics.js';

/** The body of `POST /v1/recommend`. */
export interface RecommendRequest extends UserFields {
  k?: number;
  excludeHistory?: boolean;
  unknownItems?: UnknownItemsPolicy;
}

/** The body of `POST /v1/recommend/batch`. */
export interface BatchRecommendRequest {
  users: UserFields[];
  k?: number;
  excludeHistory?: boolean;
  unknownItems?: UnknownItemsPolicy;
}

/** One recommended item. */
export interface RecommendedItem {
  id: number;
  externalId?: string;
  title?: string;
  score: number;
}

/** Which model answered. */
export interface ModelReference {
  kind: string;
  version: string;
  scoreScale: string;
}

/** The answer of `POST /v1/recommend`. */
export interface RecommendResponse {
  model: ModelReference;
  k: number;
  items: RecommendedItem[];
  warnings?: AnswerWarning[];
}

/** The answer of `POST /v1/recommend/batch`. */
export interface BatchRecommendResponse {
  model: ModelReference;
  k: number;
  results: { items: RecommendedItem[]; warnings?: AnswerWarning[] }[];
}

/** A running recommendation service (see {@link createServer}). */
export interface GenrecServer {
  /** The fastify instance (add routes or hooks of your own before `listen`). */
  readonly app: FastifyInstance;
  /** The resolved options. */
  readonly options: ResolvedServeOptions;
  /** Resolves once the first model is loaded and warmed; rejects when it cannot be loaded. */
  readonly ready: Promise<void>;
  /** Whether the model is loaded and warmed and the server is not shutting down (`/readyz`). */
  isReady(): boolean;
  /** The model being served (undefined while the first one loads). */
  modelInfo(): ModelInfo | undefined;
  /** Starts listening; resolves with the address (`http://127.0.0.1:8080`). @defaultValue host 127.0.0.1, port 8080 */
  listen(options?: { host?: string; port?: number }): Promise<string>;
  /**
   * Loads a model folder (by default the configured `modelDir` again, e.g. after a new version was
   * saved into it), warms it, then switches to it atomically: requests validated against the old
   * model finish on it, new ones go to the new one, and the old one is released when its last
   * request is answered. Swaps run one at a time; a failed load keeps the old model serving.
   *
   * @returns the new model's info.
   * @throws GenrecError from the loader; `INVALID_INPUT` when the server is closing.
   */
  swapModel(modelDir?: string): Promise<ModelInfo>;
  /**
   * Graceful shutdown: `/readyz` answers 503 at once, the listener stops accepting connections,
   * queued and in-flight requests are answered (new requests on open connections get 503
   * `SHUTTING_DOWN`), then the model is released. After `drainTimeoutMs` remaining connections
   * are cut. Calling it again returns the same promise.
   *
   * @param options - `delayMs`: answer `/readyz` 503 but keep serving this long first, so that a
   * load balancer stops routing here before connections close. @defaultValue 0
   */
  close(options?: { delayMs?: number }): Promise<void>;
  /** The metrics in the Prometheus text format (what `/metrics` answers). */
  metricsText(): string;
  /** The OpenAPI document (what `/openapi.json` answers). */
  openApi(): ReturnType<typeof openApiDocument>;
  /** Longest event-loop block (ms) of the last one-second window and since start. */
  eventLoopDelay(): { lastWindowMaxMs: number; maxMs: number };
}

const SCORE_DIGITS = 9; // float32 round-trips through 9 significant digits

function modelReference(info: ModelInfo): ModelReference {
  return { kind: info.kind, version: info.version, scoreScale: info.scoreScale };
}

function fastifyErrorToHttp(error: FastifyError & { validation?: unknown }, options: ResolvedServeOptions): HttpError {
  if (error instanceof HttpError) return error;
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpError('BODY_TOO_LARGE', `the body is larger than ${options.maxBodyBytes} bytes (maxBodyBytes)`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HttpError('UNSUPPORTED_MEDIA_TYPE', `send the body as application/json (${error.message})`);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new HttpError('EMPTY_BODY', 'the body is empty; send a JSON object');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new HttpError('MALFORMED_JSON', 'the body is not valid JSON');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new HttpError('INVALID_REQUEST', 'the Content-Length header does not match the body');
    case 'FST_ERR_HANDLER_TIMEOUT':
      return new HttpError('REQUEST_TIMEOUT', `no answer within ${options.requestTimeoutMs} ms (requestTimeoutMs); retry later`, { retryAfterSeconds: 1 });
  }
  if (GenrecError.isInstance(error) && ['INVALID_INPUT', 'INVALID_OPTION', 'UNKNOWN_ID'].includes(error.code)) {
    return new HttpError('INVALID_REQUEST', error.message, typeof error.details.field === 'string' ? { field: error.details.field } : {});
  }
  const status = typeof error.statusCode === 'number' ? error.statusCode : 500;
  if (status >= 400 && status < 500) return new HttpError(status === 404 ? 'NOT_FOUND' : status === 413 ? 'BODY_TOO_LARGE' : status === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : 'INVALID_REQUEST', error.message);
  return new HttpError('INTERNAL', `internal error: ${error.message}`);
}

class Service implements GenrecServer {
  readonly app: FastifyInstance;
  readonly options: ResolvedServeOptions;
  readonly ready: Promise<void>;
  private current: ModelSlot | undefined;
  private modelDir: string;
  private closing = false;
  /** Set at the start of close() (before closing, during its delay). */
  private notReady = false;
  private closed: Promise<void> | undefined;
  private swapChain: Promise<unknown> = Promise.resolve();
  private readonly retiring = new Set<Promise<void>>();
  private readonly metrics: ServiceMetrics;
  private readonly routes: RouteSpec[];
  private readonly document: ReturnType<typeof openApiDocument>;
  private watchTimer: NodeJS.Timeout | undefined;
  private loadFailure: unknown;

  constructor(options: ResolvedServeOptions) {
    this.options = options;
    this.modelDir = options.modelDir;
    this.metrics = new ServiceMetrics({
      queued: () => this.current?.batcher.queued ?? 0,
      running: () => this.current?.batcher.running ?? 0,
      ready: () => this.isReady(),
      items: () => this.current?.info.itemCount ?? 0,
    });
    this.routes = routeSpecs({ maxK: options.maxK, maxHistoryLength: options.maxHistoryLength, maxBatchUsers: options.maxBatchUsers });
    this.document = openApiDocument(this.routes);
    this.app = fastify({
      logger: { level: options.logLevel, ...(options.logStream ? { stream: options.logStream as never } : {}) },
      logController: new LogController({ disableRequestLogging: !options.logRequests }),
      bodyLimit: options.maxBodyBytes,
      // socket-level: the whole request must arrive within this time (slow clients)
      requestTimeout: Math.max(options.requestTimeoutMs, 10_000),
      return503OnClosing: true,
      forceCloseConnections: 'idle',
      requestIdHeader: 'x-request-id',
      // strict types (no "10" for 10), no silent removal of unknown fields, errors carry the data found
      ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: true, allErrors: false, verbose: true } },
      schemaErrorFormatter: (errors, dataVar) => schemaError(errors as unknown as SchemaValidationError[], dataVar),
    });
    this.installHooks();
    this.installRoutes();
    this.metrics.eventLoop.start();
    this.ready = this.loadFirst();
    this.ready.catch(() => {}); // observed through `ready` / `/readyz`
  }

  private async loadFirst(): Promise<void> {
    const started = performance.now();
    try {
      const slot = await ModelSlot.load(this.modelDir, this.slotOptions());
      if (this.closing) {
        await slot.retire();
        return;
      }
      this.install(slot);
      this.app.log.info({ model: slot.info, ms: Math.round(performance.now() - started) }, 'model loaded');
    } catch (error) {
      this.loadFailure = error;
      this.app.log.error({ err: error, modelDir: this.modelDir }, 'the model could not be loaded');
      throw error;
    }
    if (this.options.watchIntervalMs > 0) {
      this.watchTimer = setInterval(() => this.checkForNewVersion(), this.options.watchIntervalMs);
      this.watchTimer.unref();
    }
  }

  private slotOptions(): SlotLoadOptions {
    const o = this.options;
    const options: SlotLoadOptions = {
      execution: o.execution,
      onCrash: (slot, error) => this.onWorkerCrash(slot, error),
      threads: o.threads,
      warmup: o.warmup,
      batcher: {
        enabled: o.batching,
        maxBatchSize: o.maxBatchSize,
        maxWaitMs: o.maxWaitMs,
        maxConcurrentBatches: o.maxConcurrentBatches,
        maxQueued: o.maxQueuedUsers,
        onBatch: (size, milliseconds) => this.metrics.batch(size, milliseconds),
      },
    };
    if (o.loaders) options.loaders = o.loaders;
    return options;
  }

  private onWorkerCrash(slot: ModelSlot, error: Error): void {
    this.app.log.error({ err: error, model: slot.info }, 'the model worker stopped; reloading the model');
    this.metrics.workerCrashes.inc();
    if (slot !== this.current || this.closing) return;
    this.swapModel(slot.info.modelDir).catch(() => {}); // logged by swapModel
  }

  private install(slot: ModelSlot): void {
    this.current = slot;
    this.metrics.modelInfo.reset();
    this.metrics.modelInfo.set(1, { kind: slot.info.kind, version: slot.info.version, score_scale: slot.info.scoreScale });
  }

  private checkForNewVersion(): void {
    const current = this.current;
    if (current === undefined || this.closing) return;
    const onDisk = readCurrentVersion(this.modelDir);
    if (onDisk === undefined || onDisk === current.info.version || onDisk === this.failedVersion || this.swapping) return;
    this.swapModel().catch(() => {
      this.failedVersion = onDisk; // logged by swapModel; retried when the folder changes again
    });
  }

  private swapping = false;
  /** A version of the watched folder that failed to load (not retried until CURRENT changes). */
  private failedVersion: string | undefined;

  isReady(): boolean {
    return this.current !== undefined && !this.notReady;
  }

  modelInfo(): ModelInfo | undefined {
    return this.current?.info;
  }

  swapModel(modelDir: string = this.modelDir): Promise<ModelInfo> {
    const run = this.swapChain.then(() => this.swapNow(modelDir));
    this.swapChain = run.catch(() => {});
    return run;
  }

  private async swapNow(modelDir: string): Promise<ModelInfo> {
    if (this.closing) throw new GenrecError('INVALID_INPUT', 'the server is closing; no model swap');
    this.swapping = true;
    const started = performance.now();
    try {
      await this.ready.catch(() => {});
      const next = await ModelSlot.load(modelDir, this.slotOptions());
      if (this.closing) {
        await next.retire();
        throw new GenrecError('INVALID_INPUT', 'the server closed while the new model loaded; it was released');
      }
      const previous = this.current;
      this.install(next);
      this.modelDir = modelDir;
      this.metrics.swaps.inc({ result: 'success' });
      this.app.log.info({ model: next.info, previous: previous?.info.version, ms: Math.round(performance.now() - started) }, 'model swapped');
      if (previous) {
        const retiring = previous.retire().catch((error: unknown) => this.app.log.error({ err: error }, 'releasing the previous model failed'));
        this.retiring.add(retiring);
        void retiring.finally(() => this.retiring.delete(retiring));
      }
      return next.info;
    } catch (error) {
      this.metrics.swaps.inc({ result: 'failure' });
      this.app.log.error({ err: error, modelDir }, 'model swap failed; the previous model keeps serving');
      throw error;
    } finally {
      this.swapping = false;
    }
  }

  async listen(options: { host?: string; port?: number } = {}): Promise<string> {
    return this.app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 8080 });
  }

  close(options: { delayMs?: number } = {}): Promise<void> {
    this.closed ??= this.closeNow(options.delayMs ?? 0);
    return this.closed;
  }

  private async closeNow(delayMs: number): Promise<void> {
    this.notReady = true;
    if (delayMs > 0) {
      this.app.log.info({ delayMs }, 'shutting down: not ready, still serving');
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
    this.closing = true;
    if (this.watchTimer) clearInterval(this.watchTimer);
    this.app.log.info('shutting down: draining requests');
    const cut = setTimeout(() => {
      this.app.log.warn({ drainTimeoutMs: this.options.drainTimeoutMs }, 'drain timeout: closing the remaining connections');
      this.app.server.closeAllConnections();
    }, this.options.drainTimeoutMs);
    cut.unref();
    try {
      await Promise.all([this.app.close(), this.current?.batcher.drain()]);
      await this.swapChain;
      await Promise.all([...this.retiring]);
      await this.current?.retire();
    } finally {
      clearTimeout(cut);
      this.metrics.eventLoop.stop();
    }
    this.app.log.info('shut down');
  }

  metricsText(): string {
    return this.metrics.registry.text();
  }

  openApi(): ReturnType<typeof openApiDocument> {
    return this.document;
  }

  eventLoopDelay(): { lastWindowMaxMs: number; maxMs: number } {
    return { lastWindowMaxMs: this.metrics.eventLoop.lastWindowMaxMs, maxMs: this.metrics.eventLoop.maxMs };
  }

  // ---- HTTP ----

  private installHooks(): void {
    const app = this.app;
    // JSON bodies parsed with JSON.parse so that a syntax error can say where it is; every object
    // of every route schema has additionalProperties: false, so "__proto__" / "constructor" keys
    // (own properties after JSON.parse, never prototypes) are refused by validation
    // JSON only: every other media type is answered 415
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
      const text = body as string;
      if (text.length === 0) {
        done(new HttpError('EMPTY_BODY', 'the body is empty; send a JSON object'), undefined);
        return;
      }
      try {
        done(null, JSON.parse(text));
      } catch (error) {
        done(new HttpError('MALFORMED_JSON', `the body is not valid JSON: ${(error as Error).message}`), undefined);
      }
    });
    app.addHook('onRequest', (request, reply, done) => {
      reply.header('x-request-id', request.id);
      done();
    });
    // while closing, every answer ends its connection, so that keep-alive clients let go and
    // close() does not wait for them
    app.addHook('onSend', (_request, reply, payload, done) => {
      if (this.closing) void reply.header('connection', 'close');
      done(null, payload);
    });
    app.addHook('onResponse', (request, reply, done) => {
      const route = request.routeOptions.url ?? 'unmatched';
      this.metrics.requests.inc({ route, method: request.method, status: String(reply.statusCode) });
      this.metrics.requestDuration.observe(reply.elapsedTime / 1000, { route });
      done();
    });
    app.setErrorHandler((error: FastifyError, request, reply) => {
      const http = fastifyErrorToHttp(error, this.options);
      if (http.code === 'INTERNAL') request.log.error({ err: error }, 'request failed');
      else request.log.debug({ code: http.code, message: http.message }, 'request refused');
      if (http.extra.retryAfterSeconds !== undefined) void reply.header('retry-after', String(http.extra.retryAfterSeconds));
      void reply.code(http.statusCode).send(errorBody(http));
    });
    app.setNotFoundHandler((request, reply) => {
      void reply.code(404).send(errorBody(new HttpError('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]} (the routes are listed in /openapi.json)`)));
    });
  }

  private installRoutes(): void {
    const handlers: Record<string, (request: FastifyRequest, reply: FastifyReply) => unknown> = {
      recommend: (request, reply) => this.recommend(request, reply),
      recommendBatch: (request, reply) => this.recommendBatch(request, reply),
      getItem: (request) => this.getItem(request),
      findItem: (request) => this.findItem(request),
      getModel: () => {
        const { modelDir: _modelDir, ...info } = this.slot().info;
        return info;
      },
      health: () => ({ status: 'ok' }),
      ready: (_request, reply) => {
        if (this.isReady()) return { status: 'ready', model: modelReference(this.current!.info) };
        const status = this.notReady ? 'shutting-down' : this.loadFailure !== undefined ? 'failed' : 'loading';
        return reply.code(503).send({ status });
      },
      metrics: (_request, reply) => reply.type(PROMETHEUS_CONTENT_TYPE).send(this.metricsText()),
      openapi: () => this.document,
    };
    for (const route of this.routes) {
      const handler = handlers[route.operationId];
      if (!handler) throw new Error(`no handler for ${route.operationId}`);
      const schema: Record<string, unknown> = { ...route.schema };
      // the metrics answer is text; fastify serialises JSON answers with their schema
      if (route.contentType) delete schema.response;
      this.app.route({ method: route.method, url: route.url, schema, handler: handler as never });
    }
  }

  private slot(): ModelSlot {
    if (this.closing) {
      this.metrics.rejected.inc({ reason: 'shutting-down' });
      throw new HttpError('SHUTTING_DOWN', 'the server is shutting down; retry on another replica');
    }
    const slot = this.current;
    if (slot === undefined) {
      this.metrics.rejected.inc({ reason: 'not-ready' });
      throw new HttpError('NOT_READY', 'the model is still loading; retry shortly (GET /readyz says when it is ready)', { retryAfterSeconds: 1 });
    }
    return slot;
  }

  private checkK(k: number, slot: ModelSlot): void {
    if (k > slot.model.maxK) {
      throw new HttpError('INVALID_REQUEST', `/k must be ≤ ${slot.model.maxK}, the largest k this model answers (its maxK), got ${k}`, { field: '/k' });
    }
  }

  private present(slot: ModelSlot, answer: UserAnswer): RecommendedItem[] {
    const out: RecommendedItem[] = new Array(answer.items.length);
    for (let i = 0; i < answer.items.length; i++) {
      const id = answer.items[i]!;
      const stored = slot.items[id - 1];
      const item: RecommendedItem = { id, score: Number(answer.scores[i]!.toPrecision(SCORE_DIGITS)) };
      if (stored?.externalId !== undefined) item.externalId = stored.externalId;
      if (stored?.title !== undefined) item.title = stored.title;
      out[i] = item;
    }
    return out;
  }

  /**
   * Submits queries with the request's deadline: a timer (requestTimeoutMs from the handler's
   * start) and the client going away abort the wait (fastify's request.signal is not used: on
   * Node 20 it aborts as soon as a POST body has been read).
   */
  private async answer(slot: ModelSlot, queries: UserQuery[], reply: FastifyReply): Promise<UserAnswer[]> {
    const controller = new AbortController();
    const timer = setTimeout(() => {
      this.metrics.rejected.inc({ reason: 'timeout' });
      controller.abort(new HttpError('REQUEST_TIMEOUT', `no answer within ${this.options.requestTimeoutMs} ms (requestTimeoutMs); retry later`, { retryAfterSeconds: 1 }));
    }, this.options.requestTimeoutMs);
    const onClose = () => {
      if (!reply.raw.writableEnded) controller.abort(new HttpError('REQUEST_TIMEOUT', 'the client closed the connection'));
    };
    reply.raw.once('close', onClose);
    try {
      return await slot.batcher.submit(queries, controller.signal);
    } finally {
      clearTimeout(timer);
      reply.raw.off('close', onClose);
    }
  }

  private countUnknown(policy: UnknownItemsPolicy, count: number): void {
    if (count > 0) this.metrics.unknownItems.inc({ policy }, count);
  }

  /** Resolves one user's ids under `policy`, counting the unknown ids it refuses or drops. */
  private resolveCounted(fields: UserFields, slot: ModelSlot, policy: UnknownItemsPolicy, path: string): ResolvedUser {
    try {
      const user = resolveUser(fields, slot, policy, path);
      this.countUnknown(policy, user.dropped.length);
      return user;
    } catch (error) {
      if (error instanceof HttpError && error.extra.unknownItems) this.countUnknown(policy, error.extra.unknownItems.length);
      throw error;
    }
  }

  /**
   * The recommend routes' common path: holds the current model for the request, checks `k`,
   * resolves every user (`path` of each in the body), runs them through the batcher and shapes
   * the answer; an answer already sent (timed out) is left alone.
   */
  private async recommendUsers<Response>(
    reply: FastifyReply,
    request: { k?: number; unknownItems?: UnknownItemsPolicy; excludeHistory?: boolean },
    users: readonly { fields: UserFields; path: string }[],
    shape: (slot: ModelSlot, k: number, answers: UserAnswer[], dropped: UnknownItem[][]) => Response,
  ): Promise<Response | FastifyReply> {
    const slot = this.slot();
    const release = slot.acquire();
    try {
      const k = request.k ?? DEFAULT_K;
      this.checkK(k, slot);
      const policy = request.unknownItems ?? this.options.unknownItems;
      const excludeHistory = request.excludeHistory ?? true;
      const resolved = users.map(({ fields, path }) => this.resolveCounted(fields, slot, policy, path));
      const answers = await this.answer(
        slot,
        resolved.map((user) => ({ history: user.history, exclude: user.exclude, k, excludeHistory })),
        reply,
      );
      if (reply.sent) return reply;
      return shape(slot, k, answers, resolved.map((user) => user.dropped));
    } catch (error) {
      if (reply.sent) return reply; // timed out and answered already
      if (error instanceof HttpError && error.code === 'OVERLOADED') this.metrics.rejected.inc({ reason: 'overloaded' });
      throw error;
    } finally {
      release();
    }
  }

  private recommend(request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const body = request.body as RecommendRequest;
    return this.recommendUsers(reply, body, [{ fields: body, path: '' }], (slot, k, [answer], [dropped]) => {
      const response: RecommendResponse = { model: modelReference(slot.info), k, items: this.present(slot, answer!) };
      const warning = droppedWarning(dropped!);
      if (warning) response.warnings = [warning];
      return response;
    });
  }

  private recommendBatch(request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const body = request.body as BatchRecommendRequest;
    const users = body.users.map((fields, i) => ({ fields, path: `/users/${i}` }));
    return this.recommendUsers(reply, body, users, (slot, k, answers, dropped): BatchRecommendResponse => ({
      model: modelReference(slot.info),
      k,
      results: answers.map((answer, i) => {
        const warning = droppedWarning(dropped[i]!);
        return { items: this.present(slot, answer), ...(warning ? { warnings: [warning] } : {}) };
      }),
    }));
  }

  private itemAnswer(slot: ModelSlot, id: number) {
    const stored = slot.items[id - 1];
    return {
      id,
      ...(stored?.externalId !== undefined ? { externalId: stored.externalId } : {}),
      ...(stored?.title !== undefined ? { title: stored.title } : {}),
      retired: slot.isRetired(id),
      model: modelReference(slot.info),
    };
  }

  private getItem(request: FastifyRequest) {
    const slot = this.slot();
    const id = Number((request.params as { id: string }).id);
    if (id > slot.model.itemCount) throw new HttpError('NOT_FOUND', `item ${id} does not exist: this model's ids are 1..${slot.model.itemCount}`, { field: '/id' });
    return this.itemAnswer(slot, id);
  }

  private findItem(request: FastifyRequest) {
    const slot = this.slot();
    const externalId = (request.query as { externalId: string }).externalId;
    if (slot.externalIndex === undefined) throw new HttpError('NO_EXTERNAL_IDS', `this model folder (${slot.info.kind} ${slot.info.version}) has no external item ids`, { field: 'externalId' });
    const id = slot.externalIndex.get(externalId);
    if (id === undefined) throw new HttpError('NOT_FOUND', `no item has the external id ${JSON.stringify(externalId)}`, { field: 'externalId' });
    return this.itemAnswer(slot, id);
  }
}

/**
 * Creates the recommendation service for a saved model folder: loads it with `@genrec/models`'
 * `loadRecommender` (any kind; `options.loaders` adds your own), reads its `items.json` (external
 * ids, titles), warms it, and registers the routes (`POST /v1/recommend`,
 * `POST /v1/recommend/batch`, `GET /v1/items/{id}`, `GET /v1/items?externalId=`, `GET /v1/model`,
 * `/healthz`, `/readyz`, `/metrics`, `/openapi.json`). Call `listen()` to accept connections and
 * `close()` to shut down gracefully.
 *
 * @param options - see {@link ServeOptions}; only `modelDir` is required.
 * @returns the server, ready (unless `waitUntilReady: false`).
 * @throws GenrecError `INVALID_OPTION` for a bad option; whatever loading the model throws
 * (`NOT_FOUND`, `FORMAT_VERSION`, `CORRUPT_ARTIFACT`) when `waitUntilReady` is true.
 * @example
 * ```ts
 * const server = await createServer({ modelDir: 'runs/toys/model', maxBatchSize: 64, maxWaitMs: 2 });
 * const address = await server.listen({ host: '127.0.0.1', port: 8080 });
 * // curl -s $address/v1/recommend -H 'content-type: application/json' -d '{"history":[1,2,3],"k":10}'
 * await server.close();
 * ```
 */
export async function createServer(options: ServeOptions): Promise<GenrecServer> {
  const resolved = resolveServeOptions(options);
  const service = new Service(resolved);
  if (resolved.waitUntilReady) {
    try {
      await service.ready;
    } catch (error) {
      await service.close().catch(() => {});
      throw error;
    }
  }
  return service;
}
