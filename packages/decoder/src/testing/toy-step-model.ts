import type { StepModel, StepModelInput, StepSession } from '@genrec/core';

/**
 * Writes the raw logits of one row: `context` is the user's encoder tokens, `prefix` the tokens
 * generated so far by that row's hypothesis.
 */
export type ToyLogitsFunction = (context: Int32Array, prefix: Int32Array, out: Float32Array) => void;

/**
 * A {@link StepModel} for tests whose logits are an explicit function of (user context, prefix).
 * Its session keeps each row's prefix as its "cache" and reorders it by the parents, exactly as
 * a KV cache must be, so a search that passes wrong parents gets wrong logits.
 */
export class ToyStepModel implements StepModel {
  readonly vocabularySize: number;
  readonly #logits: ToyLogitsFunction;
  /** Number of `step` calls over all sessions (to check that searches do not re-run steps). */
  stepCalls = 0;
  /** Number of `encode` calls. */
  encodeCalls = 0;

  constructor(vocabularySize: number, logits: ToyLogitsFunction) {
    this.vocabularySize = vocabularySize;
    this.#logits = logits;
  }

  /** The logits of one (context, prefix), as the sessions compute them. */
  logitsOf(context: Int32Array, prefix: ArrayLike<number>): Float32Array {
    const out = new Float32Array(this.vocabularySize);
    this.#logits(context, Int32Array.from(prefix), out);
    return out;
  }

  async encode(input: StepModelInput): Promise<StepSession> {
    this.encodeCalls++;
    const contexts = Array.from({ length: input.batchSize }, (_, user) => input.tokens.slice(user * input.length, (user + 1) * input.length));
    let prefixes: Int32Array[] = [];
    const model = this;
    const vocabularySize = this.vocabularySize;
    const compute = this.#logits;
    return {
      batchSize: input.batchSize,
      async step(tokens: Int32Array, parents: Int32Array | null, beamsPerUser: number): Promise<Float32Array> {
        model.stepCalls++;
        const rows = input.batchSize * beamsPerUser;
        if (tokens.length !== rows) throw new Error(`toy model: ${tokens.length} tokens for ${rows} rows`);
        // The "cache": each row's prefix, reordered by the parents. The start token is not part of it.
        const next: Int32Array[] = [];
        for (let row = 0; row < rows; row++) {
          if (parents === null) next.push(new Int32Array(0));
          else {
            const parent = prefixes[parents[row]!];
            if (parent === undefined) throw new Error(`toy model: parent ${parents[row]} out of range`);
            const extended = new Int32Array(parent.length + 1);
            extended.set(parent);
            extended[parent.length] = tokens[row]!;
            next.push(extended);
          }
        }
        prefixes = next;
        const out = new Float32Array(rows * vocabularySize);
        for (let row = 0; row < rows; row++) compute(contexts[Math.floor(row / beamsPerUser)]!, prefixes[row]!, out.subarray(row * vocabularySize, (row + 1) * vocabularySize));
        return out;
      },
      dispose() {
        prefixes = [];
      },
    };
  }
}

/** A 32-bit integer hash of two values (murmur3 finaliser over a combination). */
export function mixHash(a: number, b: number): number {
  let h = Math.imul((a ^ (b + 0x9e3779b9 + (a << 6) + (a >>> 2))) >>> 0, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Pseudo-random logits in `[-scale/2, scale/2)` that depend on the seed, the user's context and the
 * whole prefix (a different, fixed distribution after every prefix).
 */
export function hashedLogits(seed: number, scale = 6): ToyLogitsFunction {
  return (context, prefix, out) => {
    let h = mixHash(seed, 17);
    for (let i = 0; i < context.length; i++) h = mixHash(h, context[i]!);
    h = mixHash(h, 0x51ed);
    for (let i = 0; i < prefix.length; i++) h = mixHash(h, prefix[i]! + 1);
    for (let token = 0; token < out.length; token++) out[token] = (mixHash(h, token) / 4294967296 - 0.5) * scale;
  };
}

/** Log-softmax of one row in float64. */
export function logSoftmax(logits: ArrayLike<number>): Float64Array {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i]! - max);
  const lse = max + Math.log(sum);
  return Float64Array.from(logits, (value) => value - lse);
}
