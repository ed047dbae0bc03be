// The packages work outside the monorepo: each passes publint and "are the types wrong" (ESM-only
// profile) on its packed tarball, and the tarballs installed with plain npm into a fresh project
// run every README example (no @genrec/source condition: the published dist/ is what runs).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractExamples } from '../readme-examples.mjs';
import { exampleEnvironment, root, run, sharedDataPresent, tail, tsxLoader, workspacePackages } from './helpers.js';

const bin = (name: string) => join(root, 'node_modules', '.bin', name);
const packages = workspacePackages();
const LONG_RUN = process.env.GENREC_LONG_RUN === '1';
const scratch = mkdtempSync(join(tmpdir(), 'genrec-outside-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

beforeAll(() => {
  const build = run('pnpm', ['build', '--output-logs=errors-only'], { cwd: root, timeoutMs: 600_000 });
  expect(build.status, tail(build)).toBe(0);
});

describe('package lint', () => {
  for (const pkg of packages) {
    it(`${pkg.name}: publint --strict is clean`, () => {
      const result = run(bin('publint'), ['--strict', '--pack', 'pnpm', pkg.path], { cwd: root });
      expect(result.status, tail(result)).toBe(0);
      expect(result.stdout).toMatch(/All good!/);
    });
    it(`${pkg.name}: attw --pack --profile esm-only finds no problem`, () => {
      const result = run(bin('attw'), ['--pack', '.', '--profile', 'esm-only', '--format', 'json'], { cwd: pkg.path });
      const output = result.stdout.slice(result.stdout.indexOf('{'));
      const report = JSON.parse(output) as { analysis?: { problems?: { kind: string; resolutionKind?: string }[] } };
      // the esm-only profile ignores CommonJS-only resolutions (node10, require from node16)
      const ignored = new Set(['node10', 'node16-cjs']);
      const problems = (report.analysis?.problems ?? []).filter((problem) => !ignored.has(problem.resolutionKind ?? ''));
      expect(problems, tail(result)).toEqual([]);
      expect(result.status, tail(result)).toBe(0);
    });
  }
});

describe('installed with plain npm outside the workspace', () => {
  const project = join(scratch, 'app');
  beforeAll(() => {
    const tarballs = join(scratch, 'tarballs');
    const dependencies: Record<string, string> = {};
    for (const pkg of packages) {
      const packed = run('pnpm', ['pack', '--pack-destination', tarballs], { cwd: pkg.path });
      expect(packed.status, tail(packed)).toBe(0);
      const file = packed.stdout.trim().split('\n').pop()!.trim();
      dependencies[pkg.name] = `file:${file.startsWith('/') ? file : join(tarballs, file)}`;
    }
    run('mkdir', ['-p', project], { cwd: scratch });
    // every package as a direct file: dependency, so inter-package ranges resolve to these tarballs
    // vitest: the optional peer of the packages' `/testing` subpaths (conformance suites), as a user of them installs it
    const devDependencies = { vitest: JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).devDependencies.vitest as string };
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'outside-app', private: true, type: 'module', dependencies, devDependencies, overrides: dependencies }, null, 2));
    // as each README says: skip onnxruntime-node's CUDA download (its CPU runtime is bundled)
    const installed = run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: project,
      env: { ONNXRUNTIME_NODE_INSTALL: 'skip' },
      timeoutMs: 900_000,
    });
    expect(installed.status, tail(installed)).toBe(0);
  });

  for (const pkg of packages) {
    const examples = extractExamples(join(pkg.path, 'README.md'));
    for (const example of examples) {
      const title = `${pkg.name} README example ${example.index + 1} (line ${example.line}) runs against the installed tarballs`;
      const skipReason = example.tags.includes('long') && !LONG_RUN ? 'long-running: set GENREC_LONG_RUN=1' : example.tags.includes('shared') && !sharedDataPresent() ? 'needs ../shared/data, which is absent' : undefined;
      if (skipReason !== undefined) {
        console.log(`skip ${title}: ${skipReason}`);
        it.skip(`${title} — skipped: ${skipReason}`, () => {});
        continue;
      }
      it(title, () => {
        if (example.tags.includes('test')) {
          // a vitest file, run by the vitest the app installed (no source condition: the tarballs' dist/)
          const file = join(project, `${pkg.folder}-example-${example.index + 1}.test.ts`);
          writeFileSync(file, example.code);
          const result = run(join(project, 'node_modules', '.bin', 'vitest'), ['run', file], { cwd: project, env: exampleEnvironment(scratch), timeoutMs: 300_000 });
          expect(result.status, tail(result)).toBe(0);
          return;
        }
        const file = join(project, `${pkg.folder}-example-${example.index + 1}.ts`);
        writeFileSync(file, example.code);
        const result = run(process.execPath, ['--import', tsxLoader, file], { cwd: project, env: exampleEnvironment(scratch), timeoutMs: 300_000 });
        expect(result.status, tail(result)).toBe(0);
      });
    }
  }
});
