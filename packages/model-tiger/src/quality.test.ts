import { hitRate, popularityHitRate, qualityData } from '@genrec/model-baselines/testing';
import { describe, expect, it } from 'vitest';
import { fitTiger } from './fit-tiger.js';
import { CHEAP } from './test-fixtures.js';

describe('quality on the synthetic default', () => {
  it('the decoder-only form reaches 2.4x popularity HitRate@10 within 4 epochs (README "Conformance")', async () => {
    const data = qualityData();
    const model = await fitTiger({ train: data.fitData.train, catalog: data.catalog }, {
      ...CHEAP,
      modelDimension: 64,
      feedForwardDimension: 128,
      batchSize: 32,
      learningRate: 0.002,
      warmupSteps: 50,
      beamWidth: 20,
      epochs: 4,
      seed: 42,
    });
    try {
      const model10 = await hitRate(model, data.split.test, 10);
      const popularity = popularityHitRate(data.split.train, data.split.test, 10);
      console.info(`[TIGER decoder-only] HitRate@10 ${model10.toFixed(4)} vs popularity ${popularity.toFixed(4)} (${(model10 / popularity).toFixed(2)}x) in 4 epochs`);
      expect(model10).toBeGreaterThanOrEqual(2.4 * popularity);
    } finally {
      await model.dispose();
    }
  });
});
