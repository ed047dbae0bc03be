import { availableParallelism } from 'node:os';
import { GenrecError } from '@genrec/core';
import { LocalGraphRunner, WorkerGraphRunner, type FeedValue, type GraphRunner } from './graph-runner.js';

/** Options shared by the step models that run their own graphs. */
export interface RunnerPoolOptions {
  /** Worker threads (0: sessions in the calling thread). @defaultValue the number of cores */
  workers?: number;
  /** onnxruntime intra-op threads per runner. @defaultValue 1 */
  intraOpNumThreads?: number;
  /** Let onnxruntime's threads spin while waiting for work. @defaultValue true */
  allowSpinning?: boolean;
}

/**
 * @internal Checks the runner options (before anything is allocated).
 *
 * @throws GenrecError `INVALID_OPTION` naming the bad option.
 */
export function checkRunnerPoolOptions(options: RunnerPoolOptions): Required<RunnerPoolOptions> {
  const workers = options.workers ?? availableParallelism();
  if (!Number.isInteger(workers) || workers < 0) throw new GenrecError('INVALID_OPTION', `workers must be a non-negative integer, got ${workers}`, { details: { field: 'workers' } });
  const intraOpNumThreads = options.intraOpNumThreads ?? 1;
  if (!Number.isInteger(intraOpNumThreads) || intraOpNumThreads < 1) {
    throw new GenrecError('INVALID_OPTION', `intraOpNumThreads must be a positive integer, got ${intraOpNumThreads}`, { details: { field: 'intraOpNumThreads' } });
  }
  const allowSpinning = options.allowSpinning ?? true;
  if (typeof allowSpinning !== 'boolean') throw new GenrecError('INVALID_OPTION', `allowSpinning must be true or false, got ${String(allowSpinning)}`, { details: { field: 'allowSpinning' } });
  return { workers, intraOpNumThreads, allowSpinning };
}

/**
 * @internal The runners of a step model (worker threads or the calling thread), the graphs each
 * has loaded (built once, on first use), and the work each is busy with.
 */
export class RunnerPool {
  readonly #runners: GraphRunner[];
  readonly #build: (name: string) => Uint8Array;
  readonly #graphs = new Map<string, Uint8Array>();
  readonly #loaded: Array<Map<string, Promise<void>>>;
  /** Estimated work of the sessions open on each runner. */
  readonly #load: Float64Array;
  #disposed = false;

  private constructor(runners: GraphRunner[], build: (name: string) => Uint8Array) {
    this.#runners = runners;
    this.#build = build;
    this.#loaded = runners.map(() => new Map());
    this.#load = new Float64Array(runners.length);
  }

  /**
   * Checks the options, starts the runners and loads `preload` into each.
   *
   * @throws GenrecError `INVALID_OPTION` for a bad option; `RUNTIME_ERROR` when a graph cannot be loaded.
   */
  static async create(options: RunnerPoolOptions, build: (name: string) => Uint8Array, preload: readonly string[]): Promise<RunnerPool> {
    const { workers, intraOpNumThreads, allowSpinning } = checkRunnerPoolOptions(options);
    const runnerOptions = { intraOpNumThreads, allowSpinning };
    const runners: GraphRunner[] = workers === 0 ? [new LocalGraphRunner(runnerOptions)] : Array.from({ length: workers }, () => new WorkerGraphRunner(runnerOptions));
    const pool = new RunnerPool(runners, build);
    try {
      await Promise.all(runners.flatMap((_, index) => preload.map((name) => pool.ensure(index, name))));
    } catch (error) {
      await Promise.allSettled(runners.map((runner) => runner.close()));
      throw error;
    }
    return pool;
  }

  /** Number of runners. */
  get size(): number {
    return this.#runners.length;
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /** Loads graph `name` into runner `index` once (building it on first use). */
  ensure(index: number, name: string): Promise<void> {
    if (this.#disposed) return Promise.reject(new GenrecError('INVALID_INPUT', 'the model was disposed'));
    const loaded = this.#loaded[index]!;
    let pending = loaded.get(name);
    if (pending === undefined) {
      let bytes = this.#graphs.get(name);
      if (bytes === undefined) {
        bytes = this.#build(name);
        this.#graphs.set(name, bytes);
      }
      pending = this.#runners[index]!.load(name, bytes);
      pending.catch(() => loaded.delete(name));
      loaded.set(name, pending);
    }
    return pending;
  }

  /** Runs graph `name` on runner `index` (loading it on first use); `keep` maps outputs to keys kept in the runner. */
  async run(index: number, name: string, feeds: Record<string, FeedValue>, fetch: readonly string[], keep: Record<string, string>): Promise<Record<string, Float32Array>> {
    await this.ensure(index, name); // rejects once disposed
    // disposed while this waited: the runner's close may already be queued ahead of this run
    if (this.#disposed) throw new GenrecError('INVALID_INPUT', 'the model was disposed');
    return this.#runners[index]!.run({ graph: name, feeds, fetch, keep });
  }

  /** The runner with the least work; `work` is added to it. */
  assign(work: number): number {
    let index = 0;
    for (let r = 1; r < this.#runners.length; r++) if (this.#load[r]! < this.#load[index]!) index = r;
    this.#load[index]! += work;
    return index;
  }

  /** Drops kept values of a finished session and its share of the runner's work. */
  endSession(index: number, keys: readonly string[], work: number): void {
    this.release(index, keys);
    this.#load[index]! -= work;
  }

  /** Drops kept values in runner `index`. */
  release(index: number, keys: readonly string[]): void {
    if (keys.length > 0 && !this.#disposed) this.#runners[index]!.release(keys);
  }

  /** Stops the runners. */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await Promise.all(this.#runners.map((runner) => runner.close()));
  }
}
