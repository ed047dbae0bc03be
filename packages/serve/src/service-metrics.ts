import { EVENT_LOOP_BUCKETS, EventLoopMonitor } from './event-loop-monitor.js';
import { MetricsRegistry, type Counter, type Gauge, type Histogram } from './metrics.js';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BATCH_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096];

/** The service's metrics (names are `genrec_*` plus the standard `process_*`). */
export class ServiceMetrics {
  readonly registry = new MetricsRegistry();
  /** `route`, `method`, `status`. */
  readonly requests: Counter;
  /** Seconds from arrival to answer, by `route`. */
  readonly requestDuration: Histogram;
  /** Users per model call. */
  readonly batchSize: Histogram;
  /** Seconds per model call. */
  readonly batchDuration: Histogram;
  /** Requests answered 503, by `reason` (`overloaded`, `timeout`, `not-ready`, `shutting-down`). */
  readonly rejected: Counter;
  /** Unknown item ids met, by `policy`. */
  readonly unknownItems: Counter;
  /** Hot swaps, by `result` (`success`, `failure`). */
  readonly swaps: Counter;
  /** Model worker threads that stopped unexpectedly (each triggers a reload). */
  readonly workerCrashes: Counter;
  /** 1 for the model being served (labels kind, version, score_scale). */
  readonly modelInfo: Gauge;
  readonly eventLoop: EventLoopMonitor;

  constructor(state: { queued: () => number; running: () => number; ready: () => boolean; items: () => number }) {
    const r = this.registry;
    this.requests = r.counter('genrec_http_requests_total', 'HTTP requests answered, by route, method and status');
    this.requestDuration = r.histogram('genrec_http_request_duration_seconds', 'Time from a request arriving to its answer, by route', LATENCY_BUCKETS);
    this.batchSize = r.histogram('genrec_batch_size', 'Users per model call (1 for every call without micro-batching)', BATCH_SIZE_BUCKETS);
    this.batchDuration = r.histogram('genrec_batch_duration_seconds', 'Duration of one model call', LATENCY_BUCKETS);
    r.gauge('genrec_queue_depth', 'Users waiting for a model call', state.queued);
    r.gauge('genrec_batches_in_flight', 'Model calls running now', state.running);
    this.rejected = r.counter('genrec_requests_rejected_total', 'Requests answered 503, by reason');
    this.unknownItems = r.counter('genrec_unknown_items_total', 'Unknown item ids in requests, by policy (reject: answered 422; drop: left out)');
    const delay = r.histogram('genrec_event_loop_delay_seconds', 'Event-loop delay samples (perf_hooks.monitorEventLoopDelay, 1 ms timer), moved here every second; the sum is an upper bound', EVENT_LOOP_BUCKETS);
    this.eventLoop = new EventLoopMonitor(delay);
    r.gauge('genrec_event_loop_delay_max_seconds', 'Longest event-loop block of the last completed one-second window', () => this.eventLoop.lastWindowMaxMs / 1000);
    r.gauge('genrec_event_loop_delay_lifetime_max_seconds', 'Longest event-loop block since start', () => this.eventLoop.maxMs / 1000);
    r.gauge('genrec_gc_pause_max_seconds', 'Longest garbage-collection pause of the main thread in the last completed one-second window', () => this.eventLoop.lastWindowGcMaxMs / 1000);
    r.gauge('genrec_gc_pause_lifetime_max_seconds', 'Longest garbage-collection pause of the main thread since start', () => this.eventLoop.gcMaxMs / 1000);
    this.modelInfo = r.gauge('genrec_model_info', 'The model being served (value 1)');
    r.gauge('genrec_model_ready', '1 when the model is loaded and warmed and the server is not shutting down', () => (state.ready() ? 1 : 0));
    r.gauge('genrec_model_items', 'Catalogue size of the model being served', state.items);
    this.swaps = r.counter('genrec_model_swaps_total', 'Hot swaps of the model, by result');
    this.workerCrashes = r.counter('genrec_model_worker_crashes_total', 'Model worker threads that stopped unexpectedly (each one reloads the model)');
    r.gauge('process_resident_memory_bytes', 'Resident set size', () => process.memoryUsage.rss());
    r.gauge('process_heap_used_bytes', 'V8 heap in use', () => process.memoryUsage().heapUsed);
    r.collectedCounter('process_cpu_seconds_total', 'User and system CPU time of the process', () => {
      const usage = process.cpuUsage();
      return (usage.user + usage.system) / 1e6;
    });
    r.gauge('process_start_time_seconds', 'Start time of the process (Unix seconds)', () => performance.timeOrigin / 1000);
  }

  /** Records one model call. */
  batch(size: number, milliseconds: number): void {
    this.batchSize.observe(size);
    this.batchDuration.observe(milliseconds / 1000);
  }
}
