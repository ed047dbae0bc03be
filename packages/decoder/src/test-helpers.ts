import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (child processes run there, so `tsx` and the workspace resolve). */
export const REPOSITORY_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Absolute path of a source file of this package, or of a sibling package's (`../../core/src/index.ts`). */
export function sourcePath(file: string): string {
  return fileURLToPath(new URL(`./${file}`, import.meta.url));
}

/** What {@link runScript} saw. */
export interface ScriptRun {
  /** Exit code, or null when a signal ended the process. */
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs TypeScript `source` (an ES module; import files through {@link sourcePath}) in a child Node
 * process under `tsx` with the `@genrec/source` condition, so a crash or an exhausted heap fails the
 * calling test instead of killing the test runner.
 */
export function runScript(source: string, timeoutMs = 60_000): ScriptRun {
  const folder = mkdtempSync(join(tmpdir(), 'genrec-decoder-child-'));
  try {
    const script = join(folder, 'script.mts');
    writeFileSync(script, source);
    const run = spawnSync(process.execPath, ['--conditions=@genrec/source', '--import', 'tsx', script], {
      cwd: REPOSITORY_ROOT,
      encoding: 'utf8',
      timeout: timeoutMs,
      maxBuffer: 16 << 20,
    });
    return { status: run.status, signal: run.signal, stdout: run.stdout, stderr: run.stderr };
  } finally {
    // spawnSync returns once the child has exited (a timed-out child is killed first)
    rmSync(folder, { recursive: true, force: true });
  }
}
