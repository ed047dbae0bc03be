import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GenrecError } from '../errors.js';
import { killDuringSaves } from '../testing/kill-saves.js';
import { TemporaryFolders } from '../testing/temporary-folders.js';
import { ARTIFACT_CHECKSUM_FILE, ARTIFACT_POINTER_FILE, openArtifactDirectory, writeArtifactDirectory } from './artifact-directory.js';
import { readArtifactManifest, writeManifest } from './manifest.js';

const folders = new TemporaryFolders();
const temp = (): string => folders.create('genrec-artifact-');
afterAll(() => folders.removeAll());
const LONG_RUN = process.env.GENREC_LONG_RUN === '1';

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return GenrecError.isInstance(error) ? error.code : `not a GenrecError: ${String(error)}`;
  }
  return undefined;
}

async function saveVersion(path: string, label: string): Promise<void> {
  await writeArtifactDirectory(path, (directory) => {
    writeManifest(join(directory, 'manifest.json'), { kind: 'genrec.test', formatVersion: 1, label });
    mkdirSync(join(directory, 'nested'));
    writeFileSync(join(directory, 'nested', 'data.bin'), label.repeat(100));
  });
}

describe('artifact folders', () => {
  it('writes a versioned folder with a pointer and checksums, and reads it back verified', async () => {
    const path = join(temp(), 'artifact');
    await saveVersion(path, 'one');
    const artifact = openArtifactDirectory(path);
    expect(artifact.verified).toBe(true);
    expect(artifact.files).toEqual(['manifest.json', 'nested/data.bin']);
    expect(readArtifactManifest<{ kind: string; formatVersion: number; label: string }>(artifact, 'genrec.test', [1]).label).toBe('one');
    expect(new TextDecoder().decode(artifact.readFile('nested/data.bin'))).toBe('one'.repeat(100));
    const entries = readdirSync(path).sort();
    expect(entries).toHaveLength(2);
    expect(entries).toContain(ARTIFACT_POINTER_FILE);
    expect(existsSync(join(artifact.directory, ARTIFACT_CHECKSUM_FILE))).toBe(true);
  });

  it('replaces the previous version and removes it', async () => {
    const path = join(temp(), 'artifact');
    await saveVersion(path, 'one');
    const first = openArtifactDirectory(path).directory;
    await saveVersion(path, 'two');
    const second = openArtifactDirectory(path);
    expect(second.directory).not.toBe(first);
    expect(existsSync(first)).toBe(false);
    expect(readdirSync(path)).toHaveLength(2);
    expect((second.readJson('manifest.json') as { label: string }).label).toBe('two');
  });

  it('a failed fill leaves the previous version in place and no staging folder', async () => {
    const path = join(temp(), 'artifact');
    await saveVersion(path, 'one');
    await expect(
      writeArtifactDirectory(path, (directory) => {
        writeFileSync(join(directory, 'manifest.json'), 'partial');
        throw new Error('disk full');
      }),
    ).rejects.toThrowError(/disk full/);
    expect((openArtifactDirectory(path).readJson('manifest.json') as { label: string }).label).toBe('one');
    expect(readdirSync(path)).toHaveLength(2);
  });

  it('detects a file changed, truncated or removed after the save (metadata included)', async () => {
    const path = join(temp(), 'artifact');
    await saveVersion(path, 'one');
    const { directory } = openArtifactDirectory(path);
    const manifestPath = join(directory, 'manifest.json');
    const original = readFileSync(manifestPath, 'utf8');
    writeFileSync(manifestPath, original.replace('"one"', '"two"'));
    expect(codeOf(() => openArtifactDirectory(path).readJson('manifest.json'))).toBe('CORRUPT_ARTIFACT');
    writeFileSync(manifestPath, original.slice(0, 10));
    expect(codeOf(() => openArtifactDirectory(path).readFile('manifest.json'))).toBe('CORRUPT_ARTIFACT');
    expect(codeOf(() => openArtifactDirectory(path).readFile('missing.bin'))).toBe('NOT_FOUND');
    writeFileSync(join(directory, ARTIFACT_CHECKSUM_FILE), '{"kind":"genrec.checksums","formatVersion":1,"files":{"../x":{"bytes":1,"sha256":"00"}}}');
    expect(codeOf(() => openArtifactDirectory(path))).toBe('CORRUPT_ARTIFACT');
    writeFileSync(join(path, ARTIFACT_POINTER_FILE), '../../etc\n');
    expect(codeOf(() => openArtifactDirectory(path))).toBe('CORRUPT_ARTIFACT');
    expect(codeOf(() => openArtifactDirectory(join(path, 'nope')))).toBe('NOT_FOUND');
  });

  it('never deletes a complete version because the pointer names a missing folder', async () => {
    const path = join(temp(), 'artifact');
    await saveVersion(path, 'one');
    const { directory } = openArtifactDirectory(path);
    // a dead writer's name, so the real version would look like a leftover to a careless cleanup
    writeFileSync(join(path, ARTIFACT_POINTER_FILE), 'vzzz-4194300-1\n');
    expect(codeOf(() => openArtifactDirectory(path))).toBe('CORRUPT_ARTIFACT');
    expect(existsSync(directory)).toBe(true);
    writeFileSync(join(path, ARTIFACT_POINTER_FILE), 'garbage\n');
    expect(codeOf(() => openArtifactDirectory(path))).toBe('CORRUPT_ARTIFACT');
    expect(existsSync(directory)).toBe(true);
  });

  it('reads a plain folder (no pointer) unverified, so hand-made folders load', () => {
    const path = temp();
    writeFileSync(join(path, 'manifest.json'), '{"kind":"genrec.test","formatVersion":1}');
    const artifact = openArtifactDirectory(path);
    expect(artifact.verified).toBe(false);
    expect(artifact.directory).toBe(path);
    expect(readArtifactManifest(artifact, 'genrec.test', [1]).kind).toBe('genrec.test');
    expect(codeOf(() => readArtifactManifest(artifact, 'genrec.test', [0]))).toBe('FORMAT_VERSION');
  });

  it('removes staging and version folders left by killed writers on the next save or open', async () => {
    const path = join(temp(), 'artifact');
    await saveVersion(path, 'one');
    // a dead writer's leftovers: pid 2^22+ is above Linux's pid_max default range in practice
    const deadPid = 4_194_000 + Math.floor(Math.random() * 100);
    mkdirSync(join(path, `.staging-${deadPid}-1`));
    mkdirSync(join(path, `vabc-${deadPid}-2`));
    writeFileSync(join(path, `.${ARTIFACT_POINTER_FILE}.${deadPid}.3.tmp`), 'x');
    openArtifactDirectory(path);
    expect(readdirSync(path).filter((name) => name.includes(String(deadPid))).sort()).toEqual([`.${ARTIFACT_POINTER_FILE}.${deadPid}.3.tmp`]);
    await saveVersion(path, 'two');
    expect(readdirSync(path)).toHaveLength(2);
  });

  it(`survives ${LONG_RUN ? 200 : 20} kills mid-save: the final name always loads, old or new`, async () => {
    const path = join(temp(), 'artifact');
    const module = join(temp(), 'save-module.ts');
    const source = new URL('./artifact-directory.ts', import.meta.url).pathname;
    writeFileSync(
      module,
      `import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeArtifactDirectory } from ${JSON.stringify(source)};
export async function save(path: string, round: number): Promise<void> {
  await writeArtifactDirectory(path, (directory) => {
    const payload = new Uint8Array(1 << 20).fill(round % 251);
    writeFileSync(join(directory, 'payload.bin'), payload);
    writeFileSync(join(directory, 'manifest.json'), JSON.stringify({ kind: 'genrec.test', formatVersion: 1, round }));
  });
}
`,
    );
    const { completedSaves } = await killDuringSaves({
      module,
      path,
      kills: LONG_RUN ? 200 : 20,
      seed: 7,
      delayMs: [0, 40],
      verify(target) {
        const artifact = openArtifactDirectory(target);
        const manifest = artifact.readJson('manifest.json') as { round: number };
        const payload = artifact.readFile('payload.bin');
        expect(payload.length).toBe(1 << 20);
        expect(payload[12345]).toBe(manifest.round % 251);
      },
    });
    expect(completedSaves).toBeGreaterThan(0);
    await writeArtifactDirectory(path, (directory) => writeFileSync(join(directory, 'x'), 'y'));
    expect(readdirSync(path)).toHaveLength(2);
  }, 300_000);
});
