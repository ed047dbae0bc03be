import { existsSync } from 'node:fs';

/** Where Debian's `chromium` package puts the browser; `GENREC_CHROMIUM` overrides it. */
export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/** The browser to drive, or why there is none (a reason to print when a test skips). */
export type ChromiumLookup = { path: string } | { path: undefined; reason: string };

/**
 * Finds Chromium for the browser checks: `GENREC_CHROMIUM` when set, else `/usr/bin/chromium`.
 * Installs nothing: with `CI=true` the repository's `pnpm test` installs Debian's `chromium` first
 * (`tooling/system-packages.mjs`, which checks the same paths), and the browser test fails instead of
 * skipping when it is still missing.
 *
 * @param env - the environment (for tests)
 * @returns the executable path, or the reason there is none
 * @example
 * ```ts
 * const chromium = findChromium();
 * if (chromium.path === undefined) console.log(`skipped: ${chromium.reason}`);
 * ```
 */
export function findChromium(env: NodeJS.ProcessEnv = process.env): ChromiumLookup {
  const path = env.GENREC_CHROMIUM || DEFAULT_CHROMIUM;
  if (existsSync(path)) return { path };
  return { path: undefined, reason: `no Chromium at ${path} (install Debian's chromium: apt-get install -y chromium, or set GENREC_CHROMIUM; with CI=true the repository's pnpm test installs it)` };
}
