import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TemporaryFolders } from './temporary-folders.js';

const folders = new TemporaryFolders();
afterAll(() => folders.removeAll());

describe('TemporaryFolders', () => {
  it('creates fresh folders under os.tmpdir() and removes every one, contents included', () => {
    const own = new TemporaryFolders();
    const first = own.create('genrec-temporary-folders-test-');
    const second = own.create('genrec-temporary-folders-test-');
    expect(first).not.toBe(second);
    expect(dirname(first)).toBe(tmpdir());
    expect(basename(first)).toMatch(/^genrec-temporary-folders-test-.{6}$/);
    mkdirSync(join(first, 'nested'));
    writeFileSync(join(first, 'nested', 'file.bin'), Uint8Array.of(1, 2, 3));
    expect(existsSync(join(first, 'nested', 'file.bin'))).toBe(true);
    expect(existsSync(second)).toBe(true);
    own.removeAll();
    expect(existsSync(first)).toBe(false);
    expect(existsSync(second)).toBe(false);
  });

  it('removeAll is safe to call twice, and removes folders created after an earlier call', () => {
    const own = new TemporaryFolders();
    const before = own.create('genrec-temporary-folders-test-');
    own.removeAll();
    expect(() => own.removeAll()).not.toThrow();
    const after = own.create('genrec-temporary-folders-test-');
    expect(existsSync(before)).toBe(false);
    expect(existsSync(after)).toBe(true);
    own.removeAll();
    expect(existsSync(after)).toBe(false);
  });

  it('a folder already removed is no error, and each instance removes only its own folders', () => {
    const own = new TemporaryFolders();
    const gone = own.create('genrec-temporary-folders-test-');
    const kept = own.create('genrec-temporary-folders-test-');
    const other = folders.create('genrec-temporary-folders-test-');
    rmSync(gone, { recursive: true });
    own.removeAll();
    expect(existsSync(kept)).toBe(false);
    expect(existsSync(other)).toBe(true);
  });

  it('useAsTmpdir points TMPDIR (and os.tmpdir()) at a new folder until removeAll restores it', () => {
    const previous = process.env.TMPDIR;
    const own = new TemporaryFolders();
    const first = own.useAsTmpdir('genrec-temporary-folders-test-');
    expect(process.env.TMPDIR).toBe(first);
    expect(tmpdir()).toBe(first);
    const nested = own.create('genrec-temporary-folders-test-');
    expect(dirname(nested)).toBe(first);
    const second = own.useAsTmpdir('genrec-temporary-folders-test-');
    expect(tmpdir()).toBe(second);
    own.removeAll();
    expect(process.env.TMPDIR).toBe(previous);
    expect([first, nested, second].some((folder) => existsSync(folder))).toBe(false);
  });
});
