import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TemporaryFolders, killDuringSaves } from '@genrec/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { loadFlatIndex } from './flat-index.js';
import { loadHnswIndex } from './hnsw-index.js';
import { loadUsearchIndex } from './usearch-index.js';
import { loadVectorIndex } from './load-vector-index.js';
import { LONG_RUN, sourcePath } from './test-helpers.js';

const KILLS = LONG_RUN ? 200 : 20;
const ITEMS = 4000;
const DIMENSION = 8;

/**
 * A module for the kill harness: builds the index once, then every round stores the round in the
 * marker vector of id 0 (`[round % 997 + 100, 0, ...]`) and saves. A loaded version is consistent
 * when it holds every item and the marker's score for the query e1 is an integer of 100..1096.
 */
type Kind = 'flat' | 'hnsw' | 'usearch';

const LOADERS = { flat: loadFlatIndex, hnsw: loadHnswIndex, usearch: loadUsearchIndex };

// removed after the file's tests (killDuringSaves settles once its last child has exited)
const folders = new TemporaryFolders();
afterAll(() => folders.removeAll());

function saveModule(kind: Kind): string {
  const module = join(folders.create('genrec-ann-kill-module-'), 'save-module.ts');
  const create = {
    flat: `new FlatIndex({ dimension: ${DIMENSION} })`,
    hnsw: `new HnswIndex({ dimension: ${DIMENSION}, m: 6, efConstruction: 20 })`,
    usearch: `new UsearchIndex({ dimension: ${DIMENSION}, m: 6, efConstruction: 20 })`,
  }[kind];
  writeFileSync(
    module,
    `import { FlatIndex, HnswIndex, UsearchIndex } from ${JSON.stringify(sourcePath('index.ts'))};
const index = ${create};
const vectors = new Float32Array(${ITEMS * DIMENSION});
for (let i = 0; i < vectors.length; i++) vectors[i] = Math.sin(i * 0.37) * 3;
const filled = index.add(Int32Array.from({ length: ${ITEMS} }, (_, i) => i), vectors);
filled.catch(() => {}); // a failed fill surfaces in save(), not as an unhandled rejection
export async function save(path: string, round: number): Promise<void> {
  await filled; // (no top-level await: the module is loaded as CommonJS)
  const marker = new Float32Array(${DIMENSION});
  marker[0] = (round % 997) + 100;
  await index.add([0], marker, { replace: true });
  await index.save(path);
}
`,
  );
  return module;
}

async function survivesKills(kind: Kind): Promise<void> {
  const path = join(folders.create(`genrec-ann-kill-${kind}-`), 'index');
  const query = new Float32Array(DIMENSION);
  query[0] = 1;
  const { completedSaves } = await killDuringSaves({
    module: saveModule(kind),
    path,
    kills: KILLS,
    seed: { flat: 3, hnsw: 4, usearch: 5 }[kind],
    delayMs: [0, 50],
    async verify(target) {
      const index = await LOADERS[kind](target);
      expect(index.size).toBe(ITEMS);
      const { ids, scores } = await index.search(query, 1, kind === 'flat' ? {} : { ef: 200 });
      expect(ids[0]).toBe(0);
      expect(Number.isInteger(scores[0]) && scores[0]! >= 100 && scores[0]! <= 1096).toBe(true);
      expect(await loadVectorIndex(target)).toBeDefined();
    },
  });
  expect(completedSaves).toBeGreaterThan(0);
  // the next save removes what the killed writers left behind: the pointer and one version remain
  const index = await LOADERS[kind](path);
  await index.save(path);
  expect(readdirSync(path).sort()).toHaveLength(2);
  expect(readdirSync(path)).toContain('CURRENT');
}

describe(`kill-mid-save (${KILLS} kills per kind${LONG_RUN ? ', long run' : ''})`, () => {
  it('FlatIndex: the final name always loads a complete version, old or new', () => survivesKills('flat'), 600_000);
  it('HnswIndex: the final name always loads a complete version, old or new', () => survivesKills('hnsw'), 600_000);
  it('UsearchIndex: the final name always loads a complete version, old or new', () => survivesKills('usearch'), 600_000);
});
