import { describe, expect, it } from 'vitest';
import { EVENT_LOOP_BUCKETS, EventLoopMonitor } from './event-loop-monitor.js';
import { MetricsRegistry } from './metrics.js';
import { openApiDocument } from './openapi.js';
import { routeSpecs } from './route-schemas.js';

describe('Prometheus text format', () => {
  it('writes counters, gauges and cumulative histograms exactly', () => {
    const registry = new MetricsRegistry();
    const requests = registry.counter('app_requests_total', 'Requests by status');
    requests.inc({ status: '200', route: '/a' });
    requests.inc({ route: '/a', status: '200' }, 2); // same series, labels in another order
    requests.inc({ status: '400', route: '/a "quoted"\\path\n' });
    registry.gauge('app_queue', 'Queue depth', () => 7);
    const sizes = registry.histogram('app_batch', 'Batch sizes', [1, 4, 16]);
    for (const size of [1, 3, 4, 5, 40]) sizes.observe(size);
    expect(registry.text()).toBe(
      [
        '# HELP app_requests_total Requests by status',
        '# TYPE app_requests_total counter',
        'app_requests_total{route="/a",status="200"} 3',
        'app_requests_total{route="/a \\"quoted\\"\\\\path\\n",status="400"} 1',
        '# HELP app_queue Queue depth',
        '# TYPE app_queue gauge',
        'app_queue 7',
        '# HELP app_batch Batch sizes',
        '# TYPE app_batch histogram',
        'app_batch_bucket{le="1"} 1',
        'app_batch_bucket{le="4"} 3',
        'app_batch_bucket{le="16"} 4',
        'app_batch_bucket{le="+Inf"} 5',
        'app_batch_sum 53',
        'app_batch_count 5',
        '',
      ].join('\n'),
    );
    expect(sizes.snapshot()).toEqual({ count: 5, sum: 53, cumulative: [1, 3, 4] });
  });

  it('refuses a duplicate or invalid metric name and non-increasing buckets', () => {
    const registry = new MetricsRegistry();
    registry.counter('a_total', 'x');
    expect(() => registry.counter('a_total', 'x')).toThrow(/twice/);
    expect(() => registry.gauge('bad-name', 'x')).toThrow(/invalid metric name/);
    expect(() => registry.histogram('h', 'x', [1, 1])).toThrow(/increase/);
  });
});

describe('EventLoopMonitor', () => {
  it('records a blocked loop in the histogram and as the window maximum', async () => {
    const registry = new MetricsRegistry();
    const histogram = registry.histogram('loop_seconds', 'x', EVENT_LOOP_BUCKETS);
    const monitor = new EventLoopMonitor(histogram);
    monitor.start();
    try {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const started = performance.now();
      while (performance.now() - started < 80); // an 80 ms block
      await new Promise((resolve) => setTimeout(resolve, 20));
      monitor.flush();
      const snapshot = histogram.snapshot();
      expect(snapshot.count).toBeGreaterThan(10);
      expect(monitor.lastWindowMaxMs).toBeGreaterThanOrEqual(60);
      expect(monitor.lastWindowMaxMs).toBeLessThan(1000);
      // the 80 ms sample is above the 50 ms bucket; most samples are short
      const at50 = snapshot.cumulative[EVENT_LOOP_BUCKETS.indexOf(0.05)]!;
      expect(at50).toBeLessThan(snapshot.count);
      expect(snapshot.cumulative[EVENT_LOOP_BUCKETS.indexOf(0.025)]!).toBeGreaterThan(snapshot.count / 2);
    } finally {
      monitor.stop();
    }
  });

  it('keeps the longest garbage-collection pause of the window', async () => {
    const monitor = new EventLoopMonitor(new MetricsRegistry().histogram('loop_seconds', 'x', EVENT_LOOP_BUCKETS));
    monitor.start();
    try {
      // garbage that survives a while, then is dropped: scavenges and a major collection
      let keep: number[][] = [];
      for (let round = 0; round < 40; round++) {
        keep.push(Array.from({ length: 20_000 }, (_, i) => [i, round]).flat());
        if (keep.length > 10) keep = [];
      }
      await new Promise((resolve) => setTimeout(resolve, 20)); // observer entries arrive asynchronously
      monitor.flush();
      expect(monitor.lastWindowGcMaxMs).toBeGreaterThan(0);
      expect(monitor.gcMaxMs).toBe(monitor.lastWindowGcMaxMs);
      monitor.flush(); // a window without collections
      expect(monitor.lastWindowGcMaxMs).toBe(0);
      expect(monitor.gcMaxMs).toBeGreaterThan(0);
    } finally {
      monitor.stop();
    }
  });
});

describe('OpenAPI document', () => {
  const limits = { maxK: 50, maxHistoryLength: 200, maxBatchUsers: 8 };
  const routes = routeSpecs(limits);
  const document = openApiDocument(routes);

  it('lists every route, with the very schemas the routes validate with', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths).sort()).toEqual(['/healthz', '/metrics', '/openapi.json', '/readyz', '/v1/items', '/v1/items/{id}', '/v1/model', '/v1/recommend', '/v1/recommend/batch']);
    for (const route of routes) {
      const path = route.url.replace(':id', '{id}');
      const operation = document.paths[path]![route.method.toLowerCase()] as Record<string, any>;
      expect(operation.operationId).toBe(route.operationId);
      if (route.schema.body) expect(operation.requestBody.content['application/json'].schema).toBe(route.schema.body);
      expect(operation.responses['200'].content).toBeDefined();
    }
    const recommend = (document.paths['/v1/recommend']!.post as Record<string, any>).requestBody.content['application/json'].schema;
    expect(recommend.properties.k).toMatchObject({ minimum: 1, maximum: 50, default: 10 });
    expect(recommend.properties.history.maxItems).toBe(200);
    expect(recommend.additionalProperties).toBe(false);
    const batch = (document.paths['/v1/recommend/batch']!.post as Record<string, any>).requestBody.content['application/json'].schema;
    expect(batch.properties.users.maxItems).toBe(8);
    const item = document.paths['/v1/items/{id}']!.get as Record<string, any>;
    expect(item.parameters).toEqual([{ name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[1-9][0-9]{0,9}$', description: 'internal item id' }, description: 'internal item id' }]);
    expect(item.responses['404'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });
    expect(Object.keys(document.components.schemas as object)).toEqual(['Error']);
    expect((document.paths['/metrics']!.get as Record<string, any>).responses['200'].content['text/plain']).toBeDefined();
  });
});
