import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GenrecError, createTensor, openModelFolder, writeModelFolder } from '@genrec/core';
import { fitItemKnn, loadItemKnn } from './item-knn.js';
import { checkCompressedRows } from './load-baseline.js';
import { randomDataset } from './test-helpers.js';

const directories: string[] = [];
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

const corrupt = (message: string): GenrecError => new GenrecError('CORRUPT_ARTIFACT', message);

describe('checkCompressedRows', () => {
  it('accepts well-formed rows and names the first problem of damaged ones', () => {
    const ids = Int32Array.from([1, 4, 2, 3, 5]);
    expect(() => checkCompressedRows('x', Int32Array.from([0, 2, 2, 5]), ids, 3, 5, true, corrupt)).not.toThrow();
    expect(() => checkCompressedRows('x', Int32Array.from([0, 2, 5]), ids, 3, 5, true, corrupt)).toThrow('tensor "x" offsets must hold 4 entries from 0 to 5');
    expect(() => checkCompressedRows('x', Int32Array.from([0, 3, 2, 5]), ids, 3, 5, true, corrupt)).toThrow('tensor "x" offsets decrease at row 1');
    expect(() => checkCompressedRows('x', Int32Array.from([0, 2, 2, 5]), ids, 3, 4, true, corrupt)).toThrow('tensor "x" holds item id 5 outside 1..4');
    expect(() => checkCompressedRows('x', Int32Array.from([0, 3, 3, 5]), ids, 3, 5, true, corrupt)).toThrow('tensor "x" row 0 is not strictly ascending');
    expect(() => checkCompressedRows('x', Int32Array.from([0, 3, 3, 5]), ids, 3, 5, false, corrupt)).not.toThrow();
  });

  it('refuses an offset past the end before a decrease without walking it (found by the model-folder fuzz: up to 2^31 steps)', () => {
    const ids = Int32Array.from([1, 2, 3]);
    const start = performance.now();
    expect(() => checkCompressedRows('x', Int32Array.from([0, 2 ** 31 - 1, 1, 3]), ids, 3, 5, true, corrupt)).toThrow('tensor "x" offsets decrease at row 1');
    expect(performance.now() - start).toBeLessThan(500);
  });

  it('an item-kNN folder whose neighbour offsets jump past the end fails to load at once with CORRUPT_ARTIFACT', async () => {
    const model = await fitItemKnn({ train: randomDataset(5) }, { neighbours: 4 });
    const directory = mkdtempSync(join(tmpdir(), 'genrec-load-baseline-'));
    directories.push(directory);
    await model.save(join(directory, 'model'));
    const tensors = openModelFolder(join(directory, 'model'), 'item-knn', [1]).readTensors();
    const offsets = Int32Array.from(tensors.get('neighbours.offsets')!.data as Int32Array);
    offsets[1] = 2 ** 31 - 1;
    await writeModelFolder(join(directory, 'damaged'), {
      model: 'item-knn',
      modelFormatVersion: 1,
      description: model.describe(),
      retiredItems: [],
      tensors: { ...Object.fromEntries(tensors), 'neighbours.offsets': createTensor(offsets, [offsets.length]) },
    });
    const start = performance.now();
    await expect(loadItemKnn(join(directory, 'damaged'))).rejects.toSatisfy((error) => GenrecError.isInstance(error) && error.code === 'CORRUPT_ARTIFACT' && /offsets decrease at row 1/.test(error.message));
    expect(performance.now() - start).toBeLessThan(1000);
  });
});
