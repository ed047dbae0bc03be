import { GenrecError } from '@genrec/core';

/**
 * What a {@link LogitsProcessor} may read about the current decoding step. Rows are user-major:
 * row `r` belongs to user `floor(r / beamsPerUser)`.
 */
export interface LogitsProcessorContext {
  /** Decoding step, 0 for the first generated token. */
  readonly step: number;
  /** Number of rows in the logits buffer. */
  readonly rows: number;
  /** Width of each row. */
  readonly vocabularySize: number;
  /** Rows per user. */
  readonly beamsPerUser: number;
  /**
   * Tokens generated so far by each row's hypothesis: row `r`'s token at step `s < step` is
   * `generated[r * generatedStride + s]`.
   */
  readonly generated: Int32Array;
  /** Row stride of {@link LogitsProcessorContext.generated}. */
  readonly generatedStride: number;
}

/**
 * A function that edits a logits buffer (`rows x vocabularySize`, row-major) in place, e.g. to
 * scale it or to set forbidden tokens to `-Infinity`. Processors compose with
 * {@link composeLogitsProcessors}; each keeps its scratch buffers between calls.
 */
export type LogitsProcessor = (logits: Float32Array, context: LogitsProcessorContext) => void;

/**
 * Runs processors in order on the same buffer.
 *
 * @example
 * ```ts
 * const processor = composeLogitsProcessors([temperatureProcessor(0.7), topKProcessor(50)]);
 * ```
 */
export function composeLogitsProcessors(processors: readonly LogitsProcessor[]): LogitsProcessor {
  const list = [...processors];
  return (logits, context) => {
    for (const processor of list) processor(logits, context);
  };
}

/**
 * Divides every logit by `temperature` (> 1 flattens, < 1 sharpens the distribution).
 *
 * @throws GenrecError `INVALID_OPTION` unless `temperature` is finite and > 0.
 */
export function temperatureProcessor(temperature: number): LogitsProcessor {
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new GenrecError('INVALID_OPTION', `temperature must be a finite number > 0, got ${temperature}`, { details: { field: 'temperature' } });
  }
  const inverse = 1 / temperature;
  return (logits) => {
    if (temperature === 1) return;
    for (let i = 0; i < logits.length; i++) logits[i] = logits[i]! * inverse;
  };
}

/**
 * Keeps the `k` largest logits of each row and sets the others to `-Infinity`. Logits equal to
 * the `k`-th largest are all kept (so a row may keep more than `k` on exact ties).
 *
 * @throws GenrecError `INVALID_OPTION` unless `k` is a positive integer.
 */
export function topKProcessor(k: number): LogitsProcessor {
  if (!Number.isInteger(k) || k <= 0) throw new GenrecError('INVALID_OPTION', `top-k must be a positive integer, got ${k}`, { details: { field: 'topK' } });
  let scratch = new Float32Array(0);
  return (logits, context) => {
    const width = context.vocabularySize;
    if (k >= width) return;
    if (scratch.length < width) scratch = new Float32Array(width);
    for (let row = 0; row < context.rows; row++) {
      const offset = row * width;
      const values = scratch.subarray(0, width);
      values.set(logits.subarray(offset, offset + width));
      const cutoff = kthLargest(values, k);
      for (let token = 0; token < width; token++) if (logits[offset + token]! < cutoff) logits[offset + token] = Number.NEGATIVE_INFINITY;
    }
  };
}

/**
 * Nucleus filtering: keeps, per row, the smallest set of most likely tokens whose softmax
 * probability sums to at least `p` (at least `minKeep` tokens); the others get `-Infinity`.
 * Tokens tied with the last kept one are kept too.
 *
 * @throws GenrecError `INVALID_OPTION` unless `0 < p <= 1`.
 */
export function topPProcessor(p: number, minKeep = 1): LogitsProcessor {
  if (!(p > 0 && p <= 1)) throw new GenrecError('INVALID_OPTION', `top-p must be in (0, 1], got ${p}`, { details: { field: 'topP' } });
  let sorted = new Float32Array(0);
  return (logits, context) => {
    if (p === 1) return;
    const width = context.vocabularySize;
    if (sorted.length < width) sorted = new Float32Array(width);
    for (let row = 0; row < context.rows; row++) {
      const offset = row * width;
      const values = sorted.subarray(0, width);
      values.set(logits.subarray(offset, offset + width));
      values.sort();
      const max = values[width - 1]!;
      if (max === Number.NEGATIVE_INFINITY) continue;
      let total = 0;
      for (let i = 0; i < width; i++) total += Math.exp(values[i]! - max);
      let cumulative = 0;
      let cutoff = values[width - 1]!;
      for (let i = width - 1, kept = 1; i >= 0; i--, kept++) {
        cumulative += Math.exp(values[i]! - max) / total;
        cutoff = values[i]!;
        if (cumulative >= p && kept >= minKeep) break;
      }
      for (let token = 0; token < width; token++) if (logits[offset + token]! < cutoff) logits[offset + token] = Number.NEGATIVE_INFINITY;
    }
  };
}

/**
 * Repetition penalty (CTRL style) on the tokens a hypothesis already generated: a positive logit
 * is divided by `penalty`, a negative one multiplied by it. `penalty = Infinity` forbids
 * repeating a token at all.
 *
 * @throws GenrecError `INVALID_OPTION` unless `penalty >= 1`.
 */
export function repetitionPenaltyProcessor(penalty: number): LogitsProcessor {
  if (!(penalty >= 1)) throw new GenrecError('INVALID_OPTION', `repetition penalty must be >= 1, got ${penalty}`, { details: { field: 'penalty' } });
  return (logits, context) => {
    const width = context.vocabularySize;
    for (let row = 0; row < context.rows; row++) {
      for (let step = 0; step < context.step; step++) {
        const token = context.generated[row * context.generatedStride + step]!;
        if (token < 0 || token >= width) continue;
        const index = row * width + token;
        const value = logits[index]!;
        // Applied once per distinct token: skip if an earlier step had the same token.
        let seen = false;
        for (let earlier = 0; earlier < step; earlier++) if (context.generated[row * context.generatedStride + earlier] === token) seen = true;
        if (seen) continue;
        if (penalty === Number.POSITIVE_INFINITY) logits[index] = Number.NEGATIVE_INFINITY;
        else logits[index] = value > 0 ? value / penalty : value * penalty;
      }
    }
  };
}

/**
 * Forbids, for every row of user `u`, the tokens in `tokensPerUser[u]` (e.g. tokens the user has
 * seen, or special tokens), at every step or only at the steps listed in `steps`.
 */
export function historyMaskProcessor(tokensPerUser: ReadonlyArray<ArrayLike<number> | undefined>, steps?: readonly number[]): LogitsProcessor {
  const lists = tokensPerUser.map((tokens) => (tokens ? Int32Array.from(tokens) : new Int32Array(0)));
  const stepSet = steps ? new Set(steps) : undefined;
  return (logits, context) => {
    if (stepSet && !stepSet.has(context.step)) return;
    const width = context.vocabularySize;
    const users = context.rows / context.beamsPerUser;
    if (users > lists.length) {
      throw new GenrecError('SHAPE_MISMATCH', `historyMaskProcessor has token lists for ${lists.length} users, the batch has ${users}`);
    }
    for (let row = 0; row < context.rows; row++) {
      const list = lists[Math.floor(row / context.beamsPerUser)]!;
      for (let i = 0; i < list.length; i++) {
        const token = list[i]!;
        if (token >= 0 && token < width) logits[row * width + token] = Number.NEGATIVE_INFINITY;
      }
    }
  };
}

/** The k-th largest value of `values` (1-based k), by quickselect; reorders `values`. */
function kthLargest(values: Float32Array, k: number): number {
  let low = 0;
  let high = values.length - 1;
  const target = k - 1;
  while (low < high) {
    const pivot = values[(low + high) >>> 1]!;
    let i = low;
    let j = high;
    while (i <= j) {
      while (values[i]! > pivot) i++;
      while (values[j]! < pivot) j--;
      if (i <= j) {
        const swap = values[i]!;
        values[i] = values[j]!;
        values[j] = swap;
        i++;
        j--;
      }
    }
    if (target <= j) high = j;
    else if (target >= i) low = i;
    else break;
  }
  return values[target]!;
}
