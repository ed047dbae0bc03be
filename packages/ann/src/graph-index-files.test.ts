import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openArtifactDirectory } from '@genrec/core';
import { checkSidecarParameters, sidecarCorruption, sidecarIdSet, writeGraphFile } from './graph-index-files.js';
import { HnswIndex, loadHnswIndex } from './hnsw-index.js';
import type { IndexSidecar } from './sidecar.js';
import { readArtifactFile, rewriteArtifactFile } from './test-helpers.js';
import { UsearchIndex, loadUsearchIndex } from './usearch-index.js';

const directory = mkdtempSync(join(tmpdir(), 'genrec-ann-graph-files-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const corrupt = sidecarCorruption('/saved/index.json');
/** A CORRUPT_ARTIFACT error of that sidecar with this message (GenrecError appends the file). */
const corruption = (message: string) => expect.objectContaining({ code: 'CORRUPT_ARTIFACT', message: `${message} (/saved/index.json)`, details: { file: '/saved/index.json' } });

function sidecarWith(ids: number[], size: number): IndexSidecar {
  return { kind: 'k', formatVersion: 1, implementation: 'hnsw', metric: 'ip', dimension: 2, size, parameters: {}, ids, data: { file: 'f', bytes: 0, sha256: '' } };
}

describe('graph-index-files', () => {
  it('sidecarCorruption names the sidecar file and keeps the cause', () => {
    const cause = new Error('native');
    const error = corrupt('broken', cause);
    expect([error.code, error.message, error.details?.file, error.cause]).toEqual(['CORRUPT_ARTIFACT', 'broken (/saved/index.json)', '/saved/index.json', cause]);
    expect(corrupt('plain').cause).toBeUndefined();
  });

  it('checkSidecarParameters accepts the bounds inclusive and names the first parameter outside them', () => {
    const bounds = { m: [2, 1024], ef: [1, 65536] } as const;
    expect(() => checkSidecarParameters({ m: 2, ef: 65536 }, bounds, corrupt)).not.toThrow();
    expect(() => checkSidecarParameters({ m: 1025, ef: 0 }, bounds, corrupt)).toThrow(corruption("the sidecar's parameter m is missing or outside 2..1024"));
    expect(() => checkSidecarParameters({ m: 16 }, bounds, corrupt)).toThrow(corruption("the sidecar's parameter ef is missing or outside 1..65536"));
    expect(() => checkSidecarParameters({ m: 16.5, ef: 1 }, bounds, corrupt)).toThrow(corruption("the sidecar's parameter m is missing or outside 2..1024"));
  });

  it('sidecarIdSet returns the ids in slot order, skipping free slots, and rejects repeats and a wrong size', () => {
    expect([...sidecarIdSet(sidecarWith([7, -1, 3, 0], 3), corrupt)]).toEqual([7, 3, 0]);
    expect(() => sidecarIdSet(sidecarWith([7, -1, 7], 1), corrupt)).toThrow(corruption('the sidecar maps id 7 twice'));
    expect(() => sidecarIdSet(sidecarWith([7, -1, 3], 3), corrupt)).toThrow(corruption("the sidecar's id map holds 2 ids, its size says 3"));
  });

  it('writeGraphFile writes through the library and reports its failure as IO_ERROR naming the file', () => {
    const file = writeGraphFile(join(directory, 'target'), directory, 'graph.bin', 'testlib', (target) => writeFileSync(target, 'graph'));
    expect(file).toBe(join(directory, 'graph.bin'));
    expect(readFileSync(file, 'utf8')).toBe('graph');
    const never = join(directory, 'never.bin');
    const fail = () => {
      throw new Error('disk full');
    };
    expect(() => writeGraphFile(join(directory, 'target'), directory, 'never.bin', 'testlib', fail)).toThrow(
      expect.objectContaining({ code: 'IO_ERROR', message: `testlib could not write ${never}: disk full (${never})`, details: { file: never } }),
    );
    expect(existsSync(never)).toBe(false);
  });

  for (const [name, create, load] of [
    ['HnswIndex', () => new HnswIndex({ dimension: 2 }), (path: string) => loadHnswIndex(path)],
    ['UsearchIndex', () => new UsearchIndex({ dimension: 2 }), (path: string) => loadUsearchIndex(path)],
  ] as const) {
    it(`${name}: a saved sidecar that maps an id twice or holds a parameter out of bounds is CORRUPT_ARTIFACT`, async () => {
      const path = join(directory, name);
      const index = create();
      await index.add([1, 2], new Float32Array([1, 0, 0, 1]));
      await index.save(path);
      const sidecar = JSON.parse(new TextDecoder().decode(readArtifactFile(path, 'index.json'))) as IndexSidecar;
      const first = sidecar.ids.findIndex((id) => id >= 0);
      const second = sidecar.ids.findIndex((id, slot) => id >= 0 && slot !== first);
      rewriteArtifactFile(path, 'index.json', JSON.stringify({ ...sidecar, ids: sidecar.ids.map((id, slot) => (slot === second ? sidecar.ids[first]! : id)) }));
      const file = join(openArtifactDirectory(path).directory, 'index.json');
      await expect(load(path)).rejects.toMatchObject({ code: 'CORRUPT_ARTIFACT', message: `the sidecar maps id ${sidecar.ids[first]} twice (${file})`, details: { file } });
      rewriteArtifactFile(path, 'index.json', JSON.stringify({ ...sidecar, parameters: { ...sidecar.parameters, m: 1 } }));
      await expect(load(path)).rejects.toMatchObject({ code: 'CORRUPT_ARTIFACT', message: `the sidecar's parameter m is missing or outside 2..1024 (${file})`, details: { file } });
      rewriteArtifactFile(path, 'index.json', JSON.stringify(sidecar));
      expect((await load(path)).size).toBe(2);
    });
  }
});
