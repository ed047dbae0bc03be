import { CompiledGraph, Graph, Trainer, optimizers } from '@genrec/nn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fitSasrec } from './fit-sasrec.js';
import { sasrecPreferenceModel } from './preference-model.js';
import type { SasrecModel } from './sasrec-model.js';
import { CHEAP, logSumExp, syntheticSplit } from './test-fixtures.js';

const split = syntheticSplit('small');
const N = split.itemCount;
const all = Array.from({ length: N }, (_, j) => j + 1);
const histories = [[3, 8, 21], [40, 41], Array.from({ length: 15 }, (_, i) => 100 + i)];
const batch = { offsets: Int32Array.from([0, 3, 5, 20]), items: Int32Array.from(histories.flat()) };
const candidates = Int32Array.from([5, 9, 1, N, 42, 43, 2, 7, 115, 116, 1, 50]);
const targets = Int32Array.from([9, 42, 115]);
let model: SasrecModel;

beforeAll(async () => {
  model = await fitSasrec({ train: split.train }, { ...CHEAP, epochs: 1 });
});
afterAll(async () => {
  await model.dispose();
});

/** log π(candidate | history) computed independently: log-softmax (float64) of score()'s logits over all items. */
async function referenceLogProbs(): Promise<number[][]> {
  const logits = await model.score(histories, histories.map(() => all));
  return histories.map((_, u) => {
    const row = logits.subarray(u * N, (u + 1) * N);
    const normaliser = logSumExp(row);
    return Array.from(candidates.subarray(u * 4, u * 4 + 4), (id) => row[id - 1]! - normaliser);
  });
}

describe('sasrecPreferenceModel', () => {
  it('buildLogProb (dropout-free graph) equals the log-softmax over all items of score() logits; both builders share one graph', async () => {
    const hook = sasrecPreferenceModel(model);
    expect(hook).toMatchObject({ kind: 'sasrec', itemCount: N, maxHistoryLength: 12, tokensPerItem: 1 });
    const g = new Graph({ training: false });
    const logp = hook.buildLogProb(g, { users: 3, candidates: 4 });
    const loss = hook.buildSupervisedLoss(g, { users: 3 });
    expect(g.parameters.map((p) => p.tensor.name)).toEqual([...model.parameterValues().keys()]);
    const compiled = await CompiledGraph.create(g, { outputs: [logp, loss], outputNames: ['logp', 'loss'], intraOpNumThreads: 1 });
    const feeds = { ...hook.logProbFeeds(batch, candidates, { users: 3, candidates: 4 }), ...hook.supervisedFeeds(batch, targets, { users: 3 }) };
    const out = await compiled.run(feeds);
    await compiled.release();
    const expected = await referenceLogProbs();
    expected.flat().forEach((value, i) => expect(out.logp![i]).toBeCloseTo(value, 4));
    // the supervised loss: mean over users of -log π(target)
    const logits = await model.score(histories, histories.map(() => all));
    let ce = 0;
    histories.forEach((_, u) => {
      const row = logits.subarray(u * N, (u + 1) * N);
      ce += (logSumExp(row) - row[targets[u]! - 1]!) / 3;
    });
    expect(out.loss![0]).toBeCloseTo(ce, 4);
  });

  it('trains through a Trainer from the model weights, and withParameters returns the trained model', async () => {
    const hook = sasrecPreferenceModel(model);
    const trainer = await Trainer.create({ build: (g) => ({ loss: hook.buildSupervisedLoss(g, { users: 3 }) }), optimizer: optimizers.adam(), seed: 1, intraOpNumThreads: 1 });
    expect(trainer.parameter('item_emb.weight')).toEqual(model.parameterValues().get('item_emb.weight'));
    const feeds = hook.supervisedFeeds(batch, targets, { users: 3 });
    const first = await trainer.step(feeds, { learningRate: 0.01 });
    let last = first.loss;
    for (let i = 0; i < 15; i++) last = (await trainer.step(feeds, { learningRate: 0.01 })).loss;
    expect(last).toBeLessThan(first.loss * 0.7);
    const values = new Map([...trainer.parameterValues()].map(([name, value]) => [name, Float32Array.from(value)]));
    const tuned = await hook.withParameters(values);
    const before = await model.score(histories, Array.from(targets, (t) => [t]));
    const after = await tuned.score(histories, Array.from(targets, (t) => [t]));
    // the targets' log-probabilities rose
    const logProb = async (m: typeof model, scores: Float32Array) => {
      const logits = await m.score(histories, histories.map(() => all));
      return Array.from(scores, (s, u) => s - logSumExp(logits.subarray(u * N, (u + 1) * N)));
    };
    const lpBefore = await logProb(model, before);
    const lpAfter = await logProb(tuned as SasrecModel, after);
    lpAfter.forEach((value, u) => expect(value).toBeGreaterThan(lpBefore[u]!));
    // unchanged values give back the same model
    const same = await hook.withParameters(hook.parameterValues());
    expect(await same.recommend(histories, { k: 10 })).toEqual(await model.recommend(histories, { k: 10 }));
    await expect(hook.withParameters(new Map([['nope', new Float32Array(1)]]))).rejects.toMatchObject({ code: 'UNKNOWN_ID' });
    await Promise.all([trainer.release(), tuned.dispose(), same.dispose()]);
  });

  it('rejects feeds that do not fit the shape or the catalogue', () => {
    const hook = sasrecPreferenceModel(model);
    expect(() => hook.logProbFeeds(batch, candidates, { users: 2, candidates: 4 })).toThrow(/histories/);
    expect(() => hook.logProbFeeds(batch, Int32Array.from([1, 2]), { users: 3, candidates: 4 })).toThrow(/candidates/);
    expect(() => hook.supervisedFeeds(batch, Int32Array.from([1, 2, N + 1]), { users: 3 })).toThrow(/outside the catalogue/);
    expect(() => hook.buildLogProb(new Graph(), { users: 0, candidates: 1 })).toThrow(/users/);
  });
});
