import { readFileSync } from 'node:fs';
import * as core from '@genrec/core';
import { sharedPath, type SequenceDataset } from '@genrec/core';
import * as data from '@genrec/data';
import * as evaluation from '@genrec/eval';
import { describe, expect, it } from 'vitest';
import * as sasrec from './index.js';
import type { FitSasrecOptions } from './options.js';
import { popularityHitRate } from './test-fixtures.js';

/** The README's new-user script, as it stands between its markers. */
function readmeScript(): string {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const match = /<!-- new-user-script:start -->\s*```ts[^\n]*\n([\s\S]*?)```\s*<!-- new-user-script:end -->/.exec(readme);
  if (!match) throw new Error('README.md has no new-user script between its markers');
  return match[1]!;
}

const MODULES: Record<string, Record<string, unknown>> = { '@genrec/core': core, '@genrec/data': data, '@genrec/eval': evaluation, '@genrec/model-sasrec': sasrec };

/**
 * Runs the script unchanged: its imports are bound to the real packages except `overrides`, and
 * its `console.log` lines are collected.
 */
async function runScript(script: string, overrides: Record<string, unknown>): Promise<string[]> {
  const lines = script.split('\n');
  const names: string[] = [];
  const values: unknown[] = [];
  for (const line of lines.filter((l) => l.startsWith('import '))) {
    const [, list, source] = /^import \{([^}]*)\} from '([^']+)';$/.exec(line) ?? [];
    const module = MODULES[source ?? ''];
    if (!module || list === undefined) throw new Error(`unexpected import in the README script: ${line}`);
    for (const name of list.split(',').map((n) => n.trim())) {
      names.push(name);
      values.push(overrides[name] ?? module[name]);
    }
  }
  const output: string[] = [];
  const fakeConsole = { log: (...parts: unknown[]) => output.push(parts.map(String).join(' ')) };
  const body = lines.filter((l) => !l.startsWith('import ')).join('\n');
  const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (...args: string[]) => (...values: unknown[]) => Promise<void>;
  await new AsyncFunction(...names, 'console', body)(...values, fakeConsole);
  return output;
}

describe('the README new-user script', () => {
  it('is short and free of id arithmetic', () => {
    const code = readmeScript().split('\n').filter((l) => l.trim() !== '' && !l.startsWith('import '));
    expect(code.length).toBeLessThanOrEqual(15);
    expect(code.filter((l) => /[+-]\s*1\b(?![.\d])/.test(l.replace(/\/\/.*$/, '')))).toEqual([]);
  });

  it('runs on the synthetic default (cheap options merged in) and beats popularity', async () => {
    const synthetic = data.generateSyntheticDataset();
    const cheap: FitSasrecOptions = { hiddenSize: 32, blocks: 1, maxLength: 20, dropout: 0.1, learningRate: 0.005, batchSize: 128, epochs: 3, threads: 1 };
    const output = await runScript(readmeScript(), {
      readSequenceFile: async (): Promise<SequenceDataset> => synthetic.dataset,
      fitSasrec: (fitData: Parameters<typeof sasrec.fitSasrec>[0], options: FitSasrecOptions) => sasrec.fitSasrec(fitData, { ...options, ...cheap }),
    });
    expect(output.filter((l) => l.startsWith('epoch ')).length).toBe(3);
    expect(output.find((l) => l.startsWith('recommended'))?.split(/[ ,]+/).length).toBe(11);
    const [, recall, ndcg] = /test Recall@10 ([\d.]+), NDCG@10 ([\d.]+)/.exec(output.at(-1) ?? '') ?? [];
    const split = data.leaveOneOutSplit(synthetic.dataset);
    expect(Number(recall)).toBeGreaterThan(3 * popularityHitRate(split.train, synthetic.dataset.itemCount, split.test, 10));
    expect(Number(ndcg)).toBeGreaterThan(0);
  });

  const toys = sharedPath('data', 'amazon2014-toys', 'Toys_and_Games.txt');
  const long = process.env.GENREC_LONG_RUN === '1';
  const reason = !toys ? 'the shared data (../shared/data/amazon2014-toys) is absent' : !long ? 'set GENREC_LONG_RUN=1 to train 20 epochs on Toys (~6 minutes)' : undefined;
  if (reason) console.info(`README script on Toys skipped: ${reason}`);
  it.skipIf(reason !== undefined)(`runs as written on Toys${reason ? ` — skipped: ${reason}` : ''}`, async () => {
    const output = await runScript(readmeScript(), { readSequenceFile: () => data.readSequenceFile(toys!) });
    const [, recall] = /test Recall@10 ([\d.]+)/.exec(output.at(-1) ?? '') ?? [];
    expect(Number(recall)).toBeGreaterThan(0.08);
  }, 1_800_000);
});
