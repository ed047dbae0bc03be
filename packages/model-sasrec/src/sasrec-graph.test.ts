import { CompiledGraph, Graph, Trainer, optimizers } from '@genrec/nn';
import { describe, expect, it } from 'vitest';
import {
  buildBinaryCrossEntropyGraph,
  buildCrossEntropyGraph,
  buildHiddenGraph,
  buildSampledSoftmaxGraph,
  sasrecParameterShapes,
  type SasrecArchitecture,
} from './sasrec-graph.js';
import { logSumExp, randomParameters, referenceHidden, referenceLogits } from './test-fixtures.js';

const L = 5;
/** Two rows: a padded short history and a full one (ids 1..7). */
const SEQ = [0, 0, 3, 1, 7, 2, 5, 5, 4, 6];

function architecture(heads: number, blocks = 2): SasrecArchitecture {
  return { itemCount: 7, hiddenSize: 4, blocks, heads, maxLength: L, dropout: 0.3 };
}

async function run(graph: Graph, output: Parameters<typeof CompiledGraph.create>[1]['outputs'][number], feeds: Record<string, BigInt64Array | Float32Array>): Promise<Float32Array> {
  const compiled = await CompiledGraph.create(graph, { outputs: [output], outputNames: ['out'], intraOpNumThreads: 1 });
  try {
    return (await compiled.run(feeds)).out as Float32Array;
  } finally {
    await compiled.release();
  }
}

const int64 = (values: number[]) => BigInt64Array.from(values, (v) => BigInt(v));

describe('the SASRec graph against a naive float64 forward pass', () => {
  for (const heads of [1, 2]) {
    it(`last hidden states agree (${heads} head${heads > 1 ? 's' : ''}, 2 blocks, a padded row)`, async () => {
      const a = architecture(heads);
      const p = randomParameters(a, 11 + heads);
      const g = new Graph({ training: false });
      const { hidden } = buildHiddenGraph(g, a, 2, p);
      const out = await run(g, hidden, { seq: int64(SEQ) });
      for (let row = 0; row < 2; row++) {
        const expected = referenceHidden(a, p, SEQ.slice(row * L, (row + 1) * L))[L - 1]!;
        for (let c = 0; c < 4; c++) expect(out[row * 4 + c]).toBeCloseTo(expected[c]!, 4);
      }
    });
  }

  it('declares the documented parameter names and shapes', () => {
    const a = architecture(2, 1);
    const g = new Graph({ training: false });
    buildHiddenGraph(g, a, 1, 'random');
    const declared = new Map(g.parameters.map((p) => [p.tensor.name, [...p.tensor.shape]]));
    expect(declared).toEqual(sasrecParameterShapes(a));
    expect(Array.from(g.parameters[0]!.initial.subarray(0, 4))).toEqual([0, 0, 0, 0]); // padding row
  });

  it('full-softmax cross-entropy equals the mean of -log softmax at the targets (padding rows ignored)', async () => {
    const a = architecture(1);
    const p = randomParameters(a, 5);
    const g = new Graph({ training: false });
    const { loss } = buildCrossEntropyGraph(g, a, 2, 4, p);
    // positions b * L + t: (0,3), (1,0), (1,4) and one padding row
    const positions = [3, 5, 9, 0];
    const targets = [7, 5, 1];
    const out = await run(g, loss, { seq: int64(SEQ), positions: int64(positions), labels: int64([...targets.map((t) => t - 1), -100]) });
    const hidden = [...referenceHidden(a, p, SEQ.slice(0, L)), ...referenceHidden(a, p, SEQ.slice(L))];
    let expected = 0;
    targets.forEach((target, i) => {
      const logits = referenceLogits(a, p, hidden[positions[i]!]!);
      expected += (logSumExp(logits) - logits[target - 1]!) / targets.length;
    });
    expect(out[0]).toBeCloseTo(expected, 4);
  });

  it("BCE equals the paper's -log σ(s+) - log(1 - σ(s-)) averaged over scored positions", async () => {
    const a = architecture(1);
    const p = randomParameters(a, 6);
    const g = new Graph({ training: false });
    const { loss } = buildBinaryCrossEntropyGraph(g, a, 2, 3, p);
    const positions = [4, 8, 0];
    const targets = [2, 6, 1];
    const negatives = [6, 3, 1];
    const out = await run(g, loss, { seq: int64(SEQ), positions: int64(positions), targets: int64(targets), negatives: int64(negatives), labels: int64([0, 0, -100]) });
    const hidden = [...referenceHidden(a, p, SEQ.slice(0, L)), ...referenceHidden(a, p, SEQ.slice(L))];
    const logSigmoid = (x: number) => -Math.log1p(Math.exp(-x));
    let expected = 0;
    for (let i = 0; i < 2; i++) {
      const logits = referenceLogits(a, p, hidden[positions[i]!]!);
      expected += (-logSigmoid(logits[targets[i]! - 1]!) - logSigmoid(-logits[negatives[i]! - 1]!)) / 2;
    }
    expect(out[0]).toBeCloseTo(expected, 4);
  });

  it('sampled softmax equals cross-entropy over [target, samples] with log-Q subtracted and accidental hits removed', async () => {
    const a = architecture(1);
    const p = randomParameters(a, 7);
    const g = new Graph({ training: false });
    const S = 3;
    const { loss } = buildSampledSoftmaxGraph(g, a, 2, 3, S, p);
    const positions = [4, 8, 0];
    const targets = [2, 6, 1];
    const samples = [6, 1, 3];
    const logQ = (item: number) => Math.log(0.1 * item);
    const out = await run(g, loss, {
      seq: int64(SEQ),
      positions: int64(positions),
      targets: int64(targets),
      labels: int64([0, 0, -100]),
      samples: int64(samples),
      targetLogQ: Float32Array.from(targets, logQ),
      sampleLogQ: Float32Array.from(samples, logQ),
    });
    const hidden = [...referenceHidden(a, p, SEQ.slice(0, L)), ...referenceHidden(a, p, SEQ.slice(L))];
    let expected = 0;
    for (let i = 0; i < 2; i++) {
      const logits = referenceLogits(a, p, hidden[positions[i]!]!);
      const row = [logits[targets[i]! - 1]! - logQ(targets[i]!)];
      // sample 6 equals the second row's target: an accidental hit, left out
      for (const s of samples) if (s !== targets[i]) row.push(logits[s - 1]! - logQ(s));
      expected += (logSumExp(row) - row[0]!) / 2;
    }
    expect(out[0]).toBeCloseTo(expected, 4);
  });

  for (const loss of ['sampled-softmax', 'bce'] as const) {
    it(`${loss} with a row-sparse embedding: the same losses as dense, the same first update, lazy afterwards`, async () => {
      const a = { ...architecture(1), itemCount: 12 };
      const p = randomParameters(a, 8);
      const seq = int64([0, 0, 3, 1, 7, 2, 5, 5, 4, 6]);
      const feeds = (step: number): Record<string, BigInt64Array | Float32Array> => {
        const common = { seq, positions: int64([2, 3, 7, 0]), targets: int64(step === 0 ? [1, 7, 4, 1] : [11, 12, 6, 1]), labels: int64([0, 0, 0, -100]) };
        if (loss === 'bce') return { ...common, negatives: int64(step === 0 ? [9, 10, 12, 1] : [8, 3, 9, 1]) };
        const samples = int64(step === 0 ? [9, 2, 10] : [8, 2, 9]);
        return { ...common, samples, targetLogQ: new Float32Array(4).fill(-1), sampleLogQ: new Float32Array(3).fill(-2) };
      };
      const trainer = (sparse: boolean) =>
        Trainer.create({
          build: (g, bucket) => (loss === 'bce' ? buildBinaryCrossEntropyGraph(g, a, 2, bucket, p, sparse ? 12 : undefined) : buildSampledSoftmaxGraph(g, a, 2, bucket, 3, p, sparse ? 12 : undefined)),
          buckets: [4],
          optimizer: optimizers.adam({ beta2: 0.98 }),
          seed: 5,
          intraOpNumThreads: 1,
        });
      const dense = await trainer(false);
      const sparse = await trainer(true);
      expect(sparse.rowSparseParameters).toEqual(['item_emb.weight']);
      const d = a.hiddenSize;
      for (let step = 0; step < 2; step++) {
        const x = await dense.step(feeds(step), { learningRate: 0.01 });
        const y = await sparse.step(feeds(step), { learningRate: 0.01 });
        expect(y.loss).toBeCloseTo(x.loss, 5);
        const e = dense.parameter('item_emb.weight');
        const f = sparse.parameter('item_emb.weight');
        if (step === 0) {
          // every moment starts at 0: lazy and dense Adam agree on the first update (untouched rows do not move)
          for (let i = 0; i < e.length; i++) expect(f[i]).toBeCloseTo(e[i]!, 6);
        } else {
          // rows touched at the first step and not at the second (10, and 10 or 12): dense Adam moves them again by their momentum, lazy Adam does not
          const touchedNow = new Set([...seq, ...feeds(1).targets!, ...(feeds(1).samples ?? feeds(1).negatives!)].map(Number));
          const onlyBefore = [...new Set([...feeds(0).targets!, ...(feeds(0).samples ?? feeds(0).negatives!)].map(Number))].filter((item) => !touchedNow.has(item));
          expect(onlyBefore.length).toBeGreaterThan(0);
          for (const item of onlyBefore) {
            let moved = false;
            for (let c = 0; c < d; c++) moved ||= e[item * d + c] !== f[item * d + c];
            expect(moved).toBe(true);
          }
        }
      }
      await dense.release();
      await sparse.release();
    });
  }
});
