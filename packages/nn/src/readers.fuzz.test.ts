// Property-based fuzz tests of nn's readers: trainer checkpoints and the ONNX reader. Each fuzz
// module runs in a child process (fuzzInChild), so a crash or a hang fails the test instead of
// the runner. 1,000 cases per reader by default, 20,000 with GENREC_LONG_RUN=1.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fuzzInChild, fuzzRuns } from '@genrec/core/testing';

const runs = fuzzRuns();
const timeoutMs = runs > 1000 ? 1_200_000 : 120_000;

describe.each([
  ['nn-checkpoint', './train/checkpoint.fuzz.ts'],
  ['onnx', './onnx/read.fuzz.ts'],
])('fuzzing the %s reader', (reader, module) => {
  it(`${runs} mutated inputs give a GenrecError (changing nothing) or data that passes the invariants`, async () => {
    const report = await fuzzInChild({ module: fileURLToPath(new URL(module, import.meta.url)), runs, seed: 20_240_611, timeoutMs });
    console.log(`fuzz ${reader}: ${report.cases} cases ${JSON.stringify(report.outcomes)}; slowest case ${report.slowestCaseMs} ms${report.notes.map((note) => `\n  ${note}`).join('')}`);
    expect(report.reader).toBe(reader);
    expect(report.cases).toBe(runs);
    for (const outcome of Object.keys(report.outcomes)) expect(outcome).toMatch(/^(accepted|GenrecError:[A-Z_]+)$/);
    expect(report.outcomes.accepted ?? 0).toBeGreaterThan(runs / 20);
    expect(Object.keys(report.outcomes).some((outcome) => outcome.startsWith('GenrecError:'))).toBe(true);
  }, timeoutMs + 10_000);
});
