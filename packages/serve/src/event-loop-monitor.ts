import { PerformanceObserver, monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Histogram } from './metrics.js';

/** Sampling interval of the event-loop delay monitor, in milliseconds. */
export const EVENT_LOOP_RESOLUTION_MS = 1;

/** Length of one event-loop window, in milliseconds. */
export const EVENT_LOOP_WINDOW_MS = 1000;

/** Bucket upper bounds (seconds) of the event-loop delay histogram: 25 ms is the service's target. */
export const EVENT_LOOP_BUCKETS = [0.001, 0.002, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/**
 * Watches the event loop with `perf_hooks.monitorEventLoopDelay` (a libuv timer every
 * {@link EVENT_LOOP_RESOLUTION_MS}: each sample is how late it fired, i.e. how long the loop was
 * blocked). Every window ({@link EVENT_LOOP_WINDOW_MS}) the samples are moved into a Prometheus
 * histogram (seconds, the timer's own interval subtracted) and the window's maximum is kept, so a
 * scraper sees both the distribution since start and the longest block of the last second.
 * Garbage-collection pauses of the main thread (`PerformanceObserver`, entry type `gc`) are kept
 * the same way, so a long block can be told apart: a GC pause as long, or not (then JavaScript
 * ran that long, or the thread was not scheduled).
 */
export class EventLoopMonitor {
  private readonly monitor: IntervalHistogram;
  private timer: NodeJS.Timeout | undefined;
  /** Longest block (ms) of the last completed window. */
  lastWindowMaxMs = 0;
  /** Longest block (ms) since start. */
  maxMs = 0;
  /** Longest garbage-collection pause (ms) of the last completed window. */
  lastWindowGcMaxMs = 0;
  /** Longest garbage-collection pause (ms) since start. */
  gcMaxMs = 0;
  private windowGcMaxMs = 0;
  private readonly gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) this.windowGcMaxMs = Math.max(this.windowGcMaxMs, entry.duration);
  });

  constructor(private readonly histogram: Histogram) {
    this.monitor = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
  }

  /** Starts sampling (the window timer does not keep the process alive). */
  start(): void {
    if (this.timer) return;
    this.monitor.enable();
    this.gcObserver.observe({ entryTypes: ['gc'] });
    this.timer = setInterval(() => this.flush(), EVENT_LOOP_WINDOW_MS);
    this.timer.unref();
  }

  /** Moves the samples gathered so far into the histogram and starts a new window. */
  flush(): void {
    this.lastWindowGcMaxMs = this.windowGcMaxMs;
    this.gcMaxMs = Math.max(this.gcMaxMs, this.windowGcMaxMs);
    this.windowGcMaxMs = 0;
    const count = this.monitor.count;
    if (count === 0) return;
    const toSeconds = (nanoseconds: number) => Math.max(0, nanoseconds / 1e6 - EVENT_LOOP_RESOLUTION_MS) / 1000;
    // the monitor keeps an HDR histogram; its percentile points give the share of samples at or
    // below each bucket bound
    const points = [...this.monitor.percentiles].map(([percentile, value]) => [percentile, toSeconds(value)] as const).sort((a, b) => a[0] - b[0]);
    let previous = 0;
    for (const bound of this.histogram.buckets) {
      let share = 0;
      for (const [percentile, seconds] of points) if (seconds <= bound) share = percentile / 100;
      const atOrBelow = Math.round(share * count);
      if (atOrBelow > previous) {
        this.histogram.observeMany(bound, atOrBelow - previous);
        previous = atOrBelow;
      }
    }
    const maxSeconds = toSeconds(this.monitor.max);
    if (count > previous) this.histogram.observeMany(maxSeconds, count - previous);
    this.lastWindowMaxMs = maxSeconds * 1000;
    this.maxMs = Math.max(this.maxMs, this.lastWindowMaxMs);
    this.monitor.reset();
  }

  /** Stops sampling. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.monitor.disable();
    this.gcObserver.disconnect();
  }
}
