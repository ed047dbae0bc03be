import { existsSync } from 'node:fs';

/** Where Debian's `chromium` package puts the browser; `GENREC_CHROMIUM` overrides it. */
export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/** The browser to drive, or why there is none (a reason to print when a test skips). */
export type ChromiumLookup = { path: string } | { path: undefined; reason: string };

/**
 * Finds Chromium for the browser checks: `GENREC_CHROMIUM`, else `/usr/bin/chromium`. Elsewhere
 * than CI a missing browser is a reason to skip; with `CI=true` it is an error, since CI must run
 * the browser test: the repository's `pnpm test` installs Debian's `chromium` first when `CI=true`
 * (`tooling/system-packages.mjs`).
 *
 * @param env - the environment (for tests)
 * @returns the executable path, or a reason
 * @throws Error when `CI=true` and the browser is missing (the test then fails, as it should)
 * @example
 * ```ts
 * const chromium = findChromium();
 * if (chromium.path === undefined) console.log(`skipped: ${chromium.reason}`);
 * ```
 */
export function findChromium(env: NodeJS.ProcessEnv = process.env): ChromiumLookup {
  const path = env.GENREC_CHROMIUM ?? DEFAULT_CHROMIUM;
  if (existsSync(path)) return { path };
  const reason = `no Chromium at ${path} (install Debian's chromium: apt-get install -y chromium, or set GENREC_CHROMIUM)`;
  if (env.CI === 'true') throw new Error(`CI=true: ${reason}; the repository's pnpm test installs it when CI=true (tooling/system-packages.mjs)`);
  return { path: undefined, reason };
}
