import { GenrecError } from '@genrec/core';
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
