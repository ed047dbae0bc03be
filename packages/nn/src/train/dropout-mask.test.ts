import { describe, expect, it } from 'vitest';
import { Rng } from '@genrec/core';
import { fillDropoutMask } from './dropout-mask.js';

describe('fillDropoutMask', () => {
  it('drops about `rate` of the values, scales the rest, and continues the Rng stream exactly', () => {
    const rng = new Rng(17);
    const mask = new Float32Array(100_001);
    const next = fillDropoutMask(rng, mask, 0.2);
    let dropped = 0;
    for (const v of mask) {
      if (v === 0) dropped++;
      else expect(v).toBeCloseTo(1.25, 6);
    }
    expect(dropped / mask.length).toBeGreaterThan(0.195);
    expect(dropped / mask.length).toBeLessThan(0.205);
    // the returned generator is the original advanced by ceil(n / 2) draws
    const reference = new Rng(17);
    for (let i = 0; i < 50_001; i++) reference.nextUint32();
    expect(next.nextUint32()).toBe(reference.nextUint32());
    // the first values follow the documented rule
    const again = new Rng(17);
    const r = again.nextUint32();
    expect(mask[0]).toBe((r & 0xffff) < Math.round(0.2 * 65536) ? 0 : Math.fround(1.25));
    expect(mask[1]).toBe(r >>> 16 < Math.round(0.2 * 65536) ? 0 : Math.fround(1.25));
  });
});
