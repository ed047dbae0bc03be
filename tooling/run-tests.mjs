#!/usr/bin/env node
// Runs the whole vitest suite (every package's project) and ends with one plain summary line,
// "N passed, N failed, N skipped", so CI logs state plainly what ran. Extra arguments go to vitest.
// With CI=true it first installs the Debian packages some tests drive (system-packages.mjs), so CI
// runs those tests instead of skipping them.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureSystemPackages } from './system-packages.mjs';

// A failed installation does not stop the run: the tests that need the package fail on their own
// with CI=true (never skip), and the run's status is non-zero either way.
let setupFailed = false;
if (process.env.CI === 'true') {
  try {
    ensureSystemPackages();
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    setupFailed = true;
  }
}

const folder = mkdtempSync(join(tmpdir(), 'genrec-tests-'));
const report = join(folder, 'vitest.json');
const vitest = join(process.cwd(), 'node_modules', '.bin', 'vitest');
const result = spawnSync(vitest, ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)], {
  stdio: 'inherit',
});
let status = result.status ?? 1;
if (existsSync(report)) {
  const summary = JSON.parse(readFileSync(report, 'utf8'));
  const skipped = (summary.numPendingTests ?? 0) + (summary.numTodoTests ?? 0);
  // A test file that fails before any test runs (an import that throws, a worker that dies) has no
  // failed test: count such files apart so the line never reads "0 failed" for a red run.
  const unloaded = (summary.testResults ?? []).filter((file) => file.status === 'failed' && (file.assertionResults ?? []).length === 0).length;
  console.log(`\n${summary.numPassedTests} passed, ${summary.numFailedTests} failed, ${skipped} skipped${unloaded > 0 ? `, ${unloaded} test file${unloaded === 1 ? '' : 's'} failed to run` : ''}`);
  if (summary.numTotalTests === 0) {
    console.error('no test ran');
    status = status || 1;
  }
} else {
  console.error('vitest wrote no report');
  status = status || 1;
}
if (setupFailed) {
  console.error('the Debian packages some tests need could not be installed (above)');
  status = status || 1;
}
rmSync(folder, { recursive: true, force: true });
process.exit(status);
