import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TemporaryFolders, fuzzInChild, fuzzRuns } from '@genrec/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import type { SemanticIdFuzzTarget } from './test-fuzz.js';
import { LONG_RUN, sourcePath } from './test-helpers.js';

// Property-based fuzzing (fast-check, through core's fuzzInChild: each loader in a child process,
// so an allocation that kills V8 fails the test, not the runner) of semantic-id's loaders: mutated
// files must give a GenrecError or data that passes its invariants; never another exception, a
// crash or a hang. 1,000 cases per loader by default, 20,000 with GENREC_LONG_RUN=1.

const RUNS = fuzzRuns();
const SEED = Number(process.env.GENREC_FUZZ_SEED ?? 20_261_205);
const TIMEOUT = LONG_RUN ? 1_800_000 : 300_000;

// the fuzz modules' folders, removed after the children (fuzzInChild settles once its child has exited)
const folders = new TemporaryFolders();
afterAll(() => folders.removeAll());

function fuzzModule(target: SemanticIdFuzzTarget): string {
  const path = join(folders.create('genrec-semantic-id-fuzz-module-'), 'fuzz-module.ts');
  writeFileSync(
    path,
    `import { fuzzSemanticIdLoader } from ${JSON.stringify(sourcePath('test-fuzz.ts'))};
export function fuzz(run: { runs: number; seed: number }) {
  return fuzzSemanticIdLoader({ ...run, target: '${target}' });
}
`,
  );
  return path;
}

const TARGETS: SemanticIdFuzzTarget[] = ['semantic-ids', 'set-ids-discrete', 'set-ids-continuous', 'npy', 'safetensors', 'jsonl'];

describe(`fuzzed semantic-id inputs (${RUNS} cases per loader)`, () => {
  for (const target of TARGETS) {
    it(`${target}: GenrecError or valid data, never another exception, a crash or a hang`, async () => {
      const report = await fuzzInChild({ module: fuzzModule(target), runs: RUNS, seed: SEED, timeoutMs: TIMEOUT });
      console.log(`[semantic-id fuzz] ${report.reader}: ${report.cases} cases (seed ${SEED}), slowest ${report.slowestCaseMs} ms, ${JSON.stringify(report.outcomes)}`);
      expect(report.cases).toBe(RUNS);
      expect(report.outcomes.accepted ?? 0).toBeGreaterThan(0);
      if (!['npy', 'safetensors', 'jsonl'].includes(target)) {
        // both layers are exercised: the checksum list and the loader's own checks
        expect(report.outcomes['GenrecError:CORRUPT_ARTIFACT (checksum)'] ?? 0).toBeGreaterThan(RUNS / 20);
        expect(report.outcomes['GenrecError:CORRUPT_ARTIFACT (content)'] ?? 0).toBeGreaterThan(RUNS / 20);
      }
    }, TIMEOUT + 60_000);
  }
});
