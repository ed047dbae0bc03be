import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Recommender } from '../contracts/recommender.js';
import { GenrecError } from '../errors.js';
import { openArtifactDirectory } from '../io/artifact-directory.js';
import { createTensor } from '../io/tensor.js';
import { TemporaryFolders } from '../testing/temporary-folders.js';
import { datasetFingerprint, loadRecommender, openModelFolder, writeModelFolder } from './model-folder.js';
import { RetiredItems } from './retired-items.js';

const folders = new TemporaryFolders();
const temp = (): string => folders.create('genrec-model-');
afterAll(() => folders.removeAll());

async function rejectionCode(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return GenrecError.isInstance(error) ? error.code : 'not a GenrecError';
  }
  return undefined;
}

const description = { kind: 'toy', package: { name: '@genrec/toy', version: '0.0.0' }, hyperParameters: { a: 1 }, itemCount: 3, dataFingerprint: 'abc' };

describe('model folders', () => {
  it('round-trips manifest, weights, item map and titles', async () => {
    const path = join(temp(), 'model');
    await writeModelFolder(path, {
      model: 'toy',
      modelFormatVersion: 2,
      description,
      retiredItems: [2],
      fields: { spec: { width: 4 } },
      tensors: { w: createTensor(Float32Array.of(1, 2, 3), [3]) },
      externalItemIds: ['', 'A', 'B', 'C'],
      catalog: { itemCount: 3, records: [undefined, { id: 1, title: 'one', fields: {} }, undefined, undefined] },
    });
    const opened = openModelFolder<{ spec: { width: number } } & import('../contracts/recommender.js').RecommenderManifest>(path, 'toy', [1, 2]);
    expect(opened.manifest.spec.width).toBe(4);
    expect(opened.manifest.retiredItems).toEqual([2]);
    expect(Array.from(opened.readTensors().get('w')!.data as Float32Array)).toEqual([1, 2, 3]);
    expect(opened.readItems()).toEqual([{ externalId: 'A', title: 'one' }, { externalId: 'B' }, { externalId: 'C' }]);
  });

  it('refuses another model kind, a newer model version and a changed manifest', async () => {
    const path = join(temp(), 'model');
    await writeModelFolder(path, { model: 'toy', modelFormatVersion: 3, description, retiredItems: [] });
    expect(() => openModelFolder(path, 'other', [3])).toThrowError(/holds a "toy" model, not a "other" model/);
    expect(() => openModelFolder(path, 'toy', [1, 2])).toThrowError(/written by a newer version/);
    const manifestPath = join(openArtifactDirectory(path).directory, 'manifest.json');
    writeFileSync(manifestPath, readFileSync(manifestPath, 'utf8').replace('"a": 1', '"a": 2'));
    expect(() => openModelFolder(path, 'toy', [3])).toThrowError(GenrecError);
  });

  it('loadRecommender dispatches on the model kind through the loaders it is given', async () => {
    const path = join(temp(), 'model');
    await writeModelFolder(path, { model: 'toy', modelFormatVersion: 1, description, retiredItems: [] });
    const fake = { kind: 'toy' } as Recommender;
    expect(await loadRecommender(path, { loaders: { toy: async () => fake } })).toBe(fake);
    expect(await rejectionCode(loadRecommender(path, { loaders: { sasrec: async () => fake } }))).toBe('FORMAT_VERSION');
    expect(await rejectionCode(loadRecommender(path, { loaders: {} }))).toBe('FORMAT_VERSION');
    expect(await rejectionCode(loadRecommender(join(path, 'missing'), { loaders: {} }))).toBe('NOT_FOUND');
  });
});

describe('retired items and fingerprints', () => {
  it('keeps a sorted unique set and validates before changing', () => {
    const retired = new RetiredItems(5, [4, 2, 4]);
    expect(Array.from(retired.ids)).toEqual([2, 4]);
    expect(() => retired.retire([1, 6])).toThrowError(/outside the catalogue 1..5/);
    expect(Array.from(retired.ids)).toEqual([2, 4]);
    retired.restore([2]);
    expect(Array.from(retired.ids)).toEqual([4]);
  });

  it('fingerprints the sequences, not the object', () => {
    const a = { itemCount: 3, offsets: Int32Array.of(0, 2, 3), items: Int32Array.of(1, 2, 3) };
    const b = { itemCount: 3, offsets: Int32Array.of(0, 2, 3), items: Int32Array.of(1, 2, 3) };
    const c = { itemCount: 3, offsets: Int32Array.of(0, 1, 3), items: Int32Array.of(1, 2, 3) };
    expect(datasetFingerprint(a)).toBe(datasetFingerprint(b));
    expect(datasetFingerprint(a)).not.toBe(datasetFingerprint(c));
    expect(datasetFingerprint(a)).toMatch(/^[0-9a-f]{16}$/);
  });
});
