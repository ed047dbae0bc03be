import { createSequenceDataset, generateSyntheticDataset, leaveOneOutSplit } from '@genrec/data';
import { fitItemKnn, fitMarkov } from '@genrec/model-baselines';
import { describe, expect, it } from 'vitest';
import { buildPreferencePairs, falseNegativeShare, sampleTrainingRows, type PreferencePairs } from './preference-pairs.js';
import { exposureAwareReward, functionReward, itemPopularity, recommenderReward } from './reward-models.js';
import { fixedScoreRecommender } from './test-fixtures.js';

/** Items 1..6 ranked 6, 5, 4, 3, 2, 1 by the fixed recommender. */
const model = fixedScoreRecommender([0, 1, 2, 3, 4, 5, 6]);
const train = createSequenceDataset({
  sequences: [[1, 2, 3], [6], [5, 1, 4, 2]],
  ratings: [[5, 1, 4], [5], [2, 5, 1, 4]],
  itemCount: 6,
});

function plain(pairs: PreferencePairs) {
  return {
    size: pairs.size,
    candidatesPerUser: pairs.candidatesPerUser,
    histories: [Array.from(pairs.histories.offsets), Array.from(pairs.histories.items)],
    candidates: Array.from(pairs.candidates),
    targets: Array.from(pairs.targets),
    rows: Array.from(pairs.rows),
    cuts: Array.from(pairs.cuts),
    rewards: pairs.rewards ? Array.from(pairs.rewards) : undefined,
  };
}

describe('buildPreferencePairs', () => {
  it('self-hard negatives: chosen = the logged next item, rejected = the model top other than it', async () => {
    const one = await buildPreferencePairs(model, train, { rows: [0, 1, 2], source: 'self-hard-negatives', cut: 'last' });
    // row 0: history [1, 2], next 3, top (history excluded) 6, 5; row 1 has one item; row 2: history [5, 1, 4], next 2, top 6, 3
    expect(plain(one)).toEqual({
      size: 2,
      candidatesPerUser: 2,
      histories: [[0, 2, 5], [1, 2, 5, 1, 4]],
      candidates: [3, 6, 2, 6],
      targets: [3, 2],
      rows: [0, 2],
      cuts: [2, 3],
      rewards: undefined,
    });
    const two = await buildPreferencePairs(model, train, { rows: [0, 2], rejected: 2, cut: 'last' });
    // row 2: top 3 = 6, 3, 2 and 2 is the next item
    expect(Array.from(two.candidates)).toEqual([3, 6, 5, 2, 6, 3]);
  });

  it('random cuts stay inside the sequence and follow the seed', async () => {
    const rows = [0, 2, 0, 2, 0, 2];
    const a = await buildPreferencePairs(model, train, { rows, seed: 4 });
    const b = await buildPreferencePairs(model, train, { rows, seed: 4 });
    expect(plain(a)).toEqual(plain(b));
    for (let u = 0; u < a.size; u++) {
      const length = train.offsets[a.rows[u]! + 1]! - train.offsets[a.rows[u]!]!;
      expect(a.cuts[u]).toBeGreaterThanOrEqual(1);
      expect(a.cuts[u]).toBeLessThanOrEqual(length - 1);
      expect(a.targets[u]).toBe(train.items[train.offsets[a.rows[u]!]! + a.cuts[u]!]);
    }
    const cuts = new Set<string>();
    for (let seed = 0; seed < 20; seed++) cuts.add(Array.from((await buildPreferencePairs(model, train, { rows, seed })).cuts).join());
    expect(cuts.size).toBeGreaterThan(1);
  });

  it('reward-model pairs: chosen = highest reward (ties to the better rank), rejected = lowest (ties to the worse rank)', async () => {
    const rewardOf: Record<number, number> = { 6: 0, 5: 2, 4: 1, 3: 2, 2: 7, 1: 7 };
    const reward = functionReward((request) => Array.from(request.candidates, (item) => rewardOf[item]!), 'table');
    // row 0: history [1, 2] -> candidates 6, 5, 4, 3 with rewards 0, 2, 1, 2
    const one = await buildPreferencePairs(model, train, { rows: [0], source: 'reward-model', rewardModel: reward, candidates: 4, cut: 'last' });
    expect(plain(one).candidates).toEqual([5, 6]);
    expect(plain(one).rewards).toEqual([2, 0]);
    const two = await buildPreferencePairs(model, train, { rows: [0], source: 'reward-model', rewardModel: reward, candidates: 4, rejected: 2, cut: 'last' });
    expect(plain(two).candidates).toEqual([5, 6, 4]);
    expect(plain(two).rewards).toEqual([2, 0, 1]);
    // a user whose candidates all have the same reward gives no pair
    const flat = await buildPreferencePairs(model, train, { rows: [0, 2], source: 'reward-model', rewardModel: functionReward((r) => new Float64Array(r.candidates.length)), candidates: 3 });
    expect(flat.size).toBe(0);
  });

  it('explicit feedback: the highest-rated and lowest-rated items after the cut', async () => {
    const rated = createSequenceDataset({ sequences: [[1, 2, 3, 4, 5], [6, 1]], ratings: [[5, 1, 4, 2, 3], [5, 5]], itemCount: 6 });
    // row 0, largest valid cut: after position 2 come ratings 4, 2, 3 -> chosen item 3, rejected item 4; row 1 has no low rating
    const calls = model.recommendCalls;
    const last = await buildPreferencePairs(model, rated, { rows: [0, 1], source: 'explicit-feedback', cut: 'last' });
    expect(plain(last)).toMatchObject({ size: 1, candidates: [3, 4], rewards: [4, 2], cuts: [2], targets: [3], histories: [[0, 2], [1, 2]] });
    const seen = new Set<string>();
    for (let seed = 0; seed < 12; seed++) {
      const pairs = await buildPreferencePairs(model, rated, { rows: [0], source: 'explicit-feedback', seed });
      seen.add(`${pairs.cuts[0]}:${Array.from(pairs.candidates).join()}`);
    }
    // cut 1: after it ratings 1, 4, 2, 3 -> chosen 3, rejected 2
    expect([...seen].sort()).toEqual(['1:3,2', '2:3,4']);
    expect(model.recommendCalls).toBe(calls); // the model is not asked
    await expect(buildPreferencePairs(model, createSequenceDataset({ sequences: [[1, 2]] }), { rows: [0], source: 'explicit-feedback' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('falseNegativeShare counts rejected items found at or after the cut of the training sequence', () => {
    const pairs: PreferencePairs = {
      size: 2,
      candidatesPerUser: 3,
      histories: { offsets: Int32Array.of(0, 1, 2), items: Int32Array.of(1, 5) },
      candidates: Int32Array.of(2, 3, 6, 1, 2, 3),
      targets: Int32Array.of(2, 1),
      rows: Int32Array.of(0, 2),
      cuts: Int32Array.of(1, 1),
    };
    // row 0 after cut 1: [2, 3] -> 3 is later, 6 is not; row 2 after cut 1: [1, 4, 2] -> 2 is later, 3 is not
    expect(falseNegativeShare(pairs, train)).toBe(2 / 4);
  });

  it('rejects bad options', async () => {
    const reward = functionReward((r) => new Float64Array(r.candidates.length));
    const bad: Record<string, unknown>[] = [
      { source: 'logs' },
      { rejected: 0 },
      { rejected: 6 }, // 7 candidates of a 6-item catalogue
      { source: 'reward-model' }, // no reward model
      { source: 'reward-model', rewardModel: reward, candidates: 7 },
      { source: 'reward-model', rewardModel: reward, candidates: 3, rejected: 3 },
      { cut: 'first' },
      { highRating: 2, lowRating: 2 },
      { batchSize: 0 },
      { typo: 1 },
    ];
    for (const options of bad) await expect(buildPreferencePairs(model, train, { rows: [0], ...options } as never), JSON.stringify(options)).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(buildPreferencePairs(model, train, { rows: [3] })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});

describe('sampleTrainingRows', () => {
  it('draws a seeded share of the rows with 2+ items, never an excluded one', () => {
    expect(Array.from(sampleTrainingRows(train, 1, 1))).toEqual([0, 2]);
    expect(Array.from(sampleTrainingRows(train, 1, 1, new Set([0])))).toEqual([2]);
    expect(sampleTrainingRows(train, 0.01, 1).length).toBe(1);
    expect(() => sampleTrainingRows(train, 0, 1)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
  });
});

describe('no leakage', () => {
  it('pairs and rewards from the full split equal those built after deleting every validation and test interaction', async () => {
    const source = generateSyntheticDataset({ seed: 5, userCount: 400, itemCount: 150, ratings: true }).dataset;
    const split = leaveOneOutSplit(source);
    // the same data with the validation and test interactions (the last two of every evaluated user) deleted
    const sequences: number[][] = [];
    const ratings: number[][] = [];
    for (let row = 0; row < source.userCount; row++) {
      const from = source.offsets[row]!;
      const length = source.offsets[row + 1]! - from;
      const keep = length >= 3 ? length - 2 : length;
      sequences.push(Array.from(source.items.subarray(from, from + keep)));
      ratings.push(Array.from(source.ratings!.subarray(from, from + keep)));
    }
    const trimmed = createSequenceDataset({ sequences, ratings, itemCount: source.itemCount });
    const build = async (data: { train: typeof trimmed; validation?: typeof split.validation }) => {
      const current = await fitMarkov(data);
      const judge = await fitItemKnn({ train: data.train });
      const rows = sampleTrainingRows(data.train, 0.5, 9);
      const common = { rows, seed: 3, rejected: 2 };
      const results = [
        await buildPreferencePairs(current, data.train, { ...common, source: 'self-hard-negatives' }),
        await buildPreferencePairs(current, data.train, { ...common, source: 'reward-model', candidates: 10, rewardModel: recommenderReward(judge) }),
        await buildPreferencePairs(current, data.train, {
          ...common,
          source: 'reward-model',
          candidates: 10,
          rewardModel: exposureAwareReward(recommenderReward(judge), { weight: 1, popularity: itemPopularity(data.train) }),
        }),
        await buildPreferencePairs(current, data.train, { ...common, source: 'explicit-feedback' }),
      ];
      await Promise.all([current.dispose(), judge.dispose()]);
      return results.map((pairs) => ({ ...plain(pairs), falseNegatives: falseNegativeShare(pairs, data.train) }));
    };
    const full = await build({ train: split.train, validation: split.validation });
    const deleted = await build({ train: trimmed });
    expect(full.map((p) => p.size).every((size) => size > 50)).toBe(true);
    expect(deleted).toEqual(full);
    // every history item and target is in the user's trimmed training sequence (no validation or test item)
    for (const pairs of full) {
      for (let u = 0; u < pairs.size; u++) {
        const kept = sequences[pairs.rows[u]!]!;
        const items = pairs.histories[1]!.slice(pairs.histories[0]![u], pairs.histories[0]![u + 1]);
        expect([...items, pairs.targets[u]!].every((item) => kept.includes(item))).toBe(true);
      }
    }
  });
});
