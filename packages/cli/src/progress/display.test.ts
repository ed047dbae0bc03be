import { describe, expect, it } from 'vitest';
import type { ProgressEvent } from '@genrec/core';
import { createProgressDisplay } from './display.js';
import { formatDuration, formatEventLine } from './format-event.js';

const events: ProgressEvent[] = [
  { type: 'fit-start', model: 'sasrec', epochs: 3, stepsPerEpoch: 40, startEpoch: 0 },
  { type: 'epoch-end', epoch: 1, epochs: 3, loss: 7.03281, validation: { 'ndcg@10': 0.10571 }, best: true, elapsedMs: 4400, etaMs: 8800, progress: 1 / 3 },
  { type: 'task-start', task: 'evaluate', done: 0, total: 300, unit: 'users' },
  { type: 'task-progress', task: 'evaluate', done: 100, total: 300, unit: 'users' },
  { type: 'task-progress', task: 'evaluate', done: 200, total: 300, unit: 'users' },
  { type: 'task-end', task: 'evaluate', done: 300, total: 300, unit: 'users', elapsedMs: 1234 },
  { type: 'fit-end', epochs: 3, bestEpoch: 2, stoppedBy: 'abort', elapsedMs: 13000 },
];

describe('formatEventLine', () => {
  it('writes one readable line per event', () => {
    expect(events.map((event) => formatEventLine(event, 'train sasrec'))).toEqual([
      '[train sasrec] training sasrec: 3 epochs x 40 steps',
      '[train sasrec] epoch 1/3 loss 7.0328 · ndcg@10 0.1057 (best) · elapsed 4.4 s · eta 8.8 s',
      '[train sasrec] evaluate started: 0/300 users (0%)',
      '[train sasrec] evaluate 100/300 users (33%)',
      '[train sasrec] evaluate 200/300 users (67%)',
      '[train sasrec] evaluate done: 300/300 users (100%) in 1.2 s',
      '[train sasrec] training stopped by abort after 3 epochs; kept epoch 2 · 13.0 s',
    ]);
  });

  it('formats durations', () => {
    expect(formatDuration(4_420)).toBe('4.4 s');
    expect(formatDuration(185_000)).toBe('3 min 05 s');
    expect(formatDuration(3_720_000)).toBe('1 h 02 min');
    expect(formatDuration(Number.NaN)).toBe('?');
  });
});

describe('createProgressDisplay', () => {
  const capture = (isTTY: boolean) => {
    let text = '';
    return { stream: { write: (chunk: string) => (text += chunk), isTTY, columns: 120 }, text: () => text };
  };

  it('plain lines when stdout is not a terminal, task progress throttled; every line to the logs', () => {
    const out = capture(true);
    let time = 0;
    const display = createProgressDisplay({ mode: 'auto', stream: out.stream, stdoutIsTTY: false, now: () => time, plainIntervalMs: 1000 });
    expect(display.mode).toBe('plain');
    const log: string[] = [];
    display.addLog((line) => log.push(line));
    const callback = display.callback('train sasrec');
    for (const [index, event] of events.entries()) {
      time = index === 4 ? 500 : index * 1000; // the second progress event comes 500 ms after the first: held back
      callback(event);
    }
    display.line('done');
    display.close();
    const lines = out.text().trimEnd().split('\n');
    expect(lines).toEqual([...events.filter((_, index) => index !== 4).map((event) => formatEventLine(event, 'train sasrec')), 'done']);
    expect(log).toEqual(lines);
  });

  it('bars in a terminal: an epoch bar with loss, validation and ETA, a task bar, lines above them', async () => {
    const out = capture(true);
    const display = createProgressDisplay({ mode: 'auto', stream: out.stream, stdoutIsTTY: true });
    expect(display.mode).toBe('bars');
    const log: string[] = [];
    display.addLog((line) => log.push(line));
    const callback = display.callback('train sasrec');
    callback(events[0]!);
    callback(events[1]!);
    callback(events[2]!);
    callback(events[3]!);
    await new Promise((resolve) => setTimeout(resolve, 300)); // a redraw (8 per second)
    const drawn = out.text();
    expect(drawn).toMatch(/train sasrec epochs \| █+░+ +33% \| 1\/3 epochs \| loss 7\.0328 · ndcg@10 0\.1057 \| 0\.\d s, eta 8\.8 s/);
    expect(drawn).toMatch(/train sasrec evaluate \| █+░+ +33% \| 100\/300 users/);
    expect(drawn).toContain('\u001b['); // cursor movement
    callback(events[5]!);
    callback(events[6]!);
    display.close();
    expect(out.text()).toContain('[train sasrec] epoch 1/3 loss 7.0328'); // the epoch line printed above the bars
    expect(out.text()).toContain('[train sasrec] training stopped by abort');
    // the log gets the same plain lines as plain mode (no bar frames; progress within 2 s of the start held back)
    expect(log).toEqual([0, 1, 2, 5, 6].map((index) => formatEventLine(events[index]!, 'train sasrec')));
  });

  it('bars asked for on a pipe are plain lines (nothing is lost)', () => {
    const out = capture(false);
    const display = createProgressDisplay({ mode: 'bars', stream: out.stream, stdoutIsTTY: true });
    expect(display.mode).toBe('plain');
    display.callback('x')(events[0]!);
    display.close();
    expect(out.text()).toBe(`${formatEventLine(events[0]!, 'x')}\n`);
  });

  it('none: nothing on the stream, still every line to the logs', () => {
    const out = capture(true);
    const display = createProgressDisplay({ mode: 'none', stream: out.stream, stdoutIsTTY: true });
    const log: string[] = [];
    display.addLog((line) => log.push(line));
    for (const event of events) display.callback('x')(event);
    display.close();
    expect(out.text()).toBe('');
    expect(log).toEqual([0, 1, 2, 5, 6].map((index) => formatEventLine(events[index]!, 'x'))); // progress within 2 s of the start held back
  });
});
