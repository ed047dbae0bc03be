import { describe, expect, it } from 'vitest';
import { startAllocationMeter } from './allocation-meter.js';

const KIB = 1024;

/** 128 doubles: a 1 KiB FixedDoubleArray plus a 32-byte JSArray header and map words on the heap. */
function doubles(value: number): number[] {
  return new Array<number>(128).fill(value + 0.5);
}

describe('startAllocationMeter', () => {
  it('reports 1,000 x 1 KiB ArrayBuffers as ~1 MB of external memory, not heap', () => {
    const keep: Uint8Array[] = [];
    const meter = startAllocationMeter();
    for (let i = 0; i < 1000; i++) keep.push(new Uint8Array(KIB));
    const report = meter.stop();
    expect(keep.length).toBe(1000);
    expect(report.externalBytes).toBeGreaterThanOrEqual(0.9 * 1000 * KIB);
    expect(report.externalBytes).toBeLessThanOrEqual(1.5 * 1000 * KIB);
    // the typed-array and ArrayBuffer objects themselves: well under 1 KiB each
    expect(report.heapBytes).toBeLessThan(500 * KIB);
    expect(report.arrayBuffersDelta).toBeGreaterThanOrEqual(0.9 * 1000 * KIB);
  });

  it('reports 1,000 x 1 KiB JS arrays as ~1 MB of heap and no external memory', () => {
    const keep: number[][] = [];
    const meter = startAllocationMeter();
    for (let i = 0; i < 1000; i++) keep.push(doubles(i));
    const report = meter.stop();
    expect(keep.length).toBe(1000);
    expect(report.heapBytes).toBeGreaterThanOrEqual(0.9 * 1000 * KIB);
    expect(report.heapBytes).toBeLessThanOrEqual(1.5 * 1000 * KIB);
    expect(Math.abs(report.externalBytes)).toBeLessThan(64 * KIB);
  });

  it('counts garbage freed by collections inside the window (heap and ArrayBuffers)', () => {
    // 40,000 short-lived 1 KiB JS arrays (~41 MB) and 10,000 short-lived 4 KiB Float32Arrays
    // (40.96 MB external): far more than the young generation, so several GCs run meanwhile and
    // the live sizes at the end are small. Only the sum over GCs can report the totals.
    let checksum = 0;
    const meter = startAllocationMeter();
    for (let i = 0; i < 40_000; i++) {
      checksum += doubles(i)[127]!;
      if (i % 4 === 0) checksum += new Float32Array(KIB).length;
    }
    const report = meter.stop();
    expect(checksum).toBeGreaterThan(0);
    expect(report.gcCount).toBeGreaterThan(0);
    expect(report.gcMs).toBeGreaterThan(0);
    expect(report.heapBytes).toBeGreaterThanOrEqual(0.9 * 40_000 * KIB);
    expect(report.heapBytes).toBeLessThanOrEqual(1.5 * 40_000 * KIB);
    expect(report.externalBytes).toBeGreaterThanOrEqual(0.9 * 10_000 * 4 * KIB);
    expect(report.externalBytes).toBeLessThanOrEqual(1.5 * 10_000 * 4 * KIB);
    // what is still alive at the end is far less than what was allocated
    expect(report.arrayBuffersDelta).toBeLessThan(0.5 * 10_000 * 4 * KIB);
  });

  it('reports (almost) nothing for a window without allocation, and refuses a second stop()', () => {
    const buffer = new Float64Array(1000);
    const meter = startAllocationMeter();
    for (let i = 0; i < buffer.length; i++) buffer[i] = i * 0.5;
    const report = meter.stop();
    expect(report.externalBytes).toBe(0);
    // the meter's own bookkeeping and compiled code for the loop: a few KiB, fixed per window
    expect(report.heapBytes).toBeLessThan(64 * KIB);
    expect(() => meter.stop()).toThrow(/already called/);
  });
});
