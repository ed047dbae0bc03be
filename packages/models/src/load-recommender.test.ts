import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GenrecError, writeModelFolder, type Recommender } from '@genrec/core';
import { smallData } from '@genrec/model-baselines/testing';
import * as models from './index.js';
import { MODEL_LOADERS, fitItemKnn, fitMarkov, fitPopularity, fitSasrec, fitTiger, loadMarkov, loadRecommender } from './index.js';

const directories: string[] = [];
const temporary = (): string => {
  const directory = mkdtempSync(join(tmpdir(), 'genrec-models-'));
  directories.push(directory);
  return directory;
};
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

// the conformance suite's small synthetic split (300 users, 120 items), through model-baselines (models does not depend on data)
const { split } = smallData();
const itemCount = split.train.itemCount;
const histories = Array.from({ length: 25 }, (_, u) => Array.from(split.test.historyItems.subarray(split.test.historyOffsets[u]!, split.test.historyOffsets[u + 1]!)));
const candidates = histories.map((_, u) => [1 + (u % itemCount), 1 + ((u * 37) % itemCount), itemCount]);

async function expectSameModel(loaded: Recommender, model: Recommender): Promise<void> {
  expect(loaded.kind).toBe(model.kind);
  expect(loaded.constructor).toBe(model.constructor);
  expect(Array.from(loaded.retiredItems)).toEqual(Array.from(model.retiredItems));
  const [a, b] = [await loaded.recommend(histories, { k: 10 }), await model.recommend(histories, { k: 10 })];
  expect(Array.from(a.items)).toEqual(Array.from(b.items));
  expect(Array.from(a.scores)).toEqual(Array.from(b.scores));
  expect(Array.from(await loaded.score(histories, candidates))).toEqual(Array.from(await model.score(histories, candidates)));
}

describe('@genrec/models', () => {
  it('re-exports every model package, with its own version', () => {
    for (const name of ['fitPopularity', 'loadPopularity', 'fitMarkov', 'loadMarkov', 'fitItemKnn', 'loadItemKnn', 'fitSasrec', 'loadSasrec', 'SasrecModel', 'MarkovModel', 'fitSetrec', 'loadSetrec', 'SetrecModel', 'discretizeSetrec', 'fitTiger', 'loadTiger', 'TigerModel']) {
      expect(typeof (models as Record<string, unknown>)[name], name).toBe('function');
    }
    expect(models.PACKAGE_NAME).toBe('@genrec/models');
    expect(models.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(Object.keys(MODEL_LOADERS).sort()).toEqual(['item-knn', 'markov', 'popularity', 'sasrec', 'setrec', 'tiger']);
  });

  for (const [kind, fit] of [
    ['popularity', () => fitPopularity(split)],
    ['markov', () => fitMarkov(split, { order: 2 })],
    ['item-knn', () => fitItemKnn(split, { neighbours: 20 })],
  ] as const) {
    it(`loads a saved ${kind} model through loadRecommender with identical results`, async () => {
      const model = await fit();
      model.retireItems([3, 7]);
      const directory = join(temporary(), kind);
      await model.save(directory);
      const loaded = await loadRecommender(directory);
      expect(loaded.kind).toBe(kind);
      await expectSameModel(loaded, model);
    });
  }

  it('loads a saved SASRec model through loadRecommender with identical results', async () => {
    const model = await fitSasrec(split, { hiddenSize: 16, blocks: 1, heads: 1, maxLength: 20, epochs: 1, batchSize: 128, threads: 1, seed: 1, earlyStopping: false });
    try {
      const directory = join(temporary(), 'sasrec');
      await model.save(directory);
      const loaded = await loadRecommender(directory);
      try {
        expect(loaded.kind).toBe('sasrec');
        await expectSameModel(loaded, model);
      } finally {
        await loaded.dispose();
      }
    } finally {
      await model.dispose();
    }
  });

  it('loads a saved TIGER model through loadRecommender with identical results', async () => {
    const model = await fitTiger(split, {
      itemVectors: 'collaborative', vectorDimension: 8, levels: 2, codebookSize: 8, modelDimension: 16, heads: 2, feedForwardDimension: 32, layers: 1,
      maxHistory: 5, epochs: 1, batchSize: 64, workers: 0, threads: 1, seed: 1, earlyStopping: false,
    });
    try {
      const directory = join(temporary(), 'tiger');
      await model.save(directory);
      const loaded = await loadRecommender(directory);
      try {
        expect(loaded.kind).toBe('tiger');
        await expectSameModel(loaded, model);
      } finally {
        await loaded.dispose();
      }
    } finally {
      await model.dispose();
    }
  });

  it('refuses an unknown kind with FORMAT_VERSION naming the known ones, and takes extra loaders', async () => {
    const model = await fitMarkov(split);
    const directory = join(temporary(), 'unknown');
    await writeModelFolder(directory, { model: 'no-such-model', modelFormatVersion: 1, description: { ...model.describe(), kind: 'no-such-model' }, retiredItems: [] });
    const error = await loadRecommender(directory).catch((caught: unknown) => caught);
    expect(GenrecError.isInstance(error) && error.code).toBe('FORMAT_VERSION');
    expect((error as GenrecError).message).toMatch(/"no-such-model" model; no loader for it was given \(known: /);
    for (const kind of Object.keys(MODEL_LOADERS)) expect((error as GenrecError).message).toContain(kind);
    // a package's own loader, given as an option
    const saved = join(temporary(), 'markov');
    await model.save(saved);
    let used = '';
    const viaOption = await loadRecommender(saved, {
      loaders: {
        markov: (folder) => {
          used = folder;
          return loadMarkov(folder);
        },
      },
    });
    expect(used).toBe(saved);
    await expectSameModel(viaOption, model);
  });
});
