/**
 * An exact splitmix64 on 32-bit halves (no BigInt), for generating large synthetic inputs fast.
 * Gives the same 64-bit values as `splitmix64` of `@genrec/core`, whose BigInt arithmetic is too
 * slow for millions of calls.
 */

const TWO_32 = 4294967296;

/** High and low 32-bit halves (unsigned) of the last {@link splitmix64Halves} result. */
export interface Uint64Halves {
  /** Bits 63..32 as an unsigned 32-bit integer. */
  hi: number;
  /** Bits 31..0 as an unsigned 32-bit integer. */
  lo: number;
}

// Result registers of mul64, so the hot path allocates nothing.
let mulHi = 0;
let mulLo = 0;

/** (aHi:aLo) * (bHi:bLo) mod 2^64 into mulHi:mulLo. Every intermediate stays below 2^53. */
function mul64(aHi: number, aLo: number, bHi: number, bLo: number): void {
  const a0 = aLo & 0xffff;
  const a1 = aLo >>> 16;
  const b0 = bLo & 0xffff;
  const b1 = bLo >>> 16;
  const middle = a0 * b1 + a1 * b0; // < 2^33
  const lowFull = a0 * b0 + (middle % 65536) * 65536; // < 2^33
  const low = lowFull % TWO_32;
  const carry = (lowFull - low) / TWO_32;
  const highFromLow = a1 * b1 + Math.floor(middle / 65536) + carry; // < 2^33
  mulHi = (highFromLow + Math.imul(aLo, bHi) + Math.imul(aHi, bLo)) >>> 0;
  mulLo = low;
}

/**
 * splitmix64 of the 64-bit value `hi * 2^32 + lo` (both unsigned 32-bit), written into `out`:
 * `z = x + 0x9E3779B97F4A7C15; z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
 *  z = (z ^ (z >> 27)) * 0x94D049BB133111EB; return z ^ (z >> 31)`, all mod 2^64.
 *
 * @param hi - bits 63..32 of the input, an unsigned 32-bit integer
 * @param lo - bits 31..0 of the input, an unsigned 32-bit integer
 * @param out - receives the result's halves (reused, so a loop allocates nothing)
 * @returns `out`
 * @example
 * ```ts
 * const out = { hi: 0, lo: 0 };
 * splitmix64Halves(0, 0, out); // out = { hi: 0xe220a839, lo: 0x7b1dcdaf }
 * ```
 */
export function splitmix64Halves(hi: number, lo: number, out: Uint64Halves): Uint64Halves {
  // z = x + 0x9E3779B97F4A7C15
  let zLo = lo + 0x7f4a7c15;
  let zHi = (hi + 0x9e3779b9 + (zLo >= TWO_32 ? 1 : 0)) >>> 0;
  zLo = zLo >>> 0;
  // z ^= z >> 30
  let sLo = ((zLo >>> 30) | (zHi << 2)) >>> 0;
  let sHi = zHi >>> 30;
  mul64((zHi ^ sHi) >>> 0, (zLo ^ sLo) >>> 0, 0xbf58476d, 0x1ce4e5b9);
  zHi = mulHi;
  zLo = mulLo;
  // z ^= z >> 27
  sLo = ((zLo >>> 27) | (zHi << 5)) >>> 0;
  sHi = zHi >>> 27;
  mul64((zHi ^ sHi) >>> 0, (zLo ^ sLo) >>> 0, 0x94d049bb, 0x133111eb);
  zHi = mulHi;
  zLo = mulLo;
  // z ^= z >> 31
  sLo = ((zLo >>> 31) | (zHi << 1)) >>> 0;
  sHi = zHi >>> 31;
  out.hi = (zHi ^ sHi) >>> 0;
  out.lo = (zLo ^ sLo) >>> 0;
  return out;
}

/**
 * The 64-bit value `hi * 2^32 + lo` modulo a positive integer `modulus` below 2^26, exactly.
 *
 * @param hi - bits 63..32, unsigned
 * @param lo - bits 31..0, unsigned
 * @param modulus - a positive integer below 2^26 (so every product stays exact in a double)
 * @returns the remainder in `0 .. modulus-1`
 */
export function uint64Mod(hi: number, lo: number, modulus: number): number {
  // (hi * 2^32 + lo) mod m = ((hi mod m) * (2^32 mod m) + lo) mod m; (m-1)^2 + 2^32 < 2^53.
  return (((hi % modulus) * (TWO_32 % modulus)) + lo) % modulus;
}
