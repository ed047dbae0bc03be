import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedPath } from '@genrec/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beamSearch } from './beam-search.js';
import { OnnxSeq2SeqStepModel } from './onnx-seq2seq-step-model.js';
import { fixtureBatch, loadTigerFixture, type TigerFixture } from './testing/tiger-fixture.js';
import { rejectionCode } from './testing/error-code.js';

const fixtureDirectory = sharedPath('peers', 'fixtures', 'tiger_onnx');
if (!fixtureDirectory) console.warn('[decoder] skipping the TIGER ONNX cross-check: shared/peers/fixtures/tiger_onnx not found (set GENREC_SHARED_DIR)');

describe.skipIf(!fixtureDirectory)('OnnxSeq2SeqStepModel on the TIGER peer fixture', () => {
  let fixture: TigerFixture;
  let model: OnnxSeq2SeqStepModel;

  beforeAll(async () => {
    fixture = loadTigerFixture(fixtureDirectory!);
    model = await OnnxSeq2SeqStepModel.create({ encoder: fixture.encoderPath, decoder: fixture.decoderPath, intraOpNumThreads: 2 });
  });
  afterAll(async () => {
    await model?.dispose();
  });

  it('reads the tensor contract of the manifest (names, vocabulary)', () => {
    expect(model.vocabularySize).toBe(787);
    expect(model.names.encoderInput).toBe('src_tokens');
    expect(Object.keys(model.names.encoderToDecoder).sort()).toEqual(['cross_key_0', 'cross_key_1', 'cross_key_2', 'cross_key_3', 'cross_value_0', 'cross_value_1', 'cross_value_2', 'cross_value_3', 'memory_key_bias']);
    expect(model.names.cache).toEqual({
      past_key_0: 'present_key_0',
      past_value_0: 'present_value_0',
      past_key_1: 'present_key_1',
      past_value_1: 'present_value_1',
      past_key_2: 'present_key_2',
      past_value_2: 'present_value_2',
      past_key_3: 'present_key_3',
      past_value_3: 'present_value_3',
    });
    expect(fixture.trie.itemCount).toBe(12000);
    expect(fixture.trie.nodeCount).toBe(23192 + 12000); // the peer's 23,192 internal nodes plus one leaf per id
  });

  it('gives the first-step logits of the PyTorch reference (users 0..7, within 1e-5)', async () => {
    const cases = JSON.parse(readFileSync(join(fixtureDirectory!, 'cases.json'), 'utf8')) as { first_step_logits: { logits: number[][] } };
    const session = await model.encode(fixtureBatch(fixture, 0, 8));
    const logits = await session.step(new Int32Array(8).fill(1), null, 1);
    session.dispose();
    let maxDifference = 0;
    cases.first_step_logits.logits.forEach((row, user) => row.forEach((value, token) => (maxDifference = Math.max(maxDifference, Math.abs(logits[user * 787 + token]! - value)))));
    expect(maxDifference).toBeLessThan(1e-5);
  });

  it('beamSearch returns the same top-10 ids in the same order as PyTorch for all 256 users (batch 64)', async () => {
    let identical = 0;
    let maxScoreDifference = 0;
    const mismatches: number[] = [];
    for (let first = 0; first < fixture.users.length; first += 64) {
      const result = await beamSearch(model, fixtureBatch(fixture, first, 64), { trie: fixture.trie, beamWidth: 20, resultCount: 10 });
      for (let user = 0; user < 64; user++) {
        const reference = fixture.users[first + user]!;
        const got = result.user(user);
        if (Array.from(got.itemIds).join() === reference.itemIds.join()) identical++;
        else mismatches.push(first + user);
        reference.scores.forEach((score, j) => (maxScoreDifference = Math.max(maxScoreDifference, Math.abs(got.logProbs[j]! - score))));
      }
    }
    expect(mismatches).toEqual([]);
    expect(identical).toBe(256);
    expect(maxScoreDifference).toBeLessThan(1e-4);
  });

  it('gives the same ids at batch 1 as at batch 64 (cache reordering per session)', async () => {
    for (const user of [0, 33, 200]) {
      const result = await beamSearch(model, fixtureBatch(fixture, user, 1), { trie: fixture.trie, beamWidth: 20, resultCount: 10 });
      expect(Array.from(result.itemIds)).toEqual(fixture.users[user]!.itemIds);
    }
  });

  it('runs unconstrained over the full vocabulary (ids then almost never exist)', async () => {
    const result = await beamSearch(model, fixtureBatch(fixture, 0, 4), { trie: fixture.trie, constrain: false, beamWidth: 20, resultCount: 10 });
    for (let user = 0; user < 4; user++) {
      // Unconstrained scores can only be at least as good as the constrained best.
      expect(result.user(user).logProbs[0]!).toBeGreaterThanOrEqual(fixture.users[user]!.scores[0]! - 1e-4);
    }
  });

  it('accepts an explicit tensor-name mapping (the manifest names spelled out)', async () => {
    const layers = [0, 1, 2, 3];
    const explicit = await OnnxSeq2SeqStepModel.create({
      encoder: fixture.encoderPath,
      decoder: fixture.decoderPath,
      intraOpNumThreads: 1,
      names: {
        encoderInput: 'src_tokens',
        decoderInput: 'input_ids',
        logits: 'logits',
        encoderToDecoder: Object.fromEntries([['memory_key_bias', 'memory_key_bias'], ...layers.flatMap((i) => [[`cross_key_${i}`, `cross_key_${i}`], [`cross_value_${i}`, `cross_value_${i}`]])]),
        cache: Object.fromEntries(layers.flatMap((i) => [[`past_key_${i}`, `present_key_${i}`], [`past_value_${i}`, `present_value_${i}`]])),
      },
    });
    const result = await beamSearch(explicit, fixtureBatch(fixture, 5, 2), { trie: fixture.trie, beamWidth: 20, resultCount: 10 });
    expect(Array.from(result.user(0).itemIds)).toEqual(fixture.users[5]!.itemIds);
    expect(Array.from(result.user(1).itemIds)).toEqual(fixture.users[6]!.itemIds);
    await explicit.dispose();
  });

  it('reports bad configuration and input as GenrecError', async () => {
    const code = rejectionCode;
    expect(await code(OnnxSeq2SeqStepModel.create({ encoder: join(fixtureDirectory!, 'missing.onnx'), decoder: fixture.decoderPath }))).toBe('NOT_FOUND');
    expect(await code(OnnxSeq2SeqStepModel.create({ encoder: fixture.encoderPath, decoder: fixture.decoderPath, names: { logits: 'scores' } }))).toBe('INVALID_OPTION');
    expect(await code(OnnxSeq2SeqStepModel.create({ encoder: fixture.encoderPath, decoder: fixture.decoderPath, names: { cache: {} } }))).toBe('INVALID_OPTION');
    expect(await code(model.encode({ tokens: new Int32Array(10), batchSize: 1, length: 80 }))).toBe('SHAPE_MISMATCH');
    const session = await model.encode(fixtureBatch(fixture, 0, 2));
    expect(await code(session.step(new Int32Array(3), null, 1))).toBe('SHAPE_MISMATCH');
    expect(await code(session.step(new Int32Array(2), new Int32Array(2), 1))).toBe('INVALID_INPUT'); // parents at the first step
    session.dispose();
  });
});
