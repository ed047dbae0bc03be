// SASRec's retrieval through every VectorIndex backend genrec ships: hnswlib (HnswIndex), usearch
// (UsearchIndex, f32 and f16) and LanceDB (LanceIndex, brute force and IVF-PQ), each checked
// against the model's exact ranking.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlatIndex, HnswIndex, UsearchIndex } from '@genrec/ann';
import { LanceIndex } from '@genrec/ann-lancedb';
import type { VectorIndex } from '@genrec/core';
import { TemporaryFolders } from '@genrec/core/testing';
import { fitSasrec } from './fit-sasrec.js';
import { SasrecModel } from './sasrec-model.js';
import { CHEAP, syntheticSplit } from './test-fixtures.js';

const split = syntheticSplit('default');
const USERS = 60;
const K = 10;
let model: SasrecModel;
const folders = new TemporaryFolders();
// LanceDB's IVF-PQ build leaves its shuffle files in the temporary folder: this file's one, removed below
folders.useAsTmpdir('genrec-sasrec-backends-');

beforeAll(async () => {
  model = await fitSasrec({ train: split.train }, { ...CHEAP, epochs: 1 });
});
afterAll(async () => {
  await model.dispose();
  folders.removeAll();
});

function testHistories(count: number): number[][] {
  const set = split.test;
  return Array.from({ length: count }, (_, u) => Array.from(set.historyItems.subarray(set.historyOffsets[u]!, set.historyOffsets[u + 1]!)));
}

/** Share of the exact top-k (history excluded) that the index's lists contain. */
function recall(exact: Int32Array, approximate: Int32Array, users: number): number {
  let found = 0;
  for (let u = 0; u < users; u++) {
    const truth = new Set(exact.subarray(u * K, (u + 1) * K));
    for (const id of approximate.subarray(u * K, (u + 1) * K)) if (truth.has(id)) found++;
  }
  return found / (users * K);
}

const lanceFolder = (): string => folders.create('genrec-sasrec-lance-');

const BACKENDS: ReadonlyArray<{ name: string; make: (d: number) => Promise<VectorIndex>; build?: (index: VectorIndex) => Promise<void>; atLeast: number }> = [
  { name: 'FlatIndex (exact)', make: async (d) => new FlatIndex({ dimension: d, metric: 'ip' }), atLeast: 1 },
  { name: 'HnswIndex (hnswlib)', make: async (d) => new HnswIndex({ dimension: d, metric: 'ip', m: 16, efConstruction: 200, ef: 128, seed: 1 }), atLeast: 0.9 },
  { name: 'UsearchIndex f32', make: async (d) => new UsearchIndex({ dimension: d, metric: 'ip', m: 16, efConstruction: 200, ef: 128 }), atLeast: 0.9 },
  { name: 'UsearchIndex f16', make: async (d) => new UsearchIndex({ dimension: d, metric: 'ip', m: 16, efConstruction: 200, ef: 128, quantization: 'f16' }), atLeast: 0.9 },
  { name: 'LanceIndex, brute force', make: (d) => LanceIndex.create({ path: lanceFolder(), dimension: d, metric: 'ip' }), atLeast: 1 },
  {
    name: 'LanceIndex, IVF-PQ',
    make: (d) => LanceIndex.create({ path: lanceFolder(), dimension: d, metric: 'ip' }),
    build: async (index) => {
      await (index as LanceIndex).buildIndex({ numPartitions: 8, numSubVectors: 4 });
    },
    atLeast: 0.9,
  },
];

describe('SASRec recommends through each vector index backend', () => {
  for (const backend of BACKENDS) {
    it(`${backend.name}: recall@${K} against the exact ranking ≥ ${backend.atLeast}, history excluded, valid ids`, async () => {
      const histories = testHistories(USERS);
      const exact = await model.recommend(histories, { k: K });
      const index = await backend.make(model.architecture.hiddenSize);
      try {
        await model.useIndex(index); // empty: the model adds its items
        expect(index.size).toBe(model.itemCount);
        if (backend.build !== undefined) await backend.build(index);
        const viaIndex = await model.recommend(histories, { k: K });
        expect(recall(exact.items, viaIndex.items, USERS)).toBeGreaterThanOrEqual(backend.atLeast);
        for (let u = 0; u < USERS; u++) {
          const list = Array.from(viaIndex.items.subarray(u * K, (u + 1) * K));
          expect(new Set(list).size, `user ${u}: no id twice`).toBe(K);
          for (const id of list) {
            expect(id >= 1 && id <= model.itemCount, `user ${u}: id ${id} in 1..${model.itemCount}`).toBe(true);
            expect(histories[u], `user ${u}: history item ${id} returned`).not.toContain(id);
          }
        }
      } finally {
        await model.useIndex(undefined);
        if (index instanceof LanceIndex) await index.close();
      }
    });
  }
});
