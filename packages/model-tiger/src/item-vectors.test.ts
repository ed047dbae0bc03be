import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMatrix, type ItemCatalog, type ItemRecord, type ProgressEvent } from '@genrec/core';
import { fitSasrec } from '@genrec/model-sasrec';
import { describe, expect, it, onTestFinished } from 'vitest';
import { fitTiger } from './fit-tiger.js';
import { buildItemVectors } from './item-vectors.js';
import { loadTiger } from './load-tiger.js';
import { resolveTigerSpec } from './options.js';
import { CHEAP, smallSplit } from './test-fixtures.js';

const SASREC = { epochs: 2, hiddenSize: 16, blocks: 1, heads: 1, maxLength: 10, batchSize: 64 };

describe("buildItemVectors, 'sasrec' source", () => {
  it("gives a SASRec's item embeddings, row-normalised, and reports its epochs as one task", async () => {
    const { data } = smallSplit();
    const spec = resolveTigerSpec({ itemVectors: ['sasrec'], sasrecOptions: SASREC, threads: 1, seed: 5 }, { hasItemVectors: false, hasCatalog: true });
    const events: ProgressEvent[] = [];
    const { vectors, report } = await buildItemVectors({ train: data.train }, spec, (event) => events.push(event), undefined);

    // a second path: the same SASRec fitted directly, its embeddings normalised here
    const sasrec = await fitSasrec({ train: data.train }, { ...SASREC, threads: 1, seed: 5, earlyStopping: false });
    const expected = sasrec.itemEmbeddings();
    await sasrec.dispose();
    expect([vectors.rows, vectors.cols]).toEqual([data.train.itemCount, 16]);
    expect([expected.rows, expected.cols]).toEqual([data.train.itemCount, 16]);
    for (let row = 0; row < vectors.rows; row++) {
      const from = row * 16;
      const norm = Math.hypot(...expected.data.subarray(from, from + 16));
      for (let c = 0; c < 16; c++) expect(vectors.data[from + c]).toBeCloseTo(norm === 0 ? 0 : expected.data[from + c]! / norm, 5);
    }
    expect(report).toHaveLength(1);
    expect(report[0]).toMatchObject({ source: 'sasrec', dimension: 16 });

    const task = events.filter((event) => 'task' in event && event.task === 'sasrec-pretraining');
    expect(task.map((event) => [event.type, 'done' in event ? event.done : undefined])).toEqual([
      ['task-start', 0],
      ['task-progress', 1],
      ['task-progress', 2],
      ['task-end', 2],
    ]);
    for (const event of task) expect(event).toMatchObject({ total: 2, unit: 'epochs' });
    expect(Number.isFinite((task[1] as unknown as { metrics: { loss: number } }).metrics.loss)).toBe(true);
  });
});

describe("the 'text' source on a catalogue without titles", () => {
  it('reads the attribute ids when textFields is not given (Sports), and records the fields', async () => {
    const { data } = smallSplit();
    // the titles moved into an `attributes` field as attributeCatalog writes it; no title, no categories
    const records = data.catalog!.records.map((record): ItemRecord | undefined =>
      record === undefined ? undefined : { id: record.id, fields: { attributes: (record.title ?? '').split(/\s+/).filter(Boolean).map((word) => `a_${word.toLowerCase()}`).join(' ') } },
    );
    const catalog: ItemCatalog = { ...data.catalog!, records };
    const options = { ...CHEAP, itemVectors: 'text' as const, vectorDimension: 8, epochs: 1, seed: 2, earlyStopping: false as const };
    const model = await fitTiger({ train: data.train, catalog }, options);
    try {
      expect(model.describe().hyperParameters['textFields']).toEqual(['attributes']);
      // the same vectors as naming the field
      const named = resolveTigerSpec({ ...options, textFields: ['attributes'] }, { hasItemVectors: false, hasCatalog: true });
      const { vectors } = await buildItemVectors({ train: data.train, catalog }, named, undefined, undefined);
      expect(Array.from(model.itemVectors()!.data)).toEqual(Array.from(vectors.data));
      expect(vectors.rows).toBe(data.train.itemCount);
      // the title field (the spec before the default is resolved) holds nothing to embed
      const titles = resolveTigerSpec(options, { hasItemVectors: false, hasCatalog: true });
      expect(titles.textFields).toEqual(['title']);
      await expect(buildItemVectors({ train: data.train, catalog }, titles, undefined, undefined)).rejects.toMatchObject({ code: 'INVALID_INPUT', details: { field: 'fields' } });
      const rows = await model.recommend({ offsets: Int32Array.from([0, 2]), items: data.train.items.slice(0, 2) }, { k: 5 });
      expect(Array.from(rows.lengths)).toEqual([5]);
      // the saved spec keeps the resolved fields
      const directory = mkdtempSync(join(tmpdir(), 'tiger-text-fields-'));
      onTestFinished(() => rmSync(directory, { recursive: true, force: true }));
      const folder = join(directory, 'model');
      await model.save(folder);
      const loaded = await loadTiger(folder, { workers: 0 });
      try {
        expect(loaded.describe().hyperParameters['textFields']).toEqual(['attributes']);
      } finally {
        await loaded.dispose();
      }
    } finally {
      await model.dispose();
    }
    // named fields are taken as given
    await expect(fitTiger({ train: data.train, catalog }, { ...options, textFields: ['title'] })).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/\[title\].*hold no word/) as unknown });
    // without the 'text' source nothing is read and the spec keeps the plain default
    const collaborative = await fitTiger({ train: data.train, catalog }, { ...options, itemVectors: 'collaborative' });
    try {
      expect(collaborative.describe().hyperParameters['textFields']).toEqual(['title']);
    } finally {
      await collaborative.dispose();
    }
  });
});

describe('itemVectorWeights', () => {
  it('scales each normalised source by its weight in the concatenation, and 1s change nothing', async () => {
    const { data } = smallSplit();
    const itemCount = data.train.itemCount;
    // a given matrix with rows of different norms (and one zero row)
    const given = createMatrix(itemCount, 3);
    for (let r = 0; r < itemCount; r++) for (let c = 0; c < 3; c++) given.data[r * 3 + c] = r === 0 ? 0 : ((r * 7 + c * 3) % 11) - 5 + 0.5;
    const spec = (weights?: number[]) =>
      resolveTigerSpec({ itemVectors: ['text', 'given'], vectorDimension: 4, seed: 1, ...(weights ? { itemVectorWeights: weights } : {}) }, { hasItemVectors: true, hasCatalog: true });
    const fitData = { train: data.train, catalog: data.catalog!, itemVectors: given };
    const plain = (await buildItemVectors(fitData, spec(), undefined, undefined)).vectors;
    const ones = (await buildItemVectors(fitData, spec([1, 1]), undefined, undefined)).vectors;
    const weighted = (await buildItemVectors(fitData, spec([0.25, 3]), undefined, undefined)).vectors;
    expect(spec().itemVectorWeights).toEqual([1, 1]);
    expect(ones.data).toEqual(plain.data);
    expect([weighted.rows, weighted.cols]).toEqual([itemCount, 7]);
    for (let r = 0; r < itemCount; r++) {
      // columns 0..3 = the text part, 4..6 = the given part (normalised independently of the weights)
      const norm = Math.hypot(...given.data.subarray(r * 3, r * 3 + 3));
      for (let c = 0; c < 4; c++) expect(weighted.data[r * 7 + c]).toBeCloseTo(0.25 * plain.data[r * 7 + c]!, 6);
      for (let c = 0; c < 3; c++) expect(weighted.data[r * 7 + 4 + c]).toBeCloseTo(norm === 0 ? 0 : (3 * given.data[r * 3 + c]!) / norm, 5);
    }
  });

  it('refuses a weight list of another length, zero, negative or non-finite weights, before fitting', () => {
    const both = { itemVectors: ['text', 'collaborative'] as const };
    for (const itemVectorWeights of [[1], [1, 1, 1], [0, 1], [1, -2], [Number.NaN, 1], [1, Number.POSITIVE_INFINITY]]) {
      expect(() => resolveTigerSpec({ ...both, itemVectors: [...both.itemVectors], itemVectorWeights })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    }
    expect(() => resolveTigerSpec({ itemVectorWeights: 'x' as unknown as number[] })).toThrow(/one weight per itemVectors source/);
    expect(resolveTigerSpec({ ...both, itemVectors: [...both.itemVectors], itemVectorWeights: [0.5, 2] }).itemVectorWeights).toEqual([0.5, 2]);
  });

  it('records the weights in the saved spec; a spec saved before the option resolves to weights of 1', async () => {
    const { itemVectorWeights: _, ...older } = resolveTigerSpec({ itemVectors: ['text', 'collaborative'], seed: 4 });
    expect(resolveTigerSpec(older).itemVectorWeights).toEqual([1, 1]);
    const { data } = smallSplit();
    const model = await fitTiger({ train: data.train, catalog: data.catalog! }, { ...CHEAP, itemVectors: ['text', 'collaborative'], itemVectorWeights: [0.5, 2], epochs: 1, seed: 4, earlyStopping: false });
    const dir = mkdtempSync(join(tmpdir(), 'tiger-weights-'));
    try {
      expect(model.describe().hyperParameters['itemVectorWeights']).toEqual([0.5, 2]);
      await model.save(join(dir, 'm'));
      const loaded = await loadTiger(join(dir, 'm'));
      expect(loaded.describe().hyperParameters['itemVectorWeights']).toEqual([0.5, 2]);
      await loaded.dispose();
    } finally {
      await model.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
