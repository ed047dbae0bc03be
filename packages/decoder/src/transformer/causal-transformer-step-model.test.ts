import { createSemanticIdTable, createTokenLayout, tokenOf } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { beamSearch } from '../beam-search.js';
import { PrefixTrie } from '../prefix-trie.js';
import { rejectionCode } from '../testing/error-code.js';
import { naiveCausalNextLogits, randomWeights } from '../testing/naive-transformer.js';
import { causalTransformerWeightShapes, resolveCausalTransformerSpec, type CausalTransformerSpec } from './causal-spec.js';
import { CausalTransformerStepModel } from './causal-transformer-step-model.js';

const spec: CausalTransformerSpec = {
  vocabularySize: 23,
  modelDimension: 8,
  heads: 2,
  headDimension: 3,
  feedForwardDimension: 12,
  layers: 2,
  maxLength: 12,
};

/** 4 users of length 7: left-padded, full, pads in the middle, a single token. */
const contexts = [
  [0, 0, 0, 5, 9, 12, 3],
  [4, 8, 15, 16, 22, 19, 7],
  [6, 0, 11, 0, 0, 21, 2],
  [0, 0, 0, 0, 0, 0, 13],
];

function maxDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < expected.length; i++) max = Math.max(max, Math.abs(actual[i]! - expected[i]!));
  return max;
}

function logSoftmax(logits: ArrayLike<number>): number[] {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i]! - max);
  return Array.from(logits, (v) => v - max - Math.log(sum));
}

/** Steps a session through 4 positions with growing, shuffled beams and compares every row with the naive model. */
async function checkAgainstNaive(model: CausalTransformerStepModel, weights: Map<string, Float32Array>): Promise<number> {
  const resolved = model.spec;
  const V = resolved.vocabularySize;
  const session = await model.encode({ tokens: Int32Array.from(contexts.flat()), batchSize: contexts.length, length: 7 });
  // per row: the tokens generated at steps 1..t (step 0's token is not read)
  let generated: number[][] = contexts.map(() => []);
  let worst = 0;
  const plan: Array<{ beams: number; parents: number[] | null; tokens: number[] }> = [
    { beams: 1, parents: null, tokens: [1, 1, 1, 1] },
    { beams: 2, parents: [0, 0, 1, 1, 2, 2, 3, 3], tokens: [4, 9, 17, 3, 22, 5, 8, 8] },
    { beams: 3, parents: [1, 0, 1, 3, 3, 2, 4, 5, 5, 7, 6, 6], tokens: [2, 6, 7, 10, 11, 12, 13, 14, 15, 18, 19, 20] },
    { beams: 2, parents: [2, 0, 5, 3, 7, 6, 11, 9], tokens: [3, 14, 9, 9, 21, 0, 5, 16] },
  ];
  for (let s = 0; s < plan.length; s++) {
    const { beams, parents, tokens } = plan[s]!;
    const next = tokens.map((token, r) => (s === 0 ? [] : [...generated[parents![r]!]!, token]));
    const logits = await session.step(Int32Array.from(tokens), parents ? Int32Array.from(parents) : null, beams, s === plan.length - 1);
    for (let r = 0; r < tokens.length; r++) {
      const expected = naiveCausalNextLogits(resolved, weights, contexts[Math.floor(r / beams)]!, next[r]!);
      worst = Math.max(worst, maxDifference(logits.subarray(r * V, (r + 1) * V), expected));
    }
    generated = next;
  }
  session.dispose();
  return worst;
}

describe('CausalTransformerStepModel', () => {
  it('matches a float64 implementation that recomputes the full prefix, step by step (both position modes)', async () => {
    const variants = [
      { extra: { activation: 'relu' as const, positions: 'column' as const }, weights: {}, workers: 0 },
      { extra: { activation: 'gelu' as const, positions: 'sequence' as const, layerNormEpsilon: 1e-3 }, weights: { biases: true, untiedOutput: true }, workers: 1 },
      { extra: { positions: 'column' as const, layers: 1, padToken: 5 }, weights: { biases: true }, workers: 0 },
    ];
    for (const { extra, weights: variant, workers } of variants) {
      const full = { ...spec, ...extra };
      const weights = randomWeights(causalTransformerWeightShapes(resolveCausalTransformerSpec(full)), 17, variant);
      const model = await CausalTransformerStepModel.create({ spec: full, weights, workers });
      try {
        expect(await checkAgainstNaive(model, weights)).toBeLessThan(2e-4);
      } finally {
        await model.dispose();
      }
    }
  });

  it('beam search through it returns only catalogue items; with a beam as wide as the catalogue, the exact top-k', async () => {
    const full = { ...spec, positions: 'sequence' as const };
    const weights = randomWeights(causalTransformerWeightShapes(resolveCausalTransformerSpec(full)), 4, { biases: true });
    const split = await CausalTransformerStepModel.create({ spec: full, weights, workers: 2, subBatchUsers: 2 });
    const whole = await CausalTransformerStepModel.create({ spec: full, weights, workers: 0, subBatchUsers: Infinity });
    try {
      const layout = createTokenLayout({ levelSizes: [4, 4, 4] }); // tokens 3..14 of the 23
      const codes = Array.from({ length: 64 }, (_, item) => [item >> 4, (item >> 2) & 3, item & 3]).filter((_, item) => item % 3 !== 1);
      const itemIds = codes.map((_, i) => 100 + i);
      const trie = PrefixTrie.fromTable(createSemanticIdTable({ itemIds, codes: codes.flat(), levels: 3, codebookSizes: [4, 4, 4] }), layout);
      const input = { tokens: Int32Array.from([...contexts, ...contexts.slice(0, 2)].flat()), batchSize: 6, length: 7 };
      expect(split.splitBatch(input).map((part) => Array.from(part))).toEqual([[1, 5], [0, 2], [3, 4]]);
      const narrow = await beamSearch(split, input, { trie, beamWidth: 5, resultCount: 4 });
      for (const item of narrow.itemIds) expect(itemIds).toContain(item);
      const same = await beamSearch(whole, input, { trie, beamWidth: 5, resultCount: 4 });
      expect(Array.from(narrow.itemIds)).toEqual(Array.from(same.itemIds));
      expect(maxDifference(narrow.logProbs, same.logProbs)).toBeLessThan(1e-5);
      // exhaustive: every item's full-vocabulary log-probability under the naive model
      const resolved = split.spec;
      const wide = await beamSearch(split, input, { trie, beamWidth: codes.length, resultCount: 5 });
      for (let user = 0; user < 4; user++) {
        const scored = codes.map((code, i) => {
          const tokens = code.map((c, level) => tokenOf(layout, level, c));
          let score = 0;
          for (let t = 0; t < tokens.length; t++) score += logSoftmax(naiveCausalNextLogits(resolved, weights, contexts[user]!, tokens.slice(0, t)))[tokens[t]!]!;
          return { item: itemIds[i]!, score };
        });
        scored.sort((a, b) => b.score - a.score);
        expect(Array.from(wide.user(user).itemIds)).toEqual(scored.slice(0, 5).map((s) => s.item));
        expect(maxDifference(wide.user(user).logProbs, scored.slice(0, 5).map((s) => s.score))).toBeLessThan(1e-4);
      }
    } finally {
      await split.dispose();
      await whole.dispose();
    }
  });

  it('rejects bad specs, weights, contexts and step sequences with clear errors', async () => {
    const resolved = resolveCausalTransformerSpec(spec);
    const weights = randomWeights(causalTransformerWeightShapes(resolved), 5);
    expect(await rejectionCode(CausalTransformerStepModel.create({ spec: { ...spec, heads: 3, headDimension: undefined as unknown as number }, weights }))).toBe('INVALID_OPTION');
    expect(await rejectionCode(CausalTransformerStepModel.create({ spec: { ...spec, positions: 'rows' as 'column' }, weights }))).toBe('INVALID_OPTION');
    const missing = new Map(weights);
    missing.delete('layers.1.ffn.fc2.weight');
    expect(await rejectionCode(CausalTransformerStepModel.create({ spec, weights: missing }))).toBe('INVALID_INPUT');
    expect(await rejectionCode(CausalTransformerStepModel.create({ spec, weights: new Map([...weights, ['layers.2.norm1.weight', new Float32Array(8)]]) }))).toBe('INVALID_INPUT');
    expect(await rejectionCode(CausalTransformerStepModel.create({ spec, weights: new Map([...weights, ['position.weight', new Float32Array(8)]]) }))).toBe('SHAPE_MISMATCH');
    expect(await rejectionCode(CausalTransformerStepModel.create({ spec, weights, workers: 1.5 }))).toBe('INVALID_OPTION');
    const model = await CausalTransformerStepModel.create({ spec, weights, workers: 0 });
    try {
      expect(await rejectionCode(model.encode({ tokens: new Int32Array(7), batchSize: 1, length: 7 }))).toBe('INVALID_INPUT'); // only padding
      expect(await rejectionCode(model.encode({ tokens: Int32Array.of(1, 2, 99), batchSize: 1, length: 3 }))).toBe('INVALID_INPUT');
      expect(await rejectionCode(model.encode({ tokens: new Int32Array(13).fill(2), batchSize: 1, length: 13 }))).toBe('SHAPE_MISMATCH'); // > maxLength columns
      // length 10 of 12 positions: steps 0, 1, 2 fit (positions 10, 11), step 3 does not
      const session = await model.encode({ tokens: new Int32Array(10).fill(3), batchSize: 1, length: 10 });
      expect(await rejectionCode(session.step(Int32Array.of(1), Int32Array.of(0), 1))).toBe('INVALID_INPUT'); // parents at step 0
      await session.step(Int32Array.of(1), null, 1);
      expect(await rejectionCode(session.step(Int32Array.of(3, 4), null, 2))).toBe('INVALID_INPUT'); // no parents later
      await session.step(Int32Array.of(3, 4), Int32Array.of(0, 0), 2);
      await session.step(Int32Array.of(5, 6), Int32Array.of(1, 0), 2);
      expect(await rejectionCode(session.step(Int32Array.of(5, 6), Int32Array.of(1, 0), 2))).toBe('INVALID_INPUT'); // position 12
      session.dispose();
      const done = await model.encode({ tokens: Int32Array.from(contexts[0]!), batchSize: 1, length: 7 });
      await done.step(Int32Array.of(1), null, 1, true);
      expect(await rejectionCode(done.step(Int32Array.of(4), Int32Array.of(0), 1))).toBe('INVALID_INPUT'); // after final
    } finally {
      await model.dispose();
    }
    expect(await rejectionCode(model.encode({ tokens: Int32Array.from(contexts[0]!), batchSize: 1, length: 7 }))).toBe('INVALID_INPUT'); // disposed
  });
});
