import { describe, expect, it } from 'vitest';
import * as serve from './index.js';

describe('@genrec/serve', () => {
  it('exposes its version and its public functions', () => {
    expect(serve.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(serve.PACKAGE_NAME).toBe('@genrec/serve');
    for (const name of ['createServer', 'startServer', 'serveOptionsFromEnv', 'parseServeOption', 'resolveServeOptions', 'openApiDocument', 'routeSpecs', 'MicroBatcher', 'MetricsRegistry']) {
      expect(typeof (serve as Record<string, unknown>)[name], name).toBe('function');
    }
    expect(serve.SERVE_ERROR_STATUS.UNKNOWN_ITEMS).toBe(422);
  });
});
