import { createSequenceDataset } from '@genrec/data';
import { describe, expect, it } from 'vitest';
import { exposureAwareReward, functionReward, itemPopularity, recommenderReward, type RewardRequest } from './reward-models.js';
import { fixedScoreRecommender } from './test-fixtures.js';

const request: RewardRequest = {
  histories: { offsets: Int32Array.of(0, 1, 3), items: Int32Array.of(5, 5, 1) },
  candidates: Int32Array.of(1, 2, 3, 2, 3, 4),
  candidatesPerUser: 3,
  itemCount: 5,
};
const relevance = functionReward(() => [1, 2, 3, 0, 0, 6], 'relevance');

function zScores(values: number[]): number[] {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
  return values.map((v) => (v - mean) / std);
}

describe('reward models', () => {
  it('recommenderReward is the recommender score of each candidate', async () => {
    const judge = fixedScoreRecommender([0, 0.5, -1, 2, 4, 3]);
    const reward = recommenderReward(judge);
    expect(reward.name).toBe('recommender:fixed');
    expect(Array.from(await reward.score(request))).toEqual([0.5, -1, 2, -1, 2, 4]);
  });

  it('functionReward passes the request and checks the result', async () => {
    expect(Array.from(await relevance.score(request))).toEqual([1, 2, 3, 0, 0, 6]);
    await expect(functionReward(() => [1, 2]).score(request)).rejects.toMatchObject({ code: 'SHAPE_MISMATCH' });
    await expect(functionReward(() => [1, 2, 3, 4, 5, Number.NaN]).score(request)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('exposureAwareReward = standardised relevance - λ · popularity / max popularity', async () => {
    const popularity = [0, 10, 5, 0, 20, 7];
    const reward = exposureAwareReward(relevance, { weight: 2, popularity });
    const z = [...zScores([1, 2, 3]), ...zScores([0, 0, 6])];
    const expected = Array.from(request.candidates, (item, i) => z[i]! - (2 * popularity[item]!) / 20);
    Array.from(await reward.score(request)).forEach((value, i) => expect(value).toBeCloseTo(expected[i]!, 12));
    const raw = exposureAwareReward(relevance, { weight: 0.5, popularity, standardize: false });
    const expectedRaw = [1, 2, 3, 0, 0, 6].map((r, i) => r - (0.5 * popularity[request.candidates[i]!]!) / 20);
    Array.from(await raw.score(request)).forEach((value, i) => expect(value).toBeCloseTo(expectedRaw[i]!, 12));
  });

  it("exposureAwareReward 'exposure' penalises items by how many candidate lists hold them", async () => {
    // item 1: 1 list, 2: 2, 3: 2, 4: 1 -> penalty λ · count / 2
    const reward = exposureAwareReward(relevance, { weight: 1, penalty: 'exposure', standardize: false });
    expect(Array.from(await reward.score(request))).toEqual([1 - 0.5, 2 - 1, 3 - 1, 0 - 1, 0 - 1, 6 - 0.5]);
  });

  it('itemPopularity counts training interactions by item id', () => {
    expect(Array.from(itemPopularity(createSequenceDataset({ sequences: [[1, 2], [2, 3, 2]], itemCount: 4 })))).toEqual([0, 1, 3, 1, 0]);
  });

  it('rejects bad options', () => {
    const bad = [{ weight: -1 }, { penalty: 'fame' }, {}, { popularity: [0, 1], weight: Number.NaN }, { popularity: [0, -1] }, { popularity: [0, 1], wieght: 1 }];
    for (const options of bad) expect(() => exposureAwareReward(relevance, options as never), JSON.stringify(options)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    expect(() => recommenderReward({} as never)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });
});
