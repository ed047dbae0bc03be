import { createRequire } from 'node:module';
import { createSession, readOnnxModel } from '@genrec/nn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fitSasrec } from './fit-sasrec.js';
import type { SasrecModel } from './sasrec-model.js';
import { CHEAP, syntheticSplit } from './test-fixtures.js';

// onnxruntime's Tensor class, from the copy @genrec/nn runs on (this package has no direct
// dependency on onnxruntime-node: the exported bytes are meant for any onnxruntime)
const ort = createRequire(new URL('../../nn/package.json', import.meta.url))('onnxruntime-node') as {
  Tensor: new (type: 'int64', data: BigInt64Array, dims: number[]) => object;
};

const split = syntheticSplit('small');
let model: SasrecModel;
beforeAll(async () => {
  model = await fitSasrec({ train: split.train }, { ...CHEAP, epochs: 1, heads: 2 });
});
afterAll(async () => {
  await model.dispose();
});

describe('exportOnnx', () => {
  it('exports the scoring graph: seq [batch, maxLength] -> logits [batch, itemCount], equal to score()', async () => {
    const bytes = model.exportOnnx({ batchSize: 2 });
    const info = readOnnxModel(bytes);
    expect(info.inputs).toEqual(['seq']);
    expect(info.outputs).toEqual(['scores']);
    expect(info.tensors.get('item_emb.weight')?.data).toEqual(model.parameterValues().get('item_emb.weight'));
    const session = await createSession(bytes, { intraOpNumThreads: 1 });
    const histories = [[4, 9, 11], Array.from({ length: 20 }, (_, i) => i + 1)];
    const seq = new BigInt64Array(2 * 12);
    histories.forEach((h, r) => h.slice(-12).forEach((id, i, cut) => (seq[r * 12 + 12 - cut.length + i] = BigInt(id))));
    const result = await session.run({ seq: new ort.Tensor('int64', seq, [2, 12]) as never });
    expect(result.scores!.dims).toEqual([2, split.itemCount]);
    const scores = result.scores!.data as Float32Array;
    await session.release();
    const all = Array.from({ length: split.itemCount }, (_, j) => j + 1);
    const expected = await model.score(histories, [all, all]);
    let worst = 0;
    for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(scores[i]! - expected[i]!));
    expect(worst).toBeLessThan(1e-4);
    expect(() => model.exportOnnx({ batchSize: 0 })).toThrow(/batchSize/);
  });
});
