import { fileURLToPath } from 'node:url';
import { runScript as runScriptInChild, type ScriptRun } from '@genrec/core/testing';

/** The repository root (child processes run there, so `tsx` and the workspace resolve). */
export const REPOSITORY_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Absolute path of a source file of this package, or of a sibling package's (`../../core/src/index.ts`). */
export function sourcePath(file: string): string {
  return fileURLToPath(new URL(`./${file}`, import.meta.url));
}

/**
 * Runs TypeScript `source` (an ES module; import files through {@link sourcePath}) in a child
 * process from the repository root: core's `runScript`, so a crash or an exhausted heap fails the
 * calling test instead of killing the test runner.
 */
export function runScript(source: string, timeoutMs = 60_000): ScriptRun {
  return runScriptInChild(source, { cwd: REPOSITORY_ROOT, timeoutMs, maxBuffer: 16 << 20, prefix: 'genrec-decoder-child-' });
}
