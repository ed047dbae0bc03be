import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The repository root. */
export const root = join(import.meta.dirname, '..', '..');

/** The `tsx` loader as a file URL, usable with `node --import` from any working directory. */
export const tsxLoader = pathToFileURL(createRequire(join(root, 'package.json')).resolve('tsx')).href;

/** The research data folder (`GENREC_SHARED_DIR`, else the repository's `../shared`), when present. */
export function sharedDirectory(): string | undefined {
  const configured = process.env.GENREC_SHARED_DIR;
  const folder = configured || join(root, '..', 'shared');
  return existsSync(join(folder, 'data')) ? folder : undefined;
}

/** Whether the research data folder (`../shared/data`) is present. */
export function sharedDataPresent(): boolean {
  return sharedDirectory() !== undefined;
}

/**
 * Environment for running an example from any folder: names the shared folder explicitly, and
 * points `TMPDIR` at a `tmp` folder (created here) inside `scratch`, the runner's temporary folder
 * that it removes after its run, so what an example creates under `os.tmpdir()` goes with it.
 */
export function exampleEnvironment(scratch: string): NodeJS.ProcessEnv {
  const temporaryDirectory = join(scratch, 'tmp');
  mkdirSync(temporaryDirectory, { recursive: true });
  const shared = sharedDirectory();
  return { TMPDIR: temporaryDirectory, ...(shared === undefined ? {} : { GENREC_SHARED_DIR: shared }) };
}

/** Workspace packages: folder name, package name and whether it is published (not private). */
export function workspacePackages(): { folder: string; name: string; path: string }[] {
  const base = join(root, 'packages');
  return readdirSync(base)
    .filter((folder) => existsSync(join(base, folder, 'package.json')))
    .map((folder) => {
      const manifest = JSON.parse(readFileSync(join(base, folder, 'package.json'), 'utf8')) as { name: string; private?: boolean };
      return { folder, name: manifest.name, path: join(base, folder), private: manifest.private === true };
    })
    .filter((entry) => !entry.private);
}

/** Runs a command, returning its output; never throws. */
export function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): SpawnSyncReturns<string> {
  return spawnSync(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 600_000,
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** The tail of a command's output, for failure messages. */
export function tail(result: SpawnSyncReturns<string>, characters = 4000): string {
  return `exit ${String(result.status)} signal ${String(result.signal)}\n${(result.stdout ?? '') + (result.stderr ?? '')}`.slice(-characters);
}
