import { describe, expect, it } from 'vitest';
import { GenrecError, ensure } from './errors.js';

describe('GenrecError', () => {
  it('carries code, details, cause and a located message', () => {
    const cause = new Error('boom');
    const error = new GenrecError('PARSE_ERROR', 'bad id "x"', { cause, details: { file: 'a.txt', line: 7 } });
    expect(error.code).toBe('PARSE_ERROR');
    expect(error.message).toBe('bad id "x" (a.txt:7)');
    expect(error.details.line).toBe(7);
    expect(error.cause).toBe(cause);
    expect(error.name).toBe('GenrecError');
    expect(error).toBeInstanceOf(Error);
  });

  it('names the field when there is no file', () => {
    expect(new GenrecError('INVALID_OPTION', 'k must be positive', { details: { field: 'k' } }).message).toBe(
      'k must be positive (field "k")',
    );
  });

  it('recognises instances from another copy of the package by the shared symbol', () => {
    const foreign = Object.assign(new Error('from another copy'), { [Symbol.for('genrec.error')]: true, code: 'INVALID_INPUT' });
    expect(GenrecError.isInstance(foreign)).toBe(true);
    expect(GenrecError.isInstance(new GenrecError('IO_ERROR', 'x'))).toBe(true);
    expect(GenrecError.isInstance(new Error('plain'))).toBe(false);
    expect(GenrecError.isInstance(null)).toBe(false);
    expect(GenrecError.isInstance('INVALID_INPUT')).toBe(false);
  });

  it('ensure throws lazily built messages only on failure', () => {
    let built = 0;
    const message = () => {
      built += 1;
      return 'expected positive';
    };
    expect(() => ensure(true, 'INVALID_INPUT', message)).not.toThrow();
    expect(built).toBe(0);
    expect(() => ensure(0, 'INVALID_INPUT', message, { field: 'k' })).toThrowError(/expected positive \(field "k"\)/);
    expect(built).toBe(1);
  });
});
