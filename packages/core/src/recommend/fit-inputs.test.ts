import { describe, expect, it } from 'vitest';
import type { SequenceDataset } from '../contracts/dataset.js';
import type { FitData } from '../contracts/recommender.js';
import { GenrecError } from '../errors.js';
import { checkFitCallbacks, checkFitData, checkStepLoss } from './fit-inputs.js';

const train = { itemCount: 3, offsets: Int32Array.of(0, 2), items: Int32Array.of(1, 3) } as unknown as SequenceDataset;
const usage = 'fitMine needs { train }';
const strict = (dataset: SequenceDataset) => {
  if (dataset.items.some((id) => id > dataset.itemCount)) throw new GenrecError('INVALID_INPUT', 'items[1] = 9 is outside the catalogue');
};

/** The GenrecError `run` throws, as a plain object (`message` is not enumerable on errors). */
function errorOf(run: () => unknown): { code: string; message: string; details: unknown } {
  try {
    run();
  } catch (error) {
    // the message without the ` (field …)` suffix GenrecError adds from its details
    if (GenrecError.isInstance(error)) return { code: error.code, message: error.message.replace(/ \([^()]*\)$/, ''), details: error.details };
    throw error;
  }
  throw new Error('expected a GenrecError');
}

describe('fit inputs', () => {
  it('checkFitData returns train and names what is wrong', () => {
    expect(checkFitData({ train }, usage, strict)).toBe(train);
    expect(errorOf(() => checkFitData(null as unknown as FitData, usage, strict))).toMatchObject({ code: 'INVALID_INPUT', message: usage, details: { field: 'data' } });
    expect(errorOf(() => checkFitData({ train: { ...train, itemCount: 0 } }, usage, strict)).message).toBe('train.itemCount must be a positive integer, got 0');
    const bad = errorOf(() => checkFitData({ train: { ...train, items: Int32Array.of(1, 9) } }, usage, strict));
    expect(bad).toMatchObject({ code: 'INVALID_INPUT', message: 'train: items[1] = 9 is outside the catalogue', details: { field: 'train' } });
    expect(errorOf(() => checkFitData({ train, catalog: {} as never }, usage, strict)).details).toEqual({ field: 'catalog' });
  });

  it('checkFitCallbacks checks onProgress, signal and the checkpoint folders', () => {
    checkFitCallbacks({ onProgress: () => {}, signal: new AbortController().signal, checkpointDirectory: 'a', resumeFrom: 'b' });
    expect(errorOf(() => checkFitCallbacks({ onProgress: 1 as never })).details).toEqual({ field: 'onProgress' });
    expect(errorOf(() => checkFitCallbacks({ signal: {} as never })).message).toBe('signal must be an AbortSignal');
    expect(errorOf(() => checkFitCallbacks({ resumeFrom: '' })).message).toBe('resumeFrom must be a folder path, got string');
    expect(errorOf(() => checkFitCallbacks({ checkpointDirectory: 3 as never })).message).toBe('checkpointDirectory must be a folder path, got number');
  });

  it('checkStepLoss fails a diverged step', () => {
    checkStepLoss(0.5, 1, 1);
    expect(errorOf(() => checkStepLoss(Number.NaN, 3, 7))).toMatchObject({ code: 'RUNTIME_ERROR', message: 'training diverged: the loss is NaN at epoch 3, step 7 (try a lower learningRate)' });
    expect(errorOf(() => checkStepLoss(Infinity, 1, 2)).message).toContain('the loss is Infinity');
  });
});
