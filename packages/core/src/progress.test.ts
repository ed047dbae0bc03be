import { describe, expect, it } from 'vitest';
import { progressReporter, throttleProgress, type ProgressEvent } from './progress.js';

describe('progress', () => {
  it('throttles progress events but always passes start, the last progress and end', () => {
    let time = 0;
    const seen: ProgressEvent[] = [];
    const onProgress = throttleProgress((event) => seen.push(event), 100, () => time);
    onProgress({ type: 'start', task: 'fit', done: 0, total: 10 });
    for (let done = 1; done <= 10; done++) {
      time += 30;
      onProgress({ type: 'progress', task: 'fit', done, total: 10 });
    }
    onProgress({ type: 'end', task: 'fit', done: 10, total: 10, elapsedMs: 300 });
    expect(seen.map((e) => `${e.type}:${e.done}`)).toEqual(['start:0', 'progress:1', 'progress:5', 'progress:9', 'progress:10', 'end:10']);
  });

  it('reporter emits typed start/progress/end events for one task', () => {
    const seen: ProgressEvent[] = [];
    const reporter = progressReporter((e) => seen.push(e), 'read', { total: 3, unit: 'lines' });
    reporter.start();
    reporter.update(2);
    reporter.end(3);
    expect(seen.map((e) => [e.type, e.task, e.done, e.total, e.unit])).toEqual([
      ['start', 'read', 0, 3, 'lines'],
      ['progress', 'read', 2, 3, 'lines'],
      ['end', 'read', 3, 3, 'lines'],
    ]);
    const end = seen[2]!;
    expect(end.type === 'end' && end.elapsedMs >= 0).toBe(true);
  });
});
