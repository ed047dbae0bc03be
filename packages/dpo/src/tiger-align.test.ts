import { generateSyntheticDataset, leaveOneOutSplit } from '@genrec/data';
import { fitTiger, tigerPreferenceModel, type TigerModel } from '@genrec/model-tiger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alignModel } from './align-model.js';
import { functionReward } from './reward-models.js';
import { CHEAP_TIGER } from './test-fixtures.js';

const synthetic = generateSyntheticDataset({ seed: 7, userCount: 300, itemCount: 120, topicCount: 4, subtopicsPerTopic: 3 });
const split = leaveOneOutSplit(synthetic.dataset, { maxHistoryLength: 50 });
let model: TigerModel;

beforeAll(async () => {
  // a cheap decoder-only TIGER (3 levels x 16 codes, 2 layers of width 32), no dropout
  model = await fitTiger({ train: split.train }, { ...CHEAP_TIGER, beamWidth: 16, epochs: 2 });
});
afterAll(async () => {
  await model.dispose();
});

describe('alignModel with TIGER (token-level log-probabilities)', () => {
  it('one round of self-hard negatives: margins start at 0 and grow, the result is a TIGER model', async () => {
    const result = await alignModel(model, tigerPreferenceModel(model), { train: split.train }, {
      source: 'self-hard-negatives',
      userShare: 0.4,
      steps: 8,
      batchSize: 16,
      learningRate: 2e-3,
      beta: 0.5,
      diagnosticUsers: 16,
      inferenceBatchSize: 64,
      threads: 1,
      seed: 2,
    });
    const [first, last] = [result.steps[0]!, result.steps.at(-1)!];
    console.log(`TIGER: ${result.rounds[0]!.pairs} pairs, margins ${first['rewards/margins'].toFixed(4)} -> ${last['rewards/margins'].toFixed(4)}, KL ${result.rounds[0]!.after.kl?.toFixed(4)}, ${(result.elapsedMs / 1000).toFixed(1)} s`);
    expect(Math.abs(first['rewards/margins'])).toBeLessThan(1e-4);
    expect(first['loss/preference']).toBeCloseTo(Math.LN2, 4);
    expect(last['rewards/margins']).toBeGreaterThan(0.05);
    expect(result.rounds[0]!.after.kl).toBeGreaterThan(0);
    expect(result.model.kind).toBe('tiger');
    expect(result.model.constructor).toBe(model.constructor);
    await result.model.dispose();
  });

  it('raises the rank of the item a reward model prefers', async () => {
    const N = synthetic.dataset.itemCount;
    const all = Array.from({ length: N }, (_, j) => j + 1);
    const users = Array.from({ length: 100 }, (_, u) => Array.from(split.validation.historyItems.subarray(split.validation.historyOffsets[u]!, split.validation.historyOffsets[u + 1]!)));
    const top = await model.recommend(users, { k: 16 });
    const counts = new Map<number, number>();
    for (let u = 0; u < top.size; u++) for (let r = 4; r < 16; r++) counts.set(top.items[u * 16 + r]!, (counts.get(top.items[u * 16 + r]!) ?? 0) + 1);
    const preferred = [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]![0];
    const meanRank = async (m: typeof model) => {
      const kept = users.filter((h) => !h.includes(preferred));
      const scores = await m.score(kept, kept.map(() => all));
      let total = 0;
      kept.forEach((history, u) => {
        const row = scores.subarray(u * N, (u + 1) * N);
        let rank = 1;
        for (let j = 0; j < N; j++) if (row[j]! > row[preferred - 1]! && !history.includes(j + 1)) rank++;
        total += rank;
      });
      return total / kept.length;
    };
    const result = await alignModel(model, tigerPreferenceModel(model), { train: split.train }, {
      source: 'reward-model',
      rewardModel: functionReward((request) => Array.from(request.candidates, (item) => (item === preferred ? 1 : 0))),
      candidates: 16,
      userShare: 0.6,
      steps: 10,
      batchSize: 16,
      learningRate: 2e-3,
      beta: 0.5,
      diagnosticUsers: 0,
      inferenceBatchSize: 64,
      threads: 1,
      seed: 2,
    });
    const [before, after] = [await meanRank(model), await meanRank(result.model as TigerModel)];
    console.log(`TIGER preferred item ${preferred}: ${result.rounds[0]!.pairs} pairs, mean rank ${before.toFixed(1)} -> ${after.toFixed(1)}`);
    expect(result.rounds[0]!.pairs).toBeGreaterThan(10);
    expect(after).toBeLessThan(0.5 * before);
    await result.model.dispose();
  });
});
