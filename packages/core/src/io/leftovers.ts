import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** Temporary paths this process is writing right now (never removed as leftovers). */
export const pathsInProgress = new Set<string>();

/**
 * True when a process with this id is alive (used to tell a dead writer's temporary files from a
 * live one's). `kill(pid, 0)` sends nothing; it fails with `ESRCH` for a process that does not
 * exist and with `EPERM` for one that exists but is not ours.
 *
 * @param pid - a process id; anything but a positive safe integer is not alive
 * @returns whether the process exists
 * @example
 * ```ts
 * processIsAlive(process.pid); // true
 * ```
 */
export function processIsAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * True when a temporary path written by process `pid` is a leftover: its writer is dead, or it is
 * this process and the path is not being written now.
 */
export function isLeftover(path: string, pid: number): boolean {
  if (pid === process.pid) return !pathsInProgress.has(path);
  return !processIsAlive(pid);
}

/**
 * Removes the entries of `directory` whose names match `pattern` (its first group is the writer's
 * process id) and whose writers are gone. Errors are ignored: cleaning up is best effort and must
 * never fail a save or a load.
 */
export function removeLeftovers(directory: string, pattern: RegExp, keep: (name: string) => boolean = () => false): void {
  let names: string[];
  try {
    names = readdirSync(directory);
  } catch {
    return;
  }
  for (const name of names) {
    const match = pattern.exec(name);
    if (!match || keep(name)) continue;
    const path = join(directory, name);
    if (!isLeftover(path, Number(match[1]))) continue;
    try {
      rmSync(path, { recursive: true, force: true });
    } catch {
      // best effort
    }
  }
}
