const MASK_64 = (1n << 64n) - 1n;

/**
 * One step of the splitmix64 mixer (all arithmetic mod 2^64), as the Python peers define it:
 * `z = x + 0x9E3779B97F4A7C15; z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
 *  z = (z ^ (z >> 27)) * 0x94D049BB133111EB; return z ^ (z >> 31)`.
 *
 * @example
 * ```ts
 * splitmix64(0n) === 0xe220a8397b1dcdafn;
 * ```
 */
export function splitmix64(x: bigint): bigint {
  let z = (x + 0x9e3779b97f4a7c15n) & MASK_64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK_64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK_64;
  return z ^ (z >> 31n);
}
