/** Fields every progress event carries. */
interface ProgressEventBase {
  /** Which long-running task this is about, e.g. `'read-sequences'`, `'epoch'`, `'level-fit'`. */
  task: string;
  /** Units of work done so far. */
  done: number;
  /** Units of work in all, when known. */
  total?: number;
  /** Unit of `done`/`total` (`'lines'`, `'steps'`, `'items'`…). */
  unit?: string;
  /** Free-form human text. */
  message?: string;
  /** Extra numbers worth showing (loss, learning rate…). */
  metrics?: Record<string, number>;
}

/**
 * Progress of one long task (reading a file, a k-means level, decoding users): one `task-start`,
 * any number of `task-progress`, one `task-end`.
 */
export type TaskEvent =
  | (ProgressEventBase & { type: 'task-start' })
  | (ProgressEventBase & { type: 'task-progress' })
  | (ProgressEventBase & { type: 'task-end'; elapsedMs: number });

/** Emitted once when a model's `fit` starts training. */
export interface FitStartEvent {
  type: 'fit-start';
  /** The model kind, e.g. `'sasrec'`. */
  model: string;
  /** The epoch budget. */
  epochs: number;
  /** Training steps in one epoch. */
  stepsPerEpoch: number;
  /** Epochs already done when resuming from a checkpoint (0 for a fresh run). */
  startEpoch: number;
}

/** Emitted after every training epoch (and its validation, when there is one). */
export interface EpochEndEvent {
  type: 'epoch-end';
  /** 1-based epoch number. */
  epoch: number;
  /** The epoch budget. */
  epochs: number;
  /** Mean training loss of the epoch (finite). */
  loss: number;
  /** Validation metrics of this epoch (e.g. `{ 'ndcg@10': 0.05 }`), when validated. */
  validation?: Record<string, number>;
  /** Whether this epoch is the best so far on the early-stopping metric (always true without validation). */
  best: boolean;
  /** Learning rate at the end of the epoch. */
  learningRate?: number;
  /** Wall time since `fit-start`, ms. */
  elapsedMs: number;
  /** Estimated time to the end of the epoch budget, ms. */
  etaMs: number;
  /** Share of the epoch budget done, in (0, 1], increasing from event to event. */
  progress: number;
}

/** Emitted once when `fit` returns. */
export interface FitEndEvent {
  type: 'fit-end';
  /** Epochs trained (including resumed ones). */
  epochs: number;
  /** The epoch whose weights the returned model holds. */
  bestEpoch: number;
  /** Why training stopped. */
  stoppedBy: 'epochs' | 'early-stopping' | 'abort';
  /** Wall time of the whole fit, ms. */
  elapsedMs: number;
}

/**
 * Every event a genrec `onProgress` callback receives, as one discriminated union on `type`
 * (noun-verb names): task events for any long step, and fit events for model training.
 *
 * @example
 * ```ts
 * const onProgress = (event: ProgressEvent) => {
 *   if (event.type === 'epoch-end') console.log(event.epoch, event.loss, event.validation);
 *   else if (event.type === 'task-progress') console.log(event.task, event.done, event.total);
 * };
 * ```
 */
export type ProgressEvent = TaskEvent | FitStartEvent | EpochEndEvent | FitEndEvent;

/** The callback long-running functions accept as their `onProgress` option. */
export type ProgressCallback = (event: ProgressEvent) => void;

/**
 * Wraps a callback so `task-progress` events reach it at most once per `intervalMs` per task; every
 * other event passes, and so does the last `task-progress` before its `task-end`.
 *
 * @example
 * ```ts
 * const onProgress = throttleProgress((e) => console.log(e.task, e.done, e.total), 250);
 * ```
 */
export function throttleProgress(
  callback: ProgressCallback,
  intervalMs = 200,
  now: () => number = () => performance.now(),
): ProgressCallback {
  const lastEmitted = new Map<string, number>();
  const pending = new Map<string, ProgressEvent>();
  return (event) => {
    if (event.type === 'task-progress') {
      const time = now();
      const last = lastEmitted.get(event.task);
      if (last !== undefined && time - last < intervalMs) {
        pending.set(event.task, event);
        return;
      }
      lastEmitted.set(event.task, time);
      pending.delete(event.task);
      callback(event);
      return;
    }
    if (event.type === 'task-end') {
      const held = pending.get(event.task);
      if (held) callback(held);
      pending.delete(event.task);
      lastEmitted.delete(event.task);
    }
    callback(event);
  };
}

/**
 * A small helper for emitting the three task events (`task-start`, `task-progress`, `task-end`) of one task.
 *
 * @example
 * ```ts
 * const progress = progressReporter(options.onProgress, 'read-sequences', { unit: 'lines' });
 * progress.start(); progress.update(100); progress.end();
 * ```
 */
export function progressReporter(
  callback: ProgressCallback | undefined,
  task: string,
  fields: { total?: number; unit?: string } = {},
): { start(message?: string): void; update(done: number, extra?: Partial<ProgressEventBase>): void; end(done?: number, extra?: Partial<ProgressEventBase>): void } {
  const startedAt = performance.now();
  let lastDone = 0;
  const base = (done: number, extra: Partial<ProgressEventBase> = {}): ProgressEventBase => ({ task, done, ...fields, ...extra });
  return {
    start(message) {
      callback?.({ type: 'task-start', ...base(0, message === undefined ? {} : { message }) });
    },
    update(done, extra) {
      lastDone = done;
      callback?.({ type: 'task-progress', ...base(done, extra) });
    },
    end(done = lastDone, extra) {
      callback?.({ type: 'task-end', ...base(done, extra), elapsedMs: performance.now() - startedAt });
    },
  };
}
