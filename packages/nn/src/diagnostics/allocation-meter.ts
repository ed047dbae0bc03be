/**
 * Measures how many bytes a stretch of code allocates, on the V8 heap and in external memory
 * (ArrayBuffer backing stores and other memory announced to V8), using `v8.GCProfiler`.
 *
 * A heap's "used" size only grows by allocation between two garbage collections and only shrinks
 * inside one, so over a window
 *
 *   allocated = sum over GCs (used before the GC - used after the previous GC, or at start)
 *             + (used at stop - used after the last GC)
 *
 * The same holds for V8's external memory counter provided ArrayBuffers are freed inside the GC
 * pause rather than by V8's background sweeper (which would lower the counter between GCs). This
 * module therefore switches off concurrent ArrayBuffer sweeping (`--no-concurrent-array-buffer-
 * sweeping`, a process-wide V8 flag) when it is loaded: freed backing stores are then released on
 * the main thread during the GC. Measuring is otherwise free: the profiler only records at GCs.
 *
 * Diagnostics for benchmarks; not part of the package's public API.
 */
import v8 from 'node:v8';
import { GenrecError } from '@genrec/core';

v8.setFlagsFromString('--no-concurrent-array-buffer-sweeping');

/** What {@link AllocationMeter.stop} returns: bytes allocated in the window and net changes. */
export interface AllocationReport {
  /** Bytes allocated on the V8 heap (JS objects, strings, on-heap typed arrays ≤ 64 bytes). */
  heapBytes: number;
  /** Bytes of external memory allocated (ArrayBuffer backing stores, native memory announced to V8). */
  externalBytes: number;
  /** Garbage collections in the window (`IncrementalMarking` steps included). */
  gcCount: number;
  /** Time spent in those collections (sum of the profiler's `cost`), in milliseconds. */
  gcMs: number;
  /** GC counts by V8's type name (`Scavenge`, `MarkSweepCompact`, `IncrementalMarking`, …). */
  gcTypes: Record<string, number>;
  /** Net change of `process.memoryUsage().arrayBuffers` (Node-allocated ArrayBuffers still alive). */
  arrayBuffersDelta: number;
  /** Net change of `process.memoryUsage().external`. */
  externalDelta: number;
  /** Net change of the resident set size. */
  rssDelta: number;
  /** Wall time of the window in milliseconds. */
  elapsedMs: number;
}

/** One measuring window, opened by {@link startAllocationMeter}. */
export interface AllocationMeter {
  /**
   * Closes the window and returns what was allocated in it.
   * @throws GenrecError `INVALID_INPUT` when called a second time.
   */
  stop(): AllocationReport;
}

/**
 * Opens a measuring window. Everything the process allocates until `stop()` counts (the whole
 * isolate: keep other work out of the window). Several windows may be open at once.
 *
 * @returns the meter; call `stop()` to read it.
 * @example
 * ```ts
 * const meter = startAllocationMeter();
 * for (let i = 0; i < 1000; i++) keep.push(new Uint8Array(1024));
 * meter.stop().externalBytes; // 1_024_000
 * ```
 */
export function startAllocationMeter(): AllocationMeter {
  const profiler = new v8.GCProfiler();
  const memoryBefore = process.memoryUsage();
  const heapBefore = v8.getHeapStatistics();
  const t0 = performance.now();
  profiler.start();
  let stopped = false;
  return {
    stop(): AllocationReport {
      if (stopped) throw new GenrecError('INVALID_INPUT', 'AllocationMeter.stop() was already called for this window');
      stopped = true;
      const profile = profiler.stop();
      const heapAfter = v8.getHeapStatistics();
      const elapsedMs = performance.now() - t0;
      const memoryAfter = process.memoryUsage();
      let heapBytes = 0;
      let externalBytes = 0;
      let previousHeap = heapBefore.used_heap_size;
      let previousExternal = heapBefore.external_memory;
      const gcTypes: Record<string, number> = {};
      let gcMicroseconds = 0;
      const statistics = profile.statistics;
      for (const gc of statistics) {
        heapBytes += gc.beforeGC.heapStatistics.usedHeapSize - previousHeap;
        externalBytes += gc.beforeGC.heapStatistics.externalMemory - previousExternal;
        previousHeap = gc.afterGC.heapStatistics.usedHeapSize;
        previousExternal = gc.afterGC.heapStatistics.externalMemory;
        gcTypes[gc.gcType] = (gcTypes[gc.gcType] ?? 0) + 1;
        gcMicroseconds += gc.cost;
      }
      heapBytes += heapAfter.used_heap_size - previousHeap;
      externalBytes += heapAfter.external_memory - previousExternal;
      return {
        heapBytes,
        externalBytes,
        gcCount: statistics.length,
        gcMs: gcMicroseconds / 1000,
        gcTypes,
        arrayBuffersDelta: memoryAfter.arrayBuffers - memoryBefore.arrayBuffers,
        externalDelta: memoryAfter.external - memoryBefore.external,
        rssDelta: memoryAfter.rss - memoryBefore.rss,
        elapsedMs,
      };
    },
  };
}
