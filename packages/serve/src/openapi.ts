import { ERROR_SCHEMA, type JsonSchema, type RouteSpec } from './route-schemas.js';
import { version } from './version.js';

const REASONS: Record<number, string> = {
  200: 'OK',
  400: 'Invalid request (malformed JSON, wrong types, k out of range, oversized lists)',
  404: 'Not found',
  413: 'Body too large',
  415: 'Unsupported media type',
  422: 'Unknown item ids (policy reject), or external ids without an id map',
  500: 'Internal error (a model failure; never bad input)',
  503: 'Not ready, overloaded, timed out or shutting down',
};

function parametersOf(route: RouteSpec): JsonSchema[] {
  const out: JsonSchema[] = [];
  for (const [where, schema] of [
    ['path', route.schema.params],
    ['query', route.schema.querystring],
  ] as const) {
    if (!schema) continue;
    const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
    const required = (schema.required ?? []) as string[];
    for (const [name, property] of Object.entries(properties)) {
      out.push({ name, in: where, required: where === 'path' || required.includes(name), schema: property, ...(property.description ? { description: property.description } : {}) });
    }
  }
  return out;
}

/**
 * The OpenAPI 3.1 document of the service, generated from the routes' own validating schemas
 * (the request bodies, parameters and answers are the very objects fastify compiles).
 *
 * @param routes - the route list (`routeSpecs(limits)`).
 * @returns the document (JSON-serialisable).
 * @example
 * ```ts
 * const document = openApiDocument(routeSpecs({ maxK: 100, maxHistoryLength: 1000, maxBatchUsers: 256 }));
 * console.log(Object.keys(document.paths));
 * ```
 */
export function openApiDocument(routes: readonly RouteSpec[]): { openapi: string; info: JsonSchema; paths: Record<string, Record<string, JsonSchema>>; components: JsonSchema } {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    const path = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const responses: Record<string, JsonSchema> = {};
    for (const [status, schema] of Object.entries(route.schema.response)) {
      const type = Number(status) === 200 && route.contentType ? route.contentType : 'application/json';
      responses[status] = { description: REASONS[Number(status)] ?? 'answer', content: { [type]: { schema: schema === ERROR_SCHEMA ? { $ref: '#/components/schemas/Error' } : schema } } };
    }
    const operation: JsonSchema = {
      operationId: route.operationId,
      summary: route.summary,
      description: route.description,
      tags: route.tags,
      responses,
    };
    const parameters = parametersOf(route);
    if (parameters.length > 0) operation.parameters = parameters;
    if (route.schema.body) operation.requestBody = { required: true, content: { 'application/json': { schema: route.schema.body } } };
    (paths[path] ??= {})[route.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'genrec recommendation service',
      version,
      description: 'Recommendations from a saved genrec model (@genrec/serve). Item ids are internal ids 1..itemCount or the source data external ids.',
    },
    paths,
    components: { schemas: { Error: ERROR_SCHEMA } },
  };
}
