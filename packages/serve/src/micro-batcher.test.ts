import { describe, expect, it } from 'vitest';
import { GenrecError, emptyRecommendations, type Recommendations } from '@genrec/core';
import { HttpError } from './http-error.js';
import { MicroBatcher, type MicroBatcherOptions, type UserQuery } from './micro-batcher.js';

/**
 * A fake model: user u's answer is [h0 + 1, h0 + 2, ...] (h0 = its first history item) with scores
 * k, k-1, ...; a history containing 666 makes the whole call fail (as a bad input would).
 */
function fakeRunner(calls: UserQuery[][], delayMs = 0) {
  return async (queries: readonly UserQuery[]): Promise<Recommendations> => {
    calls.push([...queries]);
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    if (queries.some((q) => q.history.includes(666))) throw new GenrecError('INVALID_INPUT', 'item 666 is cursed');
    const k = queries[0]!.k;
    const out = emptyRecommendations(queries.length, k);
    queries.forEach((q, u) => {
      const base = q.history[0] ?? 0;
      for (let i = 0; i < k; i++) {
        out.items[u * k + i] = base + i + 1;
        out.scores[u * k + i] = k - i;
      }
      out.lengths[u] = k;
    });
    return out;
  };
}

const query = (first: number, k = 3, excludeHistory = true): UserQuery => ({ history: Int32Array.of(first), exclude: undefined, k, excludeHistory });
const options = (overrides: Partial<MicroBatcherOptions> = {}): MicroBatcherOptions => ({ enabled: true, maxBatchSize: 4, maxWaitMs: 20, maxConcurrentBatches: 1, maxQueued: 100, ...overrides });

describe('MicroBatcher', () => {
  it('coalesces concurrent queries into batches of at most maxBatchSize and routes each row back', async () => {
    const calls: UserQuery[][] = [];
    const sizes: number[] = [];
    const batcher = new MicroBatcher(fakeRunner(calls), options({ onBatch: (size) => sizes.push(size) }));
    const answers = await Promise.all(Array.from({ length: 10 }, (_, u) => batcher.submit([query(u * 10)])));
    expect(calls.map((c) => c.length)).toEqual([4, 4, 2]);
    expect(sizes).toEqual([4, 4, 2]);
    answers.forEach(([answer], u) => {
      expect(Array.from(answer!.items)).toEqual([u * 10 + 1, u * 10 + 2, u * 10 + 3]);
      expect(Array.from(answer!.scores)).toEqual([3, 2, 1]);
    });
    expect(batcher.queued).toBe(0);
  });

  it('a lone client is not kept waiting; after concurrent load, a lone query waits maxWaitMs for the others', async () => {
    const calls: UserQuery[][] = [];
    const batcher = new MicroBatcher(fakeRunner(calls), options({ maxWaitMs: 40 }));
    let started = performance.now();
    const [alone] = await batcher.submit([query(5)]);
    expect(performance.now() - started).toBeLessThan(30);
    expect(Array.from(alone!.items)).toEqual([6, 7, 8]);
    // three concurrent users: the batcher now expects three
    await Promise.all([1, 2, 3].map((u) => batcher.submit([query(u)])));
    started = performance.now();
    await batcher.submit([query(9)]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(35);
    expect(calls.map((c) => c.length)).toEqual([1, 3, 1]);
  });

  it('concurrent clients that come back one by one after a call are merged into one batch', async () => {
    const calls: UserQuery[][] = [];
    const batcher = new MicroBatcher(fakeRunner(calls, 10), options({ maxBatchSize: 8, maxWaitMs: 50 }));
    // four closed-loop clients: each sends its next query 0-3 ms after its answer
    const client = async (u: number) => {
      for (let round = 0; round < 4; round++) {
        await batcher.submit([query(u)]);
        await new Promise((resolve) => setTimeout(resolve, u));
      }
    };
    await Promise.all([0, 1, 2, 3].map(client));
    expect(calls.map((c) => c.length)).toEqual([4, 4, 4, 4]);
  });

  it('with maxWaitMs 0, queries submitted in the same event-loop turn still form one batch', async () => {
    const calls: UserQuery[][] = [];
    const batcher = new MicroBatcher(fakeRunner(calls), options({ maxBatchSize: 8, maxWaitMs: 0 }));
    const first = await Promise.all([1, 2, 3].map((u) => batcher.submit([query(u)])));
    const second = await batcher.submit([query(9)]);
    expect(calls.map((c) => c.length)).toEqual([3, 1]);
    expect(first.map(([a]) => a!.items[0])).toEqual([2, 3, 4]);
    expect(second[0]!.items[0]).toBe(10);
  });

  it('batches only queries that share k and excludeHistory, oldest group first', async () => {
    const calls: UserQuery[][] = [];
    const batcher = new MicroBatcher(fakeRunner(calls), options({ maxBatchSize: 8, maxWaitMs: 5 }));
    const submitted = [query(1, 3), query(2, 5), query(3, 3), query(4, 3, false), query(5, 5)];
    const answers = await Promise.all(submitted.map((q) => batcher.submit([q])));
    expect(calls.map((c) => c.map((q) => `${q.history[0]}:${q.k}:${q.excludeHistory}`))).toEqual([['1:3:true', '3:3:true'], ['2:5:true', '5:5:true'], ['4:3:false']]);
    answers.forEach(([answer], i) => expect(answer!.items.length).toBe(submitted[i]!.k));
  });

  it('a failing query fails alone: the batch is retried one by one', async () => {
    const calls: UserQuery[][] = [];
    const batcher = new MicroBatcher(fakeRunner(calls), options());
    const results = await Promise.allSettled([query(1), query(666), query(3), query(4)].map((q) => batcher.submit([q])));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason.message).toMatch(/cursed/);
    expect(Array.from((results[3] as PromiseFulfilledResult<{ items: Int32Array }[]>).value[0]!.items)).toEqual([5, 6, 7]);
    expect(calls.map((c) => c.length)).toEqual([4, 1, 1, 1, 1]);
  });

  it('refuses with OVERLOADED beyond maxQueued, and runs the rest', async () => {
    const calls: UserQuery[][] = [];
    const batcher = new MicroBatcher(fakeRunner(calls, 30), options({ maxQueued: 3, maxBatchSize: 2, maxWaitMs: 1 }));
    const first = batcher.submit([query(1), query(2)]); // waits 1 ms, then runs for 30
    await new Promise((resolve) => setTimeout(resolve, 10));
    const second = batcher.submit([query(3), query(4), query(5)]); // queue: 3
    const refused = batcher.submit([query(6)]);
    await expect(refused).rejects.toSatisfy((error: unknown) => error instanceof HttpError && error.code === 'OVERLOADED' && error.statusCode === 503);
    expect((await first).length).toBe(2);
    expect((await second).map((a) => a.items[0])).toEqual([4, 5, 6]);
  });

  it('an aborted submit leaves the queue at once and the others are still answered', async () => {
    const calls: UserQuery[][] = [];
    const batcher = new MicroBatcher(fakeRunner(calls, 20), options({ maxBatchSize: 2, maxWaitMs: 1 }));
    const running = batcher.submit([query(1), query(2)]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const controller = new AbortController();
    const cancelled = batcher.submit([query(3)], controller.signal);
    const kept = batcher.submit([query(4)]);
    expect(batcher.queued).toBe(2);
    controller.abort(new Error('timed out'));
    await expect(cancelled).rejects.toThrow('timed out');
    expect(batcher.queued).toBe(1);
    expect((await running).length).toBe(2);
    expect(Array.from((await kept)[0]!.items)).toEqual([5, 6, 7]);
    expect(calls.flat().map((q) => q.history[0])).toEqual([1, 2, 4]);
  });

  it('an abort while the call runs rejects at once; the call still answers the others', async () => {
    const calls: UserQuery[][] = [];
    const batcher = new MicroBatcher(fakeRunner(calls, 50), options({ maxBatchSize: 2, maxWaitMs: 1 }));
    const controller = new AbortController();
    const aborted = batcher.submit([query(1)], controller.signal);
    const other = batcher.submit([query(2)]);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const started = performance.now();
    controller.abort(new Error('gone'));
    await expect(aborted).rejects.toThrow('gone');
    expect(performance.now() - started).toBeLessThan(30);
    expect(Array.from((await other)[0]!.items)).toEqual([3, 4, 5]);
  });

  it('drain runs waiting queries without waiting for more', async () => {
    const calls: UserQuery[][] = [];
    const batcher = new MicroBatcher(fakeRunner(calls), options({ maxWaitMs: 10_000 }));
    const pending = batcher.submit([query(1)]);
    const started = performance.now();
    await batcher.drain();
    expect(performance.now() - started).toBeLessThan(1000);
    expect((await pending).length).toBe(1);
    expect(batcher.queued + batcher.running).toBe(0);
  });

  it('without batching, every query is its own call, started at once (concurrently)', async () => {
    const calls: UserQuery[][] = [];
    let concurrent = 0;
    let peak = 0;
    const runner = fakeRunner(calls);
    const batcher = new MicroBatcher(
      async (queries) => {
        concurrent++;
        peak = Math.max(peak, concurrent);
        await new Promise((resolve) => setTimeout(resolve, 10));
        concurrent--;
        return runner(queries);
      },
      options({ enabled: false, maxWaitMs: 10_000 }),
    );
    const answers = await Promise.all([1, 2, 3, 4, 5].map((u) => batcher.submit([query(u)])));
    expect(calls.map((c) => c.length)).toEqual([1, 1, 1, 1, 1]);
    expect(peak).toBe(5);
    expect(answers.map(([a]) => a!.items[0])).toEqual([2, 3, 4, 5, 6]);
  });

  it('runs up to maxConcurrentBatches calls at once', async () => {
    const calls: UserQuery[][] = [];
    let concurrent = 0;
    let peak = 0;
    const runner = fakeRunner(calls);
    const batcher = new MicroBatcher(
      async (queries) => {
        concurrent++;
        peak = Math.max(peak, concurrent);
        await new Promise((resolve) => setTimeout(resolve, 20));
        concurrent--;
        return runner(queries);
      },
      options({ maxBatchSize: 2, maxWaitMs: 1, maxConcurrentBatches: 2 }),
    );
    await Promise.all(Array.from({ length: 8 }, (_, u) => batcher.submit([query(u)])));
    expect(peak).toBe(2);
    expect(calls.flat()).toHaveLength(8);
  });
});
