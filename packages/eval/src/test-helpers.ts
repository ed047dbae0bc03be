import { GenrecError } from '@genrec/core';
import { expect } from 'vitest';

/** Asserts that `error` is a {@link GenrecError} with the given code and a message matching `pattern`. */
function expectGenrecError(error: unknown, code: string, pattern: RegExp): void {
  expect(GenrecError.isInstance(error)).toBe(true);
  expect((error as GenrecError).code).toBe(code);
  expect((error as GenrecError).message).toMatch(pattern);
}

/** Asserts that `fn` throws a {@link GenrecError} with the given code and a message matching `pattern`. */
export function expectCode(fn: () => unknown, code: string, pattern: RegExp): void {
  try {
    fn();
  } catch (error) {
    expectGenrecError(error, code, pattern);
    return;
  }
  throw new Error('expected a GenrecError');
}

/** Asserts that `promise` rejects with a {@link GenrecError} with the given code and a message matching `pattern`. */
export async function expectCodeAsync(promise: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  try {
    await promise;
  } catch (error) {
    expectGenrecError(error, code, pattern);
    return;
  }
  throw new Error('expected a GenrecError');
}
