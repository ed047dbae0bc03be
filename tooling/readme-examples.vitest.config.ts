import { defineConfig } from 'vitest/config';
import { workspaceConditions } from './vitest.shared.js';

// Runs a README example that is a vitest file (```ts test), written to <package>/.readme-examples/.
export default defineConfig({
  resolve: { conditions: workspaceConditions },
  ssr: { resolve: { conditions: workspaceConditions, externalConditions: workspaceConditions } },
  test: { include: ['.readme-examples/**/*.test.ts'], environment: 'node', testTimeout: 120_000, hookTimeout: 120_000 },
});
