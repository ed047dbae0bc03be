import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Temporary folders a test file creates and removes: each {@link TemporaryFolders.create} makes a
 * fresh folder under `os.tmpdir()` and remembers it; {@link TemporaryFolders.removeAll} removes
 * every one, so a test run leaves nothing behind. Call `removeAll` once nothing uses the folders
 * any more: after the file's tests (child processes that `fuzzInChild` or `killDuringSaves` start
 * have exited by the time those settle).
 *
 * @example
 * ```ts
 * const folders = new TemporaryFolders();
 * afterAll(() => folders.removeAll());
 * const path = join(folders.create('genrec-my-test-'), 'model');
 * ```
 */
export class TemporaryFolders {
  private readonly folders: string[] = [];

  /**
   * Creates a folder under `os.tmpdir()` (`mkdtemp`: the prefix and six random characters) and
   * remembers it for {@link TemporaryFolders.removeAll}.
   *
   * @param prefix - start of the folder's name, e.g. `genrec-ann-kill-`
   * @returns the folder's absolute path
   */
  create(prefix: string): string {
    const folder = mkdtempSync(join(tmpdir(), prefix));
    this.folders.push(folder);
    return folder;
  }

  /**
   * Creates a folder (as {@link TemporaryFolders.create}) and makes it the process's temporary
   * folder: `TMPDIR` points at it until {@link TemporaryFolders.removeAll} restores the previous
   * value. For native libraries that leave their own scratch files in the temporary folder (LanceDB's
   * index builds). The environment reaches native code only in a process of its own (vitest's
   * default `forks` pool), not from a worker thread.
   *
   * @param prefix - start of the folder's name
   * @returns the folder's absolute path
   */
  useAsTmpdir(prefix: string): string {
    const folder = this.create(prefix);
    if (this.restoreTmpdir === undefined) {
      const previous = process.env.TMPDIR;
      this.restoreTmpdir = () => {
        if (previous === undefined) delete process.env.TMPDIR;
        else process.env.TMPDIR = previous;
      };
    }
    process.env.TMPDIR = folder;
    return folder;
  }

  /**
   * Removes every folder created so far, with its contents (a folder already gone is no error),
   * after restoring `TMPDIR` if {@link TemporaryFolders.useAsTmpdir} changed it; the list is emptied,
   * so a second call does nothing and later folders are removed by a later call.
   */
  removeAll(): void {
    this.restoreTmpdir?.();
    this.restoreTmpdir = undefined;
    for (const folder of this.folders.splice(0)) rmSync(folder, { recursive: true, force: true });
  }

  private restoreTmpdir: (() => void) | undefined;
}
