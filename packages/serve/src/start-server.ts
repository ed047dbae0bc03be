import { checkIntegerOption, checkKnownOptions, GenrecError } from '@genrec/core';
import { SERVE_OPTION_KEYS, resolveServeOptions, type ServeOptions } from './options.js';
import { createServer, type GenrecServer } from './server.js';

/** Options of {@link startServer}: the service's options plus where to listen and how to stop. */
export interface StartServerOptions extends ServeOptions {
  /** Address to listen on. @defaultValue '127.0.0.1' */
  host?: string;
  /** TCP port (0 = any free port). @defaultValue 8080 */
  port?: number;
  /**
   * Handle SIGTERM / SIGINT (graceful shutdown, then `process.exitCode` 0) and SIGHUP (hot swap of
   * `modelDir`'s current version). @defaultValue true
   */
  handleSignals?: boolean;
  /**
   * At SIGTERM / SIGINT, answer `/readyz` 503 for this long (ms) before closing, so a load
   * balancer stops routing here first. @defaultValue 0
   */
  shutdownDelayMs?: number;
}

/** A started service (see {@link startServer}). */
export interface RunningServer {
  /** The service. */
  server: GenrecServer;
  /** Where it listens (`http://127.0.0.1:8080`). */
  address: string;
  /** Shuts down gracefully (what SIGTERM does); resolves when done. */
  stop(): Promise<void>;
  /** Resolves when the service has shut down (by `stop()` or a signal). */
  closed: Promise<void>;
}

const START_KEYS = ['host', 'port', 'handleSignals', 'shutdownDelayMs'];

/**
 * Starts the service the way `genrec serve` does: listens first (so `/healthz` answers and
 * `/readyz` says 503 while the model loads), then loads and warms the model, and installs signal
 * handlers: SIGTERM / SIGINT drain and shut down; SIGHUP reloads `modelDir` (hot swap). Give it
 * options from flags merged over `serveOptionsFromEnv()`.
 *
 * @param options - see {@link StartServerOptions}.
 * @returns the running server once the model is ready.
 * @throws GenrecError `INVALID_OPTION`; the model's load error (the server is closed first).
 * @example
 * ```ts
 * const { address, stop } = await startServer({ ...serveOptionsFromEnv(), modelDir: 'runs/model', port: 0 });
 * console.log(`listening on ${address}`);
 * await stop();
 * ```
 */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  checkKnownOptions(options, [...SERVE_OPTION_KEYS, ...START_KEYS], 'startServer');
  const { host = '127.0.0.1', port = 8080, handleSignals = true, shutdownDelayMs = 0, ...serveOptions } = options;
  if (typeof host !== 'string' || host.trim() === '') throw new GenrecError('INVALID_OPTION', `host must be an address, got ${JSON.stringify(host)}`, { details: { field: 'host' } });
  checkIntegerOption(port, 'port', 0, 65_535);
  checkIntegerOption(shutdownDelayMs, 'shutdownDelayMs', 0, 600_000);
  resolveServeOptions(serveOptions); // fail on bad options before listening
  const server = await createServer({ ...serveOptions, waitUntilReady: false });
  let address: string;
  try {
    address = await server.listen({ host, port });
    await server.ready;
  } catch (error) {
    await server.close().catch(() => {});
    throw error;
  }
  let stopping: Promise<void> | undefined;
  let notifyClosed: () => void = () => {};
  const closed = new Promise<void>((resolve) => (notifyClosed = resolve));
  const listeners: [NodeJS.Signals, () => void][] = [];
  const stop = (delayMs = 0): Promise<void> => {
    stopping ??= (async () => {
      try {
        await server.close({ delayMs });
      } finally {
        for (const [signal, listener] of listeners) process.off(signal, listener);
        notifyClosed();
      }
    })();
    return stopping;
  };
  if (handleSignals) {
    const onStop = (signal: NodeJS.Signals) => () => {
      server.app.log.info({ signal }, 'signal received: shutting down');
      stop(shutdownDelayMs).then(
        () => {
          process.exitCode ??= 0;
        },
        (error: unknown) => {
          server.app.log.error({ err: error }, 'shutdown failed');
          process.exitCode = 1;
        },
      );
    };
    const onReload = () => {
      server.app.log.info('SIGHUP: reloading the model folder');
      server.swapModel().catch(() => {}); // logged by swapModel; the old model keeps serving
    };
    listeners.push(['SIGTERM', onStop('SIGTERM')], ['SIGINT', onStop('SIGINT')], ['SIGHUP', onReload]);
    for (const [signal, listener] of listeners) process.on(signal, listener);
  }
  return { server, address, stop: () => stop(0), closed };
}
