import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RECOMMENDER_CONFORMANCE_CASES } from '@genrec/model-baselines/testing';

// The contributor path end to end: `pnpm new-model <name>` scaffolds packages/model-<name>, an
// offline install links it into the workspace, and its type check, unit test and conformance
// suite pass. The package, its changeset and every install-state file are restored afterwards
// (always, in a finally), so the checkout is left as it was.
//
// The install is `pnpm install --offline --no-frozen-lockfile --filter @genrec/model-<name>`:
// - offline: the new package depends only on workspace packages (links) and on what the root
//   already installed (vitest), so nothing is fetched;
// - --filter: only the new package's node_modules is written (a whole-workspace install also
//   re-imports built dependencies such as hnswlib-node, under other tests' feet);
// - --no-frozen-lockfile: in CI pnpm freezes the lockfile by default and would refuse the new
//   importer; the lockfile entry it adds is removed by restoring the lockfile afterwards.

const root = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const STATE_FILES = ['pnpm-lock.yaml', 'node_modules/.modules.yaml', 'node_modules/.pnpm/lock.yaml', 'node_modules/.pnpm-workspace-state-v1.json'];

/** The environment for child processes, without the variables of the vitest run around this test. */
function childEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST') && name !== 'TEST' && name !== 'NODE_ENV'));
}

function run(command: string, args: string[], cwd: string): { status: number | null; output: string } {
  const result = spawnSync(command, args, { cwd, env: childEnvironment(), encoding: 'utf8', timeout: 180_000 });
  return { status: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}` };
}

function snapshotStateFiles(): Map<string, Buffer | undefined> {
  return new Map(STATE_FILES.map((file) => [file, existsSync(join(root, file)) ? readFileSync(join(root, file)) : undefined]));
}

function restoreStateFiles(snapshot: Map<string, Buffer | undefined>): void {
  for (const [file, content] of snapshot) {
    const path = join(root, file);
    if (content === undefined) continue;
    if (existsSync(path) && readFileSync(path).equals(content)) continue;
    writeFileSync(`${path}.restore-tmp`, content);
    renameSync(`${path}.restore-tmp`, path);
  }
}

interface VitestReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  testResults: { assertionResults: { title: string; status: string }[] }[];
}

describe('pnpm new-model', () => {
  it('scaffolds a model package that installs offline, type-checks and passes its conformance suite', () => {
    const name = `scaffold-check-${process.pid}-${Math.floor(Math.random() * 1e6)}`;
    const packageName = `@genrec/model-${name}`;
    const folder = join(root, 'packages', `model-${name}`);
    const changeset = join(root, '.changeset', `model-${name}-initial.md`);
    const reportFolder = mkdtempSync(join(tmpdir(), 'genrec-new-model-'));
    const snapshot = snapshotStateFiles();
    try {
      const created = run('pnpm', ['new-model', name, 'A scaffold made by the model-baselines test.'], root);
      expect(created.status, created.output).toBe(0);
      for (const file of ['package.json', 'README.md', 'src/index.ts', `src/${name}-model.ts`, `src/${name}-model.test.ts`, 'src/conformance.test.ts', 'bench/benchmark.ts', 'vitest.config.ts']) {
        expect(existsSync(join(folder, file)), file).toBe(true);
      }
      expect(readFileSync(changeset, 'utf8')).toContain(`"${packageName}": minor`);
      const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
      expect(Object.keys(manifest.dependencies).sort()).toEqual(['@genrec/core', '@genrec/data', '@genrec/eval']);
      expect(manifest.devDependencies).toEqual({ '@genrec/model-baselines': 'workspace:*' });
      expect(readFileSync(join(folder, 'README.md'), 'utf8')).toMatch(/^## Benchmark$/m);
      const again = run('pnpm', ['new-model', name], root);
      expect(again.status, 'a second scaffold of the same name is refused').toBe(1);

      const installed = run('pnpm', ['install', '--offline', '--no-frozen-lockfile', '--filter', packageName], root);
      expect(installed.status, installed.output).toBe(0);
      expect(existsSync(join(folder, 'node_modules', '@genrec', 'model-baselines', 'package.json')), 'workspace dependencies are linked').toBe(true);

      const structure = run('node', ['--input-type=module', '-e', `import { structureProblems } from './tooling/check-structure.mjs'; console.log(JSON.stringify(structureProblems()));`], root);
      expect(structure.status, structure.output).toBe(0);
      expect((JSON.parse(structure.output) as string[]).filter((problem) => problem.includes(`model-${name}`))).toEqual([]);

      const linted = run('pnpm', ['--filter', packageName, 'lint'], root);
      expect(linted.status, linted.output).toBe(0);

      const report = join(reportFolder, 'report.json');
      const tested = run(join(root, 'node_modules', '.bin', 'vitest'), ['run', '--reporter=json', `--outputFile=${report}`], folder);
      expect(tested.status, tested.output).toBe(0);
      const summary = JSON.parse(readFileSync(report, 'utf8')) as VitestReport;
      expect(summary.numFailedTests).toBe(0);
      const titles = summary.testResults.flatMap((file) => file.assertionResults.map((result) => `${result.status}: ${result.title}`));
      // every case of the suite ran, except the two that need epochs (skipped with their reason)
      for (const caseName of RECOMMENDER_CONFORMANCE_CASES) {
        const ran = titles.some((title) => title === `passed: ${caseName}`);
        const skipped = titles.some((title) => title.startsWith(`skipped: ${caseName} — skipped: `));
        expect(ran || skipped, `conformance case "${caseName}" in ${titles.join('\n')}`).toBe(true);
      }
      expect(summary.numPendingTests).toBe(2);
      expect(summary.numPassedTests).toBe(RECOMMENDER_CONFORMANCE_CASES.length - 2 + 1);
    } finally {
      rmSync(folder, { recursive: true, force: true });
      rmSync(changeset, { force: true });
      rmSync(reportFolder, { recursive: true, force: true });
      restoreStateFiles(snapshot);
    }
    expect(existsSync(folder)).toBe(false);
    expect(readFileSync(join(root, 'pnpm-lock.yaml')).equals(snapshot.get('pnpm-lock.yaml')!), 'the lockfile is restored').toBe(true);
  }, 300_000);
});
