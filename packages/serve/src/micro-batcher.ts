import { GenrecError, type Recommendations } from '@genrec/core';
import { HttpError } from './http-error.js';

/** One user's question to the model, validated and mapped to internal item ids. */
export interface UserQuery {
  /** Item ids `1 .. itemCount`, oldest first. */
  history: Int32Array;
  /** Further items to exclude. */
  exclude: Int32Array | undefined;
  /** Items wanted. */
  k: number;
  /** Exclude the history's items. */
  excludeHistory: boolean;
}

/** One user's answer: real entries only, best first. */
export interface UserAnswer {
  items: Int32Array;
  scores: Float32Array;
}

/** Runs one model call for users that share `k` and `excludeHistory`. */
export type BatchRunner = (queries: readonly UserQuery[]) => Promise<Recommendations>;

/** Options of {@link MicroBatcher}. */
export interface MicroBatcherOptions {
  /** Coalesce concurrent queries (false: every query is its own model call, run at once). */
  enabled: boolean;
  /** Most users in one model call. */
  maxBatchSize: number;
  /** Longest time the oldest waiting query waits for others before its batch runs (ms). */
  maxWaitMs: number;
  /** Model calls running at once. */
  maxConcurrentBatches: number;
  /** Most users waiting; more is refused with `OVERLOADED`. */
  maxQueued: number;
  /** Called after each model call with its size and duration (ms). */
  onBatch?: (size: number, milliseconds: number) => void;
}

interface Entry {
  query: UserQuery;
  key: string;
  enqueuedAt: number;
  state: 'queued' | 'running' | 'done' | 'cancelled';
  resolve: (answer: UserAnswer) => void;
  reject: (error: unknown) => void;
}

/** How long a peak of concurrent users counts for the batch target (ms). */
const LOAD_WINDOW_MS = 1000;

function keyOf(query: UserQuery): string {
  return `${query.k}|${query.excludeHistory ? 1 : 0}`;
}

/**
 * Coalesces concurrent queries into model calls: queries wait until as many users are waiting as
 * were in the batcher at once during the last second (at most `maxBatchSize`: a lone client is
 * not kept waiting) or the oldest has waited `maxWaitMs` — counted from its arrival or from the
 * end of the last model call, whichever is later — and at least until the end of the event-loop
 * turn it arrived in (so `maxWaitMs: 0` still coalesces requests that arrived together); then the
 * oldest query's group (same `k` and
 * `excludeHistory`) runs as one `recommend` call of up to `maxBatchSize` users, at most
 * `maxConcurrentBatches` calls at a time, and each row goes back to its query. Queries are
 * validated before they get here; if a call still fails, its queries are retried one by one so
 * that one query's failure never fails the others.
 *
 * @example
 * ```ts
 * const batcher = new MicroBatcher((queries) => model.recommend(queries.map((q) => q.history), { k: queries[0]!.k }), {
 *   enabled: true, maxBatchSize: 64, maxWaitMs: 2, maxConcurrentBatches: 1, maxQueued: 4096,
 * });
 * const [answer] = await batcher.submit([{ history: Int32Array.of(3, 7), exclude: undefined, k: 10, excludeHistory: true }]);
 * ```
 */
export class MicroBatcher {
  private queue: Entry[] = [];
  private queuedUsers = 0;
  private runningBatches = 0;
  private runningUsers = 0;
  private timer: NodeJS.Timeout | undefined;
  private draining = false;
  private lastCallEnd = -Infinity;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly run: BatchRunner,
    private readonly options: MicroBatcherOptions,
  ) {}

  /** Users waiting for a batch. */
  get queued(): number {
    return this.queuedUsers;
  }

  /** Model calls running now. */
  get running(): number {
    return this.runningBatches;
  }

  /** Users in running model calls. */
  get inFlightUsers(): number {
    return this.runningUsers;
  }

  /**
   * Answers queries (each row in the order given). Rejects with `OVERLOADED` at once when the
   * queue is full. When `signal` aborts (a timeout, a client gone), the promise rejects at once
   * with the signal's reason: queries still waiting leave the queue, rows of a running call are
   * dropped.
   */
  submit(queries: readonly UserQuery[], signal?: AbortSignal): Promise<UserAnswer[]> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (!this.options.enabled) return abortable(Promise.all(queries.map((query) => this.runDirect(query))), signal, () => {});
    if (this.queuedUsers + queries.length > this.options.maxQueued) {
      return Promise.reject(new HttpError('OVERLOADED', `the service is overloaded: ${this.queuedUsers} users are waiting (maxQueuedUsers ${this.options.maxQueued}); retry later`, { retryAfterSeconds: 1 }));
    }
    const now = performance.now();
    const entries: Entry[] = [];
    const promises = queries.map(
      (query) =>
        new Promise<UserAnswer>((resolve, reject) => {
          entries.push({ query, key: keyOf(query), enqueuedAt: now, state: 'queued', resolve, reject });
        }),
    );
    for (const entry of entries) this.queue.push(entry);
    this.queuedUsers += entries.length;
    const all = abortable(Promise.all(promises), signal, () => {
      for (const entry of entries) {
        if (entry.state === 'queued') this.queuedUsers--;
        if (entry.state === 'queued' || entry.state === 'running') entry.state = 'cancelled';
      }
      this.notifyIdle();
    });
    this.noteLoad();
    // a full batch runs now; otherwise wait for the end of this event-loop turn at least, so that
    // every request parsed in the same I/O phase joins the batch (then maxWaitMs applies)
    if (this.queuedUsers >= this.options.maxBatchSize) this.schedule();
    else this.scheduleSoon();
    return all;
  }

  /** Most users waiting or running at once lately (see {@link MicroBatcher.target}). */
  private peakInSystem = 0;
  private peakAt = -Infinity;

  private noteLoad(): void {
    const inSystem = this.queuedUsers + this.runningUsers;
    const now = performance.now();
    if (inSystem >= this.peakInSystem || now - this.peakAt > LOAD_WINDOW_MS) {
      this.peakInSystem = inSystem;
      this.peakAt = now;
    }
  }

  /**
   * The batch size worth waiting for: the most users that were in the batcher at once during the
   * last second (capped by maxBatchSize). A lone client (1) is served without waiting; 64
   * concurrent clients wait (at most maxWaitMs) until all 64 are back.
   */
  private target(): number {
    return Math.min(this.options.maxBatchSize, Math.max(1, this.peakInSystem));
  }

  private immediate: NodeJS.Immediate | undefined;

  private scheduleSoon(): void {
    if (this.immediate !== undefined) return;
    this.immediate = setImmediate(() => {
      this.immediate = undefined;
      this.schedule();
    });
  }

  /** Without coalescing: each query is its own model call, started at once (concurrent one-user batches). */
  private async runDirect(query: UserQuery): Promise<UserAnswer> {
    this.runningBatches++;
    this.runningUsers++;
    const started = performance.now();
    try {
      return rowOf(await this.run([query]), 0);
    } finally {
      this.runningBatches--;
      this.runningUsers--;
      this.options.onBatch?.(1, performance.now() - started);
      this.notifyIdle();
    }
  }

  /** Runs whatever is due; arms the timer for the oldest query otherwise. */
  private schedule(): void {
    while (this.runningBatches < this.options.maxConcurrentBatches) {
      while (this.queue.length > 0 && this.queue[0]!.state !== 'queued') this.queue.shift();
      const oldest = this.queue[0];
      if (oldest === undefined) {
        this.queue = [];
        break;
      }
      // the wait counts from the oldest query's arrival, or from the end of the last call when that
      // is later: after a long call, the clients it answered get maxWaitMs to send their next
      // requests, so concurrent streams merge into one batch instead of alternating halves
      const waited = performance.now() - Math.max(oldest.enqueuedAt, this.lastCallEnd);
      if (!this.draining && this.queuedUsers < this.target() && waited < this.options.maxWaitMs) {
        if (this.timer === undefined) {
          this.timer = setTimeout(() => {
            this.timer = undefined;
            this.schedule();
          }, this.options.maxWaitMs - waited);
        }
        return;
      }
      const batch: Entry[] = [];
      const rest: Entry[] = [];
      for (const entry of this.queue) {
        if (entry.state !== 'queued') continue;
        if (batch.length < this.options.maxBatchSize && entry.key === oldest.key) batch.push(entry);
        else rest.push(entry);
      }
      this.queue = rest;
      for (const entry of batch) entry.state = 'running';
      this.queuedUsers -= batch.length;
      void this.runBatch(batch);
    }
    if (this.timer !== undefined && this.queue.length === 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.notifyIdle();
  }

  private async runBatch(batch: Entry[]): Promise<void> {
    this.runningBatches++;
    this.runningUsers += batch.length;
    const started = performance.now();
    try {
      let result: Recommendations | undefined;
      let failure: unknown;
      try {
        result = await this.run(batch.map((entry) => entry.query));
      } catch (error) {
        failure = error;
      }
      this.options.onBatch?.(batch.length, performance.now() - started);
      if (result !== undefined) {
        batch.forEach((entry, row) => settle(entry, () => rowOf(result, row)));
      } else if (batch.length === 1) {
        settle(batch[0]!, () => {
          throw failure;
        });
      } else {
        // isolate the failure: every query alone, so only the faulty one fails
        for (const entry of batch) {
          try {
            const alone = await this.run([entry.query]);
            settle(entry, () => rowOf(alone, 0));
          } catch (error) {
            settle(entry, () => {
              throw error;
            });
          }
        }
      }
    } finally {
      this.runningBatches--;
      this.runningUsers -= batch.length;
      this.lastCallEnd = performance.now();
      this.schedule();
    }
  }

  /**
   * Runs every waiting query without waiting for more, and resolves once no query waits and no
   * model call runs (new queries submitted meanwhile are served too).
   */
  async drain(): Promise<void> {
    this.draining = true;
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.schedule();
    if (this.isIdle()) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return this.queuedUsers === 0 && this.runningBatches === 0;
  }

  private notifyIdle(): void {
    if (!this.isIdle() || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

/** `promise`, or its rejection with `signal.reason` as soon as `signal` aborts (after `onAbort`). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined, onAbort: () => void): Promise<T> {
  if (signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    const abort = () => {
      onAbort();
      reject(signal.reason);
    };
    signal.addEventListener('abort', abort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(error);
      },
    );
  });
}

function settle(entry: Entry, answer: () => UserAnswer): void {
  if (entry.state !== 'running') return; // cancelled (timed out) while running: nobody waits for it
  entry.state = 'done';
  try {
    entry.resolve(answer());
  } catch (error) {
    entry.reject(error);
  }
}

function rowOf(result: Recommendations, row: number): UserAnswer {
  if (row >= result.size) throw new GenrecError('RUNTIME_ERROR', `the model answered ${result.size} rows for a batch that needs row ${row}`);
  const length = result.lengths[row]!;
  const from = row * result.k;
  return { items: result.items.slice(from, from + length), scores: result.scores.slice(from, from + length) };
}
