import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Rng } from '../random.js';

/** Options of {@link killDuringSaves}. */
export interface KillDuringSavesOptions {
  /**
   * Path of a module (`.ts` or `.js`) whose `save(path: string, round: number)` export writes the
   * artifact once; the child process calls it in a loop, round after round.
   */
  module: string;
  /** The artifact path the child saves to. */
  path: string;
  /** How many child processes to kill mid-save. */
  kills: number;
  /** Seed of the kill delays. @defaultValue 1 */
  seed?: number;
  /** Kill delay range after the child's first completed save, in ms. @defaultValue [0, 60] */
  delayMs?: readonly [number, number];
  /** Called after each kill with the kill's index: loads the artifact and checks it (throw to fail). */
  verify: (path: string, kill: number) => void | Promise<void>;
}

const runner = fileURLToPath(new URL(`./kill-saves-child${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));

/**
 * Kill-mid-save harness for artifact writers: starts a child process that saves the artifact in
 * a loop, kills it with SIGKILL after a seeded random delay, then calls `verify` on the path, and
 * repeats. A writer is atomic when every `verify` passes (the final name always loads, old or
 * new). Children run under `tsx` with the `@genrec/source` condition, so test modules may be
 * TypeScript.
 *
 * @returns how many saves the children completed in all (a sanity check that kills hit mid-work)
 */
export async function killDuringSaves(options: KillDuringSavesOptions): Promise<{ completedSaves: number }> {
  const rng = new Rng(options.seed ?? 1);
  const [low, high] = options.delayMs ?? [0, 60];
  let completedSaves = 0;
  for (let kill = 0; kill < options.kills; kill++) {
    const delay = rng.uniformIn(low, high);
    completedSaves += await runAndKill(options.module, options.path, delay, kill);
    await options.verify(options.path, kill);
  }
  return { completedSaves };
}

function runAndKill(module: string, path: string, delayMs: number, round: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=@genrec/source', '--import', 'tsx', runner, module, path, String(round * 1000)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let saves = 0;
    let timer: NodeJS.Timeout | undefined;
    let errors = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (errors += chunk));
    child.stdout.on('data', (chunk: string) => {
      saves += chunk.split('\n').filter((line) => line === 'saved').length;
      // the first save completes before the timer starts, so every kill has an old version to keep
      if (saves >= 1 && timer === undefined) timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (signal === 'SIGKILL') resolve(saves);
      else reject(new Error(`the saving child exited by itself (code ${String(code)}, signal ${String(signal)}): ${errors.slice(-2000)}`));
    });
  });
}
