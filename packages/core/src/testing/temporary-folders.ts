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
   * Removes every folder created so far, with its contents (a folder already gone is no error);
   * the list is emptied, so a second call does nothing and later folders are removed by a later call.
   */
  removeAll(): void {
    for (const folder of this.folders.splice(0)) rmSync(folder, { recursive: true, force: true });
  }
}
