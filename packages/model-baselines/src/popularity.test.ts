import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GenrecError, MODEL_FILES, openModelFolder, writeModelFolder, createTensor, type ProgressEvent } from '@genrec/core';
import { createSequenceDataset, generateSyntheticDataset, leaveOneOutSplit } from '@genrec/data';
import { fitPopularity, loadPopularity } from './index.js';

const directories: string[] = [];
const temporary = (): string => {
  const directory = mkdtempSync(join(tmpdir(), 'genrec-popularity-'));
  directories.push(directory);
  return directory;
};
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

// counts: item 1 → 1, 2 → 3, 3 → 3, 4 → 1, 5 → 0
const tiny = createSequenceDataset({ sequences: [[1, 2, 3], [2, 3], [3, 4, 2]], itemCount: 5, externalItemIds: ['', 'a', 'b', 'c', 'd', 'e'] });

async function codeOf(action: () => unknown): Promise<string | undefined> {
  try {
    await action();
  } catch (error) {
    return GenrecError.isInstance(error) ? error.code : `not a GenrecError: ${String(error)}`;
  }
  return undefined;
}

describe('fitPopularity', () => {
  it('ranks by training count, ties to the lower id, scores are the counts', async () => {
    const model = await fitPopularity({ train: tiny });
    const result = await model.recommend([[1], []], { k: 4 });
    expect(Array.from(result.items)).toEqual([2, 3, 4, 5, 2, 3, 1, 4]);
    expect(Array.from(result.scores)).toEqual([3, 3, 1, 0, 3, 3, 1, 1]);
    expect(Array.from(await model.score([[1]], [[5, 2, 1]]))).toEqual([0, 3, 1]);
    expect(model.scoreScale).toBe('count');
    expect(model.maxK).toBe(5);
    const kept = await model.recommend([[2]], { k: 2, excludeHistory: false });
    expect(Array.from(kept.items)).toEqual([2, 3]);
  });

  it('emits fit-start, one epoch-end whose loss is the add-one popularity cross-entropy, and fit-end', async () => {
    const events: ProgressEvent[] = [];
    await fitPopularity({ train: tiny }, { onProgress: (event) => events.push(event) });
    expect(events.map((event) => event.type)).toEqual(['fit-start', 'epoch-end', 'fit-end']);
    // p(j) = (count + 1) / (8 + 5): -(1·ln(2/13) + 3·ln(4/13) + 3·ln(4/13) + 1·ln(2/13)) / 8
    const expected = -(2 * Math.log(2 / 13) + 6 * Math.log(4 / 13)) / 8;
    const epochEnd = events[1]!;
    expect(epochEnd.type === 'epoch-end' && epochEnd.loss).toBeCloseTo(expected, 12);
    expect(events[0]).toMatchObject({ type: 'fit-start', model: 'popularity', epochs: 1, stepsPerEpoch: 3, startEpoch: 0 });
    expect(events[2]).toMatchObject({ type: 'fit-end', epochs: 1, bestEpoch: 1, stoppedBy: 'epochs' });
  });

  it('stops counting at the next block of 1,024 users when aborted, and reports it', async () => {
    const { dataset } = generateSyntheticDataset({ userCount: 3000, itemCount: 300 });
    const controller = new AbortController();
    const events: ProgressEvent[] = [];
    // runs at the first yield of the pass, after user 1,023
    setImmediate(() => controller.abort());
    const model = await fitPopularity({ train: dataset }, { signal: controller.signal, onProgress: (event) => events.push(event) });
    expect(events.map((event) => event.type)).toEqual(['fit-start', 'fit-end']);
    expect(events[1]).toMatchObject({ type: 'fit-end', epochs: 0, bestEpoch: 0, stoppedBy: 'abort' });
    const description = model.describe();
    expect(description.epoch).toBe(0);
    expect(description['trainingInteractions']).toBe(dataset.offsets[1024]);
    const counted = new Float64Array(dataset.itemCount);
    for (let i = 0; i < dataset.offsets[1024]!; i++) counted[dataset.items[i]! - 1]!++;
    const all = Array.from({ length: dataset.itemCount }, (_, j) => j + 1);
    expect(Array.from(await model.score([[]], [all]))).toEqual(Array.from(counted));

    const aborted = new AbortController();
    aborted.abort();
    const empty = await fitPopularity({ train: dataset }, { signal: aborted.signal });
    expect(empty.describe()['trainingInteractions']).toBe(0);
    expect((await empty.recommend([[]], { k: 3 })).lengths[0]).toBe(3);
  });

  it('rejects bad options and data before counting anything', async () => {
    const events: ProgressEvent[] = [];
    const onProgress = (event: ProgressEvent): void => void events.push(event);
    expect(await codeOf(() => fitPopularity({ train: tiny }, { seed: Number.NaN, onProgress }))).toBe('INVALID_OPTION');
    expect(await codeOf(() => fitPopularity({ train: tiny }, { checkpointDirectory: '/tmp/x' } as never))).toBe('INVALID_OPTION');
    expect(await codeOf(() => fitPopularity({ train: tiny }, { onProgress: 'log' } as never))).toBe('INVALID_OPTION');
    expect(await codeOf(() => fitPopularity({ train: tiny }, { signal: {} } as never))).toBe('INVALID_OPTION');
    expect(await codeOf(() => fitPopularity({} as never))).toBe('INVALID_INPUT');
    expect(await codeOf(() => fitPopularity({ train: { ...tiny, items: Int32Array.from([1, 2, 9, 2, 3, 3, 4, 2]) } }))).toBe('INVALID_INPUT');
    expect(events).toEqual([]);
  });

  it('saves counts, retired items, external ids and titles, and loads them back', async () => {
    const catalog = { itemCount: 5, records: [undefined, { id: 1, title: 'One', fields: {} }, undefined, { id: 3, title: 'Three', fields: {} }, undefined, undefined] };
    const model = await fitPopularity({ train: tiny, catalog });
    model.retireItems([3]);
    const first = join(temporary(), 'model');
    await model.save(first);
    const loaded = await loadPopularity(first);
    expect(Array.from(loaded.retiredItems)).toEqual([3]);
    expect(loaded.describe()).toEqual(model.describe());
    const second = join(temporary(), 'model');
    await loaded.save(second);
    const items = (path: string): unknown => openModelFolder(path, 'popularity', [1]).readItems();
    expect(items(second)).toEqual(items(first));
    expect(items(first)).toEqual([{ externalId: 'a', title: 'One' }, { externalId: 'b' }, { externalId: 'c', title: 'Three' }, { externalId: 'd' }, { externalId: 'e' }]);
    const weights = openModelFolder(first, 'popularity', [1]).readTensors();
    expect(weights.get('popularity')).toMatchObject({ dtype: 'int32', shape: [5] });
    expect(Array.from(weights.get('popularity')!.data as Int32Array)).toEqual([1, 3, 3, 1, 0]);
    expect(JSON.parse(readFileSync(join(openModelFolder(first, 'popularity', [1]).artifact.directory, MODEL_FILES.manifest), 'utf8'))).toMatchObject({ model: 'popularity', modelFormatVersion: 1, retiredItems: [3] });
  });

  it('refuses a folder whose counts disagree with its manifest', async () => {
    const model = await fitPopularity({ train: tiny });
    const directory = join(temporary(), 'bad');
    await writeModelFolder(directory, {
      model: 'popularity',
      modelFormatVersion: 1,
      description: model.describe(),
      retiredItems: [],
      tensors: { popularity: createTensor(Int32Array.from([1, 3, 3, 1, 1]), [5]) },
    });
    expect(await codeOf(() => loadPopularity(directory))).toBe('CORRUPT_ARTIFACT');
    const negative = join(temporary(), 'negative');
    await writeModelFolder(negative, {
      model: 'popularity',
      modelFormatVersion: 1,
      description: model.describe(),
      retiredItems: [],
      tensors: { popularity: createTensor(Int32Array.from([1, 4, 3, 1, -1]), [5]) },
    });
    expect(await codeOf(() => loadPopularity(negative))).toBe('CORRUPT_ARTIFACT');
    const missing = join(temporary(), 'missing');
    await writeModelFolder(missing, { model: 'popularity', modelFormatVersion: 1, description: model.describe(), retiredItems: [] });
    expect(await codeOf(() => loadPopularity(missing))).toBe('NOT_FOUND');
  });

  it('is unusable after dispose', async () => {
    const model = await fitPopularity(leaveOneOutSplit(tiny));
    await model.dispose();
    expect(await codeOf(() => model.recommend([[1]], { k: 1 }))).toBe('NOT_FITTED');
  });
});
