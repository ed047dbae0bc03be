import { describe, expect, it } from 'vitest';
import { progressReporter, throttleProgress, type ProgressEvent } from './progress.js';

describe('progress', () => {
  it('throttles progress events but always passes start, the last progress and end', () => {
    let time = 0;
    const seen: ProgressEvent[] = [];
    const onProgress = throttleProgress((event) => seen.push(event), 100, () => time);
    onProgress({ type: 'task-start', task: 'fit', done: 0, total: 10 });
    for (let done = 1; done <= 10; done++) {
      time += 30;
      onProgress({ type: 'task-progress', task: 'fit', done, total: 10 });
    }
    onProgress({ type: 'task-end', task: 'fit', done: 10, total: 10, elapsedMs: 300 });
    expect(seen.map((e) => `${e.type}:${'done' in e ? e.done : ''}`)).toEqual(['task-start:0', 'task-progress:1', 'task-progress:5', 'task-progress:9', 'task-progress:10', 'task-end:10']);
  });

  it('reporter emits typed start/progress/end events for one task', () => {
    const seen: ProgressEvent[] = [];
    const reporter = progressReporter((e) => seen.push(e), 'read', { total: 3, unit: 'lines' });
    reporter.start();
    reporter.update(2);
    reporter.end(3);
    expect(seen.map((e) => ('task' in e ? [e.type, e.task, e.done, e.total, e.unit] : []))).toEqual([
      ['task-start', 'read', 0, 3, 'lines'],
      ['task-progress', 'read', 2, 3, 'lines'],
      ['task-end', 'read', 3, 3, 'lines'],
    ]);
    const end = seen[2]!;
    expect(end.type === 'task-end' && end.elapsedMs >= 0).toBe(true);
  });
});
