// Smoke test of the align example on tiny data (300 users, 120 items, one epoch): every step runs,
// the screen chooses on validation, `genrec align` aligns the chosen configuration and its test
// comparison is printed; the screen (library) and the command line align the same model.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AlignmentRoundRecord, RunMetrics } from '@genrec/cli';
import { runAlignExample } from './align-example.js';

const folder = mkdtempSync(join(tmpdir(), 'genrec-align-example-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('align example', () => {
  it('trains, screens on validation, aligns the chosen configuration and tests it against the un-aligned model', async () => {
    let stdout = '';
    let stderr = '';
    const said: string[] = [];
    const out = join(folder, 'out');
    const result = await runAlignExample({
      out,
      data: { path: 'synthetic', synthetic: { userCount: 300, itemCount: 120, seed: 3 } },
      epochs: 1,
      // 300 users: fewer held-out diagnostic users, half of the rest sampled per round
      budget: { source: 'self-hard-negatives', rounds: 2, userShare: 0.5, seed: 1, diagnosticUsers: 60, klUsers: 30 },
      io: { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text), isTTY: false }, stdoutIsTTY: false, env: {} },
      say: (line) => said.push(line),
    });
    expect(result.exitCode, stderr).toBe(0);
    expect(said.filter((line) => line.startsWith('$ genrec '))).toHaveLength(2);

    // the screen: four configurations, each with pairs in both rounds; the choice is the best validation NDCG@10
    expect(result.screen.map((row) => `${row.configuration.loss} ${row.configuration.beta}`)).toEqual(['dpo 0.1', 'dpo 1', 'sdpo 0.1', 'sdpo 1']);
    for (const row of result.screen) expect(row.pairs.every((pairs) => pairs > 0)).toBe(true);
    const best = Math.max(...result.screen.map((row) => row.validation['ndcg@10']!));
    expect(result.screen.find((row) => row.validation['ndcg@10'] === best)!.configuration).toEqual(result.chosen);
    expect(said.join('\n')).toMatch(/^\(un-aligned\)\s+-\s+-\s+0\s+0\.\d{4}/m);
    expect(said.join('\n')).toMatch(/\(chosen\)/);

    // genrec align ran the chosen configuration: its last round is the screen's row, number for number
    const records = JSON.parse(readFileSync(join(result.run, 'alignment.json'), 'utf8')) as AlignmentRoundRecord[];
    expect(records.at(-1)!.metrics['validation ndcg@10']).toBe(best);
    const stored = JSON.parse(readFileSync(join(result.run, 'config.json'), 'utf8')) as { align: Record<string, unknown> };
    expect(stored.align).toMatchObject({ loss: result.chosen!.loss, beta: result.chosen!.beta, rounds: 2, userShare: 0.5, seed: 1 });

    // the test comparison printed is metrics.json's
    const metrics = JSON.parse(readFileSync(join(result.run, 'metrics.json'), 'utf8')) as RunMetrics;
    expect(result.test).toEqual(metrics.comparison!.seeds[0]!.metrics['ndcg@10']);
    expect(stdout).toMatch(/^sasrec \(aligned\)\s+0\.\d{4}/m);
    expect(stdout).toMatch(/^ndcg@10\s+0\.\d{4}\s+0\.\d{4}\s+[+-]0\.\d{4}/m);
    expect(said.join('\n')).toMatch(/^test NDCG@10 \(300 users\): un-aligned 0\.\d{4} → (dpo|sdpo) β=[\d.]+ 0\.\d{4} \([+-]0\.\d{4}\); paired t-test p = /m);
  });
});
