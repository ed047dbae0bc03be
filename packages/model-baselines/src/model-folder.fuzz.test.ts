import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TemporaryFolders, fuzzInChild, fuzzRuns, type FuzzReport } from '@genrec/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import type { ModelFolderFuzzOptions } from './model-folder.fuzz.js';

// Property-based fuzzing of the saved model folders (fast-check and core's artifact fuzz kit,
// through core's fuzzInChild: every run in a child process, so a crash or a hang fails the test
// instead of killing the runner). Mutated folders must give a GenrecError or a model that passes
// its invariants; never another exception, a crash or a case over 5 s. 1,000 cases per run by
// default, 20,000 with GENREC_LONG_RUN=1.

const LONG_RUN = process.env.GENREC_LONG_RUN === '1';
const RUNS = fuzzRuns();
const SEED = Number(process.env.GENREC_FUZZ_SEED ?? 20_261_205);
const TIMEOUT = LONG_RUN ? 1_800_000 : 300_000;

// the fuzz modules' folders, removed after the children (fuzzInChild settles once its child has exited)
const folders = new TemporaryFolders();
afterAll(() => folders.removeAll());

/** A fuzz module for fuzzInChild: `fuzz({ runs, seed })` calls fuzzModelFolder with these options. */
function fuzzModule(options: Omit<ModelFolderFuzzOptions, 'runs' | 'seed'>): string {
  const path = join(folders.create('genrec-model-fuzz-module-'), 'fuzz-module.ts');
  writeFileSync(
    path,
    `import { fuzzModelFolder } from ${JSON.stringify(fileURLToPath(new URL('./model-folder.fuzz.ts', import.meta.url)))};
export function fuzz(run: { runs: number; seed: number }) {
  return fuzzModelFolder({ ...run, ...${JSON.stringify(options)} });
}
`,
  );
  return path;
}

function check(report: FuzzReport, classes: string[]): void {
  console.log(`[model fuzz] ${report.reader}: ${report.cases} cases (seed ${SEED}), slowest ${report.slowestCaseMs} ms, ${JSON.stringify(report.outcomes)}`);
  expect(report.cases).toBe(RUNS);
  expect(report.outcomes.accepted ?? 0).toBeGreaterThan(0);
  // the layers behind the checksum list are reached, not only the checksum list itself
  for (const name of classes) expect(report.outcomes[`GenrecError:${name}`] ?? 0).toBeGreaterThan(RUNS / 50);
}

const FOLDER_CLASSES = ['CORRUPT_ARTIFACT (checksum)', 'CORRUPT_ARTIFACT (content)', 'PARSE_ERROR'];

describe(`fuzzed model folders (${RUNS} cases per run)`, () => {
  for (const kind of ['popularity', 'markov', 'item-knn'] as const) {
    it(`${kind} folders: GenrecError or a model that passes the invariants`, async () => {
      check(await fuzzInChild({ module: fuzzModule({ kind }), runs: RUNS, seed: SEED, timeoutMs: TIMEOUT }), FOLDER_CLASSES);
    }, TIMEOUT + 60_000);
  }

  for (const kind of ['markov', 'item-knn'] as const) {
    it(`${kind} weights.safetensors alone, re-signed (the structure checks): GenrecError or a valid model`, async () => {
      check(await fuzzInChild({ module: fuzzModule({ kind, target: 'weights' }), runs: RUNS, seed: SEED, timeoutMs: TIMEOUT }), ['CORRUPT_ARTIFACT (content)']);
    }, TIMEOUT + 60_000);
  }
});
