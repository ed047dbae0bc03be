import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { fitSmall, smallSplit } from './test-fixtures.js';

const folder = mkdtempSync(join(tmpdir(), 'tiger-fresh-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const index = fileURLToPath(new URL('./index.ts', import.meta.url));

describe('a model saved here and loaded in a fresh process', () => {
  for (const architecture of ['decoder-only', 'encoder-decoder'] as const) {
    it(`${architecture}: gives identical recommendations and scores`, async () => {
      const model = await fitSmall(architecture, { epochs: 1 });
      const { split } = smallSplit();
      const histories = Array.from({ length: 20 }, (_, u) => Array.from(split.test.historyItems.subarray(split.test.historyOffsets[u]!, split.test.historyOffsets[u + 1]!)));
      const candidates = histories.map((_, u) => [1 + u, 1 + ((u * 31) % model.itemCount)]);
      const directory = join(folder, architecture);
      try {
        model.retireItems([(await model.recommend(histories.slice(0, 1), { k: 1 })).items[0]!]);
        await model.save(directory);
        const here = await model.recommend(histories, { k: 10 });
        const scores = await model.score(histories, candidates);
        const script = join(folder, `${architecture}.mts`);
        writeFileSync(
          script,
          `import { loadTiger } from ${JSON.stringify(index)};\n` +
            `const model = await loadTiger(${JSON.stringify(directory)});\n` +
            `const histories = ${JSON.stringify(histories)};\n` +
            `const result = await model.recommend(histories, { k: 10 });\n` +
            `const scores = await model.score(histories, ${JSON.stringify(candidates)});\n` +
            `console.log(JSON.stringify({ items: Array.from(result.items), scores: Array.from(result.scores), candidateScores: Array.from(scores), retired: Array.from(model.retiredItems) }));\n` +
            `await model.dispose();\n`,
        );
        const child = spawnSync(process.execPath, ['--conditions=@genrec/source', '--import', tsxLoader, script], { encoding: 'utf8', timeout: 120_000 });
        expect(child.status, child.stderr).toBe(0);
        const there = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as { items: number[]; scores: number[]; candidateScores: number[]; retired: number[] };
        expect(there.retired).toEqual(Array.from(model.retiredItems));
        expect(there.items).toEqual(Array.from(here.items));
        expect(there.scores).toEqual(Array.from(here.scores));
        expect(there.candidateScores).toEqual(Array.from(scores));
      } finally {
        await model.dispose();
      }
    });
  }
});
