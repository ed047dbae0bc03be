import { describe, expect, it } from 'vitest';
import type { ProgressEvent } from '../progress.js';
import { resolveEarlyStopping } from './early-stopping.js';
import { copyParameters, fitEpochs, type EpochSnapshot, type FitEpochsOptions, type FitEpochsResult } from './fit-epochs.js';

/**
 * A fake trainer: one parameter `w` whose value after epoch `e` is `10 e` (so kept weights name
 * their epoch), validation scores from a fixed list, losses `1 / e`.
 */
function fakeRun(scores: readonly number[], overrides: Partial<FitEpochsOptions<number | undefined, FitEpochsResult<number | undefined>>> = {}) {
  const w = new Float32Array(1);
  const events: ProgressEvent[] = [];
  const snapshots: EpochSnapshot<number | undefined>[] = [];
  const options: FitEpochsOptions<number | undefined, FitEpochsResult<number | undefined>> = {
    model: 'fake',
    epochs: scores.length,
    stepsPerEpoch: 3,
    early: resolveEarlyStopping({ metric: 'ndcg@10', patience: 2 }, true, 100),
    onProgress: (event) => events.push(event),
    extra: undefined,
    parameters: () => new Map([['w', w]]),
    runEpoch: async (epoch) => {
      w[0] = 10 * epoch;
      return { loss: 1 / epoch, learningRate: 0.5 };
    },
    validate: async (epoch) => ({ metrics: { 'ndcg@10': scores[epoch - 1]!, 'recall@10': 2 * scores[epoch - 1]! } }),
    afterEpoch: async (snapshot) => {
      snapshots.push({ ...snapshot, losses: [...snapshot.losses], ...(snapshot.best ? { best: copyParameters(snapshot.best) } : {}) });
    },
    finish: (result) => result,
    ...overrides,
  };
  return { options, events, snapshots, w };
}

const kinds = (events: ProgressEvent[]) => events.map((e) => e.type);

describe('fitEpochs', () => {
  it('stops after `patience` epochs without a strict improvement and keeps the best epoch', async () => {
    // best at epoch 2 (0.3); 0.3 again at epoch 3 is no strict improvement; epoch 4 is the 2nd miss
    const { options, events, snapshots } = fakeRun([0.1, 0.3, 0.3, 0.25, 0.9, 0.95]);
    const result = await fitEpochs(options);
    expect(result).toMatchObject({ epochsTrained: 4, keptEpoch: 2, stoppedBy: 'early-stopping', losses: [1, 1 / 2, 1 / 3, 1 / 4], validation: { 'ndcg@10': 0.3, 'recall@10': 0.6 } });
    expect(result.parameters.get('w')).toEqual(Float32Array.of(20));
    expect(kinds(events)).toEqual(['fit-start', 'epoch-end', 'epoch-end', 'epoch-end', 'epoch-end', 'fit-end']);
    expect(events[0]).toEqual({ type: 'fit-start', model: 'fake', epochs: 6, stepsPerEpoch: 3, startEpoch: 0 });
    const ends = events.filter((e) => e.type === 'epoch-end');
    expect(ends.map((e) => [e.epoch, e.best, e.loss, e.learningRate, e.progress])).toEqual([
      [1, true, 1, 0.5, 1 / 6],
      [2, true, 1 / 2, 0.5, 2 / 6],
      [3, false, 1 / 3, 0.5, 3 / 6],
      [4, false, 1 / 4, 0.5, 4 / 6],
    ]);
    expect(ends[3]!.etaMs).toBe(0);
    expect(events[5]).toMatchObject({ type: 'fit-end', epochs: 4, bestEpoch: 2, stoppedBy: 'early-stopping' });
    // the checkpoints: best weights stored only while the best epoch is not the current one
    expect(snapshots.map((s) => [s.epoch, s.bestEpoch, s.sinceBest, s.stoppedEarly, s.hasBestWeights, s.best?.get('w')?.[0]])).toEqual([
      [1, 1, 0, false, false, 10],
      [2, 2, 0, false, false, 20],
      [3, 2, 1, false, true, 20],
      [4, 2, 2, true, true, 20],
    ]);
  });

  it('without early stopping trains every epoch and keeps the last one with its validation', async () => {
    const { options, events } = fakeRun([0.5, 0.1, 0.2], { early: undefined });
    const result = await fitEpochs(options);
    expect(result).toMatchObject({ epochsTrained: 3, keptEpoch: 3, stoppedBy: 'epochs', validation: { 'ndcg@10': 0.2 } });
    expect(result.parameters.get('w')).toEqual(Float32Array.of(30));
    expect(events.filter((e) => e.type === 'epoch-end').map((e) => e.best)).toEqual([true, true, true]);
  });

  it('an abort returns the best epoch so far, or the current weights when none finished', async () => {
    const { options, events } = fakeRun([0.4, 0.2, 0.9, 0.9], {
      runEpoch: async (epoch) => (epoch === 3 ? undefined : { loss: 1, learningRate: 0.1 }),
    });
    let value = 0;
    options.parameters = () => new Map([['w', Float32Array.of(++value)]]);
    const result = await fitEpochs(options);
    expect(result).toMatchObject({ epochsTrained: 2, keptEpoch: 1, stoppedBy: 'abort', validation: { 'ndcg@10': 0.4 } });
    expect(result.parameters.get('w')).toEqual(Float32Array.of(1)); // copied when epoch 1 became best
    expect(kinds(events)).toEqual(['fit-start', 'epoch-end', 'epoch-end', 'fit-end']);
    expect(events[3]).toMatchObject({ bestEpoch: 1, epochs: 2, stoppedBy: 'abort' });

    const first = fakeRun([0.4], { runEpoch: async () => undefined });
    first.w[0] = 7;
    const none = await fitEpochs(first.options);
    expect(none).toMatchObject({ epochsTrained: 0, keptEpoch: 0, stoppedBy: 'abort', validation: undefined });
    expect(none.parameters.get('w')).toEqual(Float32Array.of(7));
    expect(kinds(first.events)).toEqual(['fit-start', 'fit-end']);
  });

  it('a run resumed from an epoch snapshot ends exactly as a straight run', async () => {
    // bests at epochs 1, 2, 4, 6; two misses after 6 stop the run at the end of the budget
    const scores = [0.1, 0.3, 0.2, 0.35, 0.34, 0.4, 0.1, 0.1];
    const straight = fakeRun(scores);
    const expected = await fitEpochs(straight.options);
    expect(expected).toMatchObject({ keptEpoch: 6, epochsTrained: 8, stoppedBy: 'early-stopping' });
    for (const at of [2, 3, 5]) {
      const resumed = fakeRun(scores);
      const snapshot = straight.snapshots[at - 1]!;
      resumed.w[0] = 10 * at; // the trainer's checkpoint
      const { hasBestWeights, best, extra, ...state } = snapshot;
      const result = await fitEpochs({ ...resumed.options, resumed: { state, best: hasBestWeights ? copyParameters(best!) : undefined, extra } });
      expect(result).toEqual(expected);
      expect(resumed.events[0]).toMatchObject({ type: 'fit-start', startEpoch: at });
      expect(resumed.events.filter((e) => e.type === 'epoch-end').map((e) => (e.type === 'epoch-end' ? e.epoch : 0))).toEqual([...Array(8 - at).keys()].map((i) => at + 1 + i));
    }
  });

  it('keeps the model companion of the best epoch (and of every epoch without early stopping)', async () => {
    const scores = [0.2, 0.5, 0.1, 0.1];
    const run = (early: boolean) =>
      fitEpochs<number, FitEpochsResult<number>>({
        model: 'fake',
        epochs: 4,
        stepsPerEpoch: 1,
        early: early ? resolveEarlyStopping({ patience: 5 }, true, 100) : undefined,
        extra: -1,
        parameters: () => new Map(),
        runEpoch: async () => ({ loss: 1, learningRate: 1 }),
        validate: async (epoch) => ({ metrics: { 'ndcg@10': scores[epoch - 1]! }, extra: epoch * 100 }),
        finish: (result) => result,
      });
    expect((await run(true)).extra).toBe(200);
    expect((await run(false)).extra).toBe(400);
  });

  it('propagates a failing epoch without fit-end', async () => {
    const { options, events } = fakeRun([0.1], { runEpoch: async () => Promise.reject(new Error('diverged')) });
    await expect(fitEpochs(options)).rejects.toThrow('diverged');
    expect(kinds(events)).toEqual(['fit-start']);
  });
});
