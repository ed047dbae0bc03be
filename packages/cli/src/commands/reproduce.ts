import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ARTIFACT_CHECKSUM_FILE, ARTIFACT_POINTER_FILE } from '@genrec/core';
import type { CommandContext, CommandOutcome } from '../context.js';
import { CliError, EXIT_CODES } from '../exit-codes.js';
import type { RunMetrics } from '../evaluation/run-metrics.js';
import { alignRun } from '../pipeline/align-run.js';
import { evaluateRun } from '../pipeline/evaluate-run.js';
import { trainRun } from '../pipeline/train-run.js';
import { environmentDifferences, runEnvironment } from '../run/environment.js';
import { RUN_FILES, readRunFolder } from '../run/run-folder.js';
import { textTable } from '../tables.js';
import { sweepRun } from './sweep.js';

/** One number of a run and of its rerun. */
export interface ComparedNumber {
  /** `sasrec seed 42 recall@10`. */
  what: string;
  original: number | null;
  rerun: number | null;
  /** Identical (bit for bit; both missing counts as equal). */
  equal: boolean;
}

/**
 * Every number of two `metrics.json` files, paired by system, seed and key.
 *
 * @example
 * ```ts
 * compareRunMetrics(original, rerun).filter((number) => !number.equal); // [] when reproduced exactly
 * ```
 */
export function compareRunMetrics(original: RunMetrics, rerun: RunMetrics): ComparedNumber[] {
  const numbers: ComparedNumber[] = [];
  const add = (what: string, a: number | undefined, b: number | undefined): void => {
    numbers.push({ what, original: a ?? null, rerun: b ?? null, equal: a === undefined ? b === undefined : b !== undefined && Object.is(a, b) });
  };
  for (const system of original.systems) {
    const other = rerun.systems.find((candidate) => candidate.name === system.name && candidate.role === system.role);
    for (const seed of system.seeds) {
      const twin = other?.seeds.find((candidate) => candidate.seed === seed.seed);
      const prefix = `${system.name} seed ${seed.seed}`;
      for (const key of Object.keys(seed.metrics)) add(`${prefix} ${key}`, seed.metrics[key], twin?.metrics[key]);
      for (const key of Object.keys(seed.beyondAccuracy)) add(`${prefix} ${key}`, seed.beyondAccuracy[key], twin?.beyondAccuracy[key]);
      add(`${prefix} exposure gini`, seed.exposure.itemExposureGini, twin?.exposure.itemExposureGini);
      for (const [key, cell] of Object.entries(seed.significance ?? {})) add(`${prefix} ${key} p-value`, cell.pValue, twin?.significance?.[key]?.pValue);
    }
  }
  // genrec align: the paired comparison of the aligned and un-aligned models
  for (const seed of original.comparison?.seeds ?? []) {
    const twin = rerun.comparison?.seeds.find((candidate) => candidate.seed === seed.seed);
    for (const [key, cell] of Object.entries(seed.metrics)) add(`${original.comparison!.system} vs ${original.comparison!.reference} seed ${seed.seed} ${key} p-value`, cell.pValue, twin?.metrics[key]?.pValue);
  }
  return numbers;
}

/** SHA-256 of every seed model's `weights.safetensors`, from the folder's checksum list. */
function weightDigests(run: string): Map<string, string> {
  const digests = new Map<string, string>();
  const seeds = join(run, RUN_FILES.seeds);
  if (!existsSync(seeds)) return digests;
  for (const seed of readdirSync(seeds).sort()) {
    const model = join(seeds, seed, 'model');
    const pointer = join(model, ARTIFACT_POINTER_FILE);
    if (!existsSync(pointer)) continue;
    const version = readFileSync(pointer, 'utf8').trim();
    const checksums = join(model, version, ARTIFACT_CHECKSUM_FILE);
    if (!existsSync(checksums)) continue;
    const files = (JSON.parse(readFileSync(checksums, 'utf8')) as { files: Record<string, { sha256: string }> }).files;
    const weights = files['weights.safetensors']?.sha256;
    if (weights !== undefined) digests.set(seed, weights);
  }
  return digests;
}

/**
 * `genrec reproduce <run>`: reruns a finished run from its stored configuration (same data, seeds,
 * options) into a new run folder beside it, and compares every number of `metrics.json` (and the
 * models' weights) exactly.
 *
 * @returns exit 0 when every number matches bit for bit, 5 when one differs
 * @throws CliError exit 4 for a folder that is not a finished run
 * @example
 * ```ts
 * const outcome = await reproduceCommand(context, { run: 'runs/sasrec-20261205-161859' }); // exit 0 or 5
 * ```
 */
export async function reproduceCommand(context: CommandContext, options: { run: string; output?: string }): Promise<CommandOutcome> {
  const stored = readRunFolder(options.run);
  if (stored.record.status !== 'complete' || stored.metrics === undefined) {
    throw new CliError(EXIT_CODES.artifact, 'INVALID_INPUT', `${stored.path} did not finish (status ${stored.record.status}); only finished runs can be reproduced`, { details: { file: stored.path } });
  }
  const output = options.output ?? dirname(stored.path);
  let runId = `${stored.record.id}-reproduce`;
  for (let n = 2; existsSync(join(output, runId)); n++) runId = `${stored.record.id}-reproduce-${n}`;
  const common = { runId, reproduces: stored.path, output };
  context.display.line(`reproducing ${stored.path} (${stored.record.command}) into ${join(output, runId)}`);
  const rerun =
    stored.record.command === 'train'
      ? await trainRun(stored.config, context, { command: 'train', arguments: stored.record.arguments, ...common })
      : stored.record.command === 'evaluate'
        ? await evaluateRun(stored.config, context, { model: stored.record.arguments['model']!, ...common })
        : stored.record.command === 'align'
          ? await alignRun(stored.config, context, { model: stored.record.arguments['model']!, ...common })
          : await sweepRun(stored.config, context, common);
  if (rerun.interrupted || rerun.metrics === null) {
    return { exitCode: EXIT_CODES.interrupted, text: `interrupted; the rerun in ${rerun.folder.path} is incomplete\n`, json: { ok: false, command: 'reproduce', status: 'interrupted', rerun: rerun.folder.path } };
  }
  const numbers = compareRunMetrics(stored.metrics as RunMetrics, rerun.metrics);
  const differing = numbers.filter((number) => !number.equal);
  const originalWeights = weightDigests(stored.path);
  const rerunWeights = weightDigests(rerun.folder.path);
  const weights = [...originalWeights].map(([seed, digest]) => ({ seed, equal: rerunWeights.get(seed) === digest }));
  const environment = environmentDifferences(stored.environment, runEnvironment({ threads: stored.config.threads, seeds: stored.config.seeds, argv: [], cwd: context.io.cwd }));
  const originalData = JSON.parse(readFileSync(join(stored.path, RUN_FILES.data), 'utf8')) as { fingerprint: { dataset: string } };
  const rerunData = JSON.parse(readFileSync(join(rerun.folder.path, RUN_FILES.data), 'utf8')) as { fingerprint: { dataset: string } };
  const sameData = originalData.fingerprint.dataset === rerunData.fingerprint.dataset;
  const match = differing.length === 0 && weights.every((entry) => entry.equal);
  const lines: string[] = [];
  lines.push(`data fingerprint: ${originalData.fingerprint.dataset} then, ${rerunData.fingerprint.dataset} now${sameData ? ' (same data)' : ' (THE DATA CHANGED)'}`);
  if (environment.length > 0) lines.push(`environment differences (numbers may legitimately differ): ${environment.join('; ')}`);
  else lines.push('environment: same Node, CPU, threads and package versions');
  if (weights.length > 0) lines.push(`model weights: ${weights.map((entry) => `seed ${entry.seed} ${entry.equal ? 'identical' : 'DIFFERENT'}`).join(', ')}`);
  if (match) lines.push(`reproduced exactly: all ${numbers.length} numbers of metrics.json match bit for bit`);
  else {
    lines.push(`NOT reproduced: ${differing.length} of ${numbers.length} numbers differ`);
    lines.push(textTable([['number', 'original', 'rerun', 'difference'], ...differing.slice(0, 40).map((n) => [n.what, String(n.original), String(n.rerun), n.original !== null && n.rerun !== null ? (n.rerun - n.original).toExponential(2) : '-'])]));
    if (differing.length > 40) lines.push(`… and ${differing.length - 40} more (see --json)`);
  }
  lines.push(`rerun: ${rerun.folder.path}`);
  return {
    exitCode: match ? EXIT_CODES.ok : EXIT_CODES.mismatch,
    text: `${lines.join('\n')}\n`,
    json: { ok: match, command: 'reproduce', run: stored.path, rerun: rerun.folder.path, match, compared: numbers.length, differing, weights, sameData, environmentDifferences: environment },
    ...(match ? {} : { error: `the rerun's numbers differ from ${stored.path} (${differing.length} of ${numbers.length})` }),
  };
}
