/**
 * Test helpers for packages that write genrec artifacts (`@genrec/core/testing`): a kill-mid-save
 * harness and the pieces of the readers' fuzz tests (a child-process runner, outcome counting, a
 * byte mutator). Not part of the runtime API; no dependency (the property-testing library is the
 * caller's).
 *
 * @module @genrec/core/testing
 */
export { killDuringSaves, type KillDuringSavesOptions } from './kill-saves.js';
export { FuzzOutcomes, fuzzInChild, fuzzRuns, mutateBytes, type FuzzInChildOptions, type FuzzModule, type FuzzReport } from './fuzz.js';
