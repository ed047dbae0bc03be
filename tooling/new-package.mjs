#!/usr/bin/env node
// Creates a new workspace package from the template: `pnpm new-package <name> "<description>"`.
// Writes packages/<name>/{package.json, tsconfig.json, tsconfig.build.json, vitest.config.ts,
// README.md, src/index.ts, src/index.test.ts}. Refuses to overwrite an existing folder.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** @param {string} name @param {string} description */
export function packageFiles(name, description) {
  const scoped = `@genrec/${name}`;
  const packageJson = {
    name: scoped,
    version: '0.0.0',
    description,
    license: 'MIT',
    type: 'module',
    sideEffects: false,
    exports: {
      '.': {
        '@genrec/source': './src/index.ts',
        types: './dist/index.d.ts',
        import: './dist/index.js',
      },
    },
    files: ['dist', 'README.md'],
    scripts: {
      build: 'tsc -p tsconfig.build.json',
      lint: 'tsc -p tsconfig.json',
      test: 'vitest run',
    },
    dependencies: {},
    devDependencies: {},
  };
  return {
    'package.json': JSON.stringify(packageJson, null, 2) + '\n',
    'tsconfig.json':
      JSON.stringify(
        { extends: '../../tooling/tsconfig.package.json', include: ['src', 'bench'] },
        null,
        2,
      ) + '\n',
    'tsconfig.build.json':
      JSON.stringify(
        {
          extends: './tsconfig.json',
          compilerOptions: { noEmit: false, rootDir: 'src', outDir: 'dist', customConditions: [] },
          include: ['src'],
          exclude: ['src/**/*.test.ts', 'src/testing/**/*.test.ts'],
        },
        null,
        2,
      ) + '\n',
    'vitest.config.ts': `import { packageProject } from '../../tooling/vitest.shared.js';\n\nexport default packageProject('${name}');\n`,
    'README.md': `# ${scoped}\n\n${description}\n\n## Install\n\n\`\`\`sh\npnpm add ${scoped}\n\`\`\`\n\n## Example\n\n\`\`\`ts\nimport { version } from '${scoped}';\n\`\`\`\n`,
    'src/index.ts': `/**\n * ${description}\n *\n * @packageDocumentation\n * @module ${scoped}\n */\n\n/** The package version this source belongs to. */\nexport const version = '0.0.0';\n`,
    'src/index.test.ts': `import { describe, expect, it } from 'vitest';\nimport { version } from './index.js';\n\ndescribe('${scoped}', () => {\n  it('exposes its version', () => {\n    expect(version).toMatch(/^\\d+\\.\\d+\\.\\d+$/);\n  });\n});\n`,
  };
}

function main() {
  const [name, description = `genrec ${process.argv[2]} package`] = process.argv.slice(2);
  if (!name || !/^[a-z][a-z0-9-]*$/.test(name)) {
    console.error('usage: pnpm new-package <name> "<description>"   (name: lower-case, digits, dashes)');
    process.exit(2);
  }
  const folder = join(root, 'packages', name);
  if (existsSync(folder)) {
    console.error(`packages/${name} already exists; nothing written`);
    process.exit(1);
  }
  for (const [relative, content] of Object.entries(packageFiles(name, description))) {
    const path = join(folder, relative);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }
  console.log(`created packages/${name} (@genrec/${name}); run \`pnpm install\` to link it`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
