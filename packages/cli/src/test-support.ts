// Helpers of the CLI's tests (excluded from the build): run `genrec` in-process with captured
// streams, on a tiny synthetic dataset written as a config file.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type RunCliOptions } from './run-cli.js';

/** The tiny synthetic data of the tests: 300 users, 120 items (about 3,500 interactions). */
export const TINY_SYNTHETIC = { userCount: 300, itemCount: 120, topicCount: 4, subtopicsPerTopic: 3, seed: 7 } as const;

/** What one in-process run of `genrec` printed and returned. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (with `--json`). */
  json<T = Record<string, unknown>>(): T;
}

/** A scratch folder with a tiny-data config file; `remove()` deletes it. */
export function scratch(config: Record<string, unknown> = {}): { folder: string; config: string; remove(): void } {
  const folder = mkdtempSync(join(tmpdir(), 'genrec-cli-'));
  const path = join(folder, 'genrec.json');
  writeFileSync(path, JSON.stringify({ data: { synthetic: TINY_SYNTHETIC }, output: 'runs', ...config }, null, 2));
  return { folder, config: path, remove: () => rmSync(folder, { recursive: true, force: true }) };
}

/**
 * Runs `genrec <argv>` in this process with captured stdout/stderr (not terminals: plain
 * progress lines), working directory `cwd`.
 */
export async function cli(argv: readonly string[], cwd: string, options: RunCliOptions = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    ...options,
    io: { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text), isTTY: false }, stdoutIsTTY: false, cwd, env: {}, ...options.io },
  });
  return { code, stdout, stderr, json: <T,>() => JSON.parse(stdout) as T };
}
