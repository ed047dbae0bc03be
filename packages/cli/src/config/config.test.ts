import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GenrecError } from '@genrec/core';
import { CliError } from '../exit-codes.js';
import { defaultConfig, parseAssignment, resolveConfig, setPath } from './config.js';

const folder = mkdtempSync(join(tmpdir(), 'genrec-config-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
const write = (name: string, content: string): string => {
  const path = join(folder, name);
  writeFileSync(path, content);
  return path;
};

describe('resolveConfig', () => {
  it('layers defaults < config file < flags, and keeps untouched defaults', () => {
    const file = write('a.json', JSON.stringify({ model: { kind: 'markov', options: { order: 2 } }, seeds: [1, 2], evaluation: { ks: [20, 10, 10] } }));
    const config = resolveConfig({ file, flags: { model: { options: { smoothing: 0.5 } }, seeds: [3] }, cwd: '/elsewhere' });
    expect(config.model).toEqual({ kind: 'markov', preset: null, options: { order: 2, smoothing: 0.5 } });
    expect(config.seeds).toEqual([3]);
    expect(config.evaluation.ks).toEqual([10, 20]); // sorted, each once
    expect(config.evaluation.baselines).toEqual(defaultConfig().evaluation.baselines);
    expect(config.data.path).toBe('synthetic');
  });

  it('resolves paths of the file against its folder and paths of flags against the working directory', () => {
    const file = write('b.json', JSON.stringify({ data: { path: 'toys/data.txt', catalog: '/abs/items.jsonl' }, output: 'runs' }));
    const config = resolveConfig({ file, flags: { ids: { path: 'ids' } }, cwd: '/work/here' });
    expect(config.data.path).toBe(join(folder, 'toys/data.txt'));
    expect(config.data.catalog).toBe('/abs/items.jsonl');
    expect(config.output).toBe(join(folder, 'runs'));
    expect(config.ids.path).toBe('/work/here/ids');
  });

  it('names the field of an unknown key or a wrong type, in the file or on the command line', () => {
    const file = write('c.json', JSON.stringify({ model: { kind: 'sasrec', option: {} } }));
    expect(() => resolveConfig({ file, cwd: folder })).toThrow(`config field model.option: unknown field (known: kind, preset, options) (${file})`);
    expect(() => resolveConfig({ flags: { seeds: [Number.NaN] }, cwd: folder })).toThrow(/^config field seeds\[0\] \(set on the command line\): expected an integer in \[0, 4294967295\], found NaN/);
    expect(() => resolveConfig({ flags: { seeds: [1, 1] }, cwd: folder })).toThrow(/each seed once/);
  });

  it('refuses a missing file, invalid JSON (with the line) and a non-object, as usage errors', () => {
    const missing = (() => {
      try {
        resolveConfig({ file: 'nope.json', cwd: folder });
      } catch (error) {
        return error;
      }
    })();
    expect(missing).toBeInstanceOf(CliError);
    expect((missing as CliError).exitCode).toBe(2);
    expect((missing as CliError).message).toMatch(/config file .*nope\.json does not exist/);
    const broken = write('d.json', '{\n  "seeds": [1,\n}\n');
    const parse = (() => {
      try {
        resolveConfig({ file: broken, cwd: folder });
      } catch (error) {
        return error as GenrecError;
      }
    })()!;
    expect(parse.code).toBe('PARSE_ERROR');
    expect(parse.details.line).toBe(3);
    expect(() => resolveConfig({ file: write('e.json', '[1]'), cwd: folder })).toThrow(/must hold one JSON object/);
  });
});

describe('--set and --grid parsing', () => {
  it('parses JSON values and keeps other text as strings', () => {
    expect(parseAssignment('model.options.hiddenSize=32')).toEqual({ path: 'model.options.hiddenSize', value: 32 });
    expect(parseAssignment('evaluation.ks=[5,10]')).toEqual({ path: 'evaluation.ks', value: [5, 10] });
    expect(parseAssignment('data.path=toys.txt')).toEqual({ path: 'data.path', value: 'toys.txt' });
    expect(parseAssignment('name=a=b')).toEqual({ path: 'name', value: 'a=b' });
    expect(() => parseAssignment('novalue')).toThrow(/expects key=value/);
  });

  it('sets nested paths and refuses prototype keys', () => {
    const target: Record<string, unknown> = {};
    setPath(target, 'a.b.c', 1);
    expect(target).toEqual({ a: { b: { c: 1 } } });
    expect(() => setPath(target, '__proto__.x', 1)).toThrow(GenrecError);
    expect(() => setPath(target, 'a..b', 1)).toThrow(/dotted field path/);
    expect(({} as Record<string, unknown>)['x']).toBeUndefined();
  });
});
