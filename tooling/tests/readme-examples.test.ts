// Every fenced TypeScript example in a package README runs, against the packages' sources, from a
// working directory outside the repository (so examples cannot rely on relative paths).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { extractExamples } from '../readme-examples.mjs';
import { exampleEnvironment, root, run, sharedDataPresent, tail, tsxLoader, workspacePackages } from './helpers.js';

const LONG_RUN = process.env.GENREC_LONG_RUN === '1';
const workingDirectory = mkdtempSync(join(tmpdir(), 'genrec-readme-'));
const written: string[] = [];
afterAll(() => {
  rmSync(workingDirectory, { recursive: true, force: true });
  for (const folder of written) rmSync(folder, { recursive: true, force: true });
});

for (const pkg of workspacePackages()) {
  const examples = extractExamples(join(pkg.path, 'README.md'));
  if (examples.length === 0) continue;
  describe(`${pkg.name} README`, () => {
    for (const example of examples) {
      const title = `example ${example.index + 1} (README.md line ${example.line})${example.tags.length ? ` [${example.tags.join(', ')}]` : ''}`;
      const skipReason = example.tags.includes('long') && !LONG_RUN ? 'long-running example: set GENREC_LONG_RUN=1' : example.tags.includes('shared') && !sharedDataPresent() ? 'needs ../shared/data, which is absent' : undefined;
      if (skipReason !== undefined) {
        it.skip(`${title} — skipped: ${skipReason}`, () => {});
        console.log(`skip ${pkg.name} README ${title}: ${skipReason}`);
        continue;
      }
      it(title, () => {
        // inside the package folder so that its dependencies (and itself, by name) resolve
        const folder = join(pkg.path, '.readme-examples');
        mkdirSync(folder, { recursive: true });
        written.push(folder);
        if (example.tags.includes('test')) {
          // a vitest file: run by vitest inside the package, with the source condition
          const file = join(folder, `example-${example.index + 1}.test.ts`);
          writeFileSync(file, example.code);
          const vitest = join(root, 'node_modules', '.bin', 'vitest');
          const config = join(root, 'tooling', 'readme-examples.vitest.config.ts');
          const result = run(vitest, ['run', '--config', config, '--root', pkg.path, file], { cwd: pkg.path, env: exampleEnvironment(workingDirectory), timeoutMs: 300_000 });
          expect(result.status, tail(result)).toBe(0);
          expect(result.stdout + result.stderr).toMatch(/Tests\s+.*\d+ passed/);
          return;
        }
        const file = join(folder, `example-${example.index + 1}.ts`);
        writeFileSync(file, example.code);
        const result = run(process.execPath, ['--conditions=@genrec/source', '--import', tsxLoader, file], { cwd: workingDirectory, env: exampleEnvironment(workingDirectory), timeoutMs: 300_000 });
        expect(result.status, tail(result)).toBe(0);
      });
    }
  });
}
