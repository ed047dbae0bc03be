import { defineProject, type UserWorkspaceConfig } from 'vitest/config';

/**
 * Export conditions used when resolving workspace packages in tests: `@genrec/source`
 * points each `@genrec/*` package at its `src/index.ts`, so tests run against the
 * sibling packages' sources without a build first (for SSR/node too).
 */
export const workspaceConditions = ['@genrec/source', 'module', 'node', 'import', 'default'];

/** The vitest project config every package uses (`vitest.config.ts` in each package). */
export function packageProject(name: string, overrides: UserWorkspaceConfig['test'] = {}): UserWorkspaceConfig {
  return defineProject({
    resolve: { conditions: workspaceConditions },
    ssr: { resolve: { conditions: workspaceConditions, externalConditions: workspaceConditions } },
    test: {
      name,
      include: ['src/**/*.test.ts'],
      environment: 'node',
      testTimeout: 120_000,
      hookTimeout: 120_000,
      ...overrides,
    },
  });
}
