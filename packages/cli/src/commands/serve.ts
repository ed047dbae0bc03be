import { resolve } from 'node:path';
import { GenrecError, readModelManifest, type RecommenderLoader } from '@genrec/core';
import { MODEL_LOADERS } from '@genrec/models';
import { resolveServeOptions, startServer, type ModelInfo, type RunningServer, type StartServerOptions } from '@genrec/serve';
import type { CommandContext, CommandOutcome } from '../context.js';
import { CliError, EXIT_CODES } from '../exit-codes.js';
import { formatDuration } from '../progress/format-event.js';
import { modelFolders } from '../run/model-folders.js';
import { resolveServeFlags, serveFlagValues, type ResolvedServeFlag } from './serve-flags.js';

/** Options of {@link serveCommand}. */
export interface ServeCommandOptions {
  /** The positional `<model>`: a model folder, or a run folder (its first seed's model). */
  model: string | undefined;
  /** yargs' parsed arguments: the service's flags (see `serveFlagOptions`). */
  args: Readonly<Record<string, unknown>>;
}

/** The `--json` document of `genrec serve`, printed once the service has shut down. */
export interface ServeSummary {
  /** Always true (a failure prints the CLI's error document instead). */
  ok: true;
  /** `'serve'`. */
  command: 'serve';
  /** Where it listened (`http://127.0.0.1:8080`). */
  address: string;
  /** The model folder served (a run folder's first seed's `model/`). */
  modelDir: string;
  /** The model loaded at start. */
  model: ModelInfo;
  /** The model served when the shutdown began (another version after a hot swap). */
  modelAtShutdown: ModelInfo;
  /** When the service was ready (ISO time). */
  startedAt: string;
  /** When it had shut down (ISO time). */
  stoppedAt: string;
  /** Why it stopped (`SIGTERM`, `interrupted (Ctrl-C)`, or the abort reason's message). */
  reason: string;
  /** Every option with its value and where it came from (`default`, `env`, `flag`, `argument`). */
  options: Record<string, { value: string | number | boolean | null; source: ResolvedServeFlag['source'] | 'argument' }>;
}

/**
 * Holds the service's log lines until the model is loaded: a folder that cannot be loaded then
 * ends with one error line (the CLI's), not a JSON log record with a stack trace; once loaded, the
 * held lines are written and later ones pass straight through.
 */
class HeldLogStream {
  private held: string[] | undefined = [];
  private dropped = false;

  constructor(private readonly target: { write(text: string): unknown }) {}

  write(line: string): void {
    if (this.dropped) return;
    if (this.held !== undefined) this.held.push(line);
    else this.target.write(line);
  }

  /** Writes the held lines; later lines pass through. */
  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const line of held) this.target.write(line);
  }

  /** Forgets the held lines and every later one. */
  discard(): void {
    this.held = undefined;
    this.dropped = true;
  }
}

/** A loader for the folder's kind when it comes from a registry entry the program added (not one of `@genrec/models`' kinds). */
function extraLoader(context: CommandContext, kind: string): Record<string, RecommenderLoader> | undefined {
  if (Object.hasOwn(MODEL_LOADERS, kind)) return undefined;
  const load = Object.hasOwn(context.registry, kind) ? context.registry[kind]?.load : undefined;
  return load === undefined ? undefined : { [kind]: load };
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, '; ');

/** What a failed start means for the exit code: the address (2) or the model folder (4). */
function startFailure(error: unknown, modelDir: string, host: unknown, port: unknown): Error {
  const code = (error as { code?: unknown } | null)?.code;
  if ((error as { syscall?: unknown } | null)?.syscall === 'listen' || code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
    return new CliError(EXIT_CODES.usage, 'INVALID_OPTION', `cannot listen on ${String(host)} port ${String(port)} (--host, --port): ${messageOf(error)}`, { cause: error, details: { field: 'port' } });
  }
  const errorCode = GenrecError.isInstance(error) ? error.code : 'CORRUPT_ARTIFACT';
  return new CliError(EXIT_CODES.artifact, errorCode, `model folder ${modelDir} could not be loaded: ${messageOf(error)}`, { cause: error });
}

/** The abort reason in words. */
function reasonOf(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason.message;
  return typeof reason === 'string' ? reason : 'aborted';
}

/**
 * `genrec serve [model]`: serves a saved model folder (or a run folder's first model) over HTTP
 * with `@genrec/serve`'s `startServer`, until the command's abort signal fires (the `genrec`
 * binary aborts it on Ctrl-C and SIGTERM): then it drains in-flight requests (after
 * `--shutdown-delay-ms` of answering `/readyz` 503) and returns exit 0. SIGHUP hot-swaps the
 * folder's current version. Options: defaults < `GENREC_SERVE_*` variables (`context.io.env`) <
 * flags. The service's JSON log lines go to stderr (stdout is kept for `--json`'s document), from
 * the moment the model is loaded (`GENREC_DEBUG=1` also prints those of a failed load).
 *
 * @param context - the command context (streams, environment, abort signal, model registry)
 * @param options - the positional `<model>` and the parsed flags
 * @returns exit 0 and the {@link ServeSummary} once shut down
 * @throws GenrecError `INVALID_OPTION` (exit 2) for a bad flag or variable, or an address that
 * cannot be listened on; `CliError` exit 4 for a folder that is missing or cannot be loaded
 * @example
 * ```ts
 * const controller = new AbortController();
 * const code = runCli(['serve', 'runs/markov', '--port', '0'], { signal: controller.signal });
 * controller.abort(); // later: drains, then `await code` is 0
 * ```
 */
export async function serveCommand(context: CommandContext, options: ServeCommandOptions): Promise<CommandOutcome> {
  const { io } = context;
  const flags = serveFlagValues(options.args);
  const resolved = resolveServeFlags(io.env, flags);
  if (options.model !== undefined && flags.modelDir !== undefined) {
    throw new GenrecError('INVALID_OPTION', 'give the model folder once: as <model> or as --model-dir, not both', { details: { field: 'model-dir' } });
  }
  const target = options.model ?? (resolved['modelDir']!.value as string | undefined);
  if (target === undefined) {
    throw new GenrecError('INVALID_OPTION', 'give the model folder to serve: genrec serve <model> (a model folder or a run folder), or --model-dir / GENREC_SERVE_MODEL_DIR', { details: { field: 'model' } });
  }
  const { folders } = modelFolders(resolve(io.cwd, target)); // exit 4 when missing
  const modelDir = folders[0]!.path;
  let kind: string;
  try {
    kind = readModelManifest(modelDir).manifest.model;
  } catch (error) {
    throw startFailure(error, modelDir, undefined, undefined);
  }
  const loaders = extraLoader(context, kind);
  // what the environment and the flags set; the service fills in its own defaults
  const set: Record<string, unknown> = {};
  for (const [name, { value, source }] of Object.entries(resolved)) if (source !== 'default' && name !== 'modelDir') set[name] = value;
  const { host, port, shutdownDelayMs, ...service } = set;
  resolveServeOptions({ ...service, modelDir, ...(loaders === undefined ? {} : { loaders }) } as Parameters<typeof resolveServeOptions>[0]); // exit 2 before listening
  const logs = new HeldLogStream(io.stderr);
  const startOptions = { ...set, modelDir, logStream: logs, handleSignals: false, ...(loaders === undefined ? {} : { loaders }) } as StartServerOptions;
  let running: RunningServer;
  try {
    running = await startServer(startOptions);
  } catch (error) {
    if (io.env['GENREC_DEBUG'] === '1') logs.release();
    else logs.discard();
    throw startFailure(error, modelDir, host ?? '127.0.0.1', port ?? 8080);
  }
  logs.release();
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const model = running.server.modelInfo()!;
  io.stderr.write(`genrec serve: listening on ${running.address} (model ${model.kind} ${model.version})\n`);

  let modelAtShutdown = model;
  let reason = '';
  let stopping: Promise<void> | undefined;
  const onAbort = (): void => {
    reason = reasonOf(context.signal);
    modelAtShutdown = running.server.modelInfo() ?? modelAtShutdown;
    io.stderr.write(`genrec serve: shutting down (${reason}): draining in-flight requests\n`);
    // close() runs once: stop() below waits for this same shutdown (with its delay) and then resolves `closed`
    running.server.close({ delayMs: (shutdownDelayMs as number | undefined) ?? 0 }).catch(() => {});
    stopping = running.stop();
    stopping.catch(() => {}); // awaited below, once `closed` resolves
  };
  const onHangup = (): void => {
    io.stderr.write('genrec serve: SIGHUP: reloading the model folder\n');
    running.server.swapModel().then(
      (info) => io.stderr.write(`genrec serve: now serving model ${info.kind} ${info.version}\n`),
      (error: unknown) => io.stderr.write(`genrec serve: reload failed, the previous model keeps serving: ${messageOf(error)}\n`),
    );
  };
  process.on('SIGHUP', onHangup);
  if (context.signal.aborted) onAbort();
  else context.signal.addEventListener('abort', onAbort, { once: true });
  try {
    await running.closed;
  } finally {
    process.off('SIGHUP', onHangup);
    context.signal.removeEventListener('abort', onAbort);
  }
  await stopping; // a failed shutdown is the command's error
  io.stderr.write(`genrec serve: shut down after ${formatDuration(performance.now() - started)}\n`);

  const effective = running.server.options as unknown as Record<string, unknown>;
  const summaryOptions: ServeSummary['options'] = {};
  for (const [name, { value, source }] of Object.entries(resolved)) {
    if (name === 'modelDir') summaryOptions[name] = { value: modelDir, source: options.model === undefined ? source : 'argument' };
    else {
      const shown = (source === 'default' && name in effective ? effective[name] : value) as string | number | boolean | undefined;
      summaryOptions[name] = { value: shown ?? null, source };
    }
  }
  const summary: ServeSummary = { ok: true, command: 'serve', address: running.address, modelDir, model, modelAtShutdown, startedAt, stoppedAt: new Date().toISOString(), reason, options: summaryOptions };
  return { exitCode: EXIT_CODES.ok, json: summary };
}
