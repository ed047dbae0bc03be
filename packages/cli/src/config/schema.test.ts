import { describe, expect, it } from 'vitest';
import { GenrecError } from '@genrec/core';
import { describeValue, validateField, type FieldSpec } from './schema.js';

const spec: FieldSpec = {
  type: 'object',
  fields: {
    model: { type: 'object', fields: { kind: { type: 'string' }, options: { type: 'object', values: { type: 'any' } } } },
    ks: { type: 'array', items: { type: 'integer', min: 1 }, minItems: 1 },
    alpha: { type: 'number', min: 0, max: 1 },
    mode: { type: 'string', enum: ['a', 'b'] },
    path: { type: 'either', options: [{ type: 'string' }, { type: 'null' }] },
  },
};

const failure = (value: unknown): GenrecError => {
  try {
    validateField(value, spec, '', { file: '/x/genrec.json' });
  } catch (error) {
    if (GenrecError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a validation error');
};

describe('validateField', () => {
  it('accepts valid values, any key under a values spec', () => {
    expect(() => validateField({ model: { kind: 'sasrec', options: { anything: [1, { x: 2 }] } }, ks: [5, 10], alpha: 0.05, mode: 'b', path: null }, spec, '', {})).not.toThrow();
  });

  it('names an unknown field with its dotted path and the known ones', () => {
    const error = failure({ model: { kidn: 'sasrec' } });
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.message).toBe('config field model.kidn: unknown field (known: kind, options) (/x/genrec.json)');
    expect(error.details).toMatchObject({ field: 'model.kidn', file: '/x/genrec.json' });
  });

  it('says what was expected and what was found', () => {
    expect(failure({ ks: [5, '10'] }).message).toMatch(/^config field ks\[1\]: expected an integer >= 1, found "10" \(a string\)/);
    expect(failure({ ks: [] }).message).toMatch(/^config field ks: expected at least 1 entry, found 0/);
    expect(failure({ alpha: 2 }).message).toMatch(/^config field alpha: expected a number in \[0, 1\], found 2/);
    expect(failure({ alpha: Number.NaN }).message).toMatch(/found NaN \(not a number\)/);
    expect(failure({ mode: 'c' }).message).toMatch(/^config field mode: expected one of "a", "b", found "c"/);
    expect(failure({ path: 3 }).message).toMatch(/^config field path: expected a string or null, found 3/);
    expect(failure({ model: 'sasrec' }).message).toMatch(/^config field model: expected an object, found "sasrec"/);
    expect(failure([1]).message).toMatch(/^the config: expected an object, found a list/);
  });

  it('an exclusive minimum refuses the bound itself', () => {
    const share: FieldSpec = { type: 'number', min: 0, max: 1, minExclusive: true };
    const rate: FieldSpec = { type: 'number', min: 0, minExclusive: true };
    expect(() => validateField(1e-9, share, 'share', {})).not.toThrow();
    expect(() => validateField(1, share, 'share', {})).not.toThrow();
    expect(() => validateField(0, share, 'share', {})).toThrow(/^config field share: expected a number in \(0, 1\], found 0$/);
    expect(() => validateField(-1, share, 'share', {})).toThrow(/^config field share: expected a number in \(0, 1\], found -1$/);
    expect(() => validateField(0, rate, 'rate', {})).toThrow(/^config field rate: expected a number > 0, found 0$/);
  });

  it('names where a value came from', () => {
    expect(() => validateField({ alpha: 'x' }, spec, '', { origin: 'set on the command line' })).toThrow(/^config field alpha \(set on the command line\): expected/);
  });

  it('describes values briefly', () => {
    expect(describeValue('x'.repeat(50))).toBe(`"${'x'.repeat(40)}…" (a string)`);
    expect(describeValue({})).toBe('an object');
    expect(describeValue(true)).toBe('true');
  });
});
