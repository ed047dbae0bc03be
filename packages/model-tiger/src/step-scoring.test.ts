import type { StepModel, StepSession } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { scoreCandidates } from './step-scoring.js';

const V = 7;
/** A row's logits from its tokens so far (deterministic, distinct per prefix). */
const logitsOf = (prefix: readonly number[], user: number): number[] => Array.from({ length: V }, (_, j) => Math.sin(1 + j * 1.7 + user * 0.3 + prefix.reduce((sum, t, i) => sum + (t + 1) * (i + 2) * 0.37, 0)) * 3);

/** A step model whose sessions write every step's logits into one reused buffer (the contract allows it). */
function fakeModel(): StepModel {
  return {
    vocabularySize: V,
    async encode(input) {
      const buffer = new Float32Array(input.batchSize * 64 * V);
      let prefixes: number[][] = [];
      const session: StepSession = {
        batchSize: input.batchSize,
        async step(tokens, parents, beamsPerUser) {
          prefixes = Array.from(tokens, (token, row) => [...(parents ? prefixes[parents[row]!]! : []), token]);
          prefixes.forEach((prefix, row) => buffer.set(logitsOf(prefix, Math.floor(row / beamsPerUser)), row * V));
          return buffer;
        },
        dispose() {},
      };
      return session;
    },
  };
}

/** The sum of each token's log-softmax, computed directly. */
function naive(user: number, tokens: readonly number[], start: number): number {
  let total = 0;
  const prefix = [start];
  for (const token of tokens) {
    const row = Float32Array.from(logitsOf(prefix, user));
    const max = Math.max(...row);
    total += row[token]! - max - Math.log(row.reduce((sum, x) => sum + Math.exp(x - max), 0));
    prefix.push(token);
  }
  return total;
}

describe('scoreCandidates', () => {
  it('sums each token log-softmax of every candidate, also for one user and a reused logits buffer', async () => {
    for (const users of [1, 3]) {
      const candidates = Array.from({ length: users }, (_, u) => Int32Array.from({ length: (u + 2) * 3 }, (_, i) => (i * 5 + u) % V));
      const scores = await scoreCandidates(fakeModel(), { tokens: new Int32Array(users), length: 1, batchSize: users }, candidates, 3, 0);
      candidates.forEach((tokens, u) => {
        for (let c = 0; c < tokens.length / 3; c++) expect(scores[u]![c]).toBeCloseTo(naive(u, Array.from(tokens.subarray(c * 3, c * 3 + 3)), 0), 12);
      });
    }
  });
});
