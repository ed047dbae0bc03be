import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TemporaryFolders, fuzzInChild, fuzzRuns, type FuzzReport } from '@genrec/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { LONG_RUN, sourcePath } from './test-helpers.js';

// Property-based fuzzing of the saved index folders (fast-check, through core's fuzzInChild: every
// loader runs in a child process, so a native crash fails the test instead of killing the runner).
// Mutated files must give a GenrecError or an index that passes its invariants; never another
// exception, a crash or a hang. 1,000 cases per loader by default, 20,000 with GENREC_LONG_RUN=1.

const RUNS = fuzzRuns();
const SEED = Number(process.env.GENREC_FUZZ_SEED ?? 20_261_205);

// the fuzz modules' folders, removed after the children (fuzzInChild settles once its child has exited)
const folders = new TemporaryFolders();
afterAll(() => folders.removeAll());

/** A fuzz module for fuzzInChild: `fuzz({ runs, seed })` calls fuzzIndexLoader with these options. */
function fuzzModule(options: string): string {
  const path = join(folders.create('genrec-ann-fuzz-module-'), 'fuzz-module.ts');
  writeFileSync(
    path,
    `import { fuzzIndexLoader } from ${JSON.stringify(sourcePath('test-fuzz.ts'))};
export function fuzz(run: { runs: number; seed: number }) {
  return fuzzIndexLoader({ ...run, ${options} });
}
`,
  );
  return path;
}

function check(report: FuzzReport, layers: Array<'checksum' | 'content' | 'hnsw layout' | 'usearch layout'>): void {
  console.log(`[ann fuzz] ${report.reader}: ${report.cases} cases (seed ${SEED}), slowest ${report.slowestCaseMs} ms, ${JSON.stringify(report.outcomes)}`);
  expect(report.cases).toBe(RUNS);
  expect(report.outcomes.accepted ?? 0).toBeGreaterThan(0);
  // the layers behind the checksum list are reached, not only the checksum list itself
  for (const layer of layers) expect(report.outcomes[`GenrecError:CORRUPT_ARTIFACT (${layer})`] ?? 0).toBeGreaterThan(RUNS / 20);
}

const TIMEOUT = LONG_RUN ? 1_800_000 : 300_000;

describe(`fuzzed index folders (${RUNS} cases per loader)`, () => {
  it('FlatIndex folders: GenrecError or a valid index', async () => {
    check(await fuzzInChild({ module: fuzzModule("kind: 'flat'"), runs: RUNS, seed: SEED, timeoutMs: TIMEOUT }), ['checksum', 'content']);
  }, TIMEOUT + 60_000);

  it('HnswIndex folders: GenrecError or a valid index, never a crash', async () => {
    check(await fuzzInChild({ module: fuzzModule("kind: 'hnsw'"), runs: RUNS, seed: SEED, timeoutMs: TIMEOUT }), ['checksum', 'content', 'hnsw layout']);
  }, TIMEOUT + 60_000);

  it('index.hnsw alone, re-signed (the layout validator): GenrecError or a valid index, never a crash', async () => {
    check(await fuzzInChild({ module: fuzzModule("kind: 'hnsw', target: 'data-file'"), runs: RUNS, seed: SEED, timeoutMs: TIMEOUT }), ['hnsw layout']);
  }, TIMEOUT + 60_000);

  it('UsearchIndex folders: GenrecError or a valid index, never a crash', async () => {
    check(await fuzzInChild({ module: fuzzModule("kind: 'usearch'"), runs: RUNS, seed: SEED, timeoutMs: TIMEOUT }), ['checksum', 'content', 'usearch layout']);
  }, TIMEOUT + 60_000);

  it('index.usearch alone, re-signed (the layout validator): GenrecError or a valid index, never a crash', async () => {
    check(await fuzzInChild({ module: fuzzModule("kind: 'usearch', target: 'data-file'"), runs: RUNS, seed: SEED, timeoutMs: TIMEOUT }), ['usearch layout']);
  }, TIMEOUT + 60_000);
});
