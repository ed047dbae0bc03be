import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GenrecError } from '@genrec/core';
import { afterAll, expect } from 'vitest';

/**
 * Creates a temporary directory removed after the calling test file, and returns it with a
 * function that writes a fixture file into it and returns the file's path.
 */
export function fixtureDirectory(prefix: string): { directory: string; fixture: (name: string, content: string | Uint8Array) => string } {
  const directory = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));
  const fixture = (name: string, content: string | Uint8Array): string => {
    const path = join(directory, name);
    writeFileSync(path, content);
    return path;
  };
  return { directory, fixture };
}

/**
 * Awaits `promise` and asserts that it rejects with a {@link GenrecError} of the given code whose
 * details name `file` and `line` (and, when `line` is given, whose message contains `file:line`).
 */
export async function expectError(promise: Promise<unknown>, code: string, file: string, line: number | undefined): Promise<GenrecError> {
  const error: unknown = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(GenrecError.isInstance(error), `expected a GenrecError, got ${String(error)}`).toBe(true);
  const genrecError = error as GenrecError;
  expect(genrecError.code).toBe(code);
  expect(genrecError.details.file).toBe(file);
  expect(genrecError.details.line).toBe(line);
  if (line !== undefined) expect(genrecError.message).toContain(`${file}:${line}`);
  return genrecError;
}
