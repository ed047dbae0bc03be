import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GenrecError, loadRecommender, openArtifactDirectory, writeModelFolder, type Tensor } from '@genrec/core';
import { generateSyntheticDataset } from '@genrec/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fitSasrec } from './fit-sasrec.js';
import { loadSasrec } from './load-sasrec.js';
import { sasrecParameterShapes } from './sasrec-graph.js';
import type { SasrecModel } from './sasrec-model.js';
import { CHEAP, historiesOf, syntheticSplit } from './test-fixtures.js';

const split = syntheticSplit('small');
const N = split.itemCount;
const root = mkdtempSync(join(tmpdir(), 'sasrec-save-'));
let model: SasrecModel;
const catalog = generateSyntheticDataset({ userCount: 800, itemCount: 200, seed: 7 }).catalog;
const externalItemIds = ['', ...Array.from({ length: N }, (_, j) => `sku-${j + 1}`)];

beforeAll(async () => {
  model = await fitSasrec({ train: { ...split.train, externalItemIds }, catalog }, { ...CHEAP, epochs: 1 });
  model.retireItems([3, 17]);
  await model.save(join(root, 'model'));
});
afterAll(async () => {
  await model.dispose();
  rmSync(root, { recursive: true, force: true });
});

async function expectCode(promise: Promise<unknown>, code: string, pattern?: RegExp): Promise<void> {
  try {
    await promise;
  } catch (error) {
    expect(GenrecError.isInstance(error)).toBe(true);
    expect((error as GenrecError).code).toBe(code);
    if (pattern) expect((error as Error).message).toMatch(pattern);
    return;
  }
  throw new Error(`expected a ${code} error`);
}

describe('save and load', () => {
  it('a loaded model gives identical recommendations, scores, embeddings and description', async () => {
    const loaded = await loadSasrec(join(root, 'model'));
    const histories = historiesOf(split.test);
    const candidates = historiesOf(split.validation);
    expect(await loaded.recommend(histories, { k: 10 })).toEqual(await model.recommend(histories, { k: 10 }));
    expect(await loaded.recommend([[], [1, 2]], { k: 5 })).toEqual(await model.recommend([[], [1, 2]], { k: 5 }));
    expect(await loaded.score(histories, candidates)).toEqual(await model.score(histories, candidates));
    expect(loaded.itemEmbeddings()).toEqual(model.itemEmbeddings());
    expect(loaded.parameterValues()).toEqual(model.parameterValues());
    expect(loaded.describe()).toEqual(model.describe());
    expect(Array.from(loaded.retiredItems)).toEqual([3, 17]);
    expect(loaded.itemPopularity()).toEqual(model.itemPopularity());
    await loaded.dispose();
  });

  it('keeps external ids and titles, and loads through loadRecommender', async () => {
    const loaded = (await loadRecommender(join(root, 'model'), { loaders: { sasrec: loadSasrec } })) as SasrecModel;
    expect(loaded.kind).toBe('sasrec');
    expect(loaded.externalItemIds?.[5]).toBe('sku-5');
    expect(loaded.catalog?.records[7]?.title).toBe(catalog.records[7]?.title);
    const items = JSON.parse(readFileSync(join(openArtifactDirectory(join(root, 'model')).directory, 'items.json'), 'utf8')) as { externalId: string; title: string }[];
    expect(items[0]).toEqual({ externalId: 'sku-1', title: catalog.records[1]!.title });
    // runtime settings may change at load
    const threaded = await loadSasrec(join(root, 'model'), { threads: 2, inferenceBatchSize: 7 });
    expect(await threaded.recommend(historiesOf(split.test), { k: 3 })).toEqual(await model.recommend(historiesOf(split.test), { k: 3 }));
    await Promise.all([loaded.dispose(), threaded.dispose()]);
  });

  it('refuses a folder of another model kind, a newer format, a changed file and a missing tensor', async () => {
    const description = { ...model.describe(), kind: 'popularity' };
    await writeModelFolder(join(root, 'popularity'), { model: 'popularity', modelFormatVersion: 1, description, retiredItems: [] });
    await expectCode(loadSasrec(join(root, 'popularity')), 'FORMAT_VERSION', /"popularity" model/);

    const tensors: Record<string, Tensor> = {};
    const shapes = sasrecParameterShapes(model.architecture);
    for (const [name, value] of model.parameterValues()) tensors[name] = { dtype: 'float32', shape: shapes.get(name)!, data: value };
    tensors.popularity = { dtype: 'int32', shape: [N], data: model.itemPopularity() };
    const fields = { spec: model.spec, training: model.training };
    await writeModelFolder(join(root, 'newer'), { model: 'sasrec', modelFormatVersion: 2, description: model.describe(), retiredItems: [], fields, tensors });
    await expectCode(loadSasrec(join(root, 'newer')), 'FORMAT_VERSION', /newer/);

    const { 'last_ln.bias': _dropped, ...partial } = tensors;
    await writeModelFolder(join(root, 'partial'), { model: 'sasrec', modelFormatVersion: 1, description: model.describe(), retiredItems: [], fields, tensors: partial });
    await expectCode(loadSasrec(join(root, 'partial')), 'CORRUPT_ARTIFACT', /last_ln\.bias/);

    await model.save(join(root, 'changed'));
    const weights = join(openArtifactDirectory(join(root, 'changed')).directory, 'weights.safetensors');
    const bytes = readFileSync(weights);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    writeFileSync(weights, bytes);
    await expectCode(loadSasrec(join(root, 'changed')), 'CORRUPT_ARTIFACT');
    await expectCode(loadSasrec(join(root, 'nothing-here')), 'NOT_FOUND');
  });

  it('saving again replaces the folder atomically (one version, the new content)', async () => {
    const directory = join(root, 'resave');
    await model.save(directory);
    model.retireItems([50]);
    await model.save(directory);
    model.restoreItems([50]);
    const loaded = await loadSasrec(directory);
    expect(Array.from(loaded.retiredItems)).toEqual([3, 17, 50]);
    await loaded.dispose();
  });
});
