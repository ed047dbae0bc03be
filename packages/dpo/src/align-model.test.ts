import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EvaluationSet, ProgressEvent, Recommender } from '@genrec/core';
import { createSequenceDataset, generateSyntheticDataset, leaveOneOutSplit } from '@genrec/data';
import { fitSasrec, loadSasrec, sasrecPreferenceModel, type SasrecModel } from '@genrec/model-sasrec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alignModel, type AlignOptions } from './index.js';
import { functionReward } from './reward-models.js';
import { CHEAP_SASREC, fixedScoreRecommender } from './test-fixtures.js';

const source = generateSyntheticDataset({ userCount: 800, itemCount: 200, seed: 7 }).dataset;
const split = leaveOneOutSplit(source, { maxHistoryLength: 50 });
const N = source.itemCount;
const all = Array.from({ length: N }, (_, j) => j + 1);
/** Fast settings shared by the runs below. */
const FAST: AlignOptions = { batchSize: 32, diagnosticUsers: 48, inferenceBatchSize: 128, threads: 1, seed: 1 };
let model: SasrecModel;

beforeAll(async () => {
  model = await fitSasrec({ train: split.train }, CHEAP_SASREC);
});
afterAll(async () => {
  await model.dispose();
});

function histories(set: EvaluationSet, users: number): number[][] {
  return Array.from({ length: users }, (_, u) => Array.from(set.historyItems.subarray(set.historyOffsets[u]!, set.historyOffsets[u + 1]!)));
}

/** Rank (1 = best) of `item` in each user's full ranking (history excluded), users whose history holds it left out. */
async function ranksOf(m: Recommender, item: number, users: number[][]): Promise<number[]> {
  const kept = users.filter((h) => !h.includes(item));
  const scores = await m.score(kept, kept.map(() => all));
  return kept.map((history, u) => {
    const row = scores.subarray(u * N, (u + 1) * N);
    const own = row[item - 1]!;
    let rank = 1;
    for (let j = 0; j < N; j++) if (row[j]! > own && !history.includes(j + 1)) rank++;
    return rank;
  });
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

describe('alignModel with SASRec', () => {
  it('raises the rank of the item a reward model prefers', async () => {
    const users = histories(split.validation, 300);
    // the preferred item: the one that shows up most often at ranks 6..20 of the un-aligned model (a known, reachable item)
    const top = await model.recommend(users, { k: 20 });
    const counts = new Map<number, number>();
    for (let u = 0; u < top.size; u++) for (let r = 5; r < 20; r++) counts.set(top.items[u * 20 + r]!, (counts.get(top.items[u * 20 + r]!) ?? 0) + 1);
    const preferred = [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]![0];
    const reward = functionReward((request) => Array.from(request.candidates, (item) => (item === preferred ? 1 : 0)), `prefer ${preferred}`);
    const result = await alignModel(model, sasrecPreferenceModel(model), { train: split.train, validation: split.validation }, {
      ...FAST,
      source: 'reward-model',
      rewardModel: reward,
      candidates: 20,
      userShare: 0.5,
      rounds: 2,
      steps: 15,
      learningRate: 2e-3,
      beta: 0.5,
    });
    const before = await ranksOf(model, preferred, users);
    const after = await ranksOf(result.model, preferred, users);
    const inTop10 = (ranks: number[]) => ranks.filter((r) => r <= 10).length / ranks.length;
    console.log(
      `preferred item ${preferred}: mean rank ${mean(before).toFixed(1)} -> ${mean(after).toFixed(1)}, top-10 share ${inTop10(before).toFixed(3)} -> ${inTop10(after).toFixed(3)}; ` +
        `pairs ${result.rounds.map((r) => r.pairs).join(', ')}; KL ${result.rounds.map((r) => r.after.kl?.toFixed(4)).join(', ')}; ` +
        `validation NDCG@10 ${result.before.validation!['ndcg@10']!.toFixed(4)} -> ${result.rounds.map((r) => r.after.validation!['ndcg@10']!.toFixed(4)).join(' -> ')}`,
    );
    expect(result.rounds.length).toBe(2);
    expect(result.rounds.every((r) => r.pairs > 20 && r.chosenReward === 1 && r.rejectedReward === 0)).toBe(true);
    expect(mean(after)).toBeLessThan(0.5 * mean(before));
    expect(inTop10(after)).toBeGreaterThan(inTop10(before) + 0.2);
    // diagnostics: the policy moved away from the reference, the chosen items gained
    expect(result.rounds.every((r) => r.after.kl! > 0)).toBe(true);
    const last = result.steps.at(-1)!;
    expect(last['rewards/margins']).toBeGreaterThan(0);
    expect(last['rewards/accuracies']).toBeGreaterThan(0.5);
    expect(result.steps.length).toBe(30);
    expect(result.model.kind).toBe('sasrec');
    await result.model.dispose();
  });

  it('at the first step the policy is the reference (dropout off): margins 0, KL 0', async () => {
    const hook = sasrecPreferenceModel(model);
    const one = await alignModel(model, hook, { train: split.train }, { ...FAST, steps: 1, userShare: 0.1, supervisedWeight: 0.1 });
    const first = one.steps[0]!;
    expect(Math.abs(first['rewards/margins'])).toBeLessThan(1e-5);
    expect(Math.abs(first['rewards/chosen'])).toBeLessThan(1e-5);
    expect(Math.abs(first['rewards/rejected'])).toBeLessThan(1e-5);
    expect(first['logps/chosen']).toBeLessThan(0);
    // the step's loss is DPO at h = 0 (ln 2) plus λ times the supervised loss
    expect(first['loss/preference']).toBeCloseTo(Math.LN2, 5);
    expect(first.loss).toBeCloseTo(Math.LN2 + 0.1 * first['loss/supervised'], 4);
    expect(one.before.kl).toBe(0);
    expect(one.rounds[0]!.after.kl).toBeGreaterThan(0);
    await one.model.dispose();
    // with the model's dropout kept in the policy graph, the first margins are dropout noise, not 0
    const noisy = await alignModel(model, hook, { train: split.train }, { ...FAST, steps: 1, userShare: 0.1, disableDropout: false, diagnosticUsers: 0 });
    expect(Math.abs(noisy.steps[0]!['rewards/margins'])).toBeGreaterThan(1e-4);
    expect(noisy.rounds[0]!.after.kl).toBeNull();
    await noisy.model.dispose();
    // no step: KL through the graphs is exactly 0 and the model recommends as before
    const none = await alignModel(model, hook, { train: split.train }, { ...FAST, steps: 0, userShare: 0.1 });
    expect(none.rounds[0]!.after.kl).toBe(0);
    expect(none.rounds[0]!.after.heldOut).toEqual(none.before.heldOut);
    expect(none.steps).toEqual([]);
    await none.model.dispose();
  });

  it('builds the same pairs and steps with or without the validation and test interactions', async () => {
    const sequences = Array.from({ length: split.train.userCount }, (_, row) => split.train.items.subarray(split.train.offsets[row]!, split.train.offsets[row + 1]!));
    const trimmed = createSequenceDataset({ sequences, itemCount: N });
    const options: AlignOptions = { ...FAST, source: 'self-hard-negatives', steps: 3, supervisedSteps: 1, userShare: 0.2, rejected: 2, loss: 'sdpo' };
    const hook = sasrecPreferenceModel(model);
    const full = await alignModel(model, hook, { train: split.train, validation: split.validation, test: split.test } as never, options);
    const deleted = await alignModel(model, hook, { train: trimmed }, options);
    expect(deleted.steps).toEqual(full.steps);
    const strip = (r: (typeof full.rounds)[number]) => ({ ...r, timings: undefined, after: { ...r.after, validation: null } });
    expect(deleted.rounds.map(strip)).toEqual(full.rounds.map(strip));
    expect(full.rounds[0]!.after.validation).not.toBeNull();
    expect(full.steps.map((s) => s.kind)).toEqual(['preference', 'preference', 'preference', 'supervised']);
    await Promise.all([full.model.dispose(), deleted.model.dispose()]);
  });

  it('saves and loads the aligned model as usual; stops cleanly on abort with progress events', async () => {
    const controller = new AbortController();
    const events: ProgressEvent[] = [];
    const result = await alignModel(model, sasrecPreferenceModel(model), { train: split.train }, {
      ...FAST,
      steps: 10,
      rounds: 3,
      userShare: 0.2,
      learningRate: 1e-3,
      signal: controller.signal,
      onProgress: (event) => {
        events.push(event);
        if (event.type === 'task-progress' && event.task === 'align' && event.done === 3) controller.abort();
      },
    });
    expect(result.stoppedBy).toBe('abort');
    expect(result.steps.length).toBe(3);
    expect(result.rounds.length).toBe(0);
    expect(events.filter((e) => 'task' in e && e.task === 'align').map((e) => e.type)).toEqual(['task-start', 'task-progress', 'task-progress', 'task-progress', 'task-end']);
    expect(events.some((e) => e.type === 'task-end' && e.task === 'align-pairs')).toBe(true);
    const users = histories(split.test, 50);
    const trained = await result.model.recommend(users, { k: 10 });
    expect(trained.items).not.toEqual((await model.recommend(users, { k: 10 })).items);
    const directory = mkdtempSync(join(tmpdir(), 'genrec-dpo-'));
    try {
      await result.model.save(directory);
      const loaded = await loadSasrec(directory, { threads: 1 });
      expect((await loaded.recommend(users, { k: 10 })).items).toEqual(trained.items);
      await loaded.dispose();
    } finally {
      rmSync(directory, { recursive: true, force: true });
      await result.model.dispose();
    }
  });

  it('rejects bad options before any work, and a hook that is not the model', async () => {
    const hook = sasrecPreferenceModel(model);
    const data = { train: split.train };
    const bad: AlignOptions[] = [
      { loss: 'kto' as never },
      { beta: -1 },
      { labelSmoothing: 0.7 },
      { userShare: 0 },
      { userShare: 1.5 },
      { rounds: 0 },
      { steps: -1 },
      { batchSize: 0 },
      { learningRate: 0 },
      { supervisedWeight: -0.1 },
      { source: 'reward-model' },
      { source: 'reward-model', rewardModel: functionReward(() => []), candidates: N + 1 },
      { source: 'reward-model', rewardModel: functionReward(() => []), candidates: 5, rejected: 5 },
      { rejected: N },
      { diagnosticK: N + 1 },
      { cut: 'middle' as never },
      { signal: 'stop' as never },
      { epochs: 3 } as never,
    ];
    for (const options of bad) await expect(alignModel(model, hook, data, options), JSON.stringify(options)).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(alignModel(fixedScoreRecommender(Array.from({ length: N + 1 }, (_, i) => i)), hook, data)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(alignModel(model, hook, { train: undefined } as never)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(alignModel(model, hook, data, { source: 'explicit-feedback', userShare: 0.1 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
