// The Debian packages some tests drive from outside Node: Chromium (the report's browser check)
// and PyTorch (model-tiger's interop round trip). `pnpm test` calls `ensureSystemPackages()` when
// CI=true, so CI runs those tests instead of skipping them (with CI=true the tests fail, never
// skip, when what they drive is missing); elsewhere they skip with a printed reason and nothing is
// installed. The installation runs before vitest starts (tests in parallel workers would otherwise
// contend for dpkg's lock). The checks below are the tests' own: keep them in step with
// packages/report/src/browser/chromium.ts and packages/model-tiger/src/torch-interop.test.ts.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** What each test needs, how to tell it is there, and the Debian packages that provide it. */
export const SYSTEM_NEEDS = [
  {
    name: 'Chromium (report browser test)',
    present: (env) => existsSync(env.GENREC_CHROMIUM || '/usr/bin/chromium'),
    // (optional) why the package cannot provide it: Debian's browser lives at /usr/bin/chromium only
    cannotInstall: (env) => (env.GENREC_CHROMIUM ? `GENREC_CHROMIUM names ${env.GENREC_CHROMIUM}, which does not exist` : undefined),
    packages: ['chromium'],
    recommends: true, // as the browser test has always been installed (fonts and the like)
  },
  {
    name: 'PyTorch (model-tiger interop test)',
    present: () => spawnSync('/usr/bin/python3', ['-c', 'import torch, numpy'], { stdio: 'ignore' }).status === 0,
    packages: ['python3', 'python3-numpy', 'python3-torch'],
    recommends: false, // python3-torch recommends libtorch-dev and a compiler tool chain
  },
];

/** `apt-get ARGS`, waiting up to 10 minutes for dpkg's lock; its exit status (1 when it could not start). */
function runAptGet(args) {
  const result = spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=600', ...args], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    timeout: 1_800_000,
  });
  if (result.error) console.error(`apt-get ${args.join(' ')}: ${result.error.message}`);
  return result.status ?? 1;
}

/**
 * Installs with `apt-get install -y` the packages of every need in `needs` that is missing (one
 * call with the needs' recommended packages, one without), and when a call fails runs
 * `apt-get update` and both calls again.
 *
 * @param env - the environment (`GENREC_CHROMIUM` names another browser: then nothing is installed for it)
 * @param needs - what to check (for tests)
 * @param aptGet - runs `apt-get` with the given arguments and returns its exit status (for tests)
 * @returns the packages installed (empty when everything was there)
 * @throws Error naming what is still missing, and why, when a need cannot be installed, an
 *   installation fails, or a need is missing after it
 */
export function ensureSystemPackages(env = process.env, needs = SYSTEM_NEEDS, aptGet = runAptGet) {
  const missing = needs.filter((need) => !need.present(env));
  if (missing.length === 0) return [];
  const refused = missing.map((need) => need.cannotInstall?.(env)).filter((reason) => reason !== undefined);
  if (refused.length > 0) throw new Error(`CI=true: cannot install what the tests need: ${refused.join('; ')}`);
  const packages = [...new Set(missing.flatMap((need) => need.packages))];
  console.log(`CI=true: installing ${packages.join(' ')} for ${missing.map((need) => need.name).join(', ')}`);
  const calls = [true, false]
    .map((recommends) => {
      const names = [...new Set(missing.filter((need) => need.recommends === recommends).flatMap((need) => need.packages))];
      return names.length === 0 ? [] : ['install', '-y', ...(recommends ? [] : ['--no-install-recommends']), ...names];
    })
    .filter((args) => args.length > 0);
  // every call runs, so one failed installation does not hide whether the other worked
  const installAll = () => calls.map((args) => aptGet(args)).find((status) => status !== 0) ?? 0;
  let status = installAll();
  if (status !== 0) {
    aptGet(['update']);
    status = installAll();
  }
  const still = missing.filter((need) => !need.present(env)).map((need) => need.name);
  if (status !== 0) throw new Error(`CI=true: apt-get install ${packages.join(' ')} failed (status ${status}); still missing: ${still.join(', ') || 'none'}`);
  if (still.length > 0) throw new Error(`CI=true: apt-get installed ${packages.join(' ')}, but still missing: ${still.join(', ')}`);
  return packages;
}
