import { describe, expect, it } from 'vitest';
import { compatibilityOf } from './checkpoint.js';
import { resolveTigerSpec } from './options.js';

describe('compatibilityOf', () => {
  const both = ['text', 'collaborative'] as const;
  const of = (weights?: number[]) => compatibilityOf(resolveTigerSpec({ itemVectors: [...both], ...(weights ? { itemVectorWeights: weights } : {}) }), 'data', 'codes', 'ndcg@10', 100);

  it('leaves weights of 1 out (checkpoints written before itemVectorWeights still resume) and names other weights', () => {
    expect(of()).not.toHaveProperty('itemVectorWeights');
    expect(of([1, 1])).toEqual(of());
    expect(of([0.5, 1])).toMatchObject({ itemVectorWeights: [0.5, 1] });
    expect(of([0.5, 1])).not.toEqual(of());
  });

  it('leaves renormalize out when off (checkpoints written before it still resume) and records it when on', () => {
    const off = compatibilityOf(resolveTigerSpec({ renormalize: false }), 'd', 'c', 'ndcg@10', 10);
    expect(off).not.toHaveProperty('renormalize');
    expect(off).toEqual(compatibilityOf(resolveTigerSpec({}), 'd', 'c', 'ndcg@10', 10));
    expect(compatibilityOf(resolveTigerSpec({ renormalize: true }), 'd', 'c', 'ndcg@10', 10)).toMatchObject({ renormalize: true });
  });

  it('ignores the epoch budget and runtime settings, keeps the data and codes fingerprints', () => {
    const a = compatibilityOf(resolveTigerSpec({ epochs: 3, threads: 1, workers: 0, inferenceBatchSize: 8 }), 'd', 'c', 'ndcg@10', 10);
    const b = compatibilityOf(resolveTigerSpec({ epochs: 9, threads: 2, workers: 2, inferenceBatchSize: 64 }), 'd', 'c', 'ndcg@10', 10);
    expect(a).toEqual(b);
    expect(a).toMatchObject({ dataFingerprint: 'd', codesFingerprint: 'c' });
  });
});
