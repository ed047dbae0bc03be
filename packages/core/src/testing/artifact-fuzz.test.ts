import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GenrecError } from '../errors.js';
import { openArtifactDirectory, writeArtifactDirectory } from '../io/artifact-directory.js';
import { Rng } from '../random.js';
import {
  ARTIFACT_MUTATION_WEIGHTS,
  ArtifactFixture,
  classifyArtifactLoad,
  mutateArtifactFile,
  randomArtifactMutation,
  randomDataFileMutation,
  type ArtifactMutation,
  type ArtifactMutationKind,
} from './artifact-fuzz.js';
import { FuzzOutcomes } from './fuzz.js';
import { TemporaryFolders } from './temporary-folders.js';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const bytesOf = (values: number[]): Uint8Array => Uint8Array.from(values);

const folders = new TemporaryFolders();
afterAll(() => folders.removeAll());

/** A saved folder: `meta.json` (a sidecar whose `data` entry describes `data.bin`), `data.bin`, `notes.json`. */
async function savedFolder(): Promise<{ path: string; data: Uint8Array; meta: string }> {
  const path = join(folders.create('genrec-artifact-fuzz-'), 'artifact');
  const data = Uint8Array.from({ length: 32 }, (_, i) => i * 3);
  const meta = JSON.stringify({ kind: 'test', data: { bytes: data.length, sha256: sha256(data) } });
  await writeArtifactDirectory(path, (directory) => {
    writeFileSync(join(directory, 'meta.json'), meta);
    writeFileSync(join(directory, 'data.bin'), data);
    writeFileSync(join(directory, 'notes.json'), JSON.stringify({ list: [1, 2, 3], name: 'x' }));
  });
  return { path, data, meta };
}

describe('randomArtifactMutation', () => {
  it('is a pure function of the seed, with the kinds and re-signing drawn by their weights', () => {
    const draw = (seed: number) => randomArtifactMutation(new Rng(seed), { files: 3, jsonValues: ['l2'] });
    expect(draw(7)).toEqual(draw(7));
    const counts = new Map<string, number>();
    const resign = new Map<string, number>();
    const draws = 14_000;
    for (let seed = 0; seed < draws; seed++) {
      const mutation = draw(seed);
      counts.set(mutation.kind, (counts.get(mutation.kind) ?? 0) + 1);
      if (mutation.kind === 'pointer') continue;
      resign.set(mutation.resign, (resign.get(mutation.resign) ?? 0) + 1);
      expect(mutation.file).toBeGreaterThanOrEqual(0);
      expect(mutation.file).toBeLessThan(3);
      if (mutation.kind === 'bytes') expect(mutation.edits.length).toBeLessThanOrEqual(4);
      if (mutation.kind === 'append') expect(mutation.bytes.length).toBeLessThanOrEqual(16);
    }
    // weights 3/4/1/1/4/1 of 14: 3,000 / 4,000 / 1,000 / 1,000 / 4,000 / 1,000 expected, within 5 standard deviations
    for (const [kind, weight] of Object.entries(ARTIFACT_MUTATION_WEIGHTS)) expect(Math.abs(counts.get(kind)! - weight * 1000)).toBeLessThan(5 * Math.sqrt(weight * 1000));
    const signed = draws - counts.get('pointer')!;
    expect(Math.abs(resign.get('none')! - signed / 5)).toBeLessThan(5 * Math.sqrt(signed / 5));
    expect(Math.abs(resign.get('checksums')! - signed / 5)).toBeLessThan(5 * Math.sqrt(signed / 5));
    expect(Math.abs(resign.get('all')! - (3 * signed) / 5)).toBeLessThan(5 * Math.sqrt(signed));
  });

  it('draws JSON values from the caller pool too, and only the kinds asked for', () => {
    const values = new Set<unknown>();
    for (let seed = 0; seed < 2000; seed++) {
      const mutation = randomArtifactMutation(new Rng(seed), { files: 1, jsonValues: ['genrec.test-kind'], kinds: ['json', 'pointer'] });
      expect(['json', 'pointer']).toContain(mutation.kind);
      if (mutation.kind === 'json') values.add(mutation.value);
    }
    expect(values.has('genrec.test-kind')).toBe(true);
    expect(values.has(2 ** 31 - 1)).toBe(true); // an interesting number
    expect([...values].some((value) => typeof value === 'number' && Number.isNaN(value))).toBe(true);
    expect(() => randomArtifactMutation(new Rng(1), { files: 0 })).toThrow(GenrecError);
    expect(() => randomArtifactMutation(new Rng(1), { files: 2, kinds: [] })).toThrow(/at least one/);
  });

  it('randomDataFileMutation keeps to one file, always re-signed, aligned words', () => {
    const kinds = new Set<ArtifactMutationKind>();
    let small = 0;
    for (let seed = 0; seed < 1000; seed++) {
      const mutation = randomDataFileMutation(new Rng(seed), 4);
      kinds.add(mutation.kind);
      expect(mutation.file).toBe(4);
      expect(mutation.resign).toBe('all');
      if (mutation.kind === 'word') {
        expect(mutation.aligned).toBe(true);
        if (Number.isInteger(mutation.value) && mutation.value >= 0 && mutation.value <= 40) small++;
      }
    }
    expect([...kinds].sort()).toEqual(['append', 'bytes', 'truncate', 'word']);
    expect(small).toBeGreaterThan(150); // a third of 600 words draw 0..40
    expect(randomDataFileMutation(new Rng(3), 0)).toEqual(randomDataFileMutation(new Rng(3), 0));
  });
});

describe('mutateArtifactFile', () => {
  const input = bytesOf([10, 11, 12, 13, 14, 15, 16, 17]);

  it('edits bytes, writes little-endian words, truncates and appends, on a copy', () => {
    const edit = (op: 'flip' | 'set' | 'insert' | 'delete', at: number, value: number) => Array.from(mutateArtifactFile(input, { kind: 'bytes', file: 0, edits: [{ at, op, value }], resign: 'none' }));
    expect(edit('set', 0, 99)).toEqual([99, 11, 12, 13, 14, 15, 16, 17]);
    expect(edit('flip', 0.99, 9)).toEqual([10, 11, 12, 13, 14, 15, 16, 17 ^ 2]); // bit 9 & 7 = 1 of the last byte
    expect(edit('insert', 0.3, 7)).toEqual([10, 11, 7, 12, 13, 14, 15, 16, 17]); // floor(0.3 * 8) = 2
    expect(edit('delete', 0.5, 0)).toEqual([10, 11, 12, 13, 15, 16, 17]);
    const word = (at: number, aligned: boolean, width: 1 | 2 | 4 | 8, value: number) => Array.from(mutateArtifactFile(input, { kind: 'word', file: 0, at, aligned, width, value, resign: 'none' }));
    // a 4-byte word starts in 0..4: floor(0.5 * 5) = 2, aligned down to 0; floor(0.99 * 5) = 4
    expect(word(0.5, true, 4, 0x01020304)).toEqual([4, 3, 2, 1, 14, 15, 16, 17]);
    expect(word(0.99, true, 4, 0x01020304)).toEqual([10, 11, 12, 13, 4, 3, 2, 1]);
    expect(word(0.5, false, 2, -1)).toEqual([10, 11, 12, 255, 255, 15, 16, 17]); // floor(0.5 * 7) = 3, unaligned
    expect(word(0, true, 8, 2 ** 53)).toEqual([0, 0, 0, 0, 0, 0, 0x20, 0]);
    expect(word(0, true, 8, -1)).toEqual([255, 255, 255, 255, 255, 255, 255, 255]);
    const float = mutateArtifactFile(input, { kind: 'word', file: 0, at: 0, aligned: true, width: 4, value: 1.5, resign: 'none' });
    expect(new DataView(float.buffer, float.byteOffset).getFloat32(0, true)).toBe(1.5);
    expect(Array.from(mutateArtifactFile(input, { kind: 'truncate', file: 0, at: 0.5, resign: 'none' }))).toEqual([10, 11, 12, 13]);
    expect(Array.from(mutateArtifactFile(input, { kind: 'append', file: 0, bytes: bytesOf([1, 2]), resign: 'none' }))).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 1, 2]);
    const buffer = Buffer.from(input);
    mutateArtifactFile(buffer, { kind: 'word', file: 0, at: 0, aligned: true, width: 8, value: -1, resign: 'none' });
    expect(Array.from(buffer)).toEqual(Array.from(input)); // a Buffer's bytes are not touched
    expect(Array.from(input)).toEqual([10, 11, 12, 13, 14, 15, 16, 17]);
  });

  it('sets, deletes and duplicates JSON fields and elements; leaves non-JSON as it is', () => {
    const json = new TextEncoder().encode(JSON.stringify({ a: [1, 2], b: { c: 3 } }, null, 2));
    // paths in order: a, a.0, a.1, b, b.c (modulo 5)
    const mutate = (path: number, action: 'set' | 'delete' | 'duplicate', value: unknown = null) => text(mutateArtifactFile(json, { kind: 'json', file: 0, path, action, value, resign: 'none' }));
    expect(mutate(1, 'set', 'x')).toBe('{"a":["x",2],"b":{"c":3}}');
    expect(mutate(8, 'set', [5])).toBe('{"a":[1,2],"b":[5]}');
    expect(mutate(2, 'delete')).toBe('{"a":[1],"b":{"c":3}}');
    expect(mutate(4, 'delete')).toBe('{"a":[1,2],"b":{}}');
    expect(mutate(1, 'duplicate')).toBe('{"a":[1,1,2],"b":{"c":3}}');
    expect(mutate(4, 'duplicate')).toBe('{"a":[1,2],"b":{"c":3,"c":3}}');
    expect(mutate(0, 'duplicate')).toBe('{"a":[1,2],"a":[1,2],"b":{"c":3}}');
    expect(mutate(3, 'set', Number.NaN)).toBe('{"a":[1,2],"b":null}');
    expect(Array.from(mutateArtifactFile(input, { kind: 'json', file: 0, path: 0, action: 'set', value: 1, resign: 'none' }))).toEqual(Array.from(input));
  });
});

describe('ArtifactFixture', () => {
  it('mutates one file and re-signs the checksum list (and a sidecar) as asked; restore puts everything back', async () => {
    const { path, data, meta } = await savedFolder();
    const fixture = new ArtifactFixture(path, { file: 'meta.json', dataFile: 'data.bin' });
    expect(fixture.files).toEqual(['data.bin', 'meta.json', 'notes.json', 'checksums.json']);
    const version = openArtifactDirectory(path).directory;
    const originals = new Map(fixture.files.map((file) => [file, readFileSync(join(version, file))]));
    const truncate = (file: number, resign: 'none' | 'checksums' | 'all'): ArtifactMutation => ({ kind: 'truncate', file, at: 0.5, resign });

    expect(fixture.apply(truncate(0, 'none'))).toBe('data.bin');
    expect(() => openArtifactDirectory(path).readFile('data.bin')).toThrow(/holds 16 bytes, the checksum list says 32/);

    fixture.apply(truncate(0, 'checksums'));
    expect(Array.from(openArtifactDirectory(path).readFile('data.bin'))).toEqual(Array.from(data.subarray(0, 16)));
    expect(text(openArtifactDirectory(path).readFile('meta.json'))).toBe(meta); // the sidecar still describes the original

    fixture.apply(truncate(4, 'all')); // 4 % 4 = 0: data.bin again
    const sidecar = JSON.parse(text(openArtifactDirectory(path).readFile('meta.json'))) as { kind: string; data: { bytes: number; sha256: string } };
    expect(sidecar).toEqual({ kind: 'test', data: { bytes: 16, sha256: sha256(data.subarray(0, 16)) } });

    expect(fixture.apply({ kind: 'json', file: 2, path: 0, action: 'set', value: 'y', resign: 'all' })).toBe('notes.json');
    const artifact = openArtifactDirectory(path);
    expect(artifact.readJson('notes.json')).toEqual({ list: 'y', name: 'x' });
    expect(artifact.readFile('data.bin')).toEqual(new Uint8Array(originals.get('data.bin')!)); // restored before the mutation

    fixture.apply({ kind: 'append', file: 3, bytes: bytesOf([0x20]), resign: 'all' }); // the checksum list itself is never re-signed
    expect(readFileSync(join(version, 'checksums.json')).length).toBe(originals.get('checksums.json')!.length + 1);

    expect(fixture.apply({ kind: 'pointer', text: '../x' })).toBe('CURRENT');
    expect(readFileSync(join(path, 'CURRENT'), 'utf8')).toBe('../x');
    expect(() => openArtifactDirectory(path)).toThrow(GenrecError);

    rmSync(version, { recursive: true }); // what opening a pointer to another version's name can do
    fixture.restore();
    expect(existsSync(version)).toBe(true);
    const restored = openArtifactDirectory(path);
    for (const file of fixture.files) {
      const bytes = file === 'checksums.json' ? readFileSync(join(version, file)) : restored.readFile(file); // the list does not cover itself
      expect(Buffer.from(bytes).equals(originals.get(file)!)).toBe(true);
    }
    expect(readdirSync(path).sort()).toEqual(['CURRENT', version.slice(path.length + 1)].sort());
  });
});

describe('classifyArtifactLoad', () => {
  it('splits CORRUPT_ARTIFACT by layer, counts other GenrecErrors by code and rethrows anything else', async () => {
    const outcomes = new FuzzOutcomes('test');
    const fail = (error: Error) => () => Promise.reject(error);
    const layers = { 'hnsw layout': /not a valid hnswlib index/ };
    expect(await classifyArtifactLoad(outcomes, async () => {}, { layers })).toBe('accepted');
    expect(await classifyArtifactLoad(outcomes, fail(new GenrecError('CORRUPT_ARTIFACT', 'x.bin does not match its SHA-256 in checksums.json: it was changed after the save')), { layers })).toBe('GenrecError:CORRUPT_ARTIFACT (checksum)');
    expect(await classifyArtifactLoad(outcomes, fail(new GenrecError('CORRUPT_ARTIFACT', 'index.hnsw is not a valid hnswlib index: level 9')), { layers })).toBe('GenrecError:CORRUPT_ARTIFACT (hnsw layout)');
    expect(await classifyArtifactLoad(outcomes, fail(new GenrecError('CORRUPT_ARTIFACT', 'index.hnsw is not a valid hnswlib index: level 9')))).toBe('GenrecError:CORRUPT_ARTIFACT (content)');
    expect(await classifyArtifactLoad(outcomes, fail(new GenrecError('PARSE_ERROR', 'invalid JSON')))).toBe('GenrecError:PARSE_ERROR');
    await expect(classifyArtifactLoad(outcomes, fail(new TypeError('x is undefined')))).rejects.toThrow(TypeError);
    expect(outcomes.report().outcomes).toEqual({
      accepted: 1,
      'GenrecError:CORRUPT_ARTIFACT (checksum)': 1,
      'GenrecError:CORRUPT_ARTIFACT (content)': 1,
      'GenrecError:CORRUPT_ARTIFACT (hnsw layout)': 1,
      'GenrecError:PARSE_ERROR': 1,
    });
  });
});
