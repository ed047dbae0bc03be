import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * Finds the project's `shared/` folder (research data sets and Python peers, never part of the
 * repository): `$GENREC_SHARED_DIR` if set, else the first `shared/` with a `data/` folder in the
 * current directory or one of its ancestors (the repository's `../shared`). Returns undefined when
 * there is none, so tests on real data can skip with a visible reason.
 */
export function findSharedDirectory(start: string = process.cwd()): string | undefined {
  const fromEnvironment = process.env.GENREC_SHARED_DIR;
  if (fromEnvironment) return existsSync(join(fromEnvironment, 'data')) ? resolve(fromEnvironment) : undefined;
  let directory = resolve(start);
  for (;;) {
    const candidate = join(directory, 'shared');
    if (existsSync(join(candidate, 'data'))) return candidate;
    const parent = dirname(directory);
    if (parent === directory) return undefined;
    directory = parent;
  }
}

/** A path inside the shared folder, or undefined when the folder or the path is absent. */
export function sharedPath(...parts: string[]): string | undefined {
  const root = findSharedDirectory();
  if (!root) return undefined;
  const path = join(root, ...parts);
  return existsSync(path) ? path : undefined;
}
