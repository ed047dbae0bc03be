import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Rng, type VectorIndex } from '@genrec/core';
import { ArtifactFixture, FuzzOutcomes, classifyArtifactLoad, randomArtifactMutation, randomDataFileMutation, type ArtifactMutation, type FuzzReport } from '@genrec/core/testing';
import { FlatIndex, loadFlatIndex } from './flat-index.js';
import { HnswIndex, loadHnswIndex } from './hnsw-index.js';
import { loadVectorIndex } from './load-vector-index.js';
import { UsearchIndex, loadUsearchIndex } from './usearch-index.js';

// Property-based fuzzing of the index folders (test-only; not part of the build). A case mutates
// one file of a saved folder with core's artifact fuzz kit (bytes, words at aligned offsets,
// truncation, JSON fields) and, in most cases, regenerates the checksums (and the sidecar's data
// entry) so that the loaders' own parsers and validators are reached; it then loads the folder and
// classifies the outcome. Anything but a GenrecError or an index that passes the invariants below
// fails the property.

/** ann's own words for `json` mutations (core's kit adds interesting numbers, random numbers and strings). */
const JSON_VALUES: readonly unknown[] = [
  null, true, false, '', 'ip', 'l2', 'cosine', 'hnsw', 'usearch', 'f32', 'f16', 'bf16', 'i8',
  'genrec.flat-index', 'genrec.hnsw-index', 'genrec.usearch-index', 'index.hnsw', 'index.usearch', 'vectors.f32', '../x', [], {}, [1, 2], { m: 2 },
];

/** Mutations of any file of a folder holding `files` files (core's `randomArtifactMutation`, one seed per case). */
export function mutationArbitrary(files: number): fc.Arbitrary<ArtifactMutation> {
  return fc.noBias(fc.nat()).map((seed) => randomArtifactMutation(new Rng(seed), { files, jsonValues: JSON_VALUES }));
}

/** Mutations of the data file alone, always re-signed (core's `randomDataFileMutation`, one seed per case). */
export function dataFileMutationArbitrary(file: number): fc.Arbitrary<ArtifactMutation> {
  return fc.noBias(fc.nat()).map((seed) => randomDataFileMutation(new Rng(seed), file));
}

/** The layout validators' errors, layers of their own in the outcome table. */
const LAYERS = { 'hnsw layout': /not a valid hnswlib index/, 'usearch layout': /not a valid usearch index/ };

/**
 * Checks a loaded index: searches return stored ids best first with finite scores, and (with
 * `roundTrip`) a save/load round trip answers the same.
 */
async function checkLoadedIndex(index: VectorIndex, scratch: string, roundTrip: boolean): Promise<void> {
  const query = new Float32Array(index.dimension).map((_, c) => Math.cos(c + 1));
  const k = Math.min(5, Math.max(1, index.size));
  const { ids, scores } = await index.search(query, k);
  for (let j = 0; j < k; j++) {
    const id = ids[j]!;
    if (id === -1) {
      if (scores[j] !== Number.NEGATIVE_INFINITY) throw new Error(`padding with score ${scores[j]}`);
      continue;
    }
    if (!index.has(id)) throw new Error(`search returned id ${id}, which the index does not hold`);
    if (!Number.isFinite(scores[j]!) && index.metric !== 'l2') throw new Error(`score ${scores[j]} of id ${id}`);
    if (j > 0 && ids[j - 1] !== -1 && scores[j]! > scores[j - 1]! + 1e-4 * Math.max(1, Math.abs(scores[j]!))) throw new Error('scores not in descending order');
  }
  if (!roundTrip) return;
  const copy = join(scratch, 'round-trip');
  await index.save(copy);
  const again = await loadVectorIndex(copy);
  if (again.size !== index.size) throw new Error(`round trip changed the size ${index.size} -> ${again.size}`);
  const second = await again.search(query, k);
  if (index.kind === 'flat' && Array.from(second.ids).join() !== Array.from(ids).join()) throw new Error('round trip changed the answer');
  rmSync(copy, { recursive: true, force: true });
}

/** Options of {@link fuzzIndexLoader}. */
export interface IndexFuzzOptions {
  kind: 'flat' | 'hnsw' | 'usearch';
  /** Cases to run. */
  runs: number;
  seed: number;
  /** `'folder'`: any file of the folder; `'data-file'`: only the data file, always re-signed. @defaultValue 'folder' */
  target?: 'folder' | 'data-file';
}

/**
 * Saves a small index of `kind`, then loads `runs` mutated copies of its folder (alternately
 * through the kind's loader and `loadVectorIndex`). Throws (with fast-check's counterexample) when
 * a case ends in anything but a GenrecError or a valid index, or takes over 5 s; returns core's
 * fuzz report (outcomes by class). Run it through `fuzzInChild` of `@genrec/core/testing`.
 */
export async function fuzzIndexLoader(options: IndexFuzzOptions): Promise<FuzzReport> {
  const target = options.target ?? 'folder';
  const scratch = mkdtempSync(join(tmpdir(), `genrec-ann-fuzz-${options.kind}-`));
  const path = join(scratch, 'index');
  const dimension = 4;
  const count = 24;
  const vectors = new Float32Array(count * dimension).map((_, i) => Math.sin(i * 0.7) * 2);
  const ids = Int32Array.from({ length: count }, (_, i) => 3 * i + 1);
  let dataFile: string;
  if (options.kind === 'flat') {
    const index = new FlatIndex({ dimension, metric: 'l2', initialCapacity: 8 });
    await index.add(ids, vectors);
    await index.remove([4]);
    await index.save(path);
    dataFile = 'vectors.f32';
  } else if (options.kind === 'hnsw') {
    const index = new HnswIndex({ dimension, metric: 'ip', m: 2, efConstruction: 10, initialCapacity: 32, seed: 9 });
    await index.add(ids, vectors);
    await index.remove([4, 10]);
    await index.save(path);
    dataFile = 'index.hnsw';
  } else {
    const index = new UsearchIndex({ dimension, metric: 'ip', m: 2, efConstruction: 10 });
    await index.add(ids, vectors);
    await index.remove([4, 10]);
    await index.save(path);
    dataFile = 'index.usearch';
  }
  const fixture = new ArtifactFixture(path, { file: 'index.json', dataFile });
  const load = { flat: loadFlatIndex, hnsw: loadHnswIndex, usearch: loadUsearchIndex }[options.kind];
  const name = { flat: 'FlatIndex', hnsw: 'HnswIndex', usearch: 'UsearchIndex' }[options.kind];
  const outcomes = new FuzzOutcomes(`${name} folder${target === 'data-file' ? ` (${dataFile} alone, re-signed)` : ''}`);
  let round = 0;
  let loaded = 0;
  const mutations = target === 'data-file' ? dataFileMutationArbitrary(fixture.files.indexOf(dataFile)) : mutationArbitrary(fixture.files.length);
  try {
    await fc.assert(
      fc.asyncProperty(mutations, async (mutation) => {
        fixture.apply(mutation);
        await classifyArtifactLoad(
          outcomes,
          async () => {
            const index = round++ % 2 === 0 ? await load(path) : await loadVectorIndex(path);
            // a save round trip fsyncs several times: every 4th loaded index is enough
            await checkLoadedIndex(index, scratch, loaded++ % 4 === 0);
          },
          { layers: LAYERS },
        );
      }),
      { numRuns: options.runs, seed: options.seed, endOnFailure: true },
    );
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return outcomes.report();
}
