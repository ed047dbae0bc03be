import { createSemanticIdTable, createTokenLayout, sharedPath } from '@genrec/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beamSearch } from '../beam-search.js';
import { historyMaskProcessor } from '../logits-processors.js';
import { OnnxSeq2SeqStepModel } from '../onnx-seq2seq-step-model.js';
import { PrefixTrie } from '../prefix-trie.js';
import { rejectionCode } from '../testing/error-code.js';
import { naiveEncode, naiveNextLogits, randomTransformerWeights } from '../testing/naive-transformer.js';
import { fixtureBatch, loadTigerFixture, loadTigerFixtureTransformer } from '../testing/tiger-fixture.js';
import { resolveTransformerSpec, type TransformerSpec } from './spec.js';
import { TransformerStepModel } from './transformer-step-model.js';

const spec: TransformerSpec = {
  vocabularySize: 23,
  modelDimension: 8,
  heads: 2,
  headDimension: 3,
  feedForwardDimension: 12,
  encoderLayers: 2,
  decoderLayers: 2,
  maxSourceLength: 7,
  maxTargetLength: 4,
};

/** 4 users of length 7: left-padded, full, a pad in the middle, a single token. */
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

/** Steps a session through 3 positions with given parents and compares every row with the naive model. */
async function checkAgainstNaive(model: TransformerStepModel, weights: Map<string, Float32Array>): Promise<number> {
  const resolved = model.spec;
  const users = contexts.length;
  const session = await model.encode({ tokens: Int32Array.from(contexts.flat()), batchSize: users, length: 7 });
  const encoded = contexts.map((context) => naiveEncode(resolved, weights, context));
  // prefixes per row, user-major; step 1: 2 beams, step 2: 3 beams with shuffled parents
  let prefixes = contexts.map(() => [1]);
  let worst = 0;
  const plan: Array<{ beams: number; parents: number[] | null; tokens: number[] }> = [
    { beams: 1, parents: null, tokens: [1, 1, 1, 1] },
    { beams: 2, parents: [0, 0, 1, 1, 2, 2, 3, 3], tokens: [4, 9, 17, 3, 22, 5, 8, 8] },
    { beams: 3, parents: [1, 0, 1, 3, 3, 2, 4, 5, 5, 7, 6, 6], tokens: [2, 6, 7, 10, 11, 12, 13, 14, 15, 18, 19, 20] },
  ];
  for (let s = 0; s < plan.length; s++) {
    const { beams, parents, tokens } = plan[s]!;
    const next = tokens.map((token, r) => [...(parents ? prefixes[parents[r]!]! : prefixes[r]!).slice(0, s), token]);
    const logits = await session.step(Int32Array.from(tokens), parents ? Int32Array.from(parents) : null, beams, s === plan.length - 1);
    for (let r = 0; r < tokens.length; r++) {
      const expected = naiveNextLogits(resolved, weights, encoded[Math.floor(r / beams)]!, next[r]!);
      worst = Math.max(worst, maxDifference(logits.subarray(r * resolved.vocabularySize, (r + 1) * resolved.vocabularySize), expected));
    }
    prefixes = next;
  }
  session.dispose();
  return worst;
}

describe('TransformerStepModel', () => {
  it('matches a direct float64 implementation step by step (padding skipped, cache gathered through parents)', async () => {
    for (const [variant, workers, extra] of [
      [{}, 0, { activation: 'relu' as const }],
      [{ biases: true, untiedOutput: true }, 1, { activation: 'gelu' as const, layerNormEpsilon: 1e-3 }],
    ] as const) {
      const weights = randomTransformerWeights(resolveTransformerSpec({ ...spec, ...extra }), 11, variant);
      const model = await TransformerStepModel.create({ spec: { ...spec, ...extra }, weights, workers });
      try {
        expect(await checkAgainstNaive(model, weights)).toBeLessThan(2e-4);
      } finally {
        await model.dispose();
      }
    }
  });

  it('splits a batch into length-sorted sub-batches, and beam search returns the same results split or whole', async () => {
    const weights = randomTransformerWeights(resolveTransformerSpec(spec), 3);
    const split = await TransformerStepModel.create({ spec, weights, workers: 2, subBatchUsers: 2 });
    const whole = await TransformerStepModel.create({ spec, weights, workers: 0, subBatchUsers: Infinity });
    try {
      const input = { tokens: Int32Array.from([...contexts, ...contexts.slice(0, 2)].flat()), batchSize: 6, length: 7 };
      const parts = split.splitBatch(input);
      expect(parts.map((part) => Array.from(part))).toEqual([[1, 5], [0, 2], [3, 4]]); // by real length: 7,7 | 4,4 | 4,1
      expect(whole.splitBatch(input).map((part) => Array.from(part))).toEqual([[0, 1, 2, 3, 4, 5]]);
      const options = { beamWidth: 4, resultCount: 3, steps: 3, startToken: 1 };
      const a = await beamSearch(split, input, options);
      const b = await beamSearch(whole, input, options);
      expect(Array.from(a.tokens)).toEqual(Array.from(b.tokens));
      expect(maxDifference(a.logProbs, b.logProbs)).toBeLessThan(1e-5);
      // constrained, with per-user histories excluded: still the same, and no excluded item returned
      const layout = createTokenLayout({ levelSizes: [4, 4, 4] }); // tokens 3..14 of the 23
      const codes = Array.from({ length: 64 }, (_, item) => [item >> 4, (item >> 2) & 3, item & 3]).filter((_, item) => item % 3 !== 1);
      const trie = PrefixTrie.fromTable(createSemanticIdTable({ itemIds: codes.map((_, i) => 100 + i), codes: codes.flat(), levels: 3, codebookSizes: [4, 4, 4] }), layout);
      const free = await beamSearch(whole, input, { trie, beamWidth: 6, resultCount: 4 });
      // exclude each user's two best items of the free search
      const exclude = Array.from({ length: 6 }, (_, user) => new Set(Array.from(free.user(user).itemIds.subarray(0, 2))));
      const constrained = { trie, beamWidth: 6, resultCount: 4, exclude };
      const c = await beamSearch(split, input, constrained);
      const d = await beamSearch(whole, input, constrained);
      expect(Array.from(c.itemIds)).toEqual(Array.from(d.itemIds));
      for (let user = 0; user < 6; user++) for (const item of c.user(user).itemIds) expect(exclude[user]!.has(item)).toBe(false);
      expect(Array.from(c.itemIds).every((item) => item >= 100)).toBe(true);
    } finally {
      await split.dispose();
      await whole.dispose();
    }
  });

  it('keeps a batch whole for per-user logits processors, and fails instead of hanging once disposed', async () => {
    const weights = randomTransformerWeights(resolveTransformerSpec(spec), 6);
    const split = await TransformerStepModel.create({ spec, weights, workers: 2, subBatchUsers: 2 });
    const whole = await TransformerStepModel.create({ spec, weights, workers: 0, subBatchUsers: Infinity });
    const input = { tokens: Int32Array.from([...contexts, ...contexts.slice(0, 2)].flat()), batchSize: 6, length: 7 };
    try {
      // a different banned token list per user: wrong user order would change the results
      const masks = Array.from({ length: 6 }, (_, user) => [3 + user, 9 + 2 * user, 15 + user]);
      const options = { beamWidth: 4, resultCount: 3, steps: 3, startToken: 1, logitsProcessors: [historyMaskProcessor(masks)] };
      const a = await beamSearch(split, input, options);
      const b = await beamSearch(whole, input, options);
      expect(Array.from(a.tokens)).toEqual(Array.from(b.tokens));
      for (let user = 0; user < 6; user++) for (const token of a.user(user).tokens) expect(masks[user]!.includes(token)).toBe(false);
      // a step racing another step of the same session is refused
      const session = await split.encode({ tokens: Int32Array.from(contexts[0]!), batchSize: 1, length: 7 });
      const first = session.step(Int32Array.of(1), null, 1);
      expect(await rejectionCode(session.step(Int32Array.of(1), null, 1))).toBe('INVALID_INPUT');
      await first;
      // disposing the model while a search runs: the search rejects, later calls too
      const running = rejectionCode(beamSearch(split, input, { beamWidth: 4, resultCount: 3, steps: 3, startToken: 1 }));
      await split.dispose();
      expect(await running).toMatch(/RUNTIME_ERROR|INVALID_INPUT/);
      expect(await rejectionCode(session.step(Int32Array.of(4, 5), Int32Array.of(0, 0), 2))).toMatch(/RUNTIME_ERROR|INVALID_INPUT/);
      expect(await rejectionCode(split.encode(input))).toBe('INVALID_INPUT');
    } finally {
      await split.dispose();
      await whole.dispose();
    }
  });

  it('rejects bad specs, weights, inputs and step sequences with clear errors', async () => {
    const weights = randomTransformerWeights(resolveTransformerSpec(spec), 5);
    expect(await rejectionCode(TransformerStepModel.create({ spec: { ...spec, heads: 0 }, weights }))).toBe('INVALID_OPTION');
    const missing = new Map(weights);
    missing.delete('decoder.layers.1.norm3.bias');
    expect(await rejectionCode(TransformerStepModel.create({ spec, weights: missing }))).toBe('INVALID_INPUT');
    expect(await rejectionCode(TransformerStepModel.create({ spec, weights: new Map([...weights, ['encoder.extra', new Float32Array(1)]]) }))).toBe('INVALID_INPUT');
    expect(await rejectionCode(TransformerStepModel.create({ spec, weights: new Map([...weights, ['embedding.weight', new Float32Array(5)]]) }))).toBe('SHAPE_MISMATCH');
    const nan = new Float32Array(weights.get('encoder.position.weight')!);
    nan[3] = Number.NaN;
    expect(await rejectionCode(TransformerStepModel.create({ spec, weights: new Map([...weights, ['encoder.position.weight', nan]]) }))).toBe('INVALID_INPUT');
    expect(await rejectionCode(TransformerStepModel.create({ spec, weights, workers: -1 }))).toBe('INVALID_OPTION');
    const model = await TransformerStepModel.create({ spec, weights, workers: 0 });
    try {
      expect(await rejectionCode(model.encode({ tokens: new Int32Array(7), batchSize: 1, length: 7 }))).toBe('INVALID_INPUT'); // only padding
      expect(await rejectionCode(model.encode({ tokens: Int32Array.of(1, 2, 99), batchSize: 1, length: 3 }))).toBe('INVALID_INPUT');
      expect(await rejectionCode(model.encode({ tokens: new Int32Array(8).fill(2), batchSize: 1, length: 8 }))).toBe('SHAPE_MISMATCH');
      const session = await model.encode({ tokens: Int32Array.from(contexts.slice(0, 2).flat()), batchSize: 2, length: 7 });
      expect(await rejectionCode(session.step(Int32Array.of(1, 1), Int32Array.of(0, 1), 1))).toBe('INVALID_INPUT'); // parents at step 0
      await session.step(Int32Array.of(1, 1), null, 1);
      expect(await rejectionCode(session.step(Int32Array.of(3, 4), null, 1))).toBe('INVALID_INPUT'); // no parents later
      expect(await rejectionCode(session.step(Int32Array.of(3, 4, 5, 6), Int32Array.of(0, 1, 1, 1), 2))).toBe('INVALID_INPUT'); // parent of another user
      await session.step(Int32Array.of(3, 4, 5, 6), Int32Array.of(0, 0, 1, 1), 2, true);
      expect(await rejectionCode(session.step(Int32Array.of(3, 4, 5, 6), Int32Array.of(0, 1, 2, 3), 2))).toBe('INVALID_INPUT'); // after final
    } finally {
      await model.dispose();
    }
  });
});

const fixtureDirectory = sharedPath('peers', 'fixtures', 'tiger_onnx');
describe.skipIf(!fixtureDirectory)('TransformerStepModel on the TIGER fixture weights', () => {
  let fixture: ReturnType<typeof loadTigerFixture>;
  let model: TransformerStepModel;
  beforeAll(async () => {
    fixture = loadTigerFixture(fixtureDirectory!);
    const { spec: fixtureSpec, weights } = loadTigerFixtureTransformer(fixture);
    model = await TransformerStepModel.create({ spec: fixtureSpec, weights, workers: 2 });
  });
  afterAll(async () => {
    await model?.dispose();
  });

  it('returns the PyTorch top-10 of all 256 users, ids and order', async () => {
    let same = 0;
    let worst = 0;
    for (let first = 0; first < 256; first += 64) {
      const result = await beamSearch(model, fixtureBatch(fixture, first, 64), { trie: fixture.trie, beamWidth: 20, resultCount: 10 });
      for (let u = 0; u < 64; u++) {
        const reference = fixture.users[first + u]!;
        const got = result.user(u);
        if (reference.itemIds.every((id, k) => got.itemIds[k] === id)) same++;
        worst = Math.max(worst, maxDifference(got.logProbs, reference.scores));
      }
    }
    expect(same).toBe(256);
    expect(worst).toBeLessThan(1e-4);
  });

  it('gives the logits of the exported graphs (first two positions, 8 users)', async () => {
    const reference = await OnnxSeq2SeqStepModel.create({ encoder: fixture.encoderPath, decoder: fixture.decoderPath, intraOpNumThreads: 1 });
    try {
      const input = fixtureBatch(fixture, 0, 8);
      const ours = await model.encode(input);
      const theirs = await reference.encode(input);
      const start = new Int32Array(8).fill(1);
      expect(maxDifference(await ours.step(start, null, 1), Float32Array.from(await theirs.step(start, null, 1)))).toBeLessThan(1e-4);
      const tokens = Int32Array.from({ length: 16 }, (_, r) => 3 + ((r * 37) % 256));
      const parents = Int32Array.from({ length: 16 }, (_, r) => r >> 1);
      expect(maxDifference(await ours.step(tokens, parents, 2, true), await theirs.step(tokens, parents, 2))).toBeLessThan(1e-4);
      ours.dispose();
      theirs.dispose();
    } finally {
      await reference.dispose();
    }
  });
});
if (!fixtureDirectory) console.warn('skipped: shared/peers/fixtures/tiger_onnx not found (set GENREC_SHARED_DIR)');
