import { defineConfig } from 'vitest/config';

// One run over every package: each folder's vitest.config.ts defines its project.
export default defineConfig({
  test: {
    projects: ['packages/*/vitest.config.ts', 'examples/*/vitest.config.ts', 'tooling/vitest.config.ts'],
    // Two cores on the reference machine: keep heavy onnxruntime tests from oversubscribing.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
