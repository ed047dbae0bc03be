// Smoke test of the quickstart on tiny data: every step runs, the table is printed and the report
// holds the trained models (its browser check lives in @genrec/report's tests).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GENERATIVE_MODEL, TIGER_CHOICE, runQuickstart, type GenerativeChoice } from './quickstart.js';

const folder = mkdtempSync(join(tmpdir(), 'genrec-quickstart-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

async function tiny(out: string, generative: GenerativeChoice | null) {
  let stdout = '';
  let stderr = '';
  const said: string[] = [];
  const result = await runQuickstart({
    out,
    generative,
    data: { path: 'synthetic', synthetic: { userCount: 300, itemCount: 120, seed: 3 } },
    epochs: 1,
    io: { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text), isTTY: false }, stdoutIsTTY: false, env: {} },
    say: (line) => said.push(line),
  });
  return { result, stdout, stderr, said };
}

describe('quickstart', () => {
  it('with TIGER in the generative slot: its entry trains over the semantic ids of step 1', async () => {
    const { result, stdout, stderr } = await tiny(join(folder, 'tiger'), TIGER_CHOICE);
    expect(result.exitCode, stderr).toBe(0);
    expect(result.trained).toEqual(['sasrec', 'tiger']);
    expect(stdout).toMatch(/^tiger \(quickstart\)\s+0\.\d{4}/m);
  });

  it('runs ids, training, evaluation and the report on tiny data', async () => {
    const { result, stdout, stderr, said } = await tiny(join(folder, 'out'), GENERATIVE_MODEL);
    expect(result.exitCode, stderr).toBe(0);
    expect(result.trained).toEqual(['sasrec', ...(GENERATIVE_MODEL === null ? [] : [GENERATIVE_MODEL.kind])]);
    expect(said.filter((line) => line.startsWith('$ genrec '))).toHaveLength(result.trained.length + 2);
    expect(stdout).toMatch(/^semantic ids 3 x 32: 120 items/m);
    expect(stdout).toMatch(/^popularity \(baseline\)\s+0\.\d{4}/m);
    for (const kind of result.trained) expect(stdout).toMatch(new RegExp(`^${kind} \\(quickstart\\)\\s+0\\.\\d{4}`, 'm'));
    expect(existsSync(result.report)).toBe(true);
    const html = readFileSync(result.report, 'utf8');
    expect(html).toContain('<title>genrec quickstart</title>');
    expect(html).toContain('id="semantic-ids"');
    expect(html).toContain('sasrec (quickstart)');
  });
});
