import { GenrecError } from '@genrec/core';
import { createSequenceDataset } from '@genrec/data';
import { describe, expect, it } from 'vitest';
import { fitSasrec } from './fit-sasrec.js';
import { SASREC_DEFAULTS, resolveEarlyStopping, resolveSasrecSpec } from './options.js';

function expectOptionError(run: () => unknown, field: string): void {
  try {
    run();
  } catch (error) {
    expect(GenrecError.isInstance(error)).toBe(true);
    expect((error as GenrecError).code).toBe('INVALID_OPTION');
    expect((error as GenrecError).details.field).toBe(field);
    return;
  }
  throw new Error(`expected an INVALID_OPTION error for ${field}`);
}

describe('SASRec options', () => {
  it("defaults are the sasrec_ce peer's settings", () => {
    expect(resolveSasrecSpec({})).toEqual({ ...SASREC_DEFAULTS, sparseEmbeddings: false, seed: 0 });
    expect(SASREC_DEFAULTS).toMatchObject({ hiddenSize: 64, blocks: 2, heads: 1, maxLength: 50, dropout: 0.2, epochs: 20, batchSize: 256, learningRate: 1e-3, loss: 'ce' });
  });

  it('rejects NaN, fractions, out-of-range values, unknown enums and names, naming the option', () => {
    expectOptionError(() => resolveSasrecSpec({ hiddenSize: Number.NaN }), 'hiddenSize');
    expectOptionError(() => resolveSasrecSpec({ hiddenSize: 7.5 }), 'hiddenSize');
    expectOptionError(() => resolveSasrecSpec({ hiddenSize: 6, heads: 4 }), 'heads');
    expectOptionError(() => resolveSasrecSpec({ dropout: 1 }), 'dropout');
    expectOptionError(() => resolveSasrecSpec({ dropout: -0.1 }), 'dropout');
    expectOptionError(() => resolveSasrecSpec({ learningRate: 0 }), 'learningRate');
    expectOptionError(() => resolveSasrecSpec({ learningRate: Number.POSITIVE_INFINITY }), 'learningRate');
    expectOptionError(() => resolveSasrecSpec({ epochs: 0 }), 'epochs');
    expectOptionError(() => resolveSasrecSpec({ batchSize: Number.NaN }), 'batchSize');
    expectOptionError(() => resolveSasrecSpec({ maxLength: 0 }), 'maxLength');
    expectOptionError(() => resolveSasrecSpec({ negatives: 0 }), 'negatives');
    expectOptionError(() => resolveSasrecSpec({ threads: -1 }), 'threads');
    expectOptionError(() => resolveSasrecSpec({ seed: -1 }), 'seed');
    expectOptionError(() => resolveSasrecSpec({ loss: 'softmax' as never }), 'loss');
    expectOptionError(() => resolveSasrecSpec({ hiddenSise: 8 } as never), 'hiddenSise');
  });

  it('sparseEmbeddings: on by default for sampled softmax only, refused for full softmax', () => {
    expect(resolveSasrecSpec({ loss: 'sampled-softmax' }).sparseEmbeddings).toBe(true);
    expect(resolveSasrecSpec({ loss: 'bce' }).sparseEmbeddings).toBe(false);
    expect(resolveSasrecSpec({ loss: 'bce', sparseEmbeddings: true }).sparseEmbeddings).toBe(true);
    expect(resolveSasrecSpec({ loss: 'sampled-softmax', sparseEmbeddings: false }).sparseEmbeddings).toBe(false);
    expectOptionError(() => resolveSasrecSpec({ sparseEmbeddings: true }), 'sparseEmbeddings');
    expectOptionError(() => resolveSasrecSpec({ loss: 'bce', sparseEmbeddings: 'yes' as never }), 'sparseEmbeddings');
  });

  it('early stopping: default ndcg@10 / patience 3 with validation, none without or when false', () => {
    expect(resolveEarlyStopping(undefined, true, 100)).toEqual({ metric: 'ndcg', k: 10, name: 'ndcg@10', patience: 3, sampleUsers: undefined });
    expect(resolveEarlyStopping({ metric: 'recall@20', patience: 1, sampleUsers: 50 }, true, 100)).toEqual({ metric: 'recall', k: 20, name: 'recall@20', patience: 1, sampleUsers: 50 });
    expect(resolveEarlyStopping(undefined, false, 100)).toBeUndefined();
    expect(resolveEarlyStopping(false, true, 100)).toBeUndefined();
    expectOptionError(() => resolveEarlyStopping({ metric: 'mrr' }, true, 100), 'earlyStopping.metric');
    expectOptionError(() => resolveEarlyStopping({ metric: 'ndcg@500' }, true, 100), 'earlyStopping.metric (K)');
    expectOptionError(() => resolveEarlyStopping({ patience: 0 }, true, 100), 'earlyStopping.patience');
    expectOptionError(() => resolveEarlyStopping({ patience: 2, extra: 1 } as never, true, 100), 'extra');
  });

  it('fitSasrec checks options and data before training', async () => {
    const train = createSequenceDataset({ sequences: [[1, 2, 3], [2, 3]] });
    await expect(fitSasrec({ train }, { dropout: Number.NaN })).rejects.toMatchObject({ code: 'INVALID_OPTION', details: { field: 'dropout' } });
    await expect(fitSasrec({ train }, { onProgress: 3 as never })).rejects.toMatchObject({ code: 'INVALID_OPTION', details: { field: 'onProgress' } });
    await expect(fitSasrec({ train }, { signal: {} as never })).rejects.toMatchObject({ code: 'INVALID_OPTION', details: { field: 'signal' } });
    const bad = { ...train, items: Int32Array.from([1, 2, 9, 2, 3]) };
    await expect(fitSasrec({ train: bad })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    const single = createSequenceDataset({ sequences: [[1], [2]] });
    await expect(fitSasrec({ train: single })).rejects.toMatchObject({ code: 'INVALID_INPUT', details: { field: 'train' } });
  });
});
