import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GenrecError, type EpochEndEvent, type FitStartEvent, type HistoryBatch, type Matrix, type ProgressEvent } from '@genrec/core';
import { historySlice } from '@genrec/model-baselines/testing';
import { learningRateAt } from '@genrec/nn';
import { fitSetrec, type FitSetrecOptions } from './index.js';
import { CHEAP, cheapCfVectors, smallSplit } from './test-fixtures.js';

const { split, fitData } = smallSplit();
const users: HistoryBatch = historySlice(split.test, 0, 30);
const folders: string[] = [];
let cfVectors: Matrix;
const temporary = (): string => {
  const folder = mkdtempSync(join(tmpdir(), 'genrec-setrec-schedule-'));
  folders.push(folder);
  return folder;
};

/** Three epochs, a cosine decay after two warm-up steps, no early stopping. */
const COSINE: FitSetrecOptions = { ...CHEAP, epochs: 3, schedule: 'cosine', warmupSteps: 2, earlyStopping: false };

beforeAll(async () => {
  cfVectors = await cheapCfVectors(split.train);
});

afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

function recorder(): { events: ProgressEvent[]; onProgress: (event: ProgressEvent) => void } {
  const events: ProgressEvent[] = [];
  return { events, onProgress: (event) => events.push(event) };
}

describe('SETRec learning-rate schedules', () => {
  it('cosine: each epoch ends at learningRateAt of its last step, and the budget ends at 0', async () => {
    const recorded = recorder();
    const model = await fitSetrec(fitData, { ...COSINE, cfVectors, onProgress: recorded.onProgress });
    await model.dispose();
    const start = recorded.events.find((event): event is FitStartEvent => event.type === 'fit-start')!;
    const ends = recorded.events.filter((event): event is EpochEndEvent => event.type === 'epoch-end');
    const steps = start.stepsPerEpoch;
    expect(steps).toBeGreaterThan(2);
    const spec = { learningRate: 0.01, warmupSteps: 2, schedule: 'cosine' as const };
    expect(ends.map((event) => event.learningRate)).toEqual([1, 2, 3].map((epoch) => learningRateAt(spec, epoch * steps, 3 * steps)));
    expect(ends[0]!.learningRate!).toBeGreaterThan(0.005);
    expect(ends[2]!.learningRate!).toBeCloseTo(0, 12);
  });

  it('the default (constant, no warm-up) reports the plain rate; a cosine run trains other weights', async () => {
    const recorded = recorder();
    const constant = await fitSetrec(fitData, { ...COSINE, schedule: 'constant', warmupSteps: 0, cfVectors, onProgress: recorded.onProgress });
    const defaults = await fitSetrec(fitData, { ...CHEAP, epochs: 3, earlyStopping: false, cfVectors });
    const cosine = await fitSetrec(fitData, { ...COSINE, cfVectors });
    try {
      expect(recorded.events.filter((event): event is EpochEndEvent => event.type === 'epoch-end').map((event) => event.learningRate)).toEqual([0.01, 0.01, 0.01]);
      const fromConstant = await constant.recommend(users, { k: 10 });
      expect(await defaults.recommend(users, { k: 10 })).toEqual(fromConstant);
      expect(defaults.describe().hyperParameters).toMatchObject({ schedule: 'constant', warmupSteps: 0 });
      const fromCosine = await cosine.recommend(users, { k: 10 });
      expect(Array.from(fromCosine.scores)).not.toEqual(Array.from(fromConstant.scores));
    } finally {
      await constant.dispose();
      await defaults.dispose();
      await cosine.dispose();
    }
  });

  it('resuming a cosine run equals the straight run; a checkpoint of another epoch budget is refused', async () => {
    const straight = await fitSetrec(fitData, { ...COSINE, cfVectors });
    const checkpoint = join(temporary(), 'checkpoint');
    const controller = new AbortController();
    const interrupted = await fitSetrec(fitData, {
      ...COSINE,
      cfVectors,
      checkpointDirectory: checkpoint,
      signal: controller.signal,
      onProgress: (event) => {
        if (event.type === 'epoch-end') controller.abort();
      },
    });
    await interrupted.dispose();
    const resumed = await fitSetrec(fitData, { ...COSINE, cfVectors, checkpointDirectory: checkpoint, resumeFrom: checkpoint });
    try {
      const a = await straight.recommend(users, { k: 10 });
      const b = await resumed.recommend(users, { k: 10 });
      expect(Array.from(b.items)).toEqual(Array.from(a.items));
      for (let i = 0; i < a.scores.length; i++) expect(b.scores[i]!).toBeCloseTo(a.scores[i]!, 5);
      // the cosine decay depends on the epoch budget: a checkpoint trained towards 3 epochs does not resume towards 4
      const error = await fitSetrec(fitData, { ...COSINE, epochs: 4, cfVectors, resumeFrom: checkpoint }).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(GenrecError.isInstance(error)).toBe(true);
      expect((error as GenrecError).message).toMatch(/epochs/);
    } finally {
      await straight.dispose();
      await resumed.dispose();
    }
  });
});
