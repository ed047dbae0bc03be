/**
 * The genrec command line: data, ids, train, evaluate, recommend, report, reproduce, sweep, align, serve —
 * with progress bars and reproducible run folders. The `genrec` binary runs {@link runCli}; everything
 * it uses is exported for programs that drive it (the example apps do).
 *
 * @packageDocumentation
 * @module @genrec/cli
 */

export { version } from './version.js';
export { runCli, type RunCliOptions } from './run-cli.js';
export { CliError, EXIT_CODES, exitCodeOf, type ExitCode } from './exit-codes.js';
export type { CliIo, CommandContext, CommandOutcome } from './context.js';
export {
  CONFIG_SCHEMA,
  defaultConfig,
  mergeConfig,
  parseAssignment,
  readConfigFile,
  resolveConfig,
  setPath,
  type ConfigLayers,
  type AlignConfig,
  type DataConfig,
  type EvaluationConfig,
  type GenrecConfig,
  type IdsConfig,
  type ModelConfig,
  type SweepConfig,
} from './config/config.js';
export { describeValue, validateField, type FieldSpec, type ValidationSource } from './config/schema.js';
export { tigerEntry, type TigerApi } from './models/tiger-entry.js';
export { MODEL_REGISTRY, createModelRegistry, modelEntry, registryLoaders, type ModelEntry, type ModelFitInput, type ModelRegistry } from './models/registry.js';
export { loadData, trainingPopularity, type DataFile, type LoadedData } from './data/load-data.js';
export { IDS_FILES, buildIds, loadIds, saveIds, type IdsHealth, type PreparedIds } from './ids/build-ids.js';
export { createProgressDisplay, type ProgressDisplay, type ProgressDisplayOptions, type ProgressMode, type ProgressStream } from './progress/display.js';
export { epochDetail, formatDuration, formatEventLine } from './progress/format-event.js';
export { RUN_FILES, RUN_FORMAT_VERSION, RunFolder, readRunFolder, type EpochRecord, type RunCommand, type RunRecord, type StoredRun } from './run/run-folder.js';
export { environmentDifferences, packageVersions, runEnvironment, type RunEnvironment } from './run/environment.js';
export {
  compareToReference,
  primaryK,
  tableMetricsOf,
  type ComparedMetric,
  type PairedComparison,
  type RunMetrics,
  type SeedMetrics,
  type SignificanceCell,
  type SystemMetrics,
} from './evaluation/run-metrics.js';
export { collectRuns, readIdsHealth, reportFromRuns, type CollectedReport, type FinishedRun } from './report/collect-runs.js';
export { compareRunMetrics, type ComparedNumber } from './commands/reproduce.js';
export { gridPoints, MAX_SWEEP_POINTS, type SweepPoint, type SweepRecord } from './commands/sweep.js';
export { alignCommand, comparisonTable, roundsTable } from './commands/align.js';
export { alignRun, alignedNames, alignmentRoundRecords, type AlignRunResult, type AlignedSeed, type AlignmentRoundRecord } from './pipeline/align-run.js';
export { PREFERENCE_HOOKS, preferenceHookFactory, type PreferenceHook, type PreferenceHookFactory } from './models/preference-hooks.js';
export type { ServeSummary } from './commands/serve.js';
export type { ResolvedServeFlag, ServeOptionSource } from './commands/serve-flags.js';
export { formatQualityTable, metricCell, textTable, type TableSystem } from './tables.js';
