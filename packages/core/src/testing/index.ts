/**
 * Test helpers for packages that write genrec artifacts (`@genrec/core/testing`): a kill-mid-save
 * harness, the pieces of the readers' fuzz tests (a child-process runner, outcome counting, a
 * byte mutator), the artifact-folder fuzz kit (seeded mutations of a saved folder, re-signed
 * checksums, outcome classes), temporary folders a test file removes after its tests, and a
 * runner of one-off TypeScript scripts in a child process. Not part of the runtime API; no
 * dependency (the property-testing library and the test runner are the caller's).
 *
 * @module @genrec/core/testing
 */
export { killDuringSaves, type KillDuringSavesOptions } from './kill-saves.js';
export { TemporaryFolders } from './temporary-folders.js';
export { runScript, type RunScriptOptions, type ScriptRun } from './run-script.js';
export { FuzzOutcomes, fuzzInChild, fuzzRuns, mutateBytes, type FuzzInChildOptions, type FuzzModule, type FuzzReport } from './fuzz.js';
export {
  ARTIFACT_MUTATION_WEIGHTS,
  ArtifactFixture,
  FUZZ_INTERESTING_NUMBERS,
  classifyArtifactLoad,
  mutateArtifactFile,
  randomArtifactMutation,
  randomDataFileMutation,
  randomJsonValue,
  type ArtifactMutation,
  type ArtifactMutationKind,
  type ArtifactMutationOptions,
  type ArtifactResign,
  type ArtifactSidecar,
  type ByteEdit,
  type ClassifyArtifactLoadOptions,
  type FileMutation,
} from './artifact-fuzz.js';
