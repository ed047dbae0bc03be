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

  constructor(source: string, workerData: unknown) {
    this.#worker = new Worker(source, { eval: true, workerData });
    this.#worker.on('message', (reply: Reply) => {
      const pending = this.#pending.get(reply.id);
      if (!pending) return;
      this.#pending.delete(reply.id);
      if (reply.error !== undefined) pending.reject(new GenrecError('RUNTIME_ERROR', `onnxruntime worker failed: ${reply.error}`));
      else pending.resolve(reply);
    });
    this.#worker.on('error', (error) => {
      for (const pending of this.#pending.values()) pending.reject(new GenrecError('RUNTIME_ERROR', `onnxruntime worker crashed: ${error.message}`, { cause: error }));
      this.#pending.clear();
    });
  }

  /** Sends a message and waits for its reply. */
  request(message: Record<string, unknown>): Promise<Reply> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ ...message, id });
    });
  }

  /** Sends a message that gets no reply. */
  post(message: Record<string, unknown>): void {
    this.#worker.postMessage({ ...message, id: -1 });
  }

  /** Asks the worker to release its resources (`{ kind: 'close' }`), then stops it. */
  async close(): Promise<void> {
    await this.request({ kind: 'close' });
    await this.#worker.terminate();
  }
}
