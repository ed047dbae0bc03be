import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TemporaryFolders } from './temporary-folders.js';

/** What {@link runScript} saw. */
export interface ScriptRun {
  /** Exit code, or null when a signal ended the process. */
  status: number | null;
  /** The signal that ended the process (`SIGTERM` after a timeout), or null. */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Options of {@link runScript}. */
export interface RunScriptOptions {
  /** Working directory of the child; `tsx` and the workspace packages must resolve from it (the repository root). */
  cwd: string;
  /** Wall-clock limit; past it the child is killed with SIGTERM. @defaultValue 60000 */
  timeoutMs?: number;
  /** Largest stdout or stderr kept, in bytes. @defaultValue 64 MiB */
  maxBuffer?: number;
  /** Start of the script folder's name under `os.tmpdir()`. @defaultValue `genrec-script-` */
  prefix?: string;
}

/**
 * Runs TypeScript `source` (an ES module; import files by absolute path) in a child Node process
 * under `tsx` with the `@genrec/source` condition, so a crash (abort, segfault, an exhausted heap)
 * fails the calling test instead of killing the test runner. The script is written to a fresh
 * folder under `os.tmpdir()`, which is removed once the child has exited (a timed-out child is
 * killed first): a script that writes files should write them under `import.meta.dirname` (its
 * folder), so they are removed with it.
 *
 * @param source - the script's source
 * @param options - {@link RunScriptOptions}
 * @returns the child's exit code, signal and output
 * @example
 * ```ts
 * const run = runScript(`import { join } from 'node:path';\nconsole.log(join(import.meta.dirname, 'index'));`, { cwd: REPOSITORY_ROOT });
 * expect(run.status).toBe(0);
 * ```
 */
export function runScript(source: string, options: RunScriptOptions): ScriptRun {
  const folders = new TemporaryFolders();
  try {
    const script = join(folders.create(options.prefix ?? 'genrec-script-'), 'script.mts');
    writeFileSync(script, source);
    const run = spawnSync(process.execPath, ['--conditions=@genrec/source', '--import', 'tsx', script], {
      cwd: options.cwd,
      encoding: 'utf8',
      timeout: options.timeoutMs ?? 60_000,
      maxBuffer: options.maxBuffer ?? 64 << 20,
    });
    return { status: run.status, signal: run.signal, stdout: run.stdout, stderr: run.stderr };
  } finally {
    // spawnSync returns once the child has exited
    folders.removeAll();
  }
}
