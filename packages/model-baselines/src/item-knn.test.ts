import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GenrecError, createTensor, openModelFolder, writeModelFolder } from '@genrec/core';
import { createSequenceDataset, type InteractionDataset } from '@genrec/data';
import { fitItemKnn, loadItemKnn } from './index.js';
import { randomDataset, sequencesOf } from './test-helpers.js';

const directories: string[] = [];
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

interface NaiveKnn {
  /** Dense similarity matrix after the top-`neighbours` cut (row = the history item), float32 values. */
  kept: number[][];
  popularity: number[];
  score(history: readonly number[]): number[];
}

/** A naive item-kNN from dense matrices: co-occurrence sets per user, cosine, top-K per row. */
function naiveKnn(dataset: InteractionDataset, neighbours: number, window: number, decay: number): NaiveKnn {
  const n = dataset.itemCount;
  const together = Array.from({ length: n + 1 }, () => new Array<number>(n + 1).fill(0));
  const users = new Array<number>(n + 1).fill(0);
  const popularity = new Array<number>(n).fill(0);
  for (const sequence of sequencesOf(dataset)) {
    for (const item of sequence) popularity[item - 1]!++;
    for (const item of new Set(sequence)) users[item]!++;
    const pairs = new Set<string>();
    for (let t = 0; t < sequence.length; t++) {
      for (let s = Math.max(0, t - window); s < t; s++) if (sequence[s] !== sequence[t]) pairs.add([sequence[s]!, sequence[t]!].sort((a, b) => a - b).join(','));
    }
    for (const pair of pairs) {
      const [a, b] = pair.split(',').map(Number) as [number, number];
      together[a]![b]!++;
      together[b]![a]!++;
    }
  }
  const kept = Array.from({ length: n + 1 }, () => new Array<number>(n + 1).fill(0));
  for (let i = 1; i <= n; i++) {
    const candidates: { id: number; similarity: number }[] = [];
    for (let j = 1; j <= n; j++) if (together[i]![j]! > 0) candidates.push({ id: j, similarity: together[i]![j]! / Math.sqrt(users[i]! * users[j]!) });
    candidates.sort((x, y) => y.similarity - x.similarity || x.id - y.id);
    for (const { id, similarity } of candidates.slice(0, neighbours)) kept[i]![id] = Math.fround(similarity);
  }
  return {
    kept,
    popularity,
    score(history) {
      if (history.length === 0) return popularity.slice();
      const scores = new Array<number>(n).fill(0);
      history.forEach((item, t) => {
        const weight = decay === 1 ? 1 : Math.pow(decay, history.length - 1 - t);
        for (let j = 1; j <= n; j++) if (kept[item]![j]! > 0) scores[j - 1]! += weight * kept[item]![j]!;
      });
      return scores;
    },
  };
}

/** The naive recommendation list: positive scores first (ties to the lower id), then popularity. */
function naiveList(knn: NaiveKnn, history: readonly number[], k: number): number[] {
  const scores = knn.score(history);
  const excluded = new Set(history);
  const value = (id: number): number => Math.fround(scores[id - 1]!);
  const ids = Array.from({ length: scores.length }, (_, j) => j + 1).filter((id) => !excluded.has(id));
  if (history.length === 0) return ids.sort((a, b) => value(b) - value(a) || a - b).slice(0, k);
  const positive = ids.filter((id) => scores[id - 1]! > 0).sort((a, b) => value(b) - value(a) || a - b);
  const rest = ids.filter((id) => scores[id - 1]! === 0).sort((a, b) => knn.popularity[b - 1]! - knn.popularity[a - 1]! || a - b);
  return [...positive, ...rest].slice(0, k);
}

describe('fitItemKnn', () => {
  it('computes cosine co-occurrence on a hand-checked example', async () => {
    // users: {1,2,3}, {1,2}, {2,3}; pairs within the whole sequence
    const dataset = createSequenceDataset({ sequences: [[1, 2, 3], [1, 2], [3, 2]], itemCount: 4 });
    const model = await fitItemKnn({ train: dataset }, { window: 10, recencyDecay: 1 });
    // sim(1,2) = 2 / sqrt(2·3), sim(1,3) = 1 / sqrt(2·2), sim(2,3) = 2 / sqrt(3·2)
    const scores = await model.score([[1], [1, 3]], [[2, 3, 4], [2, 4]]);
    expect(scores[0]).toBeCloseTo(2 / Math.sqrt(6), 6);
    expect(scores[1]).toBeCloseTo(1 / 2, 6);
    expect(scores[2]).toBe(0);
    expect(scores[3]).toBeCloseTo(2 / Math.sqrt(6) + 2 / Math.sqrt(6), 6);
    expect(scores[4]).toBe(0);
    // item 4 has no neighbour: it follows the positive items at score 0
    const result = await model.recommend([[1]], { k: 3 });
    expect(Array.from(result.items)).toEqual([2, 3, 4]);
    expect(result.scores[2]).toBe(0);
    expect(model.scoreScale).toBe('count');
  });

  for (const [neighbours, window, decay] of [
    [100, 5, 0.8],
    [2, 100, 1],
    [3, 1, 0.5],
  ] as const) {
    it(`agrees with a naive dense implementation (neighbours ${neighbours}, window ${window}, recencyDecay ${decay})`, async () => {
      for (const seed of [11, 12, 13]) {
        const dataset = randomDataset(seed, 40, 14, 9);
        const model = await fitItemKnn({ train: dataset }, { neighbours, window, recencyDecay: decay });
        const naive = naiveKnn(dataset, neighbours, window, decay);
        const all = Array.from({ length: dataset.itemCount }, (_, j) => j + 1);
        const histories = [...sequencesOf(dataset).slice(0, 15), [14, 1, 14], []];
        const scores = await model.score(histories, histories.map(() => all));
        const k = 8;
        const result = await model.recommend(histories, { k });
        histories.forEach((history, u) => {
          const reference = naive.score(history);
          expect(Array.from(scores.subarray(u * all.length, (u + 1) * all.length)), `seed ${seed} user ${u} scores`).toEqual(reference.map(Math.fround));
          expect(Array.from(result.items.subarray(u * k, u * k + result.lengths[u]!)), `seed ${seed} user ${u} list`).toEqual(naiveList(naive, history, k));
        });
      }
    });
  }

  it('stores neighbour lists as int32 / float32 tensors and loads them back, refusing damaged ones', async () => {
    const dataset = randomDataset(21, 40, 14, 9);
    const model = await fitItemKnn({ train: dataset }, { neighbours: 4 });
    const directory = mkdtempSync(join(tmpdir(), 'genrec-item-knn-'));
    directories.push(directory);
    await model.save(join(directory, 'model'));
    const tensors = openModelFolder(join(directory, 'model'), 'item-knn', [1]).readTensors();
    expect(tensors.get('neighbours.offsets')).toMatchObject({ dtype: 'int32', shape: [15] });
    expect(tensors.get('neighbours.ids')?.dtype).toBe('int32');
    expect(tensors.get('neighbours.similarities')?.dtype).toBe('float32');
    const offsets = tensors.get('neighbours.offsets')!.data as Int32Array;
    for (let item = 1; item <= 14; item++) expect(offsets[item]! - offsets[item - 1]!).toBeLessThanOrEqual(4);
    const loaded = await loadItemKnn(join(directory, 'model'));
    expect(loaded.describe().hyperParameters).toEqual({ seed: 0, neighbours: 4, window: 3, recencyDecay: 0.6 });

    const ids = Int32Array.from(tensors.get('neighbours.ids')!.data as Int32Array);
    ids[0] = 99;
    const damaged = join(directory, 'damaged');
    await writeModelFolder(damaged, {
      model: 'item-knn',
      modelFormatVersion: 1,
      description: model.describe(),
      retiredItems: [],
      tensors: { ...Object.fromEntries(tensors), 'neighbours.ids': createTensor(ids, [ids.length]) },
    });
    await expect(loadItemKnn(damaged)).rejects.toSatisfy((error) => GenrecError.isInstance(error) && error.code === 'CORRUPT_ARTIFACT' && /99/.test(error.message));
    const tooMany = join(directory, 'too-many');
    await writeModelFolder(tooMany, {
      model: 'item-knn',
      modelFormatVersion: 1,
      description: { ...model.describe(), hyperParameters: { seed: 0, neighbours: 1, window: 5, recencyDecay: 0.8 } },
      retiredItems: [],
      tensors: Object.fromEntries(tensors),
    });
    await expect(loadItemKnn(tooMany)).rejects.toSatisfy((error) => GenrecError.isInstance(error) && error.code === 'CORRUPT_ARTIFACT');
  });
});
