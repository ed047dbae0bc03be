import { GenrecError } from './errors.js';
import { splitmix64 } from './splitmix64.js';

/** A seed: a safe integer or a bigint (taken mod 2^64). */
export type Seed = number | bigint;

function seedToBigInt(seed: Seed): bigint {
  if (typeof seed === 'bigint') return BigInt.asUintN(64, seed);
  if (!Number.isSafeInteger(seed)) {
    throw new GenrecError('INVALID_OPTION', `a seed must be a safe integer or a bigint, got ${seed}`, { details: { field: 'seed' } });
  }
  return BigInt.asUintN(64, BigInt(seed));
}

/**
 * A seeded pseudo-random generator (xoshiro128**, state expanded from the seed by splitmix64).
 * Only 32-bit integer arithmetic is used, so a seed gives the identical stream on every platform
 * and every JavaScript engine version. Not for cryptography.
 *
 * @example
 * ```ts
 * const rng = new Rng(42);
 * rng.uniform();      // in [0, 1)
 * rng.int(10);        // in 0..9
 * rng.normal();       // standard normal
 * ```
 */
export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spareNormal: number | undefined;

  constructor(seed: Seed) {
    let x = seedToBigInt(seed);
    const words: number[] = [];
    for (let i = 0; i < 2; i++) {
      x = (x + 0x9e3779b97f4a7c15n) & ((1n << 64n) - 1n);
      const z = splitmix64(x - 0x9e3779b97f4a7c15n);
      words.push(Number(z & 0xffffffffn), Number(z >> 32n));
    }
    [this.s0, this.s1, this.s2, this.s3] = words as [number, number, number, number];
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** The next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const high = this.nextUint32() >>> 5; // 27 bits
    const low = this.nextUint32() >>> 6; // 26 bits
    return (high * 67108864 + low) / 9007199254740992;
  }

  /** A uniform double in [low, high). */
  uniformIn(low: number, high: number): number {
    return low + (high - low) * this.uniform();
  }

  /**
   * A uniform integer in `0 .. n-1`, without modulo bias.
   *
   * @throws GenrecError `INVALID_INPUT` unless `n` is a positive safe integer.
   */
  int(n: number): number {
    if (!Number.isSafeInteger(n) || n <= 0) throw new GenrecError('INVALID_INPUT', `int(n) needs a positive integer n, got ${n}`);
    if (n <= 0x100000000) {
      // Rejection sampling on 32 bits: accept below the largest multiple of n.
      const limit = 0x100000000 - (0x100000000 % n);
      for (;;) {
        const value = this.nextUint32();
        if (value < limit) return value % n;
      }
    }
    for (;;) {
      const value = Math.floor(this.uniform() * 9007199254740992);
      const limit = 9007199254740992 - (9007199254740992 % n);
      if (value < limit) return value % n;
    }
  }

  /** A normal deviate (Box–Muller; the second value of each pair is kept for the next call). */
  normal(mean = 0, std = 1): number {
    if (this.spareNormal !== undefined) {
      const value = this.spareNormal;
      this.spareNormal = undefined;
      return mean + std * value;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const radius = Math.sqrt(-2 * Math.log(u));
    const angle = 2 * Math.PI * v;
    this.spareNormal = radius * Math.sin(angle);
    return mean + std * radius * Math.cos(angle);
  }

  /** Fills `out` with normal deviates and returns it. */
  fillNormal<T extends Float32Array | Float64Array>(out: T, mean = 0, std = 1): T {
    for (let i = 0; i < out.length; i++) out[i] = this.normal(mean, std);
    return out;
  }

  /** Fills `out` with uniform values in [low, high) and returns it. */
  fillUniform<T extends Float32Array | Float64Array>(out: T, low = 0, high = 1): T {
    for (let i = 0; i < out.length; i++) out[i] = this.uniformIn(low, high);
    return out;
  }

  /** Shuffles `values` in place (Fisher–Yates) and returns it. */
  shuffle<T extends { length: number; [index: number]: unknown }>(values: T): T {
    for (let i = values.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = values[i];
      values[i] = values[j];
      values[j] = tmp;
    }
    return values;
  }

  /** A random permutation of `0 .. n-1`. */
  permutation(n: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    return this.shuffle(out);
  }

  /**
   * One index drawn with probability proportional to `weights[i]` (linear scan; for many draws
   * from the same weights use {@link WeightedSampler}).
   *
   * @throws GenrecError `INVALID_INPUT` on negative or non-finite weights, or when all are 0.
   */
  weightedIndex(weights: ArrayLike<number>): number {
    let total = 0;
    for (let i = 0; i < weights.length; i++) total += checkWeight(weights[i]!, i);
    if (!(total > 0)) throw new GenrecError('INVALID_INPUT', 'weighted sampling needs at least one positive weight');
    let target = this.uniform() * total;
    for (let i = 0; i < weights.length; i++) {
      target -= weights[i]!;
      if (target < 0) return i;
    }
    for (let i = weights.length - 1; i >= 0; i--) if (weights[i]! > 0) return i;
    return weights.length - 1;
  }

  /** A new generator whose stream is independent of this one's, derived from this one's next draws. */
  fork(): Rng {
    const high = BigInt(this.nextUint32());
    const low = BigInt(this.nextUint32());
    return new Rng((high << 32n) | low);
  }

  /** The full state, to resume the same stream later with {@link Rng.fromState}. */
  getState(): RngState {
    return { words: [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0], spareNormal: this.spareNormal ?? null };
  }

  /** A generator that continues exactly where the one that gave `state` was. */
  static fromState(state: RngState): Rng {
    if (!Array.isArray(state.words) || state.words.length !== 4 || state.words.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffffffff)) {
      throw new GenrecError('INVALID_INPUT', 'an Rng state needs 4 unsigned 32-bit words');
    }
    const rng = new Rng(0);
    [rng.s0, rng.s1, rng.s2, rng.s3] = state.words.map((w) => w | 0) as [number, number, number, number];
    rng.spareNormal = state.spareNormal ?? undefined;
    return rng;
  }
}

/** A serialisable snapshot of an {@link Rng}. */
export interface RngState {
  words: number[];
  spareNormal: number | null;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

function checkWeight(weight: number, index: number): number {
  if (!Number.isFinite(weight) || weight < 0) {
    throw new GenrecError('INVALID_INPUT', `weight ${index} is ${weight}; weights must be finite and non-negative`);
  }
  return weight;
}

/**
 * Draws indices with probability proportional to fixed weights in O(1) per draw (Walker's alias
 * method, Vose's construction).
 *
 * @example
 * ```ts
 * const sampler = new WeightedSampler([1, 2, 7]);
 * sampler.sample(new Rng(0)); // 2 with probability 0.7
 * ```
 */
export class WeightedSampler {
  private readonly probability: Float64Array;
  private readonly alias: Int32Array;

  constructor(weights: ArrayLike<number>) {
    const n = weights.length;
    let total = 0;
    for (let i = 0; i < n; i++) total += checkWeight(weights[i]!, i);
    if (!(total > 0)) throw new GenrecError('INVALID_INPUT', 'weighted sampling needs at least one positive weight');
    this.probability = new Float64Array(n);
    this.alias = new Int32Array(n);
    const scaled = new Float64Array(n);
    const small: number[] = [];
    const large: number[] = [];
    for (let i = 0; i < n; i++) {
      scaled[i] = (weights[i]! * n) / total;
      (scaled[i]! < 1 ? small : large).push(i);
    }
    while (small.length > 0 && large.length > 0) {
      const s = small.pop()!;
      const l = large.pop()!;
      this.probability[s] = scaled[s]!;
      this.alias[s] = l;
      scaled[l] = scaled[l]! + scaled[s]! - 1;
      (scaled[l]! < 1 ? small : large).push(l);
    }
    for (const i of large) this.probability[i] = 1;
    // Left-overs from rounding: positive ones keep their column; a zero weight must never be drawn.
    for (const i of small) {
      this.probability[i] = weights[i]! > 0 ? 1 : 0;
      if (weights[i]! <= 0) this.alias[i] = firstPositive(weights);
    }
  }

  /** Number of categories. */
  get size(): number {
    return this.probability.length;
  }

  /** One index drawn from the weights. */
  sample(rng: Rng): number {
    const column = rng.int(this.probability.length);
    return rng.uniform() < this.probability[column]! ? column : this.alias[column]!;
  }
}

function firstPositive(weights: ArrayLike<number>): number {
  for (let i = 0; i < weights.length; i++) if (weights[i]! > 0) return i;
  return 0;
}
