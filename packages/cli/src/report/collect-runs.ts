import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AlignmentRound, ReportInput, ReportSystem, SemanticIdSection, TrainingCurve } from '@genrec/report';
import { CliError, EXIT_CODES } from '../exit-codes.js';
import type { RunMetrics, SystemMetrics } from '../evaluation/run-metrics.js';
import { IDS_FILES, type IdsHealth } from '../ids/build-ids.js';
import { RUN_FILES, readRunFolder, type EpochRecord, type StoredRun } from '../run/run-folder.js';
import type { TableSystem } from '../tables.js';

/**
 * The health of an ids folder (`genrec ids --out`, or a run's `ids/`), as a report section.
 *
 * @throws CliError exit 4 when the folder has no `health.json`
 * @example
 * ```ts
 * readIdsHealth('toys-ids').utilisationPerLevel;
 * ```
 */
export function readIdsHealth(folder: string): SemanticIdSection {
  const file = join(folder, IDS_FILES.health);
  if (!existsSync(file)) throw new CliError(EXIT_CODES.artifact, 'NOT_FOUND', `${folder} is not an ids folder (no ${IDS_FILES.health}; write one with genrec ids --out)`, { details: { file: folder } });
  const { health } = JSON.parse(readFileSync(file, 'utf8')) as { health: IdsHealth };
  return health;
}

/** A finished run with its metrics. */
export interface FinishedRun extends StoredRun {
  metrics: RunMetrics;
}

/**
 * The finished runs under `paths`: each path is a run folder, or a folder of run folders (one
 * level down). Runs without `metrics.json` (running, interrupted, failed) are skipped and named.
 *
 * @returns the runs (in the order given, folders sorted by name) and the skipped folders with why
 * @throws CliError exit 4 for a path that does not exist or holds no run folder
 * @example
 * ```ts
 * const { runs, skipped } = collectRuns(['runs'], process.cwd());
 * ```
 */
export function collectRuns(paths: readonly string[], cwd: string): { runs: FinishedRun[]; skipped: string[] } {
  const runs: FinishedRun[] = [];
  const skipped: string[] = [];
  for (const given of paths) {
    const path = resolve(cwd, given);
    if (!existsSync(path) || !statSync(path).isDirectory()) throw new CliError(EXIT_CODES.artifact, 'NOT_FOUND', `${path} is not a folder (give run folders or a folder of run folders)`, { details: { file: path } });
    const folders = existsSync(join(path, RUN_FILES.record))
      ? [path]
      : readdirSync(path)
          .sort()
          .map((name) => join(path, name))
          .filter((folder) => existsSync(join(folder, RUN_FILES.record)));
    if (folders.length === 0) throw new CliError(EXIT_CODES.artifact, 'NOT_FOUND', `${path} holds no run folder (no ${RUN_FILES.record} in it or one level down)`, { details: { file: path } });
    for (const folder of folders) {
      const run = readRunFolder(folder);
      if (run.metrics === undefined || run.record.status !== 'complete') skipped.push(`${folder} (${run.record.status})`);
      else runs.push(run as FinishedRun);
    }
  }
  if (runs.length === 0) throw new CliError(EXIT_CODES.artifact, 'NOT_FOUND', `no finished run among ${paths.join(', ')}${skipped.length > 0 ? ` (not finished: ${skipped.join(', ')})` : ''}`);
  return { runs, skipped };
}

function readEpochs(path: string): EpochRecord[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as EpochRecord);
}

/** The name of a run's model row: kind, the preset in brackets, the run id when needed to tell runs apart. */
function systemName(run: FinishedRun, system: SystemMetrics): string {
  return run.config.model.preset === null || run.record.command === 'evaluate' || run.record.command === 'align' ? system.name : `${system.name} (${run.config.model.preset})`;
}

/** Rows, curves and sections of a report over finished runs on the same data. */
export interface CollectedReport {
  input: ReportInput;
  /** The rows for the text table. */
  table: TableSystem[];
  tableMetrics: string[];
  baseline: string | null;
  seeds: number;
}

/**
 * Builds the report of finished runs: one row per baseline (from the first run that has it) and
 * one per model run, their training curves, semantic-id health, exposure and alignment rounds.
 *
 * @param runs - finished runs on the same data (same training-split fingerprint)
 * @param options - title
 * @returns the report input and the text table rows
 * @throws CliError exit 2 when the runs are on different data or under different protocols
 * @example
 * ```ts
 * writeReport('report.html', reportFromRuns(collectRuns(['runs'], process.cwd()).runs).input);
 * ```
 */
export function reportFromRuns(runs: readonly FinishedRun[], options: { title?: string } = {}): CollectedReport {
  const first = runs[0]!;
  for (const run of runs) {
    if (run.metrics.data.trainFingerprint !== first.metrics.data.trainFingerprint) {
      throw new CliError(
        EXIT_CODES.usage,
        'INVALID_INPUT',
        `runs on different data cannot share a table: ${first.path} (${first.metrics.data.name}, ${first.metrics.data.trainFingerprint}) and ${run.path} (${run.metrics.data.name}, ${run.metrics.data.trainFingerprint}); report them separately`,
      );
    }
    if (run.metrics.protocol !== first.metrics.protocol || JSON.stringify(run.metrics.ks) !== JSON.stringify(first.metrics.ks)) {
      const why = JSON.stringify(run.metrics.ks) !== JSON.stringify(first.metrics.ks) ? `cut-offs ${first.metrics.ks.join(',')} vs ${run.metrics.ks.join(',')}` : `"${first.metrics.protocol}" vs "${run.metrics.protocol}"`;
      throw new CliError(EXIT_CODES.usage, 'INVALID_INPUT', `runs evaluated under different protocols: ${first.path} and ${run.path} (${why})`);
    }
  }
  const rows: { system: SystemMetrics; name: string; run: FinishedRun }[] = [];
  const seenBaselines = new Set<string>();
  for (const run of runs) {
    for (const system of run.metrics.systems) {
      if (system.role !== 'baseline' || seenBaselines.has(system.name)) continue;
      seenBaselines.add(system.name);
      rows.push({ system, name: system.name, run });
    }
  }
  for (const run of runs) {
    for (const system of run.metrics.systems) if (system.role === 'model') rows.push({ system, name: systemName(run, system), run });
  }
  // the same name twice (two runs of one kind and preset): add the run id
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(row.name, (counts.get(row.name) ?? 0) + 1);
  for (const row of rows) if ((counts.get(row.name) ?? 0) > 1 && row.system.role === 'model') row.name = `${row.name} [${row.run.record.id}]`;

  const baseline = first.metrics.baseline;
  const systems: ReportSystem[] = rows.map(({ system, name, run }) => ({
    name,
    kind: system.kind,
    ...(system.baseline && system.name === baseline ? { baseline: true } : {}),
    metrics: Object.fromEntries(Object.entries(system.summary).filter(([key]) => key !== 'trainingSeconds')),
    significance: system.significantInEverySeed,
    ...(system.summary['trainingSeconds'] === undefined ? {} : { trainingSeconds: system.summary['trainingSeconds'].mean }),
    run: run.path,
  }));
  const training: TrainingCurve[] = [];
  const semanticIds: SemanticIdSection[] = [];
  const alignment: AlignmentRound[] = [];
  for (const { system, name, run } of rows) {
    if (system.role === 'baseline') continue;
    for (const seed of system.seeds) {
      const epochs = readEpochs(join(run.path, RUN_FILES.seeds, String(seed.seed), 'epochs.jsonl'));
      if (epochs.length > 0) {
        training.push({ name: system.seeds.length > 1 ? `${name} seed ${seed.seed}` : name, epochs: epochs.map((epoch) => ({ epoch: epoch.epoch, loss: epoch.loss, ...(epoch.validation === undefined ? {} : { validation: epoch.validation }) })) });
      }
    }
    if (existsSync(join(run.path, RUN_FILES.ids, IDS_FILES.health))) {
      const health = readIdsHealth(join(run.path, RUN_FILES.ids));
      semanticIds.push({ ...health, title: `${health.title} — ${name}` });
    }
    const alignmentFile = join(run.path, RUN_FILES.alignment);
    if (existsSync(alignmentFile)) {
      // a record naming its system (genrec align's) belongs to that row only
      for (const round of JSON.parse(readFileSync(alignmentFile, 'utf8')) as { round: number; system?: string; metrics: Record<string, number> }[]) {
        if (round.system === undefined || round.system === system.name) alignment.push({ round: round.round, name, metrics: round.metrics });
      }
    }
  }
  const exposure = [first.metrics.trainingData, ...rows.map(({ system, name }) => ({ ...system.exposure, name }))];
  const data = JSON.parse(readFileSync(join(first.path, RUN_FILES.data), 'utf8')) as { name: string; statistics: { users: number; items: number; interactions: number }; fingerprint: { dataset: string } };
  const input: ReportInput = {
    title: options.title ?? `genrec report: ${data.name}`,
    subtitle: `${runs.length} run${runs.length === 1 ? '' : 's'}; ${first.config.data.split.method} split; full ranking over the catalogue, history ${first.config.evaluation.excludeHistory ? 'excluded' : 'kept'}`,
    dataset: { name: data.name, users: data.statistics.users, items: data.statistics.items, interactions: data.statistics.interactions, fingerprint: data.fingerprint.dataset },
    systems,
    tableMetrics: first.metrics.tableMetrics,
    ...(baseline === null ? {} : { significance: { test: first.metrics.significance.test === 'paired-t' ? 'paired t-test' : first.metrics.significance.test, alpha: first.metrics.significance.alpha, correction: 'Holm-corrected over the table metrics' } }),
    protocol: first.metrics.protocol,
    training,
    semanticIds,
    exposure,
    longTailDefinition: first.metrics.longTailDefinition,
    alignment,
    notes: runs.map((run) => `${run.record.id}: genrec ${run.environment.argv.join(' ')} · ${run.environment.node}, ${run.environment.cpu.model} (${run.environment.cpu.logicalCores} cores), threads ${run.environment.threads} · ${(run.record.wallSeconds ?? 0).toFixed(1)} s`),
  };
  return {
    input,
    table: rows.map(({ system, name }) => ({ name, baseline: system.baseline && system.name === baseline, summary: system.summary, significantInEverySeed: system.significantInEverySeed })),
    tableMetrics: first.metrics.tableMetrics,
    baseline,
    seeds: Math.max(...rows.map(({ system }) => system.seeds.length)),
  };
}
