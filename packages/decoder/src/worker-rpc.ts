import { Worker } from 'node:worker_threads';
import { GenrecError } from '@genrec/core';

/** What a worker answers: the request's id, and an error message or the reply's fields. */
export interface WorkerReply {
  id: number;
  error?: string;
}

/**
 * Request/reply over a worker thread started from plain CommonJS source (`eval: true`, so it loads
 * the same way under tsx, vitest and `dist/`). The worker answers every message with
 * `{ id, ...reply }` or `{ id, error }`; a crash rejects every pending request.
 */
export class WorkerRpc<Reply extends WorkerReply> {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (reply: Reply) => void; reject: (error: Error) => void }>();
  #nextId = 0;
  /** Set once the worker stopped (closed, terminated or crashed): requests then fail at once. */
  #stopped: GenrecError | undefined;

  constructor(source: string, workerData: unknown) {
    this.#worker = new Worker(source, { eval: true, workerData });
    this.#worker.on('message', (reply: Reply) => {
      const pending = this.#pending.get(reply.id);
      if (!pending) return;
      this.#pending.delete(reply.id);
      if (reply.error !== undefined) pending.reject(new GenrecError('RUNTIME_ERROR', `onnxruntime worker failed: ${reply.error}`));
      else pending.resolve(reply);
    });
    this.#worker.on('error', (error) => this.#stop(new GenrecError('RUNTIME_ERROR', `onnxruntime worker crashed: ${error.message}`, { cause: error })));
    this.#worker.on('exit', (code) => this.#stop(new GenrecError('RUNTIME_ERROR', `onnxruntime worker stopped (exit code ${code})`)));
  }

  #stop(reason: GenrecError): void {
    this.#stopped ??= reason;
    for (const pending of this.#pending.values()) pending.reject(reason);
    this.#pending.clear();
  }

  /** Sends a message and waits for its reply. @throws GenrecError `RUNTIME_ERROR` once the worker has stopped. */
  request(message: Record<string, unknown>): Promise<Reply> {
    if (this.#stopped) return Promise.reject(this.#stopped);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ ...message, id });
    });
  }

  /** Sends a message that gets no reply (dropped once the worker has stopped). */
  post(message: Record<string, unknown>): void {
    if (!this.#stopped) this.#worker.postMessage({ ...message, id: -1 });
  }

  /**
   * Asks the worker to release its resources (`{ kind: 'close' }`, handled after the requests sent
   * before it), then stops it. Requests sent afterwards fail with `RUNTIME_ERROR`.
   */
  async close(): Promise<void> {
    if (this.#stopped) return;
    const closing = this.request({ kind: 'close' });
    // nothing may follow the close: a request the worker started after it would leave native work
    // in flight when the worker is terminated, and onnxruntime's binding then aborts the process
    this.#stopped = new GenrecError('RUNTIME_ERROR', 'the worker was closed');
    try {
      await closing;
    } finally {
      this.#stop(new GenrecError('RUNTIME_ERROR', 'the worker was closed'));
      await this.#worker.terminate();
    }
  }
}
