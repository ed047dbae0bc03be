/**
 * A small Prometheus registry: counters, gauges and histograms with labels, written in the
 * Prometheus text exposition format (version 0.0.4). Only what the service needs; no dependency.
 */

/** Label names and values of one series. */
export type Labels = Readonly<Record<string, string>>;

interface Metric {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  write(lines: string[]): void;
}

const NAME_PATTERN = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** Escapes a label value for the text format (backslash, double quote, newline). */
function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labelText(labels: Labels, extra?: [string, string]): string {
  const parts = Object.keys(labels)
    .sort()
    .map((key) => `${key}="${escapeLabelValue(labels[key]!)}"`);
  if (extra) parts.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

function labelKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((key) => `${key}\u0000${labels[key]}`)
    .join('\u0001');
}

/** Formats a sample value: integers as they are, `+Inf`/`-Inf`/`NaN` as Prometheus spells them. */
export function formatSampleValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** A monotonically increasing count per label set. */
export class Counter implements Metric {
  readonly type = 'counter' as const;
  private readonly series = new Map<string, { labels: Labels; value: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  /** Adds `amount` (default 1) to the series of `labels`. */
  inc(labels: Labels = {}, amount = 1): void {
    const key = labelKey(labels);
    const entry = this.series.get(key);
    if (entry) entry.value += amount;
    else this.series.set(key, { labels, value: amount });
  }

  /** The current value of one series (0 when never incremented). */
  get(labels: Labels = {}): number {
    return this.series.get(labelKey(labels))?.value ?? 0;
  }

  write(lines: string[]): void {
    for (const { labels, value } of this.series.values()) lines.push(`${this.name}${labelText(labels)} ${formatSampleValue(value)}`);
  }
}

/** A value that goes up and down, set directly or read from a callback at scrape time. */
export class Gauge implements Metric {
  private readonly series = new Map<string, { labels: Labels; value: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly collect?: () => number | readonly { labels: Labels; value: number }[],
    /** `'counter'` for a total read from elsewhere at scrape time (process CPU seconds). */
    readonly type: 'gauge' | 'counter' = 'gauge',
  ) {}

  /** Sets the series of `labels`. */
  set(value: number, labels: Labels = {}): void {
    this.series.set(labelKey(labels), { labels, value });
  }

  /** Removes every series (e.g. before setting the model info of a new model). */
  reset(): void {
    this.series.clear();
  }

  write(lines: string[]): void {
    if (this.collect) {
      const collected = this.collect();
      const list = typeof collected === 'number' ? [{ labels: {}, value: collected }] : collected;
      for (const { labels, value } of list) lines.push(`${this.name}${labelText(labels)} ${formatSampleValue(value)}`);
      return;
    }
    for (const { labels, value } of this.series.values()) lines.push(`${this.name}${labelText(labels)} ${formatSampleValue(value)}`);
  }
}

/** Cumulative bucket counts, sum and count per label set. */
export class Histogram implements Metric {
  readonly type = 'histogram' as const;
  /** Upper bounds, ascending (the `+Inf` bucket is implicit). */
  readonly buckets: readonly number[];
  private readonly series = new Map<string, { labels: Labels; counts: Float64Array; sum: number; count: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    buckets: readonly number[],
  ) {
    for (let i = 1; i < buckets.length; i++) {
      if (!(buckets[i]! > buckets[i - 1]!)) throw new Error(`histogram ${name}: buckets must increase`);
    }
    this.buckets = buckets;
  }

  private entry(labels: Labels) {
    const key = labelKey(labels);
    let entry = this.series.get(key);
    if (!entry) {
      entry = { labels, counts: new Float64Array(this.buckets.length), sum: 0, count: 0 };
      this.series.set(key, entry);
    }
    return entry;
  }

  /** Records one observation. */
  observe(value: number, labels: Labels = {}): void {
    this.observeMany(value, 1, labels);
  }

  /** Records `times` observations of the same value (`times` may be 0). */
  observeMany(value: number, times: number, labels: Labels = {}): void {
    const entry = this.entry(labels);
    // per-bucket (non-cumulative) counts; written cumulatively
    for (let i = 0; i < this.buckets.length; i++) {
      if (value <= this.buckets[i]!) {
        entry.counts[i]! += times;
        break;
      }
    }
    entry.sum += value * times;
    entry.count += times;
  }

  /** Count and sum of one series (zeros when never observed). */
  snapshot(labels: Labels = {}): { count: number; sum: number; cumulative: number[] } {
    const entry = this.series.get(labelKey(labels));
    if (!entry) return { count: 0, sum: 0, cumulative: this.buckets.map(() => 0) };
    let running = 0;
    return { count: entry.count, sum: entry.sum, cumulative: Array.from(entry.counts, (c) => (running += c)) };
  }

  write(lines: string[]): void {
    for (const { labels, counts, sum, count } of this.series.values()) {
      let running = 0;
      for (let i = 0; i < this.buckets.length; i++) {
        running += counts[i]!;
        lines.push(`${this.name}_bucket${labelText(labels, ['le', formatSampleValue(this.buckets[i]!)])} ${formatSampleValue(running)}`);
      }
      lines.push(`${this.name}_bucket${labelText(labels, ['le', '+Inf'])} ${formatSampleValue(count)}`);
      lines.push(`${this.name}_sum${labelText(labels)} ${formatSampleValue(sum)}`);
      lines.push(`${this.name}_count${labelText(labels)} ${formatSampleValue(count)}`);
    }
  }
}

/**
 * A set of metrics written together in the Prometheus text format.
 *
 * @example
 * ```ts
 * const registry = new MetricsRegistry();
 * registry.counter('app_requests_total', 'Requests').inc({ status: '200' });
 * registry.text(); // '# HELP app_requests_total Requests\n# TYPE app_requests_total counter\napp_requests_total{status="200"} 1\n'
 * ```
 */
export class MetricsRegistry {
  private readonly metrics: Metric[] = [];

  private add<M extends Metric>(metric: M): M {
    if (!NAME_PATTERN.test(metric.name)) throw new Error(`invalid metric name ${metric.name}`);
    if (this.metrics.some((m) => m.name === metric.name)) throw new Error(`metric ${metric.name} is registered twice`);
    this.metrics.push(metric);
    return metric;
  }

  /** Registers a counter. */
  counter(name: string, help: string): Counter {
    return this.add(new Counter(name, help));
  }

  /** Registers a gauge (read from `collect` at scrape time when given). */
  gauge(name: string, help: string, collect?: () => number | readonly { labels: Labels; value: number }[]): Gauge {
    return this.add(new Gauge(name, help, collect));
  }

  /** Registers a counter whose total is read from `collect` at scrape time. */
  collectedCounter(name: string, help: string, collect: () => number): Gauge {
    return this.add(new Gauge(name, help, collect, 'counter'));
  }

  /** Registers a histogram with these bucket upper bounds. */
  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return this.add(new Histogram(name, help, buckets));
  }

  /** Every metric in the text exposition format (`Content-Type: text/plain; version=0.0.4`). */
  text(): string {
    const lines: string[] = [];
    for (const metric of this.metrics) {
      lines.push(`# HELP ${metric.name} ${metric.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`);
      lines.push(`# TYPE ${metric.name} ${metric.type}`);
      metric.write(lines);
    }
    return lines.join('\n') + '\n';
  }
}

/** The content type of {@link MetricsRegistry.text}. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
