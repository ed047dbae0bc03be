import { packageProject } from './vitest.shared.js';

// Repository-level checks: README examples, package lint (publint, attw), install outside the monorepo.
export default packageProject('tooling', { include: ['tests/**/*.test.ts'], testTimeout: 900_000, hookTimeout: 900_000 });
