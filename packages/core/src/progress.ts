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
 * Progress of long work, as a discriminated union on `type`: one `start`, any number of
 * `progress`, one `end` per task.
 */
export type ProgressEvent =
  | (ProgressEventBase & { type: 'start' })
  | (ProgressEventBase & { type: 'progress' })
  | (ProgressEventBase & { type: 'end'; elapsedMs: number });

/** The callback long-running functions accept as their `onProgress` option. */
export type ProgressCallback = (event: ProgressEvent) => void;

/**
 * Wraps a callback so `progress` events reach it at most once per `intervalMs`; `start` and `end`
 * events always pass, and so does the last `progress` before an `end`.
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
    if (event.type === 'progress') {
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
    if (event.type === 'end') {
      const held = pending.get(event.task);
      if (held) callback(held);
      pending.delete(event.task);
      lastEmitted.delete(event.task);
    }
    callback(event);
  };
}

/**
 * A small helper for emitting the three kinds of event for one task.
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
      callback?.({ type: 'start', ...base(0, message === undefined ? {} : { message }) });
    },
    update(done, extra) {
      lastDone = done;
      callback?.({ type: 'progress', ...base(done, extra) });
    },
    end(done = lastDone, extra) {
      callback?.({ type: 'end', ...base(done, extra), elapsedMs: performance.now() - startedAt });
    },
  };
}
