import { GenrecError, type StepModelInput } from '@genrec/core';
import type { BeamSearchResult } from './beam-search.js';

/**
 * Wraps the flat result arrays of a decoding run (beam search or sampling) as a
 * {@link BeamSearchResult} with per-user views (internal).
 *
 * @param resultCount - result slots per user; `itemIds`, `logProbs`, `scores` hold
 *   `batchSize * resultCount` values and `tokens` `batchSize * resultCount * steps`
 */
export function createSearchResult(
  batchSize: number,
  resultCount: number,
  steps: number,
  itemIds: Int32Array,
  tokens: Int32Array,
  logProbs: Float64Array,
  scores: Float64Array,
  counts: Int32Array,
): BeamSearchResult {
  return {
    batchSize,
    resultCount,
    steps,
    itemIds,
    tokens,
    logProbs,
    scores,
    counts,
    user(index: number) {
      if (!Number.isInteger(index) || index < 0 || index >= batchSize) throw new GenrecError('INVALID_INPUT', `user ${index} is outside 0..${batchSize - 1}`);
      return {
        itemIds: itemIds.subarray(index * resultCount, (index + 1) * resultCount),
        tokens: tokens.subarray(index * resultCount * steps, (index + 1) * resultCount * steps),
        logProbs: logProbs.subarray(index * resultCount, (index + 1) * resultCount),
        scores: scores.subarray(index * resultCount, (index + 1) * resultCount),
      };
    },
  };
}

/**
 * Checks a model's sub-batch plan: every user of `0 .. batchSize - 1` exactly once, each part
 * non-empty and ascending.
 *
 * @throws GenrecError `INVALID_INPUT` naming the first violation.
 */
export function checkSplit(parts: readonly Int32Array[], batchSize: number): readonly Int32Array[] {
  const seen = new Uint8Array(batchSize);
  let total = 0;
  for (const part of parts) {
    if (part.length === 0) throw new GenrecError('INVALID_INPUT', 'the model split the batch into an empty sub-batch');
    for (let i = 0; i < part.length; i++) {
      const user = part[i]!;
      if (!Number.isInteger(user) || user < 0 || user >= batchSize || seen[user] === 1 || (i > 0 && user <= part[i - 1]!)) {
        throw new GenrecError('INVALID_INPUT', `the model's sub-batches must hold each user 0..${batchSize - 1} once, ascending; got ${user}`);
      }
      seen[user] = 1;
      total++;
    }
  }
  if (total !== batchSize) throw new GenrecError('INVALID_INPUT', `the model's sub-batches hold ${total} users, the batch has ${batchSize}`);
  return parts;
}

/** The encoder input of the given users (in that order). */
export function selectUsers(inputs: StepModelInput, users: Int32Array): StepModelInput {
  const { length } = inputs;
  const tokens = new Int32Array(users.length * length);
  for (let i = 0; i < users.length; i++) tokens.set(inputs.tokens.subarray(users[i]! * length, (users[i]! + 1) * length), i * length);
  return { tokens, batchSize: users.length, length };
}

/** Puts the results of sub-batches back into one result in the batch's user order. */
export function mergeSearchResults(batchSize: number, parts: readonly Int32Array[], results: readonly BeamSearchResult[]): BeamSearchResult {
  const { resultCount, steps } = results[0]!;
  const itemIds = new Int32Array(batchSize * resultCount);
  const tokens = new Int32Array(batchSize * resultCount * steps);
  const logProbs = new Float64Array(batchSize * resultCount);
  const scores = new Float64Array(batchSize * resultCount);
  const counts = new Int32Array(batchSize);
  parts.forEach((users, p) => {
    const result = results[p]!;
    for (let i = 0; i < users.length; i++) {
      const user = users[i]!;
      const from = i * resultCount;
      const to = user * resultCount;
      itemIds.set(result.itemIds.subarray(from, from + resultCount), to);
      logProbs.set(result.logProbs.subarray(from, from + resultCount), to);
      scores.set(result.scores.subarray(from, from + resultCount), to);
      tokens.set(result.tokens.subarray(from * steps, (from + resultCount) * steps), to * steps);
      counts[user] = result.counts[i]!;
    }
  });
  return createSearchResult(batchSize, resultCount, steps, itemIds, tokens, logProbs, scores, counts);
}
