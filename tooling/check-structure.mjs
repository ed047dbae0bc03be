#!/usr/bin/env node
// Checks that every workspace package follows the layout of CONVENTIONS.md: README, src/index.ts,
// at least one colocated test, an ESM exports map with a `@genrec/source` condition, vitest config.
// Model packages (packages/model-*) also run the Recommender conformance suite in
// src/conformance.test.ts (from @genrec/model-baselines/testing) and carry a "## Benchmark"
// section in their README (CONVENTIONS.md §2b).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(import.meta.dirname, '..');

function hasTest(folder) {
  for (const entry of readdirSync(folder)) {
    const path = join(folder, entry);
    if (statSync(path).isDirectory() ? hasTest(path) : entry.endsWith('.test.ts')) return true;
  }
  return false;
}

/** The extra rules of a model package (packages/model-<name>). */
function modelPackageProblems(folder, name, manifest, where) {
  const problems = [];
  const conformance = join(folder, 'src', 'conformance.test.ts');
  if (!existsSync(conformance) || !readFileSync(conformance, 'utf8').includes('describeRecommenderConformance')) {
    problems.push(`${where}: model packages run the conformance suite (describeRecommenderConformance) in src/conformance.test.ts`);
  }
  const readme = join(folder, 'README.md');
  if (existsSync(readme) && !/^## Benchmark/m.test(readFileSync(readme, 'utf8'))) {
    problems.push(`${where}: model packages carry a "## Benchmark" section in README.md (data set, protocol, Recall@10/NDCG@10 with seeds, wall time, peak RSS, throughput, commands)`);
  }
  const dependsOnSuite = manifest.dependencies?.['@genrec/model-baselines'] ?? manifest.devDependencies?.['@genrec/model-baselines'];
  if (name !== 'model-baselines' && dependsOnSuite === undefined) {
    problems.push(`${where}: model packages need @genrec/model-baselines (the conformance suite) as a devDependency`);
  }
  return problems;
}

/**
 * Every structure problem of the workspace under `repositoryRoot`, as "<group>/<name>: message" lines.
 * @param {string} [repositoryRoot]
 * @returns {string[]}
 */
export function structureProblems(repositoryRoot = root) {
  const problems = [];
  for (const group of ['packages', 'examples']) {
    const base = join(repositoryRoot, group);
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
        if (name.startsWith('model-')) problems.push(...modelPackageProblems(folder, name, manifest, where));
      } else if (manifest.private !== true) {
        problems.push(`${where}: examples must be private`);
      }
    }
  }
  return problems;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const problems = structureProblems();
  if (problems.length > 0) {
    console.error(problems.map((p) => `- ${p}`).join('\n'));
    process.exit(1);
  }
  console.log('structure ok');
}
