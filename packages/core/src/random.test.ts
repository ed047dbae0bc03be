import { describe, expect, it } from 'vitest';
import { Rng, WeightedSampler } from './random.js';
import { splitmix64 } from './splitmix64.js';

describe('splitmix64', () => {
  it('matches the reference values (computed with Python integers)', () => {
    expect(splitmix64(0n)).toBe(0xe220a8397b1dcdafn);
    expect(splitmix64(12345n)).toBe(2454886589211414944n);
  });
});

describe('Rng', () => {
  it('produces the reference xoshiro128** stream for seed 42 (independent Python implementation)', () => {
    const rng = new Rng(42);
    expect([0, 1, 2, 3, 4].map(() => rng.nextUint32())).toEqual([1776835114, 4165204688, 17111135, 2317295270, 2792088233]);
    expect(new Rng(42).uniform()).toBe(0.4137016681565887);
  });

  it('is reproducible by seed and differs across seeds', () => {
    const a = new Rng(7);
    const b = new Rng(7n);
    const c = new Rng(8);
    const x = Array.from({ length: 8 }, () => a.uniform());
    expect(Array.from({ length: 8 }, () => b.uniform())).toEqual(x);
    expect(Array.from({ length: 8 }, () => c.uniform())).not.toEqual(x);
  });

  it('resumes exactly from a saved state, including a pending normal deviate', () => {
    const rng = new Rng(3);
    rng.normal();
    const state = JSON.parse(JSON.stringify(rng.getState()));
    const expected = [rng.normal(), rng.uniform(), rng.int(1000)];
    const resumed = Rng.fromState(state);
    expect([resumed.normal(), resumed.uniform(), resumed.int(1000)]).toEqual(expected);
  });

  it('has the right moments for uniform and normal draws', () => {
    const rng = new Rng(1);
    const n = 200_000;
    let sumU = 0;
    let sumN = 0;
    let sumN2 = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.uniform();
      expect(u >= 0 && u < 1).toBe(true);
      sumU += u;
      const z = rng.normal();
      sumN += z;
      sumN2 += z * z;
    }
    expect(sumU / n).toBeCloseTo(0.5, 2);
    expect(sumN / n).toBeCloseTo(0, 2);
    expect(sumN2 / n).toBeCloseTo(1, 1);
  });

  it('draws unbiased integers over the full range', () => {
    const rng = new Rng(5);
    const counts = new Array<number>(7).fill(0);
    for (let i = 0; i < 70_000; i++) counts[rng.int(7)]! += 1;
    for (const count of counts) expect(Math.abs(count - 10_000)).toBeLessThan(500);
    expect(() => rng.int(0)).toThrowError(/positive integer/);
  });

  it('shuffles into a permutation', () => {
    const p = new Rng(9).permutation(100);
    expect(Array.from(p).sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(Array.from(p)).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('samples weighted indices in proportion, never a zero weight', () => {
    const weights = [1, 0, 2, 7];
    const rng = new Rng(11);
    const sampler = new WeightedSampler(weights);
    const linear = new Array<number>(4).fill(0);
    const alias = new Array<number>(4).fill(0);
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      linear[rng.weightedIndex(weights)]! += 1;
      alias[sampler.sample(rng)]! += 1;
    }
    for (const counts of [linear, alias]) {
      expect(counts[1]).toBe(0);
      expect(counts[0]! / n).toBeCloseTo(0.1, 2);
      expect(counts[2]! / n).toBeCloseTo(0.2, 2);
      expect(counts[3]! / n).toBeCloseTo(0.7, 2);
    }
    expect(() => new WeightedSampler([0, 0])).toThrowError(/positive weight/);
    expect(() => rng.weightedIndex([1, -1])).toThrowError(/finite and non-negative/);
  });

  it('forks independent streams deterministically', () => {
    const a = new Rng(1).fork();
    const b = new Rng(1).fork();
    expect(a.uniform()).toBe(b.uniform());
  });
});
