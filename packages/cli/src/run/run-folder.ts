import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '@genrec/core';
import type { GenrecConfig } from '../config/config.js';
import { CliError, EXIT_CODES } from '../exit-codes.js';
import type { RunEnvironment } from './environment.js';

/** Format version of run folders. */
export const RUN_FORMAT_VERSION = 1;

/** The files of a run folder. */
export const RUN_FILES = {
  /** {@link RunRecord}: command, status, times. */
  record: 'run.json',
  /** The resolved configuration (every default filled in, absolute paths). */
  config: 'config.json',
  /** {@link RunEnvironment}. */
  environment: 'environment.json',
  /** Data name, fingerprints, statistics, split sizes. */
  data: 'data.json',
  /** Every progress line and message. */
  log: 'log.txt',
  /** Final metrics of every system with significance against the baseline (`RunMetrics`). */
  metrics: 'metrics.json',
  /** Per seed: `seeds/<seed>/` with `epochs.jsonl`, `model/`, `evaluation.json`, `per-user.safetensors`. */
  seeds: 'seeds',
  /** Baselines: `baselines/<kind>/` with the same evaluation files. */
  baselines: 'baselines',
  /** Item ids of a generative model (`ids/`). */
  ids: 'ids',
  /** `genrec sweep`: every grid point's validation metrics. */
  sweep: 'sweep.json',
  /**
   * `genrec align`: the report's alignment rounds (`[{ round, system, metrics }]`, round 0 = before
   * alignment; the first seed's). Per seed, `seeds/<seed>/` also holds `rounds.jsonl`,
   * `steps.jsonl`, `alignment.json` and `unaligned/` (the un-aligned model's evaluation).
   */
  alignment: 'alignment.json',
} as const;

/** The commands that write run folders. */
export type RunCommand = 'train' | 'evaluate' | 'sweep' | 'align';

/** `run.json`: what ran and how it ended. */
export interface RunRecord {
  kind: 'genrec.run';
  formatVersion: number;
  /** The folder name. */
  id: string;
  /** The command. */
  command: RunCommand;
  /** Its positional arguments (`{ model: 'sasrec' }`, `{ modelFolder: '/abs/model' }`). */
  arguments: Record<string, string>;
  /** `running` while it runs; `complete`, `interrupted` (Ctrl-C: best model kept) or `failed`. */
  status: 'running' | 'complete' | 'interrupted' | 'failed';
  /** ISO times. */
  startedAt: string;
  finishedAt?: string;
  /** Wall time of the whole command. */
  wallSeconds?: number;
  /** The error line of a failed run. */
  error?: string;
  /** The run this one reproduces (`genrec reproduce`). */
  reproduces?: string;
}

/** Per-epoch line of `seeds/<seed>/epochs.jsonl`. */
export interface EpochRecord {
  epoch: number;
  loss: number;
  validation?: Record<string, number>;
  best: boolean;
  elapsedMs: number;
  learningRate?: number;
}

const stamp = (date: Date): string => date.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);

/** An open run folder, written as the command goes. */
export class RunFolder {
  private record: RunRecord;
  private readonly started: number;

  private constructor(
    /** Absolute path of the folder. */
    readonly path: string,
    record: RunRecord,
  ) {
    this.record = record;
    this.started = performance.now();
  }

  /**
   * Creates a new run folder under `output`: `<name>-<UTC time>` (a suffix `-2`, `-3`… when taken),
   * or exactly `id` when given (which must not exist yet).
   *
   * @throws CliError exit 2 when `id` names an existing folder
   */
  static create(output: string, options: { name: string; id?: string; command: RunCommand; arguments: Record<string, string>; reproduces?: string; now?: Date }): RunFolder {
    mkdirSync(output, { recursive: true });
    let id = options.id;
    if (id !== undefined) {
      if (existsSync(join(output, id))) throw new CliError(EXIT_CODES.usage, 'INVALID_OPTION', `run folder ${join(output, id)} exists already (choose another --run-id)`, { details: { field: 'run-id' } });
    } else {
      const base = `${options.name.replace(/[^A-Za-z0-9._-]+/g, '-')}-${stamp(options.now ?? new Date())}`;
      id = base;
      for (let n = 2; existsSync(join(output, id)); n++) id = `${base}-${n}`;
    }
    const path = resolve(output, id);
    mkdirSync(path, { recursive: true });
    const folder = new RunFolder(path, {
      kind: 'genrec.run',
      formatVersion: RUN_FORMAT_VERSION,
      id,
      command: options.command,
      arguments: options.arguments,
      status: 'running',
      startedAt: (options.now ?? new Date()).toISOString(),
      ...(options.reproduces === undefined ? {} : { reproduces: options.reproduces }),
    });
    folder.writeRecord();
    return folder;
  }

  /** The folder's id. */
  get id(): string {
    return this.record.id;
  }

  /** A path inside the folder (parent folders created). */
  file(...parts: string[]): string {
    const path = join(this.path, ...parts);
    mkdirSync(join(path, '..'), { recursive: true });
    return path;
  }

  /** A folder inside the run folder (created). */
  directory(...parts: string[]): string {
    const path = join(this.path, ...parts);
    mkdirSync(path, { recursive: true });
    return path;
  }

  /** Writes a JSON file atomically. */
  writeJson(name: string | string[], value: unknown): void {
    writeFileAtomic(this.file(...(Array.isArray(name) ? name : [name])), JSON.stringify(value, null, 2) + '\n');
  }

  /** Appends one JSON line. */
  appendJsonLine(name: string[], value: unknown): void {
    appendFileSync(this.file(...name), JSON.stringify(value) + '\n');
  }

  /** Appends a line to `log.txt`, with the time since the start. */
  log(line: string): void {
    appendFileSync(join(this.path, RUN_FILES.log), `${((performance.now() - this.started) / 1000).toFixed(1).padStart(7)} s  ${line}\n`);
  }

  /** Ends the run: status, finish time, wall time (and the error line of a failure). */
  finish(status: RunRecord['status'], error?: string): void {
    this.record = { ...this.record, status, finishedAt: new Date().toISOString(), wallSeconds: (performance.now() - this.started) / 1000, ...(error === undefined ? {} : { error }) };
    this.writeRecord();
  }

  private writeRecord(): void {
    this.writeJson(RUN_FILES.record, this.record);
  }
}

/** A run folder read back. */
export interface StoredRun {
  path: string;
  record: RunRecord;
  config: GenrecConfig;
  environment: RunEnvironment;
  /** `metrics.json`, when the run got that far. */
  metrics?: unknown;
}

function readJson(path: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new CliError(EXIT_CODES.artifact, existsSync(path) ? 'CORRUPT_ARTIFACT' : 'NOT_FOUND', `${what} ${path} ${existsSync(path) ? 'is not valid JSON' : 'is missing'}`, { details: { file: path }, cause: error });
  }
}

/**
 * Reads a run folder: `run.json`, `config.json`, `environment.json` and, when present, `metrics.json`.
 *
 * @param path - the run folder
 * @returns what it holds
 * @throws CliError exit 4 (`NOT_FOUND`, `CORRUPT_ARTIFACT`, `FORMAT_VERSION`) for a folder that is not a run folder
 * @example
 * ```ts
 * const run = readRunFolder('runs/sasrec-20261205-161859');
 * run.record.status; // 'complete'
 * ```
 */
export function readRunFolder(path: string): StoredRun {
  const folder = resolve(path);
  if (!existsSync(folder) || !statSync(folder).isDirectory()) throw new CliError(EXIT_CODES.artifact, 'NOT_FOUND', `run folder ${folder} does not exist`, { details: { file: folder } });
  if (!existsSync(join(folder, RUN_FILES.record))) throw new CliError(EXIT_CODES.artifact, 'NOT_FOUND', `${folder} is not a run folder (no ${RUN_FILES.record})`, { details: { file: folder } });
  const record = readJson(join(folder, RUN_FILES.record), 'run record') as RunRecord;
  if (record?.kind !== 'genrec.run' || typeof record.formatVersion !== 'number') {
    throw new CliError(EXIT_CODES.artifact, 'CORRUPT_ARTIFACT', `${join(folder, RUN_FILES.record)} is not a genrec run record`, { details: { file: join(folder, RUN_FILES.record) } });
  }
  if (record.formatVersion !== RUN_FORMAT_VERSION) {
    throw new CliError(EXIT_CODES.artifact, 'FORMAT_VERSION', `run folder format ${record.formatVersion} is not supported (this genrec reads ${RUN_FORMAT_VERSION})`, { details: { file: join(folder, RUN_FILES.record) } });
  }
  const config = readJson(join(folder, RUN_FILES.config), 'run config') as GenrecConfig;
  const environment = readJson(join(folder, RUN_FILES.environment), 'run environment') as RunEnvironment;
  const metricsPath = join(folder, RUN_FILES.metrics);
  return { path: folder, record, config, environment, ...(existsSync(metricsPath) ? { metrics: readJson(metricsPath, 'run metrics') } : {}) };
}
