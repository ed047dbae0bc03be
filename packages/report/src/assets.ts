import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { GenrecError } from '@genrec/core';

/** The inlined chart libraries: their names, versions and minified source. */
export interface ChartLibrary {
  /** npm package name. */
  name: string;
  /** The file inlined (inside the package). */
  file: string;
  /** Its source text. */
  source: string;
}

let cached: ChartLibrary[] | undefined;

/**
 * Reads d3's and Observable Plot's minified UMD bundles from `node_modules` (where the package
 * manager put this package's dependencies), once per process, to inline them into reports.
 *
 * @returns d3 first (Plot's UMD bundle reads the global `d3`), then Plot
 * @throws GenrecError `NOT_FOUND` when a bundle cannot be found
 * @example
 * ```ts
 * chartLibraries().map((library) => `${library.name}: ${library.source.length} characters`);
 * ```
 */
export function chartLibraries(): ChartLibrary[] {
  if (cached !== undefined) return cached;
  const require = createRequire(import.meta.url);
  const read = (name: string, file: string): ChartLibrary => {
    let entry: string;
    try {
      entry = require.resolve(name); // the package's "default" entry, inside its folder
    } catch (error) {
      throw new GenrecError('NOT_FOUND', `the report needs the npm package ${name}, which cannot be resolved from @genrec/report`, { cause: error });
    }
    let folder = dirname(entry);
    // walk up to the package folder (the entry may sit in src/ or dist/)
    for (let depth = 0; depth < 4; depth++) {
      try {
        const source = readFileSync(join(folder, file), 'utf8');
        if (source.includes('</script')) throw new GenrecError('UNSUPPORTED', `${name}/${file} contains "</script", which cannot be inlined`);
        return { name, file, source };
      } catch (error) {
        if (GenrecError.isInstance(error)) throw error;
        folder = dirname(folder);
      }
    }
    throw new GenrecError('NOT_FOUND', `${name} has no ${file} to inline into the report`, { details: { file } });
  };
  cached = [read('d3', 'dist/d3.min.js'), read('@observablehq/plot', 'dist/plot.umd.min.js')];
  return cached;
}
