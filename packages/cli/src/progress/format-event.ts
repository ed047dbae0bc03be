import type { ProgressEvent } from '@genrec/core';

/**
 * Seconds or minutes as `4.2 s`, `3 min 05 s`, `1 h 02 min`.
 *
 * @param ms - a duration in milliseconds
 * @returns the text
 * @example
 * ```ts
 * formatDuration(185_000); // '3 min 05 s'
 * ```
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${String(Math.round(seconds - 60 * minutes)).padStart(2, '0')} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/**
 * `loss 5.4530 · ndcg@10 0.2762 · recall@10 0.4026` of an epoch-end event.
 *
 * @example
 * ```ts
 * epochDetail(event); // 'loss 5.4530 · ndcg@10 0.2762'
 * ```
 */
export function epochDetail(event: Extract<ProgressEvent, { type: 'epoch-end' }>): string {
  const parts = [`loss ${event.loss.toFixed(4)}`];
  for (const [name, value] of Object.entries(event.validation ?? {})) parts.push(`${name} ${value.toFixed(4)}`);
  return parts.join(' · ');
}

const count = (done: number, total: number | undefined, unit: string | undefined): string => {
  const amount = total === undefined ? `${done}` : `${done}/${total}`;
  const percent = total !== undefined && total > 0 ? ` (${Math.round((100 * done) / total)}%)` : '';
  const units = unit === undefined ? '' : unit === 'bytes' ? ' bytes' : ` ${unit}`;
  return `${amount}${units}${percent}`;
};

/**
 * One plain-text line for an event (what `genrec` prints when stdout is not a terminal, and what
 * every run folder's `log.txt` holds). `label` names what the event belongs to (`train sasrec seed 42`).
 *
 * @param event - a progress event
 * @param label - the step it belongs to
 * @returns the line, without a line break
 * @example
 * ```ts
 * formatEventLine({ type: 'task-end', task: 'evaluate', done: 5000, total: 5000, unit: 'users', elapsedMs: 1200 }, 'sasrec');
 * // '[sasrec] evaluate done: 5000/5000 users (100%) in 1.2 s'
 * ```
 */
export function formatEventLine(event: ProgressEvent, label: string): string {
  const prefix = `[${label}]`;
  switch (event.type) {
    case 'task-start':
      return `${prefix} ${event.task} started${event.total === undefined ? '' : `: ${count(0, event.total, event.unit)}`}${event.message ? ` — ${event.message}` : ''}`;
    case 'task-progress':
      return `${prefix} ${event.task} ${count(event.done, event.total, event.unit)}${event.message ? ` — ${event.message}` : ''}`;
    case 'task-end':
      return `${prefix} ${event.task} done: ${count(event.done, event.total, event.unit)} in ${formatDuration(event.elapsedMs)}${event.message ? ` — ${event.message}` : ''}`;
    case 'fit-start':
      return `${prefix} training ${event.model}: ${event.epochs} epoch${event.epochs === 1 ? '' : 's'} x ${event.stepsPerEpoch} step${event.stepsPerEpoch === 1 ? '' : 's'}${event.startEpoch > 0 ? `, resuming after epoch ${event.startEpoch}` : ''}`;
    case 'epoch-end':
      return `${prefix} epoch ${event.epoch}/${event.epochs} ${epochDetail(event)}${event.best ? ' (best)' : ''} · elapsed ${formatDuration(event.elapsedMs)} · eta ${formatDuration(event.etaMs)}`;
    case 'fit-end':
      return `${prefix} training stopped by ${event.stoppedBy} after ${event.epochs} epoch${event.epochs === 1 ? '' : 's'}; kept epoch ${event.bestEpoch} · ${formatDuration(event.elapsedMs)}`;
  }
}
