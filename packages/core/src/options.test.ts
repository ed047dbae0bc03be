import { describe, expect, it } from 'vitest';
import { GenrecError } from './errors.js';
import { checkBooleanOption, checkEnumOption, checkIntegerOption, checkKnownOptions, checkNumberOption, checkResultSize } from './options.js';

function failure(action: () => unknown): { code: string; field: unknown; message: string } {
  try {
    action();
  } catch (error) {
    if (GenrecError.isInstance(error)) return { code: error.code, field: error.details.field, message: error.message };
    throw error;
  }
  throw new Error('expected a GenrecError');
}

describe('option bounds', () => {
  it('accepts values inside the bounds and returns them', () => {
    expect(checkIntegerOption(3, 'epochs', 1, 10)).toBe(3);
    expect(checkNumberOption(0.5, 'dropout', 0, 1, { maximumExclusive: true })).toBe(0.5);
    expect(checkEnumOption('bce', 'loss', ['ce', 'bce'])).toBe('bce');
    expect(checkBooleanOption(false, 'x')).toBe(false);
    expect(checkResultSize(10, 'k', 10)).toBe(10);
    expect(() => checkKnownOptions({ a: 1, b: undefined }, ['a'], 'f')).not.toThrow();
  });

  it('rejects NaN, fractions, strings, out-of-range values and unknown names with INVALID_OPTION naming the field', () => {
    for (const value of [Number.NaN, 1.5, '3', 0, 11, Infinity, undefined, null]) {
      expect(failure(() => checkIntegerOption(value, 'epochs', 1, 10))).toMatchObject({ code: 'INVALID_OPTION', field: 'epochs' });
    }
    expect(failure(() => checkNumberOption(1, 'dropout', 0, 1, { maximumExclusive: true })).message).toMatch(/\[0, 1\), got 1/);
    expect(failure(() => checkNumberOption(Number.NaN, 'lr', 0)).code).toBe('INVALID_OPTION');
    expect(failure(() => checkEnumOption('hours', 'timestampUnit', ['seconds', 'milliseconds'])).message).toMatch(/'seconds', 'milliseconds', got "hours"/);
    expect(failure(() => checkBooleanOption('yes', 'flag')).code).toBe('INVALID_OPTION');
    expect(failure(() => checkKnownOptions({ timestampUnits: 's' }, ['timestampUnit'], 'readLog')).field).toBe('timestampUnits');
  });

  it('never clamps a result size: above the maximum is an error, not the maximum', () => {
    expect(failure(() => checkResultSize(11, 'k', 10, 'the catalogue holds 10 items')).message).toMatch(/k must be an integer in \[1, 10\] \(the catalogue holds 10 items\), got 11/);
    expect(failure(() => checkResultSize(2 ** 31 - 1, 'k', 20)).code).toBe('INVALID_OPTION');
    expect(failure(() => checkResultSize(0, 'beamWidth', 20)).field).toBe('beamWidth');
  });
});
