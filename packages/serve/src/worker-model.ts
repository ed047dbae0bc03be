import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { GenrecError, toHistoryBatch, type GenrecErrorCode, type Histories, type ModelDescription, type RecommendOptions, type Recommendations, type ScoreScale } from '@genrec/core';
import type { ServedModel } from './served-model.js';

/** What the worker is started with. */
export interface WorkerInit {
  modelDir: string;
  threads: number;
  maxBatchSize: number;
  warmup: boolean;
}

/** Messages to the worker. */
export type WorkerRequest =
  | { type: 'recommend'; id: number; offsets: Int32Array; items: Int32Array; excludeOffsets?: Int32Array; excludeItems?: Int32Array; k: number; excludeHistory: boolean }
  | { type: 'dispose'; id: number };

/** Messages from the worker. */
export type WorkerReply =
  | { type: 'ready'; kind: string; itemCount: number; maxK: number; scoreScale: ScoreScale; retiredItems: number[]; description: Record<string, unknown> }
  | { type: 'fatal'; message: string; code?: string; details?: Record<string, unknown> }
  | { type: 'result'; id: number; size: number; k: number; items: Int32Array; scores: Float32Array; lengths: Int32Array }
  | { type: 'error'; id: number; message: string; code?: string; details?: Record<string, unknown> }
  | { type: 'disposed'; id: number };

function toError(reply: { message: string; code?: string; details?: Record<string, unknown> }): Error {
  if (reply.code !== undefined) {
    // the message already ends with its location suffix; details are kept for the HTTP mapping
    const error = new GenrecError(reply.code as GenrecErrorCode, reply.message);
    Object.assign(error.details, reply.details ?? {});
    return error;
  }
  return new GenrecError('RUNTIME_ERROR', `the model worker failed: ${reply.message}`);
}

// The worker entry: compiled `model-worker.js` next to this file, or the TypeScript source when
// running from source (tests, tsx), loaded through tsx's ESM hooks with the workspace's source
// condition. Started through a small CommonJS bootstrap (`eval: true`) so that the hooks are
// registered inside the worker before its entry is imported.
const fromSource = import.meta.url.endsWith('.ts');
const ENTRY = new URL(fromSource ? './model-worker.ts' : './model-worker.js', import.meta.url).href;
const BOOTSTRAP = `
const { workerData, parentPort } = require('node:worker_threads');
(async () => {
  if (workerData.tsx) (await import(workerData.tsx)).register();
  await import(workerData.entry);
})().catch((error) => {
  parentPort.postMessage({ type: 'fatal', message: String((error && error.stack) || error) });
  process.exit(1);
});`;

/**
 * A model running in its own worker thread: the event loop of the service only posts histories
 * and receives rows (typed arrays, transferred), so model compute never blocks HTTP handling.
 * Implements what the service needs of a `Recommender`.
 */
export class WorkerModel implements ServedModel {
  readonly kind: string;
  readonly itemCount: number;
  readonly maxK: number;
  readonly scoreScale: ScoreScale;
  readonly retiredItems: Int32Array;
  private readonly description: ModelDescription;
  private readonly pending = new Map<number, { resolve: (reply: WorkerReply) => void; reject: (error: Error) => void }>();
  private nextId = 0;
  private stopped: Error | undefined;
  private crashListener: ((error: Error) => void) | undefined;

  private constructor(
    private readonly worker: Worker,
    ready: Extract<WorkerReply, { type: 'ready' }>,
  ) {
    this.kind = ready.kind;
    this.itemCount = ready.itemCount;
    this.maxK = ready.maxK;
    this.scoreScale = ready.scoreScale;
    this.retiredItems = Int32Array.from(ready.retiredItems);
    this.description = ready.description as ModelDescription;
    worker.on('message', (reply: WorkerReply) => {
      if (reply.type !== 'result' && reply.type !== 'error' && reply.type !== 'disposed') return;
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (reply.type === 'error') waiter.reject(toError(reply));
      else waiter.resolve(reply);
    });
    const stop = (error: Error) => {
      if (this.stopped) return;
      this.stopped = error;
      for (const waiter of this.pending.values()) waiter.reject(error);
      this.pending.clear();
      this.crashListener?.(error);
    };
    worker.on('error', (error) => stop(new GenrecError('RUNTIME_ERROR', `the model worker crashed: ${error.message}`, { cause: error })));
    worker.on('exit', (code) => stop(new GenrecError('RUNTIME_ERROR', `the model worker stopped (exit code ${code})`)));
  }

  /**
   * Starts a worker that loads `modelDir` (with `@genrec/models`' loaders) and warms it.
   *
   * @throws GenrecError what loading throws (`NOT_FOUND`, `FORMAT_VERSION`, `CORRUPT_ARTIFACT`…), re-created from the worker's.
   */
  static start(init: WorkerInit): Promise<WorkerModel> {
    const workerData: WorkerInit & { entry: string; tsx?: string } = { ...init, entry: ENTRY };
    // tsx's ESM API (its `import` build: the CommonJS one misresolves its own files when the
    // parent itself runs under tsx)
    if (fromSource) workerData.tsx = pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist', 'esm', 'api', 'index.mjs')).href;
    const worker = new Worker(BOOTSTRAP, { eval: true, workerData, ...(fromSource ? { execArgv: ['--conditions=@genrec/source'] } : {}) });
    return new Promise((resolve, reject) => {
      const onMessage = (reply: WorkerReply) => {
        if (reply.type === 'ready') {
          cleanup();
          resolve(new WorkerModel(worker, reply));
        } else if (reply.type === 'fatal') {
          cleanup();
          void worker.terminate();
          reject(toError(reply));
        }
      };
      const onError = (error: Error) => {
        cleanup();
        reject(new GenrecError('RUNTIME_ERROR', `the model worker failed to start: ${error.message}`, { cause: error }));
      };
      const onExit = (code: number) => {
        cleanup();
        reject(new GenrecError('RUNTIME_ERROR', `the model worker exited (code ${code}) before the model was loaded`));
      };
      const cleanup = () => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
    });
  }

  /** Called once if the worker stops while in use (a crash); pending calls are rejected. */
  onCrash(listener: (error: Error) => void): void {
    this.crashListener = listener;
  }

  private request(message: WorkerRequest, transfer: ArrayBuffer[]): Promise<WorkerReply> {
    if (this.stopped) return Promise.reject(this.stopped);
    return new Promise((resolve, reject) => {
      this.pending.set(message.id, { resolve, reject });
      this.worker.postMessage(message, transfer);
    });
  }

  async recommend(histories: Histories, options: RecommendOptions): Promise<Recommendations> {
    if (options.filter !== undefined || options.userIds !== undefined) throw new GenrecError('UNSUPPORTED', 'a model in a worker thread takes no filter or userIds');
    const batch = toHistoryBatch(histories, this.itemCount);
    // fresh copies: their buffers are transferred to the worker
    const offsets = Int32Array.from(batch.offsets);
    const items = Int32Array.from(batch.items);
    const message: WorkerRequest = { type: 'recommend', id: this.nextId++, offsets, items, k: options.k, excludeHistory: options.excludeHistory ?? true };
    const transfer: ArrayBuffer[] = [offsets.buffer, items.buffer];
    if (options.exclude !== undefined && options.exclude.some((list) => list !== undefined && list.length > 0)) {
      const excludeOffsets = new Int32Array(options.exclude.length + 1);
      options.exclude.forEach((list, u) => (excludeOffsets[u + 1] = excludeOffsets[u]! + (list?.length ?? 0)));
      const excludeItems = new Int32Array(excludeOffsets[options.exclude.length]!);
      options.exclude.forEach((list, u) => list !== undefined && excludeItems.set(Array.from(list), excludeOffsets[u]!));
      message.excludeOffsets = excludeOffsets;
      message.excludeItems = excludeItems;
      transfer.push(excludeOffsets.buffer, excludeItems.buffer);
    }
    const reply = (await this.request(message, transfer)) as Extract<WorkerReply, { type: 'result' }>;
    return { size: reply.size, k: reply.k, items: reply.items, scores: reply.scores, lengths: reply.lengths };
  }

  describe(): ModelDescription {
    return this.description;
  }

  /** Releases the model in the worker, then stops the worker. */
  async dispose(): Promise<void> {
    if (this.stopped) return;
    this.crashListener = undefined;
    try {
      await this.request({ type: 'dispose', id: this.nextId++ }, []);
    } catch {
      // stopped meanwhile
    }
    this.stopped = new GenrecError('RUNTIME_ERROR', 'the model was released');
    await this.worker.terminate();
  }
}
