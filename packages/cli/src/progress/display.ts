import cliProgress from 'cli-progress';
import type { ProgressCallback, ProgressEvent } from '@genrec/core';
import { epochDetail, formatDuration, formatEventLine } from './format-event.js';

/** How progress is shown: bars (a terminal), plain lines (a pipe or file), or nothing. */
export type ProgressMode = 'bars' | 'plain' | 'none';

/** A writable text stream (stderr) and whether it is a terminal. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Shows progress events as bars or lines, and copies every line to the logs added. */
export interface ProgressDisplay {
  /** The mode in use. */
  readonly mode: ProgressMode;
  /** A callback showing the events of one step, labelled `label` (`train sasrec seed 42`). */
  callback(label: string): ProgressCallback;
  /** A message (printed above the bars; copied to the logs). */
  line(text: string): void;
  /** Adds a sink of every plain line (a run folder's `log.txt`); returns its removal. */
  addLog(write: (line: string) => void): () => void;
  /** Stops the bars (call before printing results to stdout). */
  close(): void;
}

/** Options of {@link createProgressDisplay}. */
export interface ProgressDisplayOptions {
  /** `auto`: bars when both stderr and stdout are terminals, plain lines otherwise; `bars` on a stream that is not a terminal gives plain lines. */
  mode: 'auto' | ProgressMode;
  /** Where progress goes (stderr). */
  stream: ProgressStream;
  /** Whether stdout is a terminal (`auto` shows plain lines when it is not, e.g. piped). */
  stdoutIsTTY: boolean;
  /** Least time between two plain lines of the same task's progress. @defaultValue 2000 */
  plainIntervalMs?: number;
  /** Clock (tests). */
  now?: () => number;
}

interface BarPayload {
  label: string;
  task: string;
  count: string;
  detail: string;
  eta: string;
}

const BAR_WIDTH = 24;

function renderBar(options: cliProgress.Options, params: cliProgress.Params, payload: BarPayload): string {
  const progress = Math.max(0, Math.min(1, params.progress));
  const filled = Math.round(progress * BAR_WIDTH);
  const bar = `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}`;
  const parts = [`${payload.label} ${payload.task}`, `${bar} ${String(Math.round(progress * 100)).padStart(3)}%`, payload.count];
  if (payload.detail) parts.push(payload.detail);
  parts.push(`${formatDuration(Date.now() - params.startTime)}${payload.eta ? `, eta ${payload.eta}` : ''}`);
  const text = parts.join(' | ');
  const width = (options as { maxWidth?: number }).maxWidth ?? params.maxWidth;
  return width > 10 && text.length > width - 1 ? `${text.slice(0, width - 2)}…` : text;
}

/**
 * Creates the progress display of a command.
 *
 * @param options - the mode and the stream
 * @returns the display
 * @example
 * ```ts
 * const display = createProgressDisplay({ mode: 'auto', stream: process.stderr, stdoutIsTTY: process.stdout.isTTY === true });
 * await fitSasrec(data, { onProgress: display.callback('train sasrec') });
 * display.close();
 * ```
 */
export function createProgressDisplay(options: ProgressDisplayOptions): ProgressDisplay {
  // bars need a terminal to draw on: asked for on a pipe, they become plain lines
  const requested = options.mode === 'auto' ? (options.stdoutIsTTY ? 'bars' : 'plain') : options.mode;
  const mode: ProgressMode = requested === 'bars' && options.stream.isTTY !== true ? 'plain' : requested;
  const now = options.now ?? (() => performance.now());
  const interval = options.plainIntervalMs ?? 2000;
  const logs = new Set<(line: string) => void>();
  const lastPlain = new Map<string, number>();
  const started = new Map<string, number>();
  let multibar: cliProgress.MultiBar | undefined;
  const bars = new Map<string, cliProgress.SingleBar>();

  const toLogs = (text: string): void => {
    for (const log of logs) log(text);
  };
  const print = (text: string): void => {
    if (mode === 'none') return;
    if (multibar !== undefined) multibar.log(`${text}\n`); // flushed above the bars at the next redraw
    else options.stream.write(`${text}\n`);
  };
  const emit = (text: string): void => {
    toLogs(text);
    print(text);
  };

  const bar = (key: string, total: number, value: number, payload: BarPayload): cliProgress.SingleBar => {
    multibar ??= new cliProgress.MultiBar(
      { stream: options.stream as NodeJS.WritableStream, format: renderBar as cliProgress.GenericFormatter, hideCursor: true, clearOnComplete: true, fps: 8, noTTYOutput: false, forceRedraw: false, linewrap: false, gracefulExit: false },
      cliProgress.Presets.rect,
    );
    let existing = bars.get(key);
    if (existing === undefined) {
      existing = multibar.create(Math.max(1, total), value, payload);
      bars.set(key, existing);
    } else {
      existing.setTotal(Math.max(1, total));
      existing.update(value, payload);
    }
    return existing;
  };
  const removeBar = (key: string): void => {
    const existing = bars.get(key);
    if (existing !== undefined && multibar !== undefined) {
      multibar.remove(existing);
      bars.delete(key);
    }
  };

  const onEvent = (label: string, event: ProgressEvent): void => {
    const key = event.type === 'fit-start' || event.type === 'epoch-end' || event.type === 'fit-end' ? `${label}\u0000fit` : `${label}\u0000${event.task}`;
    const time = now();
    if (event.type === 'task-progress') {
      const last = lastPlain.get(key);
      if (last === undefined || time - last >= interval) {
        lastPlain.set(key, time);
        toLogs(formatEventLine(event, label));
        if (mode === 'plain') print(formatEventLine(event, label));
      }
    } else if (event.type === 'task-start') {
      lastPlain.set(key, time);
      started.set(key, time);
      toLogs(formatEventLine(event, label));
      if (mode === 'plain') print(formatEventLine(event, label));
    } else {
      if (event.type === 'task-end' || event.type === 'fit-end') lastPlain.delete(key);
      if (event.type === 'fit-start') started.set(key, time);
      if (mode === 'bars' && event.type !== 'fit-start') removeBarIfEnded(key, event);
      emit(formatEventLine(event, label));
    }
    if (mode !== 'bars') return;
    if (event.type === 'task-start' || event.type === 'task-progress') {
      const since = started.get(key) ?? time;
      const total = event.total;
      const eta = total !== undefined && event.done > 0 && total > event.done ? formatDuration(((time - since) * (total - event.done)) / event.done) : '';
      const counted = total === undefined ? `${event.done}${event.unit ? ` ${event.unit}` : ''}` : `${event.done}/${total}${event.unit ? ` ${event.unit}` : ''}`;
      bar(key, total ?? Math.max(1, event.done), event.done, { label, task: event.task, count: counted, detail: event.message ?? '', eta });
    } else if (event.type === 'fit-start') {
      bar(key, event.epochs, event.startEpoch, { label, task: `epochs (${event.model})`, count: `${event.startEpoch}/${event.epochs} epochs`, detail: `${event.stepsPerEpoch} steps each`, eta: '' });
    } else if (event.type === 'epoch-end') {
      bar(key, event.epochs, event.epoch, { label, task: 'epochs', count: `${event.epoch}/${event.epochs} epochs`, detail: epochDetail(event), eta: formatDuration(event.etaMs) });
    }
  };
  function removeBarIfEnded(key: string, event: ProgressEvent): void {
    if (event.type === 'task-end' || event.type === 'fit-end') removeBar(key);
  }

  return {
    mode,
    callback: (label) => (event) => onEvent(label, event),
    line: emit,
    addLog(write) {
      logs.add(write);
      return () => logs.delete(write);
    },
    close() {
      if (multibar !== undefined) {
        for (const key of [...bars.keys()]) removeBar(key);
        multibar.update(); // flushes the lines logged since the last redraw
        multibar.stop();
        multibar = undefined;
      }
    },
  };
}
