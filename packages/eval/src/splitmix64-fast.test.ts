import { Rng, splitmix64 } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { splitmix64Halves, uint64Mod } from './splitmix64-fast.js';

const toBigInt = (hi: number, lo: number): bigint => (BigInt(hi) << 32n) | BigInt(lo);

describe('splitmix64Halves', () => {
  it('equals the BigInt splitmix64 of @genrec/core on edge and random inputs', () => {
    const out = { hi: 0, lo: 0 };
    const edges: [number, number][] = [
      [0, 0],
      [0, 1],
      [0xffffffff, 0xffffffff],
      [0x61c88646, 0x80b583eb], // x + golden gamma wraps to 0
      [0xffffffff, 0],
      [0, 0xffffffff],
      [1, 64],
    ];
    const rng = new Rng(11);
    for (let i = 0; i < 5000; i++) edges.push([rng.nextUint32(), rng.nextUint32()]);
    for (const [hi, lo] of edges) {
      splitmix64Halves(hi, lo, out);
      expect(toBigInt(out.hi, out.lo)).toBe(splitmix64(toBigInt(hi, lo)));
    }
  });

  it('gives the documented first value', () => {
    const out = splitmix64Halves(0, 0, { hi: 0, lo: 0 });
    expect(toBigInt(out.hi, out.lo)).toBe(0xe220a8397b1dcdafn);
  });
});

describe('uint64Mod', () => {
  it('equals BigInt remainders', () => {
    const rng = new Rng(5);
    for (let i = 0; i < 2000; i++) {
      const hi = rng.nextUint32();
      const lo = rng.nextUint32();
      for (const m of [1, 2, 5, 125, 25_000, 50_000, 2 ** 26 - 1]) {
        expect(uint64Mod(hi, lo, m)).toBe(Number(toBigInt(hi, lo) % BigInt(m)));
      }
    }
  });
});
