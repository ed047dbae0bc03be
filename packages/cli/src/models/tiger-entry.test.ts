import { describe, expect, it } from 'vitest';
import type { FitData, Recommender } from '@genrec/core';
import * as models from '@genrec/models';
import { validateField } from '../config/schema.js';
import { tigerEntry } from './tiger-entry.js';

describe('tigerEntry', () => {
  it('checks option types, passes ranges to resolveTigerSpec and the run settings to fitTiger', async () => {
    const calls: { fit?: Record<string, unknown>; spec?: unknown[] } = {};
    const model = { kind: 'tiger' } as unknown as Recommender;
    const entry = tigerEntry({
      fitTiger: async (_data: FitData, options: Record<string, unknown>) => {
        calls.fit = options;
        return model;
      },
      loadTiger: async () => model,
      resolveTigerSpec: (options, data) => {
        calls.spec = [options, data];
        if ((options['levels'] as number) > 8) throw new Error('levels too large');
        return {};
      },
    });
    expect(entry).toMatchObject({ kind: 'tiger', requires: 'semantic-ids', trainsByEpochs: true });
    expect(Object.keys(entry.presets)).toEqual(['quickstart', 'paper']);
    const spec = { type: 'object' as const, fields: entry.options };
    expect(() => validateField({ levels: 3, itemVectors: ['text', 'collaborative'], schedule: 'cosine' }, spec, 'model.options', {})).not.toThrow();
    expect(() => validateField({ schedule: 'linear' }, spec, 'model.options', {})).toThrow(/model\.options\.schedule: expected one of "constant", "inverse-sqrt", "cosine"/);
    expect(() => validateField({ beamWidth: 2.5 }, spec, 'model.options', {})).toThrow(/model\.options\.beamWidth: expected an integer >= 1/);
    entry.check!({ levels: 3 });
    expect(calls.spec).toEqual([{ levels: 3 }, { hasItemVectors: true, hasCatalog: true }]);
    expect(() => entry.check!({ levels: 9 })).toThrow(/levels too large/);
    const signal = new AbortController().signal;
    const onProgress = () => {};
    const fitted = await entry.fit({ data: {} as FitData, options: { epochs: 2 }, seed: 7, threads: 1, onProgress, signal, checkpointDirectory: '/tmp/x' });
    expect(fitted).toBe(model);
    expect(calls.fit).toEqual({ threads: 1, epochs: 2, seed: 7, onProgress, signal, checkpointDirectory: '/tmp/x' });
  });

  it('declares every option of @genrec/model-tiger and none that it refuses', () => {
    const entry = tigerEntry(models);
    const hyperParameters = [...Object.keys(models.TIGER_DEFAULTS), 'itemVectors', 'itemVectorWeights', 'headDimension'];
    expect(hyperParameters.filter((name) => !(name in entry.options))).toEqual([]);
    for (const name of Object.keys(entry.options)) expect(() => models.resolveTigerSpec({ [name]: undefined })).not.toThrow();
    // the 'sasrec' vector source's options go through to model-sasrec's checks
    expect(() => entry.check!({ itemVectors: ['given', 'sasrec'], sasrecOptions: { epochs: 2 } })).not.toThrow();
    expect(() => entry.check!({ sasrecOptions: { epochs: -1 } })).toThrow(/epochs/);
  });
});
