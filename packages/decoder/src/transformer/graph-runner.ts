import { createRequire } from 'node:module';
import { GenrecError } from '@genrec/core';
import * as ort from 'onnxruntime-node';
import { WorkerRpc, type WorkerReply } from '../worker-rpc.js';

/** A tensor sent to a runner: data and dims, or the key of a value the runner kept. */
export type FeedValue = { readonly dtype: 'float32' | 'int64'; readonly data: Float32Array | BigInt64Array; readonly dims: readonly number[] } | string;

/** One run: inputs, outputs to return, outputs to keep in the runner under keys. */
export interface RunRequest {
  readonly graph: string;
  readonly feeds: Readonly<Record<string, FeedValue>>;
  readonly fetch: readonly string[];
  readonly keep: Readonly<Record<string, string>>;
}

/**
 * Runs named onnxruntime sessions and keeps chosen outputs where they were produced (in this thread
 * or in a worker), so that tensors fed back to later runs (KV caches, encoder outputs) never cross
 * threads.
 */
export interface GraphRunner {
  load(graph: string, bytes: Uint8Array): Promise<void>;
  run(request: RunRequest): Promise<Record<string, Float32Array>>;
  release(keys: readonly string[]): void;
  close(): Promise<void>;
}

/** onnxruntime session options of the runners (threads and spinning). */
export interface RunnerSessionOptions {
  intraOpNumThreads: number;
  allowSpinning: boolean;
}

function sessionOptions(options: RunnerSessionOptions): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: options.intraOpNumThreads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: options.allowSpinning ? '1' : '0' } } },
  };
}

/** Sessions in the calling thread. */
export class LocalGraphRunner implements GraphRunner {
  readonly #sessions = new Map<string, ort.InferenceSession>();
  readonly #kept = new Map<string, ort.Tensor>();
  readonly #options: ort.InferenceSession.SessionOptions;

  constructor(options: RunnerSessionOptions) {
    this.#options = sessionOptions(options);
  }

  async load(graph: string, bytes: Uint8Array): Promise<void> {
    try {
      this.#sessions.set(graph, await ort.InferenceSession.create(bytes, this.#options));
    } catch (error) {
      throw new GenrecError('RUNTIME_ERROR', `onnxruntime could not load the ${graph} graph: ${(error as Error).message}`, { cause: error });
    }
  }

  async run(request: RunRequest): Promise<Record<string, Float32Array>> {
    const session = this.#sessions.get(request.graph);
    if (!session) throw new GenrecError('RUNTIME_ERROR', `graph ${request.graph} is not loaded`);
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, value] of Object.entries(request.feeds)) {
      if (typeof value === 'string') {
        const kept = this.#kept.get(value);
        if (!kept) throw new GenrecError('INVALID_INPUT', `no kept value "${value}" (released, or its session was disposed)`);
        feeds[name] = kept;
      } else feeds[name] = new ort.Tensor(value.dtype, value.data, value.dims as number[]);
    }
    let outputs: ort.InferenceSession.ReturnType;
    try {
      outputs = await session.run(feeds, [...request.fetch, ...Object.keys(request.keep)]);
    } catch (error) {
      throw new GenrecError('RUNTIME_ERROR', `onnxruntime failed to run the ${request.graph} graph: ${(error as Error).message}`, { cause: error });
    }
    for (const [name, key] of Object.entries(request.keep)) this.#kept.set(key, outputs[name]!);
    const result: Record<string, Float32Array> = {};
    for (const name of request.fetch) result[name] = outputs[name]!.data as Float32Array;
    return result;
  }

  release(keys: readonly string[]): void {
    for (const key of keys) this.#kept.delete(key);
  }

  async close(): Promise<void> {
    this.#kept.clear();
    for (const session of this.#sessions.values()) await session.release();
    this.#sessions.clear();
  }
}

/** The worker: plain CommonJS run with `eval: true`, so it loads the same way under tsx, vitest and `dist/`. */
const WORKER_SOURCE = String.raw`
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ortPath);
const sessions = new Map();
const kept = new Map();
// set by close: a message queued after it must never reach a released session (onnxruntime's
// binding aborts the process on a run of a released session)
let closed = false;
async function handle(message) {
  if (closed) throw new Error('the worker was closed');
  if (message.kind === 'load') {
    sessions.set(message.graph, await ort.InferenceSession.create(message.bytes, workerData.sessionOptions));
    return {};
  }
  if (message.kind === 'run') {
    const session = sessions.get(message.graph);
    if (!session) throw new Error('graph ' + message.graph + ' is not loaded');
    const feeds = {};
    for (const [name, value] of Object.entries(message.feeds)) {
      if (typeof value === 'string') {
        const tensor = kept.get(value);
        if (!tensor) throw new Error('no kept value "' + value + '" (released, or its session was disposed)');
        feeds[name] = tensor;
      } else feeds[name] = new ort.Tensor(value.dtype, value.data, value.dims);
    }
    const outputs = await session.run(feeds, [...message.fetch, ...Object.keys(message.keep)]);
    for (const [name, key] of Object.entries(message.keep)) kept.set(key, outputs[name]);
    const result = {};
    for (const name of message.fetch) result[name] = outputs[name].data;
    return { outputs: result };
  }
  if (message.kind === 'release') {
    for (const key of message.keys) kept.delete(key);
    return undefined;
  }
  if (message.kind === 'close') {
    closed = true;
    kept.clear();
    for (const session of sessions.values()) await session.release();
    sessions.clear();
    return {};
  }
  throw new Error('unknown request ' + message.kind);
}
function post(reply) {
  // hand the output buffers over instead of copying them (when onnxruntime's buffers allow it)
  const buffers = reply.outputs ? Object.values(reply.outputs).map((array) => array.buffer) : [];
  try {
    parentPort.postMessage(reply, buffers);
  } catch {
    parentPort.postMessage(reply);
  }
}
// one message at a time, in order: a close never overtakes a run
let queue = Promise.resolve();
parentPort.on('message', (message) => {
  queue = queue.then(() => handle(message)).then(
    (reply) => { if (reply !== undefined) post({ id: message.id, ...reply }); },
    (error) => parentPort.postMessage({ id: message.id, error: String(error && error.message ? error.message : error) }),
  );
});
`;

/** Sessions in a worker thread (its own onnxruntime sessions and threads). */
export class WorkerGraphRunner implements GraphRunner {
  readonly #rpc: WorkerRpc<WorkerReply & { outputs?: Record<string, Float32Array> }>;

  constructor(options: RunnerSessionOptions) {
    this.#rpc = new WorkerRpc(WORKER_SOURCE, { ortPath: createRequire(import.meta.url).resolve('onnxruntime-node'), sessionOptions: sessionOptions(options) });
  }

  async load(graph: string, bytes: Uint8Array): Promise<void> {
    await this.#rpc.request({ kind: 'load', graph, bytes });
  }

  async run(request: RunRequest): Promise<Record<string, Float32Array>> {
    return (await this.#rpc.request({ kind: 'run', ...request })).outputs!;
  }

  release(keys: readonly string[]): void {
    this.#rpc.post({ kind: 'release', keys });
  }

  close(): Promise<void> {
    return this.#rpc.close();
  }
}
