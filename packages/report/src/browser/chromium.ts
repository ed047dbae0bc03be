import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Where Debian's `chromium` package puts the browser; `GENREC_CHROMIUM` overrides it. */
export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/** The browser to drive, or why there is none (a reason to print when a test skips). */
export type ChromiumLookup = { path: string } | { path: undefined; reason: string };

/**
 * Finds Chromium for the browser checks: `GENREC_CHROMIUM`, else `/usr/bin/chromium`. When it is
 * missing and `CI=true`, installs Debian's `chromium` with `apt-get install -y chromium` (CI must
 * run the browser test, not skip it); elsewhere returns the reason to skip.
 *
 * @param env - the environment (for tests)
 * @returns the executable path, or a reason
 * @throws Error when the installation in CI fails (the test then fails, as it should)
 * @example
 * ```ts
 * const chromium = findChromium();
 * if (chromium.path === undefined) console.log(`skipped: ${chromium.reason}`);
 * ```
 */
export function findChromium(env: NodeJS.ProcessEnv = process.env): ChromiumLookup {
  const path = env.GENREC_CHROMIUM ?? DEFAULT_CHROMIUM;
  if (existsSync(path)) return { path };
  if (env.CI !== 'true') {
    return { path: undefined, reason: `no Chromium at ${path} (install Debian's chromium: apt-get install -y chromium, or set GENREC_CHROMIUM); CI=true installs it` };
  }
  console.log(`report browser test: ${path} is missing and CI=true, installing it with apt-get install -y chromium`);
  const install = (args: string[]) => spawnSync('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 600_000 });
  let result = install(['install', '-y', 'chromium']);
  if (result.status !== 0) {
    install(['update']);
    result = install(['install', '-y', 'chromium']);
  }
  if (result.status !== 0 || !existsSync(path)) throw new Error(`CI=true: apt-get install -y chromium failed (status ${result.status}); the report must be checked in a browser in CI`);
  return { path };
}
