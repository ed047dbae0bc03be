import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runScript } from './run-script.js';

// the children run from the repository root, where `tsx` resolves
const cwd = fileURLToPath(new URL('../../../../', import.meta.url));
/** Folders under os.tmpdir() whose name starts with `prefix`. */
const leftOver = (prefix: string): string[] => readdirSync(tmpdir()).filter((name) => name.startsWith(prefix));

describe('runScript', () => {
  it('runs the script in its own folder, there during the run and gone after; the exit code and stdout come back', () => {
    const prefix = `genrec-run-script-test-${process.pid}-ok-`;
    const run = runScript(
      `import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
writeFileSync(join(import.meta.dirname, 'written.txt'), 'x');
console.log(import.meta.dirname);
console.log(existsSync(join(import.meta.dirname, 'written.txt')) + ' ' + process.cwd());
process.exitCode = 3;
`,
      { cwd, prefix },
    );
    expect(run.status, run.stderr).toBe(3);
    expect(run.signal).toBeNull();
    const [folder, check] = run.stdout.trim().split('\n');
    expect(dirname(folder!)).toBe(tmpdir());
    expect(folder!.startsWith(`${tmpdir()}/${prefix}`)).toBe(true);
    expect(check).toBe(`true ${cwd.replace(/\/$/, '')}`);
    expect(existsSync(folder!)).toBe(false);
    expect(leftOver(prefix)).toEqual([]);
  });

  it('a throwing script gives a non-zero status and its error on stderr', () => {
    const prefix = `genrec-run-script-test-${process.pid}-throw-`;
    const run = runScript("throw new Error('thrown on purpose');\n", { cwd, prefix });
    expect(run.status).not.toBe(0);
    expect(run.status).not.toBeNull();
    expect(run.stderr).toContain('thrown on purpose');
    expect(leftOver(prefix)).toEqual([]);
  });

  it('a script past timeoutMs is killed, and its folder is removed', () => {
    const prefix = `genrec-run-script-test-${process.pid}-hang-`;
    const run = runScript("console.log(import.meta.dirname);\nfor (;;) {}\n", { cwd, prefix, timeoutMs: 3000 });
    expect(run.status).toBeNull();
    expect(run.signal).toBe('SIGTERM');
    const folder = run.stdout.trim();
    if (folder !== '') expect(existsSync(folder)).toBe(false); // printed unless the child was killed while starting
    expect(leftOver(prefix)).toEqual([]);
  }, 30_000);
});
