import { GenrecError } from '@genrec/core';
import type { FeedValue } from './graph-runner.js';

/** What {@link packContexts} needs to know about the model. */
export interface PackingSpec {
  vocabularySize: number;
  heads: number;
  padToken: number;
}

/** A batch's contexts with the padding dropped. */
export interface PackedContexts {
  /**
   * `tokens`, `positions` `[tokens]`; `attention_index` `[users, heads, slots]` (the packed chunk of
   * every slot and head); `output_index` `[tokens, heads]` (the slot chunk of every packed chunk);
   * `key_bias` `[users, slots]` (0 for a real token, -inf for an empty slot).
   */
  feeds: Record<string, FeedValue>;
  keyBias: FeedValue;
  /** Real tokens of the batch. */
  tokenCount: number;
  /** Real tokens per user. */
  counts: Int32Array;
  /** Longest context of the batch (slots per user). */
  slots: number;
}

/**
 * Packs a batch's real (non-pad) tokens for the graphs that skip padding: user `b`'s real tokens
 * become slots `0..count_b - 1` in order, and packed rows follow the users. A token's position is
 * its column in the input (`'column'`) or its index among the user's real tokens (`'sequence'`).
 *
 * @throws GenrecError `INVALID_INPUT` for a token outside the vocabulary or a context with no
 *   token but padding.
 */
export function packContexts(spec: PackingSpec, tokens: Int32Array, length: number, positionMode: 'column' | 'sequence' = 'column'): PackedContexts {
  const users = tokens.length / length;
  const H = spec.heads;
  const pad = spec.padToken;
  const counts = new Int32Array(users);
  let total = 0;
  let slots = 0;
  for (let b = 0; b < users; b++) {
    const row = b * length;
    let count = 0;
    for (let c = 0; c < length; c++) {
      const token = tokens[row + c]!;
      if (!Number.isInteger(token) || token < 0 || token >= spec.vocabularySize) {
        throw new GenrecError('INVALID_INPUT', `token ${token} of user ${b} (position ${c}) is outside the vocabulary 0..${spec.vocabularySize - 1}`, { details: { field: 'inputs' } });
      }
      if (token !== pad) count++;
    }
    if (count === 0) throw new GenrecError('INVALID_INPUT', `user ${b} has no context token (only padding)`, { details: { field: 'inputs' } });
    counts[b] = count;
    total += count;
    if (count > slots) slots = count;
  }
  // int64 tensors written through their low 32-bit words (every value here is in 0 .. 2^31)
  const packedTokens = new Int32Array(2 * total);
  const positions = new Int32Array(2 * total);
  const attentionIndex = new Int32Array(2 * users * H * slots);
  const outputIndex = new Int32Array(2 * total * H);
  const keyBias = new Float32Array(users * slots);
  let n = 0;
  for (let b = 0; b < users; b++) {
    const row = b * length;
    const start = n;
    let slot = 0;
    for (let c = 0; c < length; c++) {
      const token = tokens[row + c]!;
      if (token === pad) continue;
      packedTokens[2 * n] = token;
      positions[2 * n] = positionMode === 'column' ? c : slot;
      for (let h = 0; h < H; h++) {
        attentionIndex[2 * ((b * H + h) * slots + slot)] = n * H + h;
        outputIndex[2 * (n * H + h)] = (b * H + h) * slots + slot;
      }
      n++;
      slot++;
    }
    // empty slots: any real row of the same user (masked as keys, their outputs unused)
    for (; slot < slots; slot++) {
      keyBias[b * slots + slot] = Number.NEGATIVE_INFINITY;
      for (let h = 0; h < H; h++) attentionIndex[2 * ((b * H + h) * slots + slot)] = start * H + h;
    }
  }
  const int64 = (words: Int32Array): BigInt64Array => new BigInt64Array(words.buffer);
  const bias: FeedValue = { dtype: 'float32', data: keyBias, dims: [users, slots] };
  return {
    feeds: {
      tokens: { dtype: 'int64', data: int64(packedTokens), dims: [total] },
      positions: { dtype: 'int64', data: int64(positions), dims: [total] },
      attention_index: { dtype: 'int64', data: int64(attentionIndex), dims: [users, H, slots] },
      output_index: { dtype: 'int64', data: int64(outputIndex), dims: [total, H] },
      key_bias: bias,
    },
    keyBias: bias,
    tokenCount: total,
    counts,
    slots,
  };
}

/**
 * User indices of sub-batches of similar context length (longest first): `max(minimumGroups,
 * ceil(batchSize / subBatchUsers))` groups, at most one per user, each ascending.
 */
export function splitByContextLength(tokens: Int32Array, batchSize: number, length: number, padToken: number, minimumGroups: number, subBatchUsers: number): Int32Array[] {
  const groups = Math.min(batchSize, Math.max(minimumGroups, Math.ceil(batchSize / subBatchUsers)));
  if (groups <= 1 || tokens.length !== batchSize * length) return [Int32Array.from({ length: batchSize }, (_, user) => user)];
  const lengths = new Int32Array(batchSize);
  for (let user = 0; user < batchSize; user++) {
    let count = 0;
    for (let c = 0; c < length; c++) if (tokens[user * length + c] !== padToken) count++;
    lengths[user] = count;
  }
  const order = Array.from({ length: batchSize }, (_, user) => user).sort((a, b) => lengths[b]! - lengths[a]! || a - b);
  return Array.from({ length: groups }, (_, g) => Int32Array.from(order.slice(Math.round((g * batchSize) / groups), Math.round(((g + 1) * batchSize) / groups))).sort());
}
