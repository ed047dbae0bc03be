import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GenrecError } from '@genrec/core';
import { historySlice } from '@genrec/model-baselines/testing';
import { CompiledGraph, Graph, Trainer, optimizers } from '@genrec/nn';
import { fitSetrec, setrecPreferenceModel, type SetrecModel } from './index.js';
import { CHEAP, cheapCfVectors, smallSplit } from './test-fixtures.js';

const { split, fitData } = smallSplit();
let model: SetrecModel;

beforeAll(async () => {
  model = await fitSetrec(fitData, { ...CHEAP, cfVectors: await cheapCfVectors(split.train), epochs: 1, beta: 0.4 });
});

afterAll(async () => {
  await model?.dispose();
});

describe('setrecPreferenceModel', () => {
  it('buildLogProb in a dropout-free graph equals score(): Σ_s w_s log-softmax_s', async () => {
    const hook = setrecPreferenceModel(model);
    expect([hook.kind, hook.itemCount, hook.maxHistoryLength, hook.tokensPerItem]).toEqual(['setrec', 120, 8, 5]);
    const shape = { users: 6, candidates: 3 };
    const g = new Graph({ training: false });
    const logp = hook.buildLogProb(g, shape);
    const compiled = await CompiledGraph.create(g, { outputs: [logp], outputNames: ['logp'], parameters: 'initializers' });
    const histories = historySlice(split.test, 0, 6);
    const candidates = Int32Array.from({ length: 18 }, (_, i) => 1 + ((i * 37) % 120));
    const out = (await compiled.run(hook.logProbFeeds(histories, candidates, shape))).logp as Float32Array;
    await compiled.release();
    const lists = Array.from({ length: 6 }, (_, u) => candidates.subarray(u * 3, u * 3 + 3));
    const expected = await model.score(histories, lists);
    for (let i = 0; i < 18; i++) expect(out[i]).toBeCloseTo(expected[i]!, 4);
    expect(() => hook.logProbFeeds(histories, Int32Array.of(1, 2), shape)).toThrow(GenrecError);
    expect(() => hook.logProbFeeds(histories, candidates.map(() => 121), shape)).toThrow(/outside the catalogue/);
  });

  it('a Trainer on buildSupervisedLoss starts from the model and raises the targets’ log-probabilities; both builders share one graph', async () => {
    const hook = setrecPreferenceModel(model);
    const shape = { users: 16 };
    const histories = historySlice(split.validation, 0, 16);
    const targets = split.validation.targetItems.slice(0, 16);
    const trainer = await Trainer.create({ build: (g) => ({ loss: hook.buildSupervisedLoss(g, shape) }), optimizer: optimizers.adam(), seed: 1, intraOpNumThreads: 1 });
    try {
      const start = hook.parameterValues();
      for (const [name, value] of trainer.parameterValues()) expect(Array.from(value), name).toEqual(Array.from(start.get(name)!));
      const feeds = hook.supervisedFeeds(histories, targets, shape);
      const first = await trainer.step(feeds, { learningRate: 0.01 });
      let last = first.loss;
      for (let i = 0; i < 15; i++) last = (await trainer.step(feeds, { learningRate: 0.01 })).loss;
      expect(last).toBeLessThan(first.loss);
      const tuned = (await hook.withParameters(trainer.parameterValues() as Map<string, Float32Array>)) as SetrecModel;
      try {
        const lists = Array.from(targets, (t) => [t]);
        const before = await model.score(histories, lists);
        const after = await tuned.score(histories, lists);
        const mean = (values: Float32Array): number => values.reduce((sum, v) => sum + v, 0) / values.length;
        expect(mean(after)).toBeGreaterThan(mean(before));
        expect(tuned.beta).toBe(model.beta);
      } finally {
        await tuned.dispose();
      }
    } finally {
      await trainer.release();
    }
    const shared = new Graph({ training: true });
    hook.buildLogProb(shared, { users: 2, candidates: 2 });
    const before = shared.parameters.length;
    hook.buildSupervisedLoss(shared, { users: 2 });
    expect(shared.parameters.length).toBe(before);
    await expect(hook.withParameters(new Map([['nope', new Float32Array(1)]]))).rejects.toThrow(/no parameter/);
  });
});
