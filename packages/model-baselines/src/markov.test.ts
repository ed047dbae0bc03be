import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GenrecError, createTensor, openModelFolder, writeModelFolder, type ProgressEvent } from '@genrec/core';
import type { InteractionDataset } from '@genrec/data';
import { MIN_MARKOV_SMOOTHING, fitMarkov, loadMarkov } from './index.js';
import { naiveRanking, randomDataset, sequencesOf } from './test-helpers.js';

const directories: string[] = [];
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

/**
 * A naive Markov chain of any order with the same smoothing, from plain maps: for each context
 * length a map "c1,c2,…" → dense successor counts.
 */
function naiveMarkov(dataset: InteractionDataset, order: number, alpha: number): (history: readonly number[]) => number[] {
  const n = dataset.itemCount;
  const sequences = sequencesOf(dataset);
  const popularity = new Array<number>(n + 1).fill(0);
  let total = 0;
  for (const sequence of sequences) for (const item of sequence) (popularity[item]!++, total++);
  const prior = Array.from({ length: n }, (_, j) => (popularity[j + 1]! + 1) / (total + n));
  const tables: Map<string, number[]>[] = [];
  for (let o = 1; o <= order; o++) {
    const table = new Map<string, number[]>();
    for (const sequence of sequences) {
      for (let t = o; t < sequence.length; t++) {
        const key = sequence.slice(t - o, t).join(',');
        const row = table.get(key) ?? new Array<number>(n).fill(0);
        row[sequence[t]! - 1]!++;
        table.set(key, row);
      }
    }
    tables.push(table);
  }
  return (history) => {
    let p = prior.slice();
    for (let o = 1; o <= order; o++) {
      if (history.length < o) break;
      const row = tables[o - 1]!.get(history.slice(history.length - o).join(','));
      if (row === undefined) continue;
      const rowTotal = row.reduce((sum, count) => sum + count, 0);
      p = p.map((value, j) => (row[j]! + alpha * value) / (rowTotal + alpha));
    }
    return p.map(Math.log);
  };
}

describe('fitMarkov', () => {
  it('scores log P(j | last item) of a dense first-order transition matrix on a tiny dataset', async () => {
    // transitions: 1→2 (x2), 2→3 (x2), 3→1, 3→4; popularity 1:2 2:2 3:2 4:1, 7 interactions, 4 items
    const dataset = randomDataset(0, 1, 4);
    const tiny = { ...dataset, userCount: 2, offsets: Int32Array.from([0, 4, 7]), items: Int32Array.from([1, 2, 3, 1, 2, 3, 4]), userIds: Int32Array.from([1, 2]) };
    const model = await fitMarkov({ train: tiny }, { smoothing: 0.5 });
    const prior = [3 / 11, 3 / 11, 3 / 11, 2 / 11];
    // after item 3: counts to 1 and 4 are 1 each, total 2
    const expected = prior.map((p, j) => Math.log(((j === 0 || j === 3 ? 1 : 0) + 0.5 * p) / 2.5));
    const scores = await model.score([[2, 3]], [[1, 2, 3, 4]]);
    for (let j = 0; j < 4; j++) expect(scores[j]).toBeCloseTo(expected[j]!, 6);
    const result = await model.recommend([[2, 3]], { k: 2 });
    expect(Array.from(result.items)).toEqual([1, 4]);
    expect(model.scoreScale).toBe('log-probability');
  });

  for (const order of [1, 2, 3]) {
    it(`agrees with a naive map-based chain of order ${order} on random data (scores, rankings, back-off)`, async () => {
      for (const seed of [1, 2, 3]) {
        const dataset = randomDataset(seed);
        const alpha = [0.3, 1, 4][seed - 1]!;
        const model = await fitMarkov({ train: dataset }, { order, smoothing: alpha });
        const naive = naiveMarkov(dataset, order, alpha);
        const all = Array.from({ length: dataset.itemCount }, (_, j) => j + 1);
        // training prefixes, unseen contexts (back-off) and the empty history
        const histories = [...sequencesOf(dataset).slice(0, 12), [12, 12, 11], [5], []];
        const scores = await model.score(histories, histories.map(() => all));
        const result = await model.recommend(histories, { k: 6 });
        histories.forEach((history, u) => {
          const reference = naive(history);
          for (let j = 0; j < all.length; j++) {
            const actual = scores[u * all.length + j]!;
            expect(Math.abs(actual - reference[j]!), `seed ${seed} user ${u} item ${j + 1}`).toBeLessThan(1e-6 * Math.max(1, Math.abs(reference[j]!)));
          }
          const expectedItems = naiveRanking(reference, new Set(history), 6);
          expect(Array.from(result.items.subarray(u * 6, u * 6 + result.lengths[u]!)), `seed ${seed} user ${u}`).toEqual(expectedItems);
        });
      }
    });
  }

  it('reports the mean negative log-likelihood of each training interaction given its prefix as the epoch loss', async () => {
    const dataset = randomDataset(4);
    const events: ProgressEvent[] = [];
    await fitMarkov({ train: dataset }, { order: 2, onProgress: (event) => events.push(event) });
    const naive = naiveMarkov(dataset, 2, 1);
    let sum = 0;
    let count = 0;
    for (const sequence of sequencesOf(dataset)) {
      for (let t = 0; t < sequence.length; t++) {
        sum -= naive(sequence.slice(0, t))[sequence[t]! - 1]!;
        count++;
      }
    }
    const epochEnd = events.find((event) => event.type === 'epoch-end');
    expect(epochEnd?.type === 'epoch-end' && epochEnd.loss).toBeCloseTo(sum / count, 9);
  });

  it('stores each context length as int32 tensors and loads them back, refusing damaged ones', async () => {
    const dataset = randomDataset(5);
    const model = await fitMarkov({ train: dataset }, { order: 2 });
    const directory = mkdtempSync(join(tmpdir(), 'genrec-markov-'));
    directories.push(directory);
    await model.save(join(directory, 'model'));
    const tensors = openModelFolder(join(directory, 'model'), 'markov', [1]).readTensors();
    expect([...tensors.keys()].sort()).toEqual(['order1.contexts', 'order1.counts', 'order1.next', 'order1.offsets', 'order2.contexts', 'order2.counts', 'order2.next', 'order2.offsets', 'popularity']);
    for (const tensor of tensors.values()) expect(tensor.dtype).toBe('int32');
    const contexts = tensors.get('order2.contexts')!;
    expect(contexts.shape[1]).toBe(2);
    const loaded = await loadMarkov(join(directory, 'model'));
    const all = Array.from({ length: dataset.itemCount }, (_, j) => j + 1);
    expect(Array.from(await loaded.score([[3, 4]], [all]))).toEqual(Array.from(await model.score([[3, 4]], [all])));

    // contexts out of order
    const swapped = Int32Array.from(contexts.data as Int32Array);
    [swapped[0], swapped[2]] = [swapped[2]!, swapped[0]!];
    [swapped[1], swapped[3]] = [swapped[3]!, swapped[1]!];
    const damaged = join(directory, 'damaged');
    await writeModelFolder(damaged, {
      model: 'markov',
      modelFormatVersion: 1,
      description: model.describe(),
      retiredItems: [],
      tensors: { ...Object.fromEntries(tensors), 'order2.contexts': createTensor(swapped, contexts.shape) },
    });
    await expect(loadMarkov(damaged)).rejects.toSatisfy((error) => GenrecError.isInstance(error) && error.code === 'CORRUPT_ARTIFACT');
    const badOptions = join(directory, 'bad-options');
    await writeModelFolder(badOptions, {
      model: 'markov',
      modelFormatVersion: 1,
      description: { ...model.describe(), hyperParameters: { seed: 0, order: 2, smoothing: -1 } },
      retiredItems: [],
      tensors: Object.fromEntries(tensors),
    });
    await expect(loadMarkov(badOptions)).rejects.toSatisfy((error) => GenrecError.isInstance(error) && error.code === 'CORRUPT_ARTIFACT' && /smoothing/.test(error.message));
  });

  it('refuses a smoothing below MIN_MARKOV_SMOOTHING (found by the model-folder fuzz: unseen items underflowed to -Infinity and rows came back short)', async () => {
    const dataset = randomDataset(5);
    for (const smoothing of [1e-300, 5e-324, 1e-10]) {
      await expect(fitMarkov({ train: dataset }, { order: 2, smoothing })).rejects.toSatisfy((error) => GenrecError.isInstance(error) && error.code === 'INVALID_OPTION' && /smoothing must be a finite number in \[1e-9, 1000000000000\]/.test(error.message));
    }
    // the smallest smoothing at the largest order keeps every score finite: full rows of the 9 items left
    const model = await fitMarkov({ train: dataset }, { order: 3, smoothing: MIN_MARKOV_SMOOTHING });
    const histories = [[1, 2, 3], ...sequencesOf(dataset).slice(0, 5).map((sequence) => sequence.slice(0, 3))];
    const result = await model.recommend(histories, { k: 9, excludeHistory: false });
    expect(Array.from(result.lengths)).toEqual(histories.map(() => 9));
    for (const score of result.scores) expect(Number.isFinite(score)).toBe(true);
    // a saved manifest holding 1e-300 (as the fuzz wrote) is damaged
    const directory = mkdtempSync(join(tmpdir(), 'genrec-markov-'));
    directories.push(directory);
    const saved = await fitMarkov({ train: dataset }, { order: 2 });
    await saved.save(join(directory, 'model'));
    const tensors = openModelFolder(join(directory, 'model'), 'markov', [1]).readTensors();
    await writeModelFolder(join(directory, 'tiny-smoothing'), {
      model: 'markov',
      modelFormatVersion: 1,
      description: { ...saved.describe(), hyperParameters: { seed: 0, order: 2, smoothing: 1e-300 } },
      retiredItems: [],
      tensors: Object.fromEntries(tensors),
    });
    await expect(loadMarkov(join(directory, 'tiny-smoothing'))).rejects.toSatisfy((error) => GenrecError.isInstance(error) && error.code === 'CORRUPT_ARTIFACT' && /smoothing/.test(error.message));
  });
});
