import { describe, expect, it } from 'vitest';
import { GenrecError } from '../errors.js';
import { checkIntegerOption } from '../options.js';
import { checkSavedTraining, resolveSavedSpec, storedItemFields } from './saved-model.js';

describe('saved model helpers', () => {
  it('resolveSavedSpec turns a resolver error into CORRUPT_ARTIFACT naming the manifest', () => {
    const resolve = (saved: { size?: number }) => ({ size: checkIntegerOption(saved.size ?? 4, 'size', 1, 8) });
    expect(resolveSavedSpec({ size: 2 }, resolve, 'm.json')).toEqual({ size: 2 });
    try {
      resolveSavedSpec({ size: 99 }, resolve, 'm.json');
      expect.unreachable();
    } catch (error) {
      expect(GenrecError.isInstance(error) && error.code).toBe('CORRUPT_ARTIFACT');
      expect((error as GenrecError).message).toMatch(/^the saved spec is invalid: .*size/);
      expect((error as GenrecError).details).toEqual({ file: 'm.json', field: 'spec' });
      expect(GenrecError.isInstance((error as GenrecError).cause)).toBe(true);
    }
  });

  it('checkSavedTraining needs an integer epoch and a losses array', () => {
    checkSavedTraining({ epoch: 2, losses: [1, 0.5], stoppedBy: 'epochs' }, 'm.json');
    for (const bad of [null, {}, { epoch: 1.5, losses: [] }, { epoch: 1, losses: 'x' }]) {
      expect(() => checkSavedTraining(bad, 'm.json')).toThrow('the manifest has no valid training summary');
    }
  });

  it('storedItemFields rebuilds external ids and titles by item id', () => {
    expect(storedItemFields([{}, {}], 2)).toEqual({});
    const fields = storedItemFields([{ externalId: 'a' }, {}, { externalId: 'c', title: 'C' }], 3);
    expect(fields.externalItemIds).toEqual(['', 'a', '', 'c']);
    expect(fields.catalog?.itemCount).toBe(3);
    expect(fields.catalog?.records[3]).toEqual({ id: 3, title: 'C', fields: {} });
    expect(fields.catalog?.records[1]).toBeUndefined();
  });
});
