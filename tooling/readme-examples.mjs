// Extracts the fenced TypeScript examples of a README so tests can run them.
//
// Every block fenced with ```ts is an example and must run as it stands (on the synthetic
// default data, from any working directory). Words after `ts` in the fence's info string tag it:
//   ```ts shared   needs the research data in ../shared (skipped, with a printed reason, without it)
//   ```ts long     long-running (Toys-scale training): runs only with GENREC_LONG_RUN=1
//   ```ts test     a vitest test file (a conformance suite): run with vitest, not plain node
// Both runners, tooling/tests/readme-examples.test.ts (against the sources) and
// tooling/tests/packages-outside.test.ts (against the packed tarballs), run each example with
// GENREC_SHARED_DIR set when the data exists and a plain example from a temporary working
// directory, so examples must find files through `sharedPath` (from @genrec/core) or build their
// own data. Both point TMPDIR into a temporary folder of their own (exampleEnvironment in
// tooling/tests/helpers.ts) that they remove after the run, so what an example creates under
// os.tmpdir() goes with it.
import { readFileSync } from 'node:fs';

/**
 * @param {string} readmePath
 * @returns {{ index: number, line: number, code: string, tags: string[] }[]}
 */
export function extractExamples(readmePath) {
  const lines = readFileSync(readmePath, 'utf8').split('\n');
  const examples = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(ts|typescript)(\s.*)?$/.exec(lines[i]);
    if (!open) continue;
    const tags = (open[2] ?? '').trim().split(/\s+/).filter(Boolean);
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end])) end++;
    examples.push({ index: examples.length, line: start, code: lines.slice(start, end).join('\n') + '\n', tags });
    i = end;
  }
  return examples;
}
