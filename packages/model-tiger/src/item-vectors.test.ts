import type { ProgressEvent } from '@genrec/core';
import { fitSasrec } from '@genrec/model-sasrec';
import { describe, expect, it } from 'vitest';
import { buildItemVectors } from './item-vectors.js';
import { resolveTigerSpec } from './options.js';
import { smallSplit } from './test-fixtures.js';

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
