import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GenrecError } from '../errors.js';
import { TemporaryFolders } from '../testing/temporary-folders.js';
import { readBytes } from './read-file.js';

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return GenrecError.isInstance(error) ? error.code : `not a GenrecError: ${String(error)}`;
  }
  return undefined;
}

const folders = new TemporaryFolders();
const temp = (): string => folders.create('genrec-read-');
afterAll(() => folders.removeAll());

describe('readBytes', () => {
  it('reads a regular file into a buffer of its own', () => {
    const path = join(temp(), 'a.bin');
    writeFileSync(path, Uint8Array.of(1, 2, 3));
    const bytes = readBytes(path);
    expect(Array.from(bytes)).toEqual([1, 2, 3]);
    expect(bytes.byteOffset).toBe(0);
    expect(bytes.buffer.byteLength).toBe(3);
  });

  it('refuses files above maxBytes before reading them', () => {
    const path = join(temp(), 'a.bin');
    writeFileSync(path, new Uint8Array(100));
    expect(codeOf(() => readBytes(path, { maxBytes: 99 }))).toBe('UNSUPPORTED');
    expect(readBytes(path, { maxBytes: 100 }).length).toBe(100);
  });

  it('refuses what is not a regular file: a folder, a device, a FIFO (which would block or never end)', () => {
    expect(codeOf(() => readBytes(tmpdir()))).toBe('IO_ERROR');
    expect(codeOf(() => readBytes('/nonexistent/x'))).toBe('NOT_FOUND');
    if (existsSync('/dev/null')) expect(() => readBytes('/dev/null')).toThrow(/not a regular file/);
    const fifo = join(temp(), 'pipe');
    try {
      execFileSync('mkfifo', [fifo]);
    } catch {
      console.warn('skipped the FIFO case: mkfifo is not available');
      return;
    }
    expect(codeOf(() => readBytes(fifo))).toBe('IO_ERROR');
  });
});
