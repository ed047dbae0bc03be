#!/usr/bin/env node
// Creates a model package: `pnpm new-model <name> ["<description>"]` writes packages/model-<name>
// (@genrec/model-<name>) from tooling/model-template: package.json, tsconfig, vitest config, a
// README with the benchmark table, a working first-order Markov model implementing core's
// Recommender contract, its unit test, the conformance suite wired in src/conformance.test.ts, a
// benchmark script, and a changeset in .changeset/. Refuses to overwrite anything.
// Then run `pnpm install --offline` (links the workspace packages it depends on).
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageFiles } from './new-package.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const templateFolder = join(root, 'tooling', 'model-template');

/** Model names: lower-case words of letters and digits joined by single dashes, not starting with "model-". */
const NAME_PATTERN = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/**
 * The spellings of a model name the template uses.
 * @param {string} name  e.g. "gru4rec" or "next-item"
 */
export function modelNames(name) {
  const words = name.split('-');
  return {
    name,
    Name: words.map((word) => word[0].toUpperCase() + word.slice(1)).join(''),
    NAME: words.map((word) => word.toUpperCase()).join('_'),
  };
}

/**
 * Checks a model name; returns an error message or undefined.
 * @param {string | undefined} name
 */
export function checkModelName(name) {
  if (!name || !NAME_PATTERN.test(name)) return 'the name must be lower-case letters and digits, words joined by single dashes (e.g. gru4rec, next-item)';
  if (name.startsWith('model-')) return `give the name without the "model-" prefix: pnpm new-model ${name.slice('model-'.length)}`;
  return undefined;
}

function fill(text, names, description) {
  // functions as replacements: a description may hold `$&` and the like
  return text
    .replaceAll('__description__', () => description)
    .replaceAll('__name__', () => names.name)
    .replaceAll('__Name__', () => names.Name)
    .replaceAll('__NAME__', () => names.NAME);
}

function templateFiles(folder = templateFolder) {
  const files = [];
  for (const entry of readdirSync(folder)) {
    const path = join(folder, entry);
    if (statSync(path).isDirectory()) files.push(...templateFiles(path));
    else files.push(path);
  }
  return files;
}

/**
 * Every file of a new model package, by path relative to the repository root.
 * @param {string} name  the model name (without "model-")
 * @param {string} description  one sentence for package.json, the README and the changeset
 * @returns {Record<string, string>}
 */
export function modelPackageFiles(name, description) {
  const names = modelNames(name);
  const packageName = `model-${name}`;
  const folder = join('packages', packageName);
  const base = packageFiles(packageName, description);
  const manifest = JSON.parse(base['package.json']);
  manifest.scripts.bench = 'tsx --conditions=@genrec/source bench/benchmark.ts';
  manifest.dependencies = { '@genrec/core': 'workspace:*', '@genrec/data': 'workspace:*', '@genrec/eval': 'workspace:*' };
  manifest.devDependencies = { '@genrec/model-baselines': 'workspace:*' };
  const files = {
    [join(folder, 'package.json')]: JSON.stringify(manifest, null, 2) + '\n',
    [join(folder, 'tsconfig.json')]: base['tsconfig.json'],
    [join(folder, 'tsconfig.build.json')]: base['tsconfig.build.json'],
    [join(folder, 'vitest.config.ts')]: base['vitest.config.ts'],
  };
  for (const path of templateFiles()) {
    const relativePath = relative(templateFolder, path).replace(/\.template$/, '');
    const content = fill(readFileSync(path, 'utf8'), names, description);
    if (relativePath === 'changeset.md') files[join('.changeset', `${packageName}-initial.md`)] = content;
    else files[join(folder, fill(relativePath, names, description))] = content;
  }
  return files;
}

/**
 * Writes a new model package under `repositoryRoot` (refusing to overwrite any file).
 * @param {string} name
 * @param {string} description
 * @param {string} [repositoryRoot]
 * @returns {string[]} the paths written, relative to the root
 */
export function createModelPackage(name, description, repositoryRoot = root) {
  const problem = checkModelName(name);
  if (problem) throw new Error(problem);
  const files = modelPackageFiles(name, description);
  const folder = join(repositoryRoot, 'packages', `model-${name}`);
  if (existsSync(folder)) throw new Error(`packages/model-${name} already exists; nothing written`);
  for (const path of Object.keys(files)) {
    if (existsSync(join(repositoryRoot, path))) throw new Error(`${path} already exists; nothing written`);
  }
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(repositoryRoot, path)), { recursive: true });
    writeFileSync(join(repositoryRoot, path), content);
  }
  return Object.keys(files);
}

function main() {
  const [name, description = `A genrec recommender (${process.argv[2]}) implementing the Recommender contract.`] = process.argv.slice(2);
  const problem = checkModelName(name);
  if (problem) {
    console.error(`usage: pnpm new-model <name> ["<description>"]\n  ${problem}`);
    process.exit(2);
  }
  let written;
  try {
    written = createModelPackage(name, description);
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
  console.log(`created @genrec/model-${name}:`);
  for (const path of written) console.log(`  ${path}`);
  console.log(`next: pnpm install --offline   (links its workspace dependencies)`);
  console.log(`      npx vitest run --project model-${name}   (unit test + conformance suite)`);
  console.log(`      pnpm --filter @genrec/model-${name} lint   (type check); then see CONTRIBUTING.md`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
