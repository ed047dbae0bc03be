import { sharedPath } from '@genrec/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beamSearch } from './beam-search.js';
import { OnnxSeq2SeqStepModel } from './onnx-seq2seq-step-model.js';
import { ParallelOnnxStepModel } from './parallel-onnx-step-model.js';
import { fixtureBatch, loadTigerFixture, type TigerFixture } from './testing/tiger-fixture.js';
import { rejectionCode } from './testing/error-code.js';

const fixtureDirectory = sharedPath('peers', 'fixtures', 'tiger_onnx');
if (!fixtureDirectory) console.warn('[decoder] skipping the ParallelOnnxStepModel checks: shared/peers/fixtures/tiger_onnx not found (set GENREC_SHARED_DIR)');

describe.skipIf(!fixtureDirectory)('ParallelOnnxStepModel on the TIGER peer fixture', () => {
  let fixture: TigerFixture;
  let parallel: ParallelOnnxStepModel;
  let plain: OnnxSeq2SeqStepModel;

  beforeAll(async () => {
    fixture = loadTigerFixture(fixtureDirectory!);
    parallel = await ParallelOnnxStepModel.create({ encoder: fixture.encoderPath, decoder: fixture.decoderPath, workers: 2 });
    plain = await OnnxSeq2SeqStepModel.create({ encoder: fixture.encoderPath, decoder: fixture.decoderPath, intraOpNumThreads: 1 });
  });
  afterAll(async () => {
    await parallel?.dispose();
    await plain?.dispose();
  });

  it('returns the PyTorch top-10 for all 256 users at batch 64 and the plain model\'s scores', async () => {
    expect(parallel.workerCount).toBe(2);
    expect(parallel.vocabularySize).toBe(787);
    const mismatches: number[] = [];
    let maxScoreDifference = 0;
    let maxPlainDifference = 0;
    for (let first = 0; first < fixture.users.length; first += 64) {
      const options = { trie: fixture.trie, beamWidth: 20, resultCount: 10 };
      const result = await beamSearch(parallel, fixtureBatch(fixture, first, 64), options);
      const reference = first === 64 ? await beamSearch(plain, fixtureBatch(fixture, first, 64), options) : undefined;
      for (let user = 0; user < 64; user++) {
        const expected = fixture.users[first + user]!;
        const got = result.user(user);
        if (Array.from(got.itemIds).join() !== expected.itemIds.join()) mismatches.push(first + user);
        expected.scores.forEach((score, j) => (maxScoreDifference = Math.max(maxScoreDifference, Math.abs(got.logProbs[j]! - score))));
        if (reference) {
          expect(Array.from(got.itemIds)).toEqual(Array.from(reference.user(user).itemIds));
          got.logProbs.forEach((value, j) => (maxPlainDifference = Math.max(maxPlainDifference, Math.abs(value - reference.user(user).logProbs[j]!))));
        }
      }
    }
    expect(mismatches).toEqual([]);
    expect(maxScoreDifference).toBeLessThan(1e-4);
    expect(maxPlainDifference).toBeLessThan(1e-5);
  });

  it('gives the plain model\'s logits at every step, odd batch sizes and batch 1 included', async () => {
    for (const batch of [1, 3]) {
      const a = await parallel.encode(fixtureBatch(fixture, 10, batch));
      const b = await plain.encode(fixtureBatch(fixture, 10, batch));
      const first = new Int32Array(batch).fill(1);
      const la = Float32Array.from(await a.step(first, null, 1));
      const lb = await b.step(first, null, 1);
      let max = 0;
      for (let i = 0; i < lb.length; i++) max = Math.max(max, Math.abs(la[i]! - lb[i]!));
      // second step: 2 beams per user, parents crossing nothing but their own user (reversed order)
      const tokens = new Int32Array(batch * 2).map((_, row) => 3 + ((row * 37) % 256));
      const parents = new Int32Array(batch * 2).map((_, row) => Math.floor(row / 2));
      const ma = await a.step(tokens, parents, 2);
      const mb = await b.step(tokens, parents, 2);
      for (let i = 0; i < mb.length; i++) max = Math.max(max, Math.abs(ma[i]! - mb[i]!));
      expect(ma.length).toBe(batch * 2 * 787);
      expect(max).toBeLessThan(1e-5);
      a.dispose();
      b.dispose();
    }
  });

  it('reports bad options and input as GenrecError', async () => {
    const code = rejectionCode;
    expect(await code(ParallelOnnxStepModel.create({ encoder: fixture.encoderPath, decoder: fixture.decoderPath, workers: 0 }))).toBe('INVALID_OPTION');
    expect(await code(parallel.encode({ tokens: new Int32Array(10), batchSize: 1, length: 80 }))).toBe('SHAPE_MISMATCH');
    const session = await parallel.encode(fixtureBatch(fixture, 0, 2));
    expect(await code(session.step(new Int32Array(3), null, 1))).toBe('SHAPE_MISMATCH');
    expect(await code(session.step(new Int32Array(2), new Int32Array(2), 1))).toBe('INVALID_INPUT');
    await session.step(new Int32Array(2).fill(1), null, 1);
    expect(await code(session.step(new Int32Array(2).fill(5), Int32Array.from([1, 0]), 1))).toBe('INVALID_INPUT'); // parent of another user
    session.dispose();
  });
});
