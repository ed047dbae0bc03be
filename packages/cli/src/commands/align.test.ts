// `genrec align` in-process on a tiny saved SASRec (300 users, 120 items, one epoch): the run
// folder, the diagnostics, numbers checked against the saved models themselves, option errors.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors, type Recommender } from '@genrec/core';
import { generateSyntheticDataset, leaveOneOutSplit } from '@genrec/data';
import { holmAdjust, pairedTTest } from '@genrec/eval';
import { loadRecommender } from '@genrec/models';
import type { RunMetrics } from '../evaluation/run-metrics.js';
import type { AlignedSeed, AlignmentRoundRecord } from '../pipeline/align-run.js';
import type { RunRecord } from '../run/run-folder.js';
import { TINY_SYNTHETIC, cli, scratch } from '../test-support.js';

const space = scratch();
afterAll(() => space.remove());
const { folder, config } = space;
const split = leaveOneOutSplit(generateSyntheticDataset(TINY_SYNTHETIC).dataset, { maxHistoryLength: 50 });

/** NDCG@10 of a model on the test users, by hand (one target each, history excluded by the model). */
async function naiveNdcg10(model: Recommender): Promise<number> {
  const test = split.test;
  const histories = Array.from({ length: test.size }, (_, u) => Array.from(test.historyItems.subarray(test.historyOffsets[u]!, test.historyOffsets[u + 1]!)));
  const lists = await model.recommend(histories, { k: 10 });
  let total = 0;
  for (let u = 0; u < test.size; u++) {
    const target = test.targetItems[test.targetOffsets[u]!]!;
    for (let r = 0; r < lists.lengths[u]!; r++) if (lists.items[u * 10 + r] === target) total += 1 / Math.log2(r + 2);
  }
  return total / test.size;
}

const readJson = <T,>(...parts: string[]): T => JSON.parse(readFileSync(join(folder, ...parts), 'utf8')) as T;
const readLines = <T,>(...parts: string[]): T[] =>
  readFileSync(join(folder, ...parts), 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as T);
const oneLine = (text: string): void => {
  expect(text).not.toMatch(/\n\s+at /);
  expect(text.trim().split('\n')).toHaveLength(1);
};

/** The options of the aligned run: S-DPO with 3 rejected items, 2 rounds, half of the non-held-out users. */
const ALIGN = ['--loss', 'sdpo', '--beta', '1', '--rounds', '2', '--user-share', '0.5', '--seed', '3', '--set', 'align.diagnosticUsers=60', '--set', 'align.klUsers=30', '--progress', 'none'];

beforeAll(async () => {
  const trained = await cli(['train', 'sasrec', '--config', config, '--preset', 'small', '--epochs', '1', '--run-id', 'sasrec', '--progress', 'none'], folder);
  expect(trained.code, trained.stderr).toBe(0);
});

describe('genrec align', () => {
  let printed = '';

  it('aligns a saved SASRec: exit 0, a complete run folder, the table, the paired test and the rounds', async () => {
    const run = await cli(['align', 'runs/sasrec', '--config', config, ...ALIGN, '--run-id', 'aligned'], folder);
    expect(run.code, run.stderr).toBe(0);
    printed = run.stdout;
    const path = join('runs', 'aligned');
    expect(readJson<RunRecord>(path, 'run.json')).toMatchObject({ command: 'align', status: 'complete', arguments: { model: join(folder, 'runs', 'sasrec') } });
    const stored = readJson<{ align: Record<string, unknown>; threads: number }>(path, 'config.json');
    expect(stored.align).toMatchObject({ source: 'self-hard-negatives', loss: 'sdpo', beta: 1, rounds: 2, userShare: 0.5, seed: 3, diagnosticUsers: 60, klUsers: 30, supervisedWeight: 0.1, rejected: null });
    for (const file of ['environment.json', 'data.json', 'log.txt', 'metrics.json', 'alignment.json', 'baselines/popularity/evaluation.json']) expect(existsSync(join(folder, path, file)), file).toBe(true);
    expect(readdirSync(join(folder, path, 'seeds', '42')).sort()).toEqual(['alignment.json', 'evaluation.json', 'model', 'per-user.safetensors', 'rounds.jsonl', 'steps.jsonl', 'unaligned']);
    expect(readdirSync(join(folder, path, 'seeds', '42', 'unaligned')).sort()).toEqual(['evaluation.json', 'per-user.safetensors']);

    // the rows: popularity, the un-aligned and the aligned model; each one's NDCG@10 that of its saved model
    const metrics = readJson<RunMetrics>(path, 'metrics.json');
    expect(metrics.systems.map((system) => [system.name, system.role])).toEqual([
      ['popularity', 'baseline'],
      ['sasrec (un-aligned)', 'model'],
      ['sasrec (aligned)', 'model'],
    ]);
    const original = await loadRecommender(join(folder, 'runs', 'sasrec', 'seeds', '42', 'model'));
    const aligned = await loadRecommender(join(folder, path, 'seeds', '42', 'model'));
    try {
      expect(metrics.systems[1]!.seeds[0]!.metrics['ndcg@10']).toBeCloseTo(await naiveNdcg10(original), 12);
      expect(metrics.systems[2]!.seeds[0]!.metrics['ndcg@10']).toBeCloseTo(await naiveNdcg10(aligned), 12);
      expect(aligned.kind).toBe('sasrec');
      // the aligned weights are not the original ones
      const [before, after] = [await original.recommend([[1, 2, 3]], { k: 5 }), await aligned.recommend([[1, 2, 3]], { k: 5 })];
      expect(Array.from(after.scores)).not.toEqual(Array.from(before.scores));
    } finally {
      await original.dispose();
      await aligned.dispose();
    }
    // the un-aligned row is the train run's model row, number for number
    const trained = readJson<RunMetrics>('runs', 'sasrec', 'metrics.json').systems.find((system) => system.role === 'model')!;
    expect(metrics.systems[1]!.seeds[0]!.metrics).toEqual(trained.seeds[0]!.metrics);

    // aligned vs un-aligned: the paired t-test of the stored per-user values, Holm over the 6 table metrics
    const comparison = metrics.comparison!;
    expect(comparison).toMatchObject({ reference: 'sasrec (un-aligned)', system: 'sasrec (aligned)', test: 'paired-t', correction: 'holm' });
    const perUser = (...parts: string[]) => readSafetensors(join(folder, path, 'seeds', '42', ...parts, 'per-user.safetensors')).tensors;
    const [unalignedUsers, alignedUsers] = [perUser('unaligned'), perUser()];
    const cells = comparison.seeds[0]!.metrics;
    expect(Object.keys(cells)).toEqual(metrics.tableMetrics);
    const raw = metrics.tableMetrics.map((metric) => pairedTTest(unalignedUsers.get(metric)!.data as Float64Array, alignedUsers.get(metric)!.data as Float64Array).pValue);
    const holm = holmAdjust(raw);
    metrics.tableMetrics.forEach((metric, index) => {
      const a = unalignedUsers.get(metric)!.data as Float64Array;
      const b = alignedUsers.get(metric)!.data as Float64Array;
      let difference = 0;
      for (let u = 0; u < a.length; u++) difference += b[u]! - a[u]!;
      expect(cells[metric]!.difference).toBeCloseTo(difference / a.length, 12);
      expect(cells[metric]!.pValue).toBeCloseTo(raw[index]!, 12);
      expect(cells[metric]!.adjustedPValue).toBeCloseTo(holm[index]!, 12);
    });
    expect(comparison.seeds[0]!.users).toBe(split.test.size);

    // diagnostics: round 0 (before, KL 0), two rounds; the steps of those rounds
    const rounds = readLines<{ round: number; pairs?: number; steps?: number; after: { kl: number | null; validation: Record<string, number> | null } }>(path, 'seeds', '42', 'rounds.jsonl');
    expect(rounds.map((round) => round.round)).toEqual([0, 1, 2]);
    expect(rounds[0]!.after.kl).toBe(0);
    expect(rounds[1]!.after.kl).toBeGreaterThanOrEqual(0);
    expect(rounds[1]!.pairs).toBeGreaterThan(0);
    expect(rounds[1]!.after.validation?.['users']).toBe(split.validation.size);
    const steps = readLines<{ round: number; step: number; kind: string; 'loss/preference': number; 'rewards/margins': number }>(path, 'seeds', '42', 'steps.jsonl');
    expect(steps).toHaveLength(rounds[1]!.steps! + rounds[2]!.steps!);
    // the first step runs at policy = reference (dropout off): margins 0, S-DPO's loss ln(1 + 3 rejected)
    expect(steps[0]).toMatchObject({ round: 1, step: 1, kind: 'preference', 'rewards/margins': 0 });
    expect(steps[0]!['loss/preference']).toBeCloseTo(Math.log(4), 5);

    // the report's rounds: round 0..2 of the aligned row
    const records = readJson<AlignmentRoundRecord[]>(path, 'alignment.json');
    expect(records.map((record) => [record.round, record.system])).toEqual([
      [0, 'sasrec (aligned)'],
      [1, 'sasrec (aligned)'],
      [2, 'sasrec (aligned)'],
    ]);
    expect(records[2]!.metrics['validation ndcg@10']).toBe(rounds[2]!.after.validation!['ndcg@10']);

    // what it printed: the table, the comparison, the rounds
    expect(printed).toMatch(/^sasrec \(un-aligned\)\s+0\.\d{4}/m);
    expect(printed).toMatch(/^sasrec \(aligned\)\s+0\.\d{4}/m);
    expect(printed).toContain(`sasrec (aligned) vs sasrec (un-aligned) on the same ${split.test.size} test users: paired t-test, Holm over the 6 table metrics, alpha 0.05`);
    expect(printed).toMatch(/^ndcg@10\s+0\.\d{4}\s+0\.\d{4}\s+[+-]0\.\d{4}/m);
    expect(printed).toMatch(/^Alignment rounds: self-hard-negatives pairs, sdpo β 1, λ 0\.1, 0\.5 of the users per round/m);
    expect(printed).toMatch(/^2\s+\d+\s+\d+\s+-?\d\.\d{4}\s+\d\.\d{3}/m);
  });

  it('the report shows its rounds, reproduce reruns it bit for bit, evaluate reads the aligned model', async () => {
    const report = await cli(['report', 'runs/aligned', '--out', 'report.html', '--progress', 'none'], folder);
    expect(report.code, report.stderr).toBe(0);
    const html = readFileSync(join(folder, 'report.html'), 'utf8');
    expect(html).toContain('id="alignment"');
    expect(html).toContain('chart-alignment-validation-ndcg-10');
    const rerun = await cli(['reproduce', 'runs/aligned', '--progress', 'none'], folder);
    expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0);
    expect(rerun.stdout).toMatch(/model weights: seed 42 identical/);
    expect(rerun.stdout).toMatch(/reproduced exactly: all \d+ numbers of metrics\.json match bit for bit/);
    const evaluated = await cli(['evaluate', 'runs/aligned', '--progress', 'none', '--json'], folder);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    const aligned = readJson<RunMetrics>('runs', 'aligned', 'metrics.json').systems[2]!;
    expect(evaluated.json<{ metrics: RunMetrics }>().metrics.systems.at(-1)!.seeds[0]!.metrics['ndcg@10']).toBe(aligned.seeds[0]!.metrics['ndcg@10']);
  });

  it('Ctrl-C during alignment: exit 130, the model aligned so far saved, the run marked interrupted', async () => {
    const controller = new AbortController();
    let stderr = '';
    const stop = {
      write: (text: string) => {
        stderr += text;
        if (text.includes('[align sasrec] align started')) controller.abort(new Error('Ctrl-C'));
      },
      isTTY: false,
    };
    const run = await cli(['align', 'runs/sasrec', '--config', config, ...ALIGN.filter((arg) => arg !== 'none' && arg !== '--progress'), '--progress', 'plain', '--run-id', 'stopped'], folder, { signal: controller.signal, io: { stderr: stop } });
    expect(run.code, stderr).toBe(130);
    expect(run.stdout).toBe(`interrupted; the model aligned so far is in ${join(folder, 'runs', 'stopped')}\n`);
    expect(readJson<RunRecord>('runs', 'stopped', 'run.json').status).toBe('interrupted');
    expect(existsSync(join(folder, 'runs', 'stopped', 'seeds', '42', 'model'))).toBe(true);
    expect(existsSync(join(folder, 'runs', 'stopped', 'metrics.json'))).toBe(false);
    expect(readJson<{ stoppedBy: string; steps: number }>('runs', 'stopped', 'seeds', '42', 'alignment.json')).toMatchObject({ stoppedBy: 'abort', steps: 0 });
  });

  it('a bad option, in a flag or the config file: one line naming it, exit 2, no run folder', async () => {
    const before = readdirSync(join(folder, 'runs')).sort();
    const beta = await cli(['align', 'runs/sasrec', '--config', config, '--beta', '0'], folder);
    expect(beta.code).toBe(2);
    expect(beta.stderr).toBe('genrec align: error: config field align.beta (set on the command line): expected a number in (0, 1000], found 0\n');
    const bad = join(folder, 'bad-align.json');
    writeFileSync(bad, JSON.stringify({ data: { synthetic: TINY_SYNTHETIC }, align: { loss: 'dpo', betta: 1 } }));
    const unknown = await cli(['align', 'runs/sasrec', '--config', bad], folder);
    expect(unknown.code).toBe(2);
    oneLine(unknown.stderr);
    expect(unknown.stderr).toMatch(new RegExp(`^genrec align: error: config field align\\.betta: unknown field \\(known: source, rejected, .*, seed\\) \\(${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\)\n$`));
    const bounded = await cli(['align', 'runs/sasrec', '--config', config, '--set', 'align.diagnosticK=500'], folder);
    expect(bounded.code).toBe(2);
    expect(bounded.stderr).toBe('genrec align: error: config field align.diagnosticK: the sasrec model returns at most 120 items per user, found 500\n');
    const smoothing = await cli(['align', 'runs/sasrec', '--config', config, '--loss', 'cdpo', '--set', 'align.labelSmoothing=0.5'], folder);
    expect(smoothing.code).toBe(2);
    expect(smoothing.stderr).toBe('genrec align: error: config field align.labelSmoothing: labelSmoothing must be a finite number in [0, 0.5), got 0.5\n');
    const markov = await cli(['train', 'markov', '--config', config, '--run-id', 'markov', '--progress', 'none'], folder);
    expect(markov.code).toBe(0);
    const noHook = await cli(['align', 'runs/markov', '--config', config], folder);
    expect(noHook.code).toBe(2);
    oneLine(noHook.stderr);
    expect(noHook.stderr).toMatch(/^genrec align: error: a markov model has no preference hook, so it cannot be aligned \(kinds with one: sasrec, setrec, tiger\)/);
    const missing = await cli(['align', 'runs/nope', '--config', config], folder);
    expect(missing.code).toBe(4);
    oneLine(missing.stderr);
    expect(readdirSync(join(folder, 'runs')).sort()).toEqual([...before, 'markov'].sort());
  });
});
