/**
 * An HTTP recommendation service for any saved genrec model: validation, micro-batching, metrics, hot swap.
 *
 * @packageDocumentation
 * @module @genrec/serve
 */

export { PACKAGE_NAME, version } from './version.js';
export {
  createServer,
  type BatchRecommendRequest,
  type BatchRecommendResponse,
  type GenrecServer,
  type ModelReference,
  type RecommendRequest,
  type RecommendResponse,
  type RecommendedItem,
} from './server.js';
export { startServer, type RunningServer, type StartServerOptions } from './start-server.js';
export {
  DEFAULT_THREADS,
  ENV_PREFIX,
  EXECUTION_MODES,
  LOG_LEVELS,
  SERVE_OPTIONS,
  UNKNOWN_ITEMS_POLICIES,
  parseServeOption,
  resolveServeOptions,
  serveOptionsFromEnv,
  type EnvServeOptions,
  type ExecutionMode,
  type LogLevel,
  type ResolvedServeOptions,
  type ServeOptionSpec,
  type ServeOptions,
  type UnknownItemsPolicy,
} from './options.js';
export { SERVE_ERROR_STATUS, type ErrorBody, type ServeErrorCode, type UnknownItem } from './http-error.js';
export type { AnswerWarning } from './resolve-user.js';
export type { ModelInfo } from './model-slot.js';
export { openApiDocument } from './openapi.js';
export { routeSpecs, type JsonSchema, type RouteSpec, type SchemaLimits } from './route-schemas.js';
export { MicroBatcher, type BatchRunner, type MicroBatcherOptions, type UserAnswer, type UserQuery } from './micro-batcher.js';
export { MetricsRegistry, Counter, Gauge, Histogram, PROMETHEUS_CONTENT_TYPE, type Labels } from './metrics.js';
