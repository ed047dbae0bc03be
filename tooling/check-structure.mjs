#!/usr/bin/env node
// Checks that every workspace package follows the layout of CONVENTIONS.md: README, src/index.ts,
// at least one colocated test, an ESM exports map with a `@genrec/source` condition, vitest config.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const problems = [];

function hasTest(folder) {
  for (const entry of readdirSync(folder)) {
    const path = join(folder, entry);
    if (statSync(path).isDirectory() ? hasTest(path) : entry.endsWith('.test.ts')) return true;
  }
  return false;
}

for (const group of ['packages', 'examples']) {
  const base = join(root, group);
  if (!existsSync(base)) continue;
  for (const name of readdirSync(base)) {
    const folder = join(base, name);
    if (!statSync(folder).isDirectory() || !existsSync(join(folder, 'package.json'))) continue;
    const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8'));
    const where = `${group}/${name}`;
    if (manifest.type !== 'module') problems.push(`${where}: package.json needs "type": "module"`);
    if (!existsSync(join(folder, 'README.md'))) problems.push(`${where}: no README.md`);
    if (group === 'packages') {
      if (manifest.name !== `@genrec/${name}`) problems.push(`${where}: package name must be @genrec/${name}`);
      if (!existsSync(join(folder, 'src', 'index.ts'))) problems.push(`${where}: no src/index.ts`);
      if (!existsSync(join(folder, 'src')) || !hasTest(join(folder, 'src'))) problems.push(`${where}: no *.test.ts next to the code`);
      const main = manifest.exports?.['.'];
      if (!main || main['@genrec/source'] !== './src/index.ts' || !main.types || !main.import) {
        problems.push(`${where}: exports["."] needs @genrec/source, types and import conditions`);
      }
      if (!existsSync(join(folder, 'vitest.config.ts'))) problems.push(`${where}: no vitest.config.ts`);
    } else if (manifest.private !== true) {
      problems.push(`${where}: examples must be private`);
    }
  }
}

if (problems.length > 0) {
  console.error(problems.map((p) => `- ${p}`).join('\n'));
  process.exit(1);
}
console.log('structure ok');
