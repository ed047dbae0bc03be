import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GenrecError } from '../errors.js';
import { TemporaryFolders } from '../testing/temporary-folders.js';
import { RawDump } from './raw-dump.js';

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return GenrecError.isInstance(error) ? error.code : `not a GenrecError: ${String(error)}`;
  }
  return undefined;
}

const folders = new TemporaryFolders();
afterAll(() => folders.removeAll());

function dump(manifest: string, files: Record<string, Uint8Array> = {}): string {
  const directory = join(folders.create('genrec-dump-'), 'dump');
  mkdirSync(directory);
  writeFileSync(join(directory, 'manifest.json'), manifest);
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(directory, name), bytes);
  return directory;
}

describe('RawDump checks its manifest before reading', () => {
  it('needs a JSON object (null or an array is a PARSE_ERROR, not a TypeError)', () => {
    for (const manifest of ['null', '[1]', '7', '"x"']) expect(codeOf(() => new RawDump(dump(manifest))), manifest).toBe('PARSE_ERROR');
    expect(codeOf(() => new RawDump(dump('{"_meta": 5}')))).toBe('PARSE_ERROR');
    expect(codeOf(() => new RawDump(dump('{"a": null}')))).toBe('PARSE_ERROR');
  });

  it('refuses names that would read outside the folder', () => {
    const directory = dump('{"../secret": {"dtype": "uint8", "shape": [3]}}');
    writeFileSync(join(directory, '..', 'secret.bin'), Uint8Array.of(1, 2, 3));
    expect(() => new RawDump(directory)).toThrow(/cannot name a file in the dump folder/);
    for (const name of ['a/b', '.hidden', 'a\\\\b', '']) {
      expect(codeOf(() => new RawDump(dump(`{"${name}": {"dtype": "uint8", "shape": [1]}}`))), name).toBe('PARSE_ERROR');
    }
    expect(new RawDump(dump('{"layer.0": {"dtype": "uint8", "shape": [1]}}')).names()).toEqual(['layer.0']);
  });

  it('checks shapes: integers in [0, 2^31 - 1], before any file is read', () => {
    for (const shape of ['[-1]', '[1.5, 2]', '["2"]', '[2147483648]', '3']) {
      expect(codeOf(() => new RawDump(dump(`{"a": {"dtype": "float32", "shape": ${shape}}}`))), shape).toBe('PARSE_ERROR');
    }
  });

  it('compares the file size with the entry before reading the file', () => {
    const directory = dump('{"a": {"dtype": "int32", "shape": [2]}}', { 'a.bin': new Uint8Array(new Int32Array([5, -6, 7]).buffer) });
    expect(() => new RawDump(directory).read('a')).toThrow(/a\.bin has 12 bytes, the manifest's int32 \[2\] needs 8/);
    const exact = dump('{"a": {"dtype": "int32", "shape": [2]}}', { 'a.bin': new Uint8Array(new Int32Array([5, -6]).buffer) });
    expect(Array.from(new RawDump(exact).read('a').data as Int32Array)).toEqual([5, -6]);
    const folder = dump('{"a": {"dtype": "uint8", "shape": [0]}}');
    mkdirSync(join(folder, 'a.bin'));
    expect(codeOf(() => new RawDump(folder).read('a'))).toBe('IO_ERROR');
  });

  it('refuses non-finite values on request', () => {
    const directory = dump('{"a": {"dtype": "float32", "shape": [2]}}', { 'a.bin': new Uint8Array(new Float32Array([1, Number.NaN]).buffer) });
    expect(new RawDump(directory).read('a').shape).toEqual([2]);
    expect(codeOf(() => new RawDump(directory).read('a', { requireFinite: true }))).toBe('INVALID_INPUT');
  });
});
