import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TemporaryFolders, killDuringSaves } from '@genrec/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { ResidualQuantizer } from './residual-quantizer.js';
import { SemanticIds } from './semantic-ids.js';
import { SetIds } from './set-ids.js';
import { gaussianMatrix, LONG_RUN, sourcePath } from './test-helpers.js';

const KILLS = LONG_RUN ? 200 : 20;

// removed after the file's tests (killDuringSaves settles once its last child has exited)
const folders = new TemporaryFolders();
afterAll(() => folders.removeAll());

function moduleFile(source: string): string {
  const path = join(folders.create('genrec-semantic-id-kill-module-'), 'save-module.ts');
  writeFileSync(path, source);
  return path;
}

/**
 * The tables the semantic-id child cycles through: fixed codebooks, codes `(i (3 + l) + variant) mod 16`
 * (colliding tuples get the collision token), so parent and child build the same five tables fast.
 * The child module repeats this function verbatim.
 */
function semanticIdTable(variant: number): SemanticIds {
  const quantizer = new ResidualQuantizer([gaussianMatrix(16, 8, 1), gaussianMatrix(16, 8, 2)]);
  const ids = Int32Array.from({ length: 20000 }, (_, i) => i + 1);
  const codes = Int32Array.from({ length: 40000 }, (_, j) => ((j >> 1) * (3 + (j & 1)) + variant) % 16);
  return SemanticIds.fromCodes(quantizer, ids, codes, 'always');
}

describe(`kill-mid-save (${KILLS} kills per kind${LONG_RUN ? ', long run' : ''})`, () => {
  it('SemanticIds: the final name always loads one complete table, old or new', async () => {
    const module = moduleFile(`import { SemanticIds } from ${JSON.stringify(sourcePath('semantic-ids.ts'))};
import { ResidualQuantizer } from ${JSON.stringify(sourcePath('residual-quantizer.ts'))};
import { gaussianMatrix } from ${JSON.stringify(sourcePath('test-helpers.ts'))};
function semanticIdTable(variant: number): SemanticIds {
  const quantizer = new ResidualQuantizer([gaussianMatrix(16, 8, 1), gaussianMatrix(16, 8, 2)]);
  const ids = Int32Array.from({ length: 20000 }, (_, i) => i + 1);
  const codes = Int32Array.from({ length: 40000 }, (_, j) => ((j >> 1) * (3 + (j & 1)) + variant) % 16);
  return SemanticIds.fromCodes(quantizer, ids, codes, 'always');
}
export async function save(path: string, round: number): Promise<void> {
  await semanticIdTable(round % 5).save(path);
}
`);
    const expected = Array.from({ length: 5 }, (_, variant) => Array.from(semanticIdTable(variant).table.codes).join());
    const path = join(folders.create('genrec-semantic-id-kill-'), 'ids');
    const { completedSaves } = await killDuringSaves({
      module,
      path,
      kills: KILLS,
      seed: 5,
      delayMs: [0, 50],
      async verify(target) {
        const loaded = await SemanticIds.load(target);
        expect(loaded.table.itemCount).toBe(20000);
        expect(expected).toContain(Array.from(loaded.table.codes).join());
      },
    });
    expect(completedSaves).toBeGreaterThan(0);
    await (await SemanticIds.load(path)).save(path);
    expect(readdirSync(path)).toHaveLength(2);
  }, 600_000);

  it('SetIds: the final name always loads one complete table, old or new', async () => {
    const module = moduleFile(`import { createMatrix } from ${JSON.stringify(sourcePath('../../core/src/index.ts'))};
import { SetIds } from ${JSON.stringify(sourcePath('set-ids.ts'))};
const ids = Int32Array.from({ length: 20000 }, (_, i) => i + 1);
export async function save(path: string, round: number): Promise<void> {
  const r = round % 97;
  const slots = [createMatrix(20000, 16), createMatrix(20000, 24)];
  slots[0].data.fill(r);
  slots[1].data.fill(r + 1);
  await SetIds.continuous(ids, slots, [1, r + 2]).save(path);
}
`);
    const path = join(folders.create('genrec-set-ids-kill-'), 'set-ids');
    const { completedSaves } = await killDuringSaves({
      module,
      path,
      kills: KILLS,
      seed: 6,
      delayMs: [0, 50],
      async verify(target) {
        const loaded = await SetIds.load(target);
        expect(loaded.itemCount).toBe(20000);
        const r = loaded.slotVectors(0).data[0]!;
        // every value of the version belongs to the same round
        expect(loaded.slotVectors(0).data.every((value) => value === r)).toBe(true);
        expect(loaded.slotVectors(1).data.every((value) => value === r + 1)).toBe(true);
        expect(Array.from(loaded.slotWeights)).toEqual([1, r + 2]);
      },
    });
    expect(completedSaves).toBeGreaterThan(0);
    await (await SetIds.load(path)).save(path);
    expect(readdirSync(path)).toHaveLength(2);
  }, 600_000);
});
