import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { findSharedDirectory } from './shared-data.js';

describe('findSharedDirectory', () => {
  const saved = process.env.GENREC_SHARED_DIR;
  afterEach(() => {
    if (saved === undefined) delete process.env.GENREC_SHARED_DIR;
    else process.env.GENREC_SHARED_DIR = saved;
  });

  it('finds a shared/ folder with data/ in an ancestor', () => {
    delete process.env.GENREC_SHARED_DIR;
    const root = mkdtempSync(join(tmpdir(), 'genrec-shared-'));
    onTestFinished(() => rmSync(root, { recursive: true, force: true }));
    mkdirSync(join(root, 'shared', 'data'), { recursive: true });
    const deep = join(root, 'repo', 'packages', 'x');
    mkdirSync(deep, { recursive: true });
    expect(findSharedDirectory(deep)).toBe(join(root, 'shared'));
  });

  it('honours GENREC_SHARED_DIR and reports absence as undefined', () => {
    const root = mkdtempSync(join(tmpdir(), 'genrec-shared-'));
    onTestFinished(() => rmSync(root, { recursive: true, force: true }));
    process.env.GENREC_SHARED_DIR = root;
    expect(findSharedDirectory()).toBeUndefined();
    mkdirSync(join(root, 'data'));
    expect(findSharedDirectory()).toBe(root);
  });
});
