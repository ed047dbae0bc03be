import { availableParallelism } from 'node:os';
import { GenrecError, checkBooleanOption, checkEnumOption, checkIntegerOption, checkKnownOptions, checkNumberOption, type RecommenderLoader } from '@genrec/core';

/** What to do with item ids the model does not know. */
export type UnknownItemsPolicy = 'reject' | 'drop';

/** The policies of {@link UnknownItemsPolicy}. */
export const UNKNOWN_ITEMS_POLICIES: readonly UnknownItemsPolicy[] = ['reject', 'drop'];

/** Where the model runs: `'worker'`, its own worker thread (the event loop only handles HTTP); `'main'`, the service's thread. */
export type ExecutionMode = 'worker' | 'main';

/** The modes of {@link ExecutionMode}. */
export const EXECUTION_MODES: readonly ExecutionMode[] = ['worker', 'main'];

/** Log levels of the service's pino logger. */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** The levels of {@link LogLevel}. */
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Options of `createServer`. Every one but `modelDir` has a default and an environment variable (see {@link SERVE_OPTIONS}). */
export interface ServeOptions {
  /** The saved model folder to serve (any kind `@genrec/models`' `loadRecommender` knows). */
  modelDir: string;
  /** Coalesce concurrent requests into one model call. @defaultValue true */
  batching?: boolean;
  /** Most users in one model call. @defaultValue 64 */
  maxBatchSize?: number;
  /** Longest wait (ms) of the oldest waiting request for others before its batch runs. @defaultValue 2 */
  maxWaitMs?: number;
  /** Model calls running at once. @defaultValue 1 */
  maxConcurrentBatches?: number;
  /** Most users waiting for the model; more is answered 503 `OVERLOADED`. @defaultValue 4096 */
  maxQueuedUsers?: number;
  /** Longest time (ms) from a request's arrival to its answer; later it is answered 503 `REQUEST_TIMEOUT`. @defaultValue 10000 */
  requestTimeoutMs?: number;
  /** Largest `k` a request may ask (the model's own `maxK` also applies). @defaultValue 100 */
  maxK?: number;
  /** Longest `history` / `externalHistory` / `exclude` list. @defaultValue 1000 */
  maxHistoryLength?: number;
  /** Most users in one `POST /v1/recommend/batch` request. @defaultValue 256 */
  maxBatchUsers?: number;
  /** Largest request body (bytes); larger is answered 413. @defaultValue 1048576 */
  maxBodyBytes?: number;
  /** Unknown item ids: `'reject'` answers 422 naming them, `'drop'` leaves them out and lists them in `warnings`. @defaultValue 'reject' */
  unknownItems?: UnknownItemsPolicy;
  /**
   * onnxruntime threads per operator for models that use it (SASRec); 0 = one per physical core.
   * The default leaves one core to the event loop: on 2 cores, 1 thread served SASRec 1.6x faster
   * with a shorter longest event-loop block than 2 (README, "Load tests").
   * @defaultValue {@link DEFAULT_THREADS} (the logical CPUs minus one, at least 1)
   */
  threads?: number;
  /**
   * Where the model runs: `'worker'` (its own worker thread: model compute never blocks HTTP
   * handling) or `'main'` (the service's thread). Custom `loaders` are functions, which cannot
   * cross to a worker: with them the default is `'main'`. @defaultValue 'worker' (without loaders)
   */
  execution?: ExecutionMode;
  /** Run a few model calls of each batch size before answering `ready`. @defaultValue true */
  warmup?: boolean;
  /** Check the model folder's `CURRENT` pointer this often (ms) and hot-swap to a new version; 0 = never. @defaultValue 0 */
  watchIntervalMs?: number;
  /** Longest time (ms) `close()` waits for queued and in-flight requests before it cuts connections. @defaultValue 10000 */
  drainTimeoutMs?: number;
  /** Log level (pino, JSON lines on stdout). @defaultValue 'info' */
  logLevel?: LogLevel;
  /** Log one line per request (method, url, status, time). @defaultValue false */
  logRequests?: boolean;
  /** Where log lines go (a stream with `write(line)`). @defaultValue stdout */
  logStream?: { write(line: string): unknown };
  /** Further model loaders by kind (your own model packages); they override built-in kinds. */
  loaders?: Readonly<Record<string, RecommenderLoader>>;
  /** Resolve `createServer` only when the model is loaded and warmed (false: at once; `/readyz` says when). @defaultValue true */
  waitUntilReady?: boolean;
}

/** {@link ServeOptions} with every default filled in. */
export type ResolvedServeOptions = Required<Omit<ServeOptions, 'logStream' | 'loaders'>> & Pick<ServeOptions, 'logStream' | 'loaders'>;

/** One configurable option: its name, flag, environment variable, type, bounds and default. */
export interface ServeOptionSpec {
  /** Option name in {@link ServeOptions} / `StartServerOptions`. */
  name: string;
  /** Command-line flag (`--max-batch-size`). */
  flag: string;
  /** Environment variable (`GENREC_SERVE_MAX_BATCH_SIZE`). */
  env: string;
  /** Value type. */
  type: 'string' | 'integer' | 'number' | 'boolean' | 'enum';
  /** Allowed values of an `enum`. */
  values?: readonly string[];
  /** Smallest allowed value (numbers). */
  minimum?: number;
  /** Largest allowed value (numbers). */
  maximum?: number;
  /** The default (undefined: required). */
  defaultValue: string | number | boolean | undefined;
  /** One line for help texts. */
  description: string;
}

function spec(name: string, type: ServeOptionSpec['type'], defaultValue: ServeOptionSpec['defaultValue'], description: string, bounds: Partial<Pick<ServeOptionSpec, 'values' | 'minimum' | 'maximum'>> = {}): ServeOptionSpec {
  const snake = name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
  const kebab = name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  return { name, flag: `--${kebab}`, env: `GENREC_SERVE_${snake}`, type, defaultValue, description, ...bounds };
}

/** onnxruntime threads of a served model by default: the machine's logical CPUs (`os.availableParallelism()`) minus one, at least 1, so the event loop keeps a CPU; with hyper-threading this can exceed the physical cores (set `threads` there). */
export const DEFAULT_THREADS = Math.max(1, availableParallelism() - 1);

/**
 * Every option that flags and environment variables can set, in one table (the CLI builds its
 * flags from it; {@link serveOptionsFromEnv} reads the variables). `host` and `port` belong to
 * `startServer`.
 */
export const SERVE_OPTIONS: readonly ServeOptionSpec[] = Object.freeze([
  spec('modelDir', 'string', undefined, 'saved model folder to serve (required)'),
  spec('host', 'string', '127.0.0.1', 'address to listen on (0.0.0.0 for every interface)'),
  spec('port', 'integer', 8080, 'TCP port (0 = any free port)', { minimum: 0, maximum: 65_535 }),
  spec('batching', 'boolean', true, 'coalesce concurrent requests into one model call'),
  spec('maxBatchSize', 'integer', 64, 'most users in one model call', { minimum: 1, maximum: 4096 }),
  spec('maxWaitMs', 'number', 2, 'longest wait (ms) of the oldest waiting request before its batch runs', { minimum: 0, maximum: 10_000 }),
  spec('maxConcurrentBatches', 'integer', 1, 'model calls running at once', { minimum: 1, maximum: 64 }),
  spec('maxQueuedUsers', 'integer', 4096, 'most users waiting for the model (more: 503 OVERLOADED)', { minimum: 1, maximum: 1_000_000 }),
  spec('requestTimeoutMs', 'integer', 10_000, 'longest time (ms) to answer a request (later: 503 REQUEST_TIMEOUT)', { minimum: 1, maximum: 600_000 }),
  spec('maxK', 'integer', 100, 'largest k a request may ask (the model maxK also applies)', { minimum: 1, maximum: 100_000 }),
  spec('maxHistoryLength', 'integer', 1000, 'longest history / exclude list of a request', { minimum: 1, maximum: 1_000_000 }),
  spec('maxBatchUsers', 'integer', 256, 'most users in one POST /v1/recommend/batch request', { minimum: 1, maximum: 100_000 }),
  spec('maxBodyBytes', 'integer', 1_048_576, 'largest request body in bytes (larger: 413)', { minimum: 1024, maximum: 1 << 30 }),
  spec('unknownItems', 'enum', 'reject', "unknown item ids: 'reject' (422) or 'drop' (answered with a warning)", { values: UNKNOWN_ITEMS_POLICIES }),
  spec('threads', 'integer', DEFAULT_THREADS, 'onnxruntime threads per operator (0 = one per physical core; default: logical CPUs minus one, leaving one to the event loop)', { minimum: 0, maximum: 1024 }),
  spec('execution', 'enum', 'worker', "where the model runs: 'worker' (its own thread) or 'main'", { values: EXECUTION_MODES }),
  spec('warmup', 'boolean', true, 'run model calls of each batch size before reporting ready'),
  spec('watchIntervalMs', 'integer', 0, 'poll the model folder CURRENT pointer (ms) and hot-swap new versions; 0 = off', { minimum: 0, maximum: 86_400_000 }),
  spec('drainTimeoutMs', 'integer', 10_000, 'longest wait (ms) for in-flight requests at shutdown', { minimum: 0, maximum: 600_000 }),
  spec('shutdownDelayMs', 'integer', 0, 'at SIGTERM, report not-ready this long (ms) before closing, so load balancers stop sending', { minimum: 0, maximum: 600_000 }),
  spec('logLevel', 'enum', 'info', 'pino log level', { values: LOG_LEVELS }),
  spec('logRequests', 'boolean', false, 'log one line per request'),
]);

/** Prefix of the service's environment variables. */
export const ENV_PREFIX = 'GENREC_SERVE_';

/**
 * Parses one option's text (a flag's or an environment variable's value) into its type.
 *
 * @param option - the option's spec (from {@link SERVE_OPTIONS}).
 * @param text - the text.
 * @param source - where it came from, for the message (`GENREC_SERVE_PORT`, `--port`).
 * @returns the typed value.
 * @throws GenrecError `INVALID_OPTION` naming `source`, the expected form and the text found.
 * @example
 * ```ts
 * const port = parseServeOption(SERVE_OPTIONS.find((o) => o.name === 'port')!, '9000', '--port'); // 9000
 * ```
 */
export function parseServeOption(option: ServeOptionSpec, text: string, source: string): string | number | boolean {
  const fail = (expected: string): never => {
    throw new GenrecError('INVALID_OPTION', `${source} must be ${expected}, got ${JSON.stringify(text.slice(0, 80))}`, { details: { field: source } });
  };
  const trimmed = text.trim();
  switch (option.type) {
    case 'string':
      if (trimmed === '') fail('a non-empty string');
      return trimmed;
    case 'boolean':
      if (/^(1|true|yes|on)$/i.test(trimmed)) return true;
      if (/^(0|false|no|off)$/i.test(trimmed)) return false;
      return fail('true or false (1/0, yes/no, on/off)');
    case 'enum':
      if (!option.values!.includes(trimmed)) fail(`one of ${option.values!.join(', ')}`);
      return trimmed;
    case 'integer':
    case 'number': {
      const value = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(trimmed) ? Number(trimmed) : NaN;
      const integer = option.type === 'integer';
      if (!Number.isFinite(value) || (integer && !Number.isSafeInteger(value)) || value < option.minimum! || value > option.maximum!) {
        fail(`${integer ? 'an integer' : 'a number'} in [${option.minimum}, ${option.maximum}]`);
      }
      return value;
    }
  }
}

/**
 * Reads the service's options from environment variables (`GENREC_SERVE_*`, see
 * {@link SERVE_OPTIONS}). Unset variables are left out; a variable with the prefix that names no
 * option is an error (a typo would otherwise be ignored).
 *
 * @param env - the environment. @defaultValue process.env
 * @returns the options set there.
 * @throws GenrecError `INVALID_OPTION` naming the variable.
 * @example
 * ```ts
 * const options = serveOptionsFromEnv({ GENREC_SERVE_MODEL_DIR: 'runs/model', GENREC_SERVE_PORT: '9000' });
 * // { modelDir: 'runs/model', port: 9000 }
 * ```
 */
export function serveOptionsFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): EnvServeOptions {
  const out: Record<string, string | number | boolean> = {};
  for (const [variable, text] of Object.entries(env)) {
    if (!variable.startsWith(ENV_PREFIX) || text === undefined) continue;
    const option = SERVE_OPTIONS.find((o) => o.env === variable);
    if (option === undefined) {
      throw new GenrecError('INVALID_OPTION', `unknown environment variable ${variable} (known: ${SERVE_OPTIONS.map((o) => o.env).join(', ')})`, { details: { field: variable } });
    }
    out[option.name] = parseServeOption(option, text, variable);
  }
  return out as EnvServeOptions;
}

/** What flags and environment variables can set: `startServer`'s options without the programmatic ones. */
export type EnvServeOptions = Partial<Omit<ServeOptions, 'logStream' | 'loaders' | 'waitUntilReady'>> & { host?: string; port?: number; shutdownDelayMs?: number };

const SERVE_OPTION_NAMES = [
  'modelDir',
  'batching',
  'maxBatchSize',
  'maxWaitMs',
  'maxConcurrentBatches',
  'maxQueuedUsers',
  'requestTimeoutMs',
  'maxK',
  'maxHistoryLength',
  'maxBatchUsers',
  'maxBodyBytes',
  'unknownItems',
  'threads',
  'execution',
  'warmup',
  'watchIntervalMs',
  'drainTimeoutMs',
  'logLevel',
  'logRequests',
  'logStream',
  'loaders',
  'waitUntilReady',
] as const;

/** Names of {@link ServeOptions}. */
export const SERVE_OPTION_KEYS: readonly string[] = SERVE_OPTION_NAMES;

function numeric(options: ServeOptions, name: keyof ServeOptions & string): number {
  const option = SERVE_OPTIONS.find((o) => o.name === name)!;
  const value = options[name] ?? option.defaultValue;
  return option.type === 'integer' ? checkIntegerOption(value, name, option.minimum!, option.maximum!) : checkNumberOption(value, name, option.minimum!, option.maximum!);
}

function flag(options: ServeOptions, name: keyof ServeOptions & string): boolean {
  return checkBooleanOption(options[name] ?? SERVE_OPTIONS.find((o) => o.name === name)?.defaultValue ?? true, name);
}

/**
 * Checks `createServer`'s options and fills in the defaults.
 *
 * @param options - see {@link ServeOptions}.
 * @param extraKeys - further option names the caller accepts (they are not checked here).
 * @returns every option, defaults filled in.
 * @throws GenrecError `INVALID_OPTION` naming the option (unknown names included).
 * @example
 * ```ts
 * resolveServeOptions({ modelDir: 'runs/model' }).maxBatchSize; // 64
 * ```
 */
export function resolveServeOptions(options: ServeOptions, extraKeys: readonly string[] = []): ResolvedServeOptions {
  if (typeof options !== 'object' || options === null) throw new GenrecError('INVALID_OPTION', 'createServer takes an options object with at least modelDir');
  checkKnownOptions(options, [...SERVE_OPTION_KEYS, ...extraKeys], 'createServer');
  if (typeof options.modelDir !== 'string' || options.modelDir.trim() === '') {
    throw new GenrecError('INVALID_OPTION', `modelDir must name a saved model folder, got ${JSON.stringify(options.modelDir)}`, { details: { field: 'modelDir' } });
  }
  if (options.logStream !== undefined && typeof options.logStream?.write !== 'function') {
    throw new GenrecError('INVALID_OPTION', 'logStream must have a write(line) method', { details: { field: 'logStream' } });
  }
  if (options.loaders !== undefined) {
    if (typeof options.loaders !== 'object' || options.loaders === null) throw new GenrecError('INVALID_OPTION', 'loaders must map model kinds to loader functions', { details: { field: 'loaders' } });
    for (const [kind, loader] of Object.entries(options.loaders)) {
      if (typeof loader !== 'function') throw new GenrecError('INVALID_OPTION', `loaders.${kind} must be a function (directory) => Promise<Recommender>`, { details: { field: `loaders.${kind}` } });
    }
  }
  const resolved: ResolvedServeOptions = {
    modelDir: options.modelDir,
    batching: flag(options, 'batching'),
    maxBatchSize: numeric(options, 'maxBatchSize'),
    maxWaitMs: numeric(options, 'maxWaitMs'),
    maxConcurrentBatches: numeric(options, 'maxConcurrentBatches'),
    maxQueuedUsers: numeric(options, 'maxQueuedUsers'),
    requestTimeoutMs: numeric(options, 'requestTimeoutMs'),
    maxK: numeric(options, 'maxK'),
    maxHistoryLength: numeric(options, 'maxHistoryLength'),
    maxBatchUsers: numeric(options, 'maxBatchUsers'),
    maxBodyBytes: numeric(options, 'maxBodyBytes'),
    unknownItems: checkEnumOption(options.unknownItems ?? 'reject', 'unknownItems', UNKNOWN_ITEMS_POLICIES),
    threads: numeric(options, 'threads'),
    execution: checkEnumOption(options.execution ?? (options.loaders !== undefined ? 'main' : 'worker'), 'execution', EXECUTION_MODES),
    warmup: flag(options, 'warmup'),
    watchIntervalMs: numeric(options, 'watchIntervalMs'),
    drainTimeoutMs: numeric(options, 'drainTimeoutMs'),
    logLevel: checkEnumOption(options.logLevel ?? 'info', 'logLevel', LOG_LEVELS),
    logRequests: flag(options, 'logRequests'),
    waitUntilReady: checkBooleanOption(options.waitUntilReady ?? true, 'waitUntilReady'),
  };
  if (resolved.execution === 'worker' && options.loaders !== undefined) {
    throw new GenrecError('INVALID_OPTION', "execution 'worker' cannot use custom loaders (functions do not cross to a worker thread); use execution 'main'", { details: { field: 'execution' } });
  }
  if (options.logStream !== undefined) resolved.logStream = options.logStream;
  if (options.loaders !== undefined) resolved.loaders = options.loaders;
  return resolved;
}
