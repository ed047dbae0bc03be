import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { generateSyntheticDataset, leaveOneOutSplit } from '@genrec/data';
import { fitMarkov, loadMarkov } from './index.js';

// The README's example, as written (with a temporary folder instead of runs/markov).
it('runs the README example', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'genrec-readme-'));
  try {
    const { dataset, catalog } = generateSyntheticDataset();
    const split = leaveOneOutSplit(dataset, { maxHistoryLength: 50 });
    const model = await fitMarkov({ train: split.train, catalog }, { order: 1, smoothing: 1 });
    const { items, scores } = await model.recommend([[17, 4, 250]], { k: 10 }); // history excluded
    model.retireItems([1234]); // sold out: never recommended again, no refit
    await model.save(join(directory, 'markov'));
    const same = await loadMarkov(join(directory, 'markov'));
    expect(items.length).toBe(10);
    expect([...items].some((id) => [17, 4, 250].includes(id))).toBe(false);
    expect(scores[0]!).toBeLessThan(0);
    expect(Array.from(same.retiredItems)).toEqual([1234]);
    const again = await same.recommend([[17, 4, 250]], { k: 10 });
    const withoutRetired = Array.from(items).filter((id) => id !== 1234);
    expect(Array.from(again.items).slice(0, withoutRetired.length)).toEqual(withoutRetired);
    expect(Array.from(again.items)).not.toContain(1234);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});
