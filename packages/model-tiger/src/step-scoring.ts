import type { StepModel } from '@genrec/core';
import type { LogitsProcessor, PrefixTrie } from '@genrec/decoder';

/**
 * log-softmax of a row's tokens over the tokens `pool[start .. end)` only (they hold the scored
 * token; offsets into one row), in float64: the arithmetic of `@genrec/decoder`'s beam search (over
 * the full vocabulary when the pool is every token, where the beam search's `logSumExpRow` agrees
 * to ~1e-15; over a trie node's children with `renormalize`, to float64 rounding). The row's maximum
 * and log-sum are kept for the next call on the same row and pool (step 0 scores every candidate of
 * a user on one row).
 */
class TokenLogSoftmax {
  private offset = -1;
  private pool: Int32Array | undefined;
  private start = -1;
  private end = -1;
  private max = 0;
  private logSum = 0;

  logProb(logits: Float32Array, offset: number, pool: Int32Array, start: number, end: number, token: number): number {
    if (offset !== this.offset || pool !== this.pool || start !== this.start || end !== this.end) {
      let max = Number.NEGATIVE_INFINITY;
      for (let i = start; i < end; i++) if (logits[offset + pool[i]!]! > max) max = logits[offset + pool[i]!]!;
      let sum = 0;
      for (let i = start; i < end; i++) sum += Math.exp(logits[offset + pool[i]!]! - max);
      this.offset = offset;
      this.pool = pool;
      this.start = start;
      this.end = end;
      this.max = max;
      this.logSum = Math.log(sum);
    }
    return logits[offset + token]! - this.max - this.logSum;
  }

  /** Forgets the row: call before reading a new step's logits (they may reuse the array). */
  reset(): void {
    this.offset = -1;
  }
}

/**
 * Teacher-forced log-probabilities of candidate token sequences under a step model: for each user
 * of `contexts`, the sum over each candidate's `tokensPerItem` tokens of the token's log-softmax
 * over the full vocabulary (over the tokens `trie` allows after the candidate's prefix when it is
 * given: every candidate must be in it). The context is encoded once; step 0 feeds `startToken` (one row per
 * user), step `t >= 1` one row per candidate (its token `t - 1`), each extending its user's row
 * (so the model's cache follows exactly as in a beam search with one beam per candidate).
 *
 * @param model - the step model
 * @param contexts - `batchSize x length` context tokens
 * @param candidates - per user, its candidates' tokens (`count x tokensPerItem`, row-major)
 * @param tokensPerItem - tokens per candidate
 * @param startToken - the decoder start token
 * @param processor - edits each step's logits before the log-softmax, as in the beam search (it
 *   sees each row's candidate tokens so far as the generated tokens)
 * @param trie - renormalise each token over this trie's children of the candidate's prefix
 * @returns per user, one log-probability per candidate
 */
export async function scoreCandidates(
  model: StepModel,
  contexts: { tokens: Int32Array; length: number; batchSize: number },
  candidates: readonly Int32Array[],
  tokensPerItem: number,
  startToken: number,
  processor?: LogitsProcessor,
  trie?: PrefixTrie,
): Promise<Float64Array[]> {
  const users = contexts.batchSize;
  const counts = candidates.map((tokens) => tokens.length / tokensPerItem);
  const perUser = Math.max(1, ...counts);
  const v = model.vocabularySize;
  const out = counts.map((count) => new Float64Array(count));
  // full softmax: every token of the vocabulary; renormalised: each candidate's trie node after its tokens so far
  const vocabulary = trie ? undefined : Int32Array.from({ length: v }, (_, i) => i);
  const nodes = trie ? counts.map((count) => new Int32Array(count).fill(trie.root)) : undefined;
  const softmax = new TokenLogSoftmax();
  const logProb = (logits: Float32Array, offset: number, u: number, c: number, token: number): number => {
    if (!trie || !nodes) return softmax.logProb(logits, offset, vocabulary!, 0, v, token);
    const node = nodes[u]![c]!;
    const next = node < 0 ? -1 : trie.child(node, token);
    nodes[u]![c] = next;
    // a candidate that left the trie (retired while this call ran) has probability 0
    if (next < 0) return Number.NEGATIVE_INFINITY;
    const start = trie.childStartArray[node]!;
    return softmax.logProb(logits, offset, trie.childTokenPool, start, start + trie.childCount(node), token);
  };
  const session = await model.encode(contexts);
  try {
    const first = await session.step(new Int32Array(users).fill(startToken), null, 1, tokensPerItem === 1);
    softmax.reset();
    processor?.(first, { step: 0, rows: users, vocabularySize: v, beamsPerUser: 1, generated: new Int32Array(users * tokensPerItem), generatedStride: tokensPerItem });
    for (let u = 0; u < users; u++) {
      for (let c = 0; c < counts[u]!; c++) out[u]![c] = logProb(first, u * v, u, c, candidates[u]![c * tokensPerItem]!);
    }
    const rows = users * perUser;
    const tokens = new Int32Array(rows);
    const parents = new Int32Array(rows);
    // each row's candidate tokens, as a decoder's generated tokens
    const generated = new Int32Array(rows * tokensPerItem);
    for (let u = 0; u < users; u++) {
      for (let c = 0; c < perUser; c++) {
        const source = c < counts[u]! ? c : 0;
        if (counts[u]! > 0) generated.set(candidates[u]!.subarray(source * tokensPerItem, (source + 1) * tokensPerItem), (u * perUser + c) * tokensPerItem);
      }
    }
    for (let t = 1; t < tokensPerItem; t++) {
      for (let u = 0; u < users; u++) {
        for (let c = 0; c < perUser; c++) {
          const row = u * perUser + c;
          // users with fewer candidates repeat their first one (or the start token when they have none)
          const source = c < counts[u]! ? c : 0;
          tokens[row] = counts[u]! > 0 ? candidates[u]![source * tokensPerItem + t - 1]! : startToken;
          parents[row] = t === 1 ? u : row;
        }
      }
      const logits = await session.step(tokens, parents, perUser, t === tokensPerItem - 1);
      softmax.reset();
      processor?.(logits, { step: t, rows, vocabularySize: v, beamsPerUser: perUser, generated, generatedStride: tokensPerItem });
      for (let u = 0; u < users; u++) {
        for (let c = 0; c < counts[u]!; c++) {
          const row = u * perUser + c;
          out[u]![c]! += logProb(logits, row * v, u, c, candidates[u]![c * tokensPerItem + t]!);
        }
      }
    }
  } finally {
    session.dispose();
  }
  return out;
}
