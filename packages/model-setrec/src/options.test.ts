import { describe, expect, it } from 'vitest';
import { GenrecError } from '@genrec/core';
import { defaultLengthBuckets, resolveEarlyStopping, resolveSetrecSpec } from './options.js';

function invalid(options: Record<string, unknown>): GenrecError {
  try {
    resolveSetrecSpec(options);
  } catch (error) {
    expect(GenrecError.isInstance(error)).toBe(true);
    expect((error as GenrecError).code).toBe('INVALID_OPTION');
    return error as GenrecError;
  }
  throw new Error(`accepted ${JSON.stringify(options)}`);
}

describe('resolveSetrecSpec', () => {
  it('fills the defaults: n = 4, the 512/256/128 autoencoder, α 0.7, β on validation', () => {
    const spec = resolveSetrecSpec();
    expect(spec).toMatchObject({ semanticTokens: 4, hiddenSize: 32, autoencoderHidden: [512, 256, 128], alpha: 0.7, beta: 'validation', backbone: 'query-decoder', lastItemResidual: true, maxLength: 50, seed: 0 });
    expect(spec.lengthBuckets).toEqual([4, 8, 16, 32, 50]);
    expect(spec).toMatchObject({ learningRate: 0.001, schedule: 'constant', warmupSteps: 0 });
    expect(spec.betaGrid).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
    expect(resolveSetrecSpec({ hiddenSize: 64 }).autoencoderHidden).toEqual([512, 256, 256]);
    expect(defaultLengthBuckets(4)).toEqual([4]);
    expect(defaultLengthBuckets(20)).toEqual([4, 8, 16, 20]);
  });

  it('rejects bad options with INVALID_OPTION naming the field', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ alpha: Number.NaN }, 'alpha'],
      [{ beta: 1.5 }, 'beta'],
      [{ beta: 'test' }, 'beta'],
      [{ semanticTokens: 0 }, 'semanticTokens'],
      [{ hiddenSize: 30, heads: 4 }, 'heads'],
      [{ autoencoderHidden: [64, 60] }, 'autoencoderHidden'],
      [{ backbone: 'lstm' }, 'backbone'],
      [{ coldCfToken: 'mean' }, 'coldCfToken'],
      [{ lengthBuckets: [8, 4, 50] }, 'lengthBuckets'],
      [{ lengthBuckets: [4, 8] }, 'lengthBuckets'],
      [{ betaGrid: [] }, 'betaGrid'],
      [{ betaGrid: [0.5, 2] }, 'betaGrid[1]'],
      [{ contentFields: [] }, 'contentFields'],
      [{ batchPositions: 10 }, 'batchPositions'],
      [{ lastItemResidual: 'yes' }, 'lastItemResidual'],
      [{ seed: -1 }, 'seed'],
      [{ epochz: 3 }, 'epochz'],
      [{ schedule: 'linear' }, 'schedule'],
      [{ warmupSteps: -1 }, 'warmupSteps'],
      [{ warmupSteps: 1.5 }, 'warmupSteps'],
    ];
    for (const [options, field] of cases) expect(invalid(options).details?.field, JSON.stringify(options)).toContain(field.replace(/\[.*$/, ''));
  });

  it('resolves early stopping only with validation data', () => {
    expect(resolveEarlyStopping(undefined, true, 100)).toEqual({ metric: 'ndcg', k: 10, name: 'ndcg@10', patience: 3, sampleUsers: undefined });
    expect(resolveEarlyStopping({ metric: 'recall@20', patience: 2 }, false, 100)).toBeUndefined();
    expect(() => resolveEarlyStopping({ metric: 'auc' }, true, 100)).toThrow(GenrecError);
  });
});
