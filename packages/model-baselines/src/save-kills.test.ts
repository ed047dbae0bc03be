import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadRecommender } from '@genrec/core';
import { TemporaryFolders, killDuringSaves } from '@genrec/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { fitMarkov, loadMarkov } from './markov.js';
import { randomDataset } from './test-helpers.js';

const LONG_RUN = process.env.GENREC_LONG_RUN === '1';
const KILLS = LONG_RUN ? 200 : 20;
const USERS = 3000;
const HISTORIES = [[1, 2, 3], [40], [7, 7, 9]];

/** Item count of round `round`'s model: the loaded version names the round it came from. */
const itemsOf = (round: number): number => 200 + (round % 97);

// removed after the file's tests (killDuringSaves settles once its last child has exited)
const folders = new TemporaryFolders();
afterAll(() => folders.removeAll());

/**
 * A module for the kill harness: every round fits a second-order Markov model on a dataset whose
 * catalogue size encodes the round (`itemsOf`), then saves it as a model folder.
 */
function saveModule(): string {
  const module = join(folders.create('genrec-model-kill-module-'), 'save-module.ts');
  const source = (file: string) => JSON.stringify(new URL(file, import.meta.url).pathname);
  writeFileSync(
    module,
    `import { fitMarkov } from ${source('./markov.ts')};
import { randomDataset } from ${source('./test-helpers.ts')};
export async function save(path: string, round: number): Promise<void> {
  const items = 200 + (round % 97);
  const model = await fitMarkov({ train: randomDataset(items, ${USERS}, items, 12) }, { order: 2 });
  await model.save(path);
}
`,
  );
  return module;
}

describe(`kill-mid-save of a model folder (${KILLS} kills${LONG_RUN ? ', long run' : ''})`, () => {
  it('the final name always loads a complete model, old or new, that recommends as it did when saved', async () => {
    const path = join(folders.create('genrec-model-kill-'), 'model');
    const expected = new Map<number, number[]>();
    const { completedSaves } = await killDuringSaves({
      module: saveModule(),
      path,
      kills: KILLS,
      seed: 11,
      delayMs: [0, 80],
      async verify(target) {
        const model = await loadMarkov(target);
        const items = model.itemCount;
        expect(items).toBeGreaterThanOrEqual(200);
        expect(items).toBeLessThan(297);
        const got = Array.from((await model.recommend(HISTORIES, { k: 10 })).items);
        if (!expected.has(items)) {
          // the same round fitted here: the loaded folder must recommend exactly what it did
          const reference = await fitMarkov({ train: randomDataset(items, USERS, items, 12) }, { order: 2 });
          expected.set(items, Array.from((await reference.recommend(HISTORIES, { k: 10 })).items));
        }
        expect(got).toEqual(expected.get(items));
        expect((await loadRecommender(target, { loaders: { markov: loadMarkov } })).kind).toBe('markov');
      },
    });
    expect(completedSaves).toBeGreaterThan(0);
    // the next save removes what the killed writers left behind: the pointer and one version remain
    const model = await fitMarkov({ train: randomDataset(itemsOf(1), USERS, itemsOf(1), 12) }, { order: 2 });
    await model.save(path);
    expect(readdirSync(path).sort()).toHaveLength(2);
    expect(readdirSync(path)).toContain('CURRENT');
  }, 900_000);
});
