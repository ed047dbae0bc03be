import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateSyntheticDataset, leaveOneOutSplit } from '@genrec/data';
import type { Recommender } from '@genrec/core';
import { fitMarkov, fitPopularity, loadRecommender } from '@genrec/models';
import type { RunMetrics } from './evaluation/run-metrics.js';
import type { ModelEntry } from './models/registry.js';
import { RUN_FILES, type RunRecord } from './run/run-folder.js';
import { TINY_SYNTHETIC, cli, scratch } from './test-support.js';

const space = scratch();
afterAll(() => space.remove());
const { folder, config } = space;

/** The tiny data as the CLI builds it, computed here directly from the packages. */
const split = leaveOneOutSplit(generateSyntheticDataset(TINY_SYNTHETIC).dataset, { maxHistoryLength: 50 });

/** Recall@k of ranked lists against the split's test targets, by hand (one target per user). */
async function naiveRecall(model: Recommender, k: number): Promise<number> {
  const test = split.test;
  const histories = Array.from({ length: test.size }, (_, u) => Array.from(test.historyItems.subarray(test.historyOffsets[u]!, test.historyOffsets[u + 1]!)));
  const lists = await model.recommend(histories, { k });
  let hits = 0;
  for (let u = 0; u < test.size; u++) {
    const target = test.targetItems[test.targetOffsets[u]!]!;
    for (let r = 0; r < lists.lengths[u]!; r++) if (lists.items[u * k + r] === target) hits++;
  }
  return hits / test.size;
}

const noStackTrace = (text: string): void => {
  expect(text).not.toMatch(/\n\s+at /);
  expect(text.trim().split('\n')).toHaveLength(1);
};

describe('genrec: bad configuration and usage', () => {
  it('an unknown config field: one line naming it, exit 2', async () => {
    const bad = join(folder, 'unknown-field.json');
    writeFileSync(bad, JSON.stringify({ model: { kind: 'sasrec', optoins: {} } }));
    const run = await cli(['train', '--config', bad], folder);
    expect(run.code).toBe(2);
    noStackTrace(run.stderr);
    expect(run.stderr).toBe(`genrec train: error: config field model.optoins: unknown field (known: kind, preset, options) (${bad})\n`);
    expect(run.stdout).toBe('');
  });

  it('a field of the wrong type, in the file or a flag: exit 2 naming the field', async () => {
    const bad = join(folder, 'wrong-type.json');
    writeFileSync(bad, JSON.stringify({ evaluation: { ks: [10, 'twenty'] } }));
    const file = await cli(['train', 'markov', '--config', bad], folder);
    expect(file.code).toBe(2);
    noStackTrace(file.stderr);
    expect(file.stderr).toMatch(/config field evaluation\.ks\[1\]: expected an integer >= 1, found "twenty" \(a string\)/);
    const option = await cli(['train', 'sasrec', '--config', config, '--set', 'model.options.hiddenSize="64"'], folder);
    expect(option.code).toBe(2);
    noStackTrace(option.stderr);
    expect(option.stderr).toMatch(/config field model\.options\.hiddenSize: expected an integer >= 1, found "64" \(a string\)/);
    const range = await cli(['train', 'sasrec', '--config', config, '--set', 'model.options.dropout=1.5'], folder);
    expect(range.code).toBe(2);
    expect(range.stderr).toMatch(/config field model\.options\.dropout \(sasrec\): dropout must be/);
    const flag = await cli(['train', 'markov', '--config', config, '--seeds', '1,x'], folder);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/config field seeds\[1\] \(set on the command line\): expected an integer/);
  });

  it('a missing data file: exit 3 naming the file and the field', async () => {
    const run = await cli(['train', 'markov', '--data', 'no/such/file.txt'], folder);
    expect(run.code).toBe(3);
    noStackTrace(run.stderr);
    expect(run.stderr).toBe(`genrec train: error: data file ${join(folder, 'no/such/file.txt')} does not exist (field "data.path")\n`);
  });

  it('an unknown model kind or preset: exit 2 listing the known ones', async () => {
    const kind = await cli(['train', 'gpt5', '--config', config], folder);
    expect(kind.code).toBe(2);
    noStackTrace(kind.stderr);
    expect(kind.stderr).toBe('genrec train: error: unknown model kind "gpt5" (known: popularity, markov, item-knn, sasrec, setrec, tiger) (field "model.kind")\n');
    const preset = await cli(['train', 'sasrec', '--preset', 'huge', '--config', config], folder);
    expect(preset.code).toBe(2);
    expect(preset.stderr).toMatch(/config field model\.preset: "huge" is not a preset of sasrec \(known: quickstart, small, paper\)/);
    const baseline = await cli(['train', 'markov', '--baselines', 'popularity,oracle', '--config', config], folder);
    expect(baseline.code).toBe(2);
    expect(baseline.stderr).toMatch(/unknown model kind "oracle".*field "evaluation\.baselines\[1\]"/);
  });

  it('invalid JSON in the config file: exit 2 with the line', async () => {
    const bad = join(folder, 'broken.json');
    writeFileSync(bad, '{\n  "seeds": [1, 2\n}\n');
    const run = await cli(['data', 'stats', '--config', bad], folder);
    expect(run.code).toBe(2);
    noStackTrace(run.stderr);
    expect(run.stderr).toMatch(/config file is not valid JSON at line 3, column 1/);
  });

  it('unknown commands and flags: exit 2; --json errors are a JSON document on stdout', async () => {
    const command = await cli(['trian'], folder);
    expect(command.code).toBe(2);
    expect(command.stderr).toMatch(/unknown command "trian" \(commands: data, ids, train/);
    const flag = await cli(['train', 'markov', '--epochz', '3'], folder);
    expect(flag.code).toBe(2);
    noStackTrace(flag.stderr);
    expect(flag.stderr).toMatch(/Unknown argument: epochz/);
    const json = await cli(['train', 'gpt5', '--config', config, '--json'], folder);
    expect(json.code).toBe(2);
    expect(json.json()).toEqual({ ok: false, command: 'train', exitCode: 2, error: { code: 'INVALID_OPTION', message: 'unknown model kind "gpt5" (known: popularity, markov, item-knn, sasrec, setrec, tiger) (field "model.kind")', field: 'model.kind' } });
  });

  it('align needs a model: exit 2 with one line (its runs are tested in commands/align.test.ts)', async () => {
    const run = await cli(['align'], folder);
    expect(run.code).toBe(2);
    noStackTrace(run.stderr);
    expect(run.stderr).toBe('genrec align: error: Not enough non-option arguments: got 0, need at least 1 (genrec --help)\n');
  });

  it('--help prints the commands and the exit codes', async () => {
    const run = await cli(['--help'], folder);
    expect(run.code).toBe(0);
    for (const command of ['data <action>', 'ids', 'train [model]', 'evaluate <model>', 'recommend <model>', 'report <runs..>', 'reproduce <run>', 'sweep [model]', 'align <model>', 'serve [model]']) expect(run.stdout).toContain(`genrec ${command}`);
    expect(run.stdout).toMatch(/Exit codes: 0 ok; 1 internal error; 2 usage or configuration; 3 input data; 4 artifact/);
    expect(run.stdout).not.toContain('69');
  });
});

describe('genrec: commands on tiny data', () => {
  it('models --json lists every registry kind with its presets', async () => {
    const run = await cli(['models', '--json'], folder);
    expect(run.code).toBe(0);
    const { models } = run.json<{ models: { kind: string; presets: Record<string, unknown> }[] }>();
    expect(models.map((model) => model.kind)).toEqual(['popularity', 'markov', 'item-knn', 'sasrec', 'setrec', 'tiger']);
    expect(Object.keys(models[3]!.presets)).toEqual(['quickstart', 'small', 'paper']);
  });

  it('data stats --json gives the statistics and split of the configured data', async () => {
    const run = await cli(['data', 'stats', '--config', config, '--json'], folder);
    expect(run.code).toBe(0);
    const stats = run.json<{ statistics: { users: number; interactions: number }; split: { testUsers: number; trainInteractions: number } }>();
    expect(stats.statistics.users).toBe(TINY_SYNTHETIC.userCount);
    expect(stats.statistics.interactions).toBe(split.train.items.length + split.validation.targetItems.length + split.test.targetItems.length);
    expect(stats.split.testUsers).toBe(split.test.size);
    expect(stats.split.trainInteractions).toBe(split.train.items.length);
  });

  it('data split writes the split as files that agree with the split', async () => {
    const run = await cli(['data', 'split', '--config', config, '--out', 'split'], folder);
    expect(run.code).toBe(0);
    const train = readFileSync(join(folder, 'split', 'train.txt'), 'utf8').trim().split('\n');
    expect(train[0]).toBe(`${split.train.userIds[0]} ${Array.from(split.train.items.subarray(0, split.train.offsets[1]!)).join(' ')}`);
    const test = readFileSync(join(folder, 'split', 'test.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { targets: number[] });
    expect(test).toHaveLength(split.test.size);
    expect(test[5]!.targets).toEqual([split.test.targetItems[5]]);
  });

  let markovRun = '';
  it('train markov: a complete run folder whose numbers equal a direct evaluation', async () => {
    const run = await cli(['train', 'markov', '--config', config, '--run-id', 'markov-1'], folder);
    expect(run.code, run.stderr).toBe(0);
    markovRun = join(folder, 'runs', 'markov-1');
    for (const file of [RUN_FILES.record, RUN_FILES.config, RUN_FILES.environment, RUN_FILES.data, RUN_FILES.log, RUN_FILES.metrics, 'seeds/42/model/CURRENT', 'seeds/42/evaluation.json', 'seeds/42/per-user.safetensors', 'baselines/popularity/evaluation.json']) {
      expect(existsSync(join(markovRun, file)), file).toBe(true);
    }
    const record = JSON.parse(readFileSync(join(markovRun, RUN_FILES.record), 'utf8')) as RunRecord;
    expect(record).toMatchObject({ kind: 'genrec.run', command: 'train', status: 'complete', arguments: { model: 'markov' } });
    const environment = JSON.parse(readFileSync(join(markovRun, RUN_FILES.environment), 'utf8')) as { node: string; seeds: number[]; packages: Record<string, string> };
    expect(environment.node).toBe(process.version);
    expect(environment.seeds).toEqual([42]);
    expect(Object.keys(environment.packages)).toEqual(expect.arrayContaining(['@genrec/cli', '@genrec/core', '@genrec/eval', '@genrec/model-baselines']));
    const metrics = JSON.parse(readFileSync(join(markovRun, RUN_FILES.metrics), 'utf8')) as RunMetrics;
    const [popularity, markov] = metrics.systems;
    expect(popularity!.baseline).toBe(true);
    const direct = await fitMarkov(split);
    expect(markov!.seeds[0]!.metrics['recall@10']).toBe(await naiveRecall(direct, 10));
    expect(markov!.seeds[0]!.metrics['recall@5']).toBe(await naiveRecall(direct, 5));
    expect(popularity!.seeds[0]!.metrics['recall@10']).toBe(await naiveRecall(await fitPopularity(split), 10));
    // markov beats popularity on this data (transitions drive it), significantly
    expect(markov!.significantInEverySeed['recall@10']).toBe('higher');
    expect(run.stdout).toMatch(/^system\s+recall@5\s+recall@10\s+recall@20\s+ndcg@5\s+ndcg@10\s+ndcg@20\s+train s\n/);
    expect(run.stdout).toContain(`${markov!.summary['recall@10']!.mean.toFixed(4)} ▲†`);
    expect(readFileSync(join(markovRun, RUN_FILES.log), 'utf8')).toMatch(/\[evaluate markov\] evaluate done: 300\/300 users/);
  });

  it('reproduce: every number matches exactly; a changed number is found (exit 5)', async () => {
    const same = await cli(['reproduce', markovRun, '--json'], folder);
    expect(same.code, same.stderr).toBe(0);
    const report = same.json<{ match: boolean; compared: number; differing: unknown[]; rerun: string }>();
    expect(report.match).toBe(true);
    expect(report.compared).toBeGreaterThan(40);
    expect(report.differing).toEqual([]);
    expect(report.rerun).toBe(join(folder, 'runs', 'markov-1-reproduce'));
    // tamper with one stored number: the comparison must catch it
    const path = join(markovRun, RUN_FILES.metrics);
    const metrics = JSON.parse(readFileSync(path, 'utf8')) as RunMetrics;
    const original = metrics.systems[1]!.seeds[0]!.metrics['ndcg@10']!;
    metrics.systems[1]!.seeds[0]!.metrics['ndcg@10'] = original + 1e-12;
    writeFileSync(path, JSON.stringify(metrics));
    const changed = await cli(['reproduce', markovRun], folder);
    expect(changed.code).toBe(5);
    expect(changed.stdout).toMatch(/NOT reproduced: 1 of \d+ numbers differ/);
    expect(changed.stdout).toMatch(/markov seed 42 ndcg@10 +\S+ +\S+ +-1\.00e-12/);
    expect(changed.stderr).toMatch(/error: the rerun's numbers differ/);
    metrics.systems[1]!.seeds[0]!.metrics['ndcg@10'] = original;
    writeFileSync(path, JSON.stringify(metrics));
    const missing = await cli(['reproduce', join(folder, 'runs')], folder);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toMatch(/is not a run folder \(no run\.json\)/);
  });

  it('evaluate <run> re-evaluates the saved model: the same numbers', async () => {
    const run = await cli(['evaluate', markovRun, '--run-id', 'evaluate-1', '--json'], folder);
    expect(run.code, run.stderr).toBe(0);
    const { metrics } = run.json<{ metrics: RunMetrics }>();
    const trained = JSON.parse(readFileSync(join(markovRun, RUN_FILES.metrics), 'utf8')) as RunMetrics;
    expect(metrics.systems.map((system) => system.name)).toEqual(['popularity', 'markov']);
    expect(metrics.systems[1]!.seeds[0]!.metrics).toEqual(trained.systems[1]!.seeds[0]!.metrics);
    expect(metrics.protocol).toBe(trained.protocol);
  });

  it('recommend: the saved model’s top items for a history and for a user of the data', async () => {
    const run = await cli(['recommend', markovRun, '--history', '3,14,15', '--user', '5', '-k', '5', '--json'], folder);
    expect(run.code, run.stderr).toBe(0);
    const { users } = run.json<{ users: { label: string; recommendations: { item: number; title: string | null; score: number }[] }[] }>();
    const model = await loadRecommender(join(markovRun, 'seeds', '42', 'model'));
    const row = split.train.userIds.indexOf(5);
    const full = generateSyntheticDataset(TINY_SYNTHETIC).dataset;
    const expected = await model.recommend([[3, 14, 15], Array.from(full.items.subarray(full.offsets[row]!, full.offsets[row + 1]!))], { k: 5 });
    expect(users.map((user) => user.label)).toEqual(['history 3,14,15', 'user 5']);
    expect(users[0]!.recommendations.map((entry) => entry.item)).toEqual(Array.from(expected.items.subarray(0, 5)));
    expect(users[1]!.recommendations.map((entry) => entry.item)).toEqual(Array.from(expected.items.subarray(5, 10)));
    expect(users[0]!.recommendations[0]!.title).toBe(generateSyntheticDataset(TINY_SYNTHETIC).catalog.records[expected.items[0]!]!.title);
    const text = await cli(['recommend', markovRun, '--history', '3,x'], folder);
    expect(text.code).toBe(2);
    expect(text.stderr).toMatch(/--history 1: "x" is not an item id/);
  });

  it('sweep: each grid point scored on validation, the best one trained and tested', async () => {
    const run = await cli(['sweep', 'markov', '--config', config, '--grid', 'order=1,2,3', '--metric', 'ndcg@10', '--run-id', 'sweep-1', '--json'], folder);
    expect(run.code, run.stderr).toBe(0);
    const { sweep, metrics } = run.json<{ sweep: { points: { options: { order: number }; validation: Record<string, number> }[]; best: number }; metrics: RunMetrics }>();
    expect(sweep.points.map((point) => point.options.order)).toEqual([1, 2, 3]);
    const scores = sweep.points.map((point) => point.validation['ndcg@10']!);
    expect(sweep.best).toBe(scores.indexOf(Math.max(...scores)));
    expect(metrics.systems[1]!.options).toMatchObject({ order: sweep.best + 1 });
    expect(JSON.parse(readFileSync(join(folder, 'runs', 'sweep-1', RUN_FILES.sweep), 'utf8'))).toEqual(sweep);
    const bad = await cli(['sweep', 'markov', '--config', config, '--grid', 'neighbours=5,10'], folder);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/config field sweep\.grid\.neighbours: markov has no option neighbours \(known: order, smoothing\)/);
  });

  it('train sasrec on two seeds: the table shows mean ± sample standard deviation of the seeds', async () => {
    const run = await cli(['train', 'sasrec', '--config', config, '--preset', 'small', '--epochs', '1', '--seeds', '1,2', '--run-id', 'sasrec-seeds', '--json', '--runs', 'other-runs'], folder);
    expect(run.code, run.stderr).toBe(0);
    const { metrics } = run.json<{ metrics: RunMetrics }>();
    const sasrec = metrics.systems[1]!;
    expect(sasrec.seeds.map((seed) => seed.seed)).toEqual([1, 2]);
    const values = sasrec.seeds.map((seed) => seed.metrics['ndcg@10']!);
    expect(values[0]).not.toBe(values[1]); // different seeds, different models
    const mean = (values[0]! + values[1]!) / 2;
    expect(sasrec.summary['ndcg@10']!.mean).toBeCloseTo(mean, 15);
    expect(sasrec.summary['ndcg@10']!.std).toBeCloseTo(Math.abs(values[0]! - values[1]!) / Math.SQRT2, 15);
    const text = await cli(['report', join(folder, 'other-runs'), '--out', 'seeds.html'], folder);
    expect(text.stdout).toContain(`${mean.toFixed(4)} ± ${sasrec.summary['ndcg@10']!.std.toFixed(4)}`);
    expect(text.stdout).toMatch(/mean ± sample standard deviation over 2 seeds/);
    for (const seed of [1, 2]) expect(readFileSync(join(folder, 'other-runs', 'sasrec-seeds', 'seeds', String(seed), 'epochs.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(folder, 'other-runs', 'sasrec-seeds', 'seeds', '1', 'checkpoint'))).toBe(false); // removed once the model is saved
  });

  it('train setrec (the registry entry of @genrec/model-setrec): a generative model evaluated like the others', async () => {
    const run = await cli(
      ['train', 'setrec', '--config', config, '--preset', 'quickstart', '--epochs', '1', '--set', 'model.options.sasrecOptions={"hiddenSize":16,"blocks":1,"maxLength":20,"epochs":1}', '--run-id', 'setrec-1', '--runs', 'setrec-runs', '--json'],
      folder,
    );
    expect(run.code, run.stderr).toBe(0);
    const { metrics } = run.json<{ metrics: RunMetrics }>();
    const setrec = metrics.systems[1]!;
    expect(setrec.kind).toBe('setrec');
    expect(setrec.seeds[0]!.epochs).toBe(1);
    expect(setrec.seeds[0]!.metrics['recall@10']).toBeGreaterThan(0);
    const model = await loadRecommender(join(folder, 'setrec-runs', 'setrec-1', 'seeds', '42', 'model'));
    try {
      expect(model.kind).toBe('setrec');
    } finally {
      await model.dispose();
    }
    // the CF tokens from a trained SASRec (a run folder, relative to the working directory): no pre-training
    const reuse = await cli(['train', 'setrec', '--config', config, '--preset', 'quickstart', '--epochs', '1', '--set', 'model.options.sasrecModel=other-runs/sasrec-seeds', '--run-id', 'setrec-2', '--runs', 'setrec-runs'], folder);
    expect(reuse.code, reuse.stderr).toBe(0);
    expect(reuse.stderr).not.toMatch(/sasrec-pretraining/);
    expect(run.stderr).toMatch(/sasrec-pretraining done/);
    const stored = JSON.parse(readFileSync(join(folder, 'setrec-runs', 'setrec-2', RUN_FILES.config), 'utf8')) as { model: { options: { sasrecModel: string } } };
    expect(stored.model.options.sasrecModel).toBe(join(folder, 'other-runs', 'sasrec-seeds')); // stored absolute
    const missing = await cli(['train', 'setrec', '--config', config, '--set', 'model.options.sasrecModel=nowhere'], folder);
    expect(missing.code).toBe(4);
    const bad = await cli(['train', 'setrec', '--config', config, '--set', 'model.options.backbone="rnn"'], folder);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/config field model\.options\.backbone: expected one of "query-decoder", "causal", found "rnn"/);
  });

  it('ids: semantic ids and set ids with their health, saved for training', async () => {
    const semantic = await cli(['ids', '--config', config, '--levels', '2', '--codebook-size', '8', '--out', 'ids', '--json'], folder);
    expect(semantic.code, semantic.stderr).toBe(0);
    const result = semantic.json<{ kind: string; health: { itemCount: number; utilisationPerLevel: number[]; collisionGroups: { size: number; count: number }[]; codebookSizes: number[] } }>();
    expect(result.kind).toBe('semantic');
    expect(result.health.itemCount).toBe(TINY_SYNTHETIC.itemCount);
    expect(result.health.codebookSizes.slice(0, 2)).toEqual([8, 8]);
    expect(result.health.utilisationPerLevel).toHaveLength(2);
    // the groups partition the items
    expect(result.health.collisionGroups.reduce((sum, group) => sum + group.size * group.count, 0)).toBe(TINY_SYNTHETIC.itemCount);
    expect(existsSync(join(folder, 'ids', 'health.json'))).toBe(true);
    const text = await cli(['ids', '--config', config, '--levels', '2', '--codebook-size', '8'], folder);
    expect(text.stdout).toMatch(/^semantic ids 2 x 8: 120 items, 2 quantiser levels \+ collision level$/m); // formatHealthReport with its title
    expect(text.stdout).toMatch(/^level\s+codes\s+utilisation\s+perplexity$/m);
    const set = await cli(['ids', '--config', config, '--kind', 'set', '--codebook-size', '8', '--set', 'ids.semanticSlots=2', '--json'], folder);
    expect(set.code, set.stderr).toBe(0);
    const health = set.json<{ health: { codebookSizes: number[]; utilisationPerLevel: number[] } }>().health;
    expect(health.codebookSizes).toEqual([8, 8, 8]);
    for (const value of health.utilisationPerLevel) expect(value).toBeGreaterThan(0);
  });

  it('a generative entry of a program’s own (requires semantic ids): ids built, passed to fit, kept in the run folder, reused by path', async () => {
    const seen: { levels: number; rows: number }[] = [];
    const entry: ModelEntry = {
      kind: 'fake-tiger',
      summary: 'markov standing in for a generative model (test)',
      packageName: '@genrec/model-baselines',
      requires: 'semantic-ids',
      trainsByEpochs: false,
      options: {},
      presets: { quickstart: {} },
      async fit(input) {
        seen.push({ levels: input.ids!.semanticIds!.table.levels, rows: input.data.itemVectors!.rows });
        return fitMarkov(input.data, { seed: input.seed });
      },
    };
    const run = await cli(['train', 'fake-tiger', '--config', config, '--preset', 'quickstart', '--set', 'ids.levels=2', '--set', 'ids.codebookSize=8', '--run-id', 'generative', '--runs', 'generative-runs'], folder, { models: [entry] });
    expect(run.code, run.stderr).toBe(0);
    expect(seen).toEqual([{ levels: 3, rows: TINY_SYNTHETIC.itemCount }]); // 2 levels + the collision level
    expect(run.stderr).toMatch(/^semantic ids 2 x 8: 120 items, 2 quantiser levels \+ collision level$/m); // the health table in the log
    const runFolder = join(folder, 'generative-runs', 'generative');
    expect(existsSync(join(runFolder, 'ids', 'health.json'))).toBe(true);
    expect(existsSync(join(runFolder, 'ids', 'item-vectors.npy'))).toBe(true);
    // reuse saved ids by path: the same codes reach fit
    const again = await cli(['train', 'fake-tiger', '--config', config, '--set', `ids.path=${join(runFolder, 'ids')}`, '--run-id', 'generative-2', '--runs', 'generative-runs'], folder, { models: [entry] });
    expect(again.code, again.stderr).toBe(0);
    expect(seen[1]).toEqual(seen[0]);
    const report = await cli(['report', join(folder, 'generative-runs'), '--out', 'generative.html', '--json'], folder, { models: [entry] });
    expect(report.code, report.stderr).toBe(0);
    expect(readFileSync(join(folder, 'generative.html'), 'utf8')).toContain('semantic ids 2 x 8 — fake-tiger (quickstart)');
    // without the entry, the kind is unknown
    const unknown = await cli(['train', 'fake-tiger', '--config', config], folder);
    expect(unknown.code).toBe(2);
  });

  it('report: one HTML file over a folder of runs, unfinished runs skipped', async () => {
    // a run that fails on malformed data (exit 3) leaves a folder marked failed
    writeFileSync(join(folder, 'bad.txt'), '1 2 3\n2 x 4\n');
    const failed = await cli(['train', 'markov', '--data', 'bad.txt', '--runs', 'runs', '--run-id', 'failed-1'], folder);
    expect(failed.code).toBe(3);
    expect(failed.stderr.trim().split('\n').at(-1)).toMatch(/^genrec train: error: .*bad\.txt:2/);
    expect(JSON.parse(readFileSync(join(folder, 'runs', 'failed-1', RUN_FILES.record), 'utf8'))).toMatchObject({ status: 'failed' });
    const run = await cli(['report', join(folder, 'runs'), '--out', 'report.html', '--json'], folder);
    expect(run.code, run.stderr).toBe(0);
    const result = run.json<{ report: string; runs: string[]; skipped: string[]; systems: { name: string }[] }>();
    expect(result.report).toBe(join(folder, 'report.html'));
    expect(result.systems.map((system) => system.name)).toEqual(['popularity', 'markov [evaluate-1]', 'markov [markov-1]', 'markov [markov-1-reproduce]', 'markov [markov-1-reproduce-2]', 'markov [sweep-1]']);
    expect(result.skipped).toEqual([`${join(folder, 'runs', 'failed-1')} (failed)`]);
    const html = readFileSync(result.report, 'utf8');
    expect(html).toContain('<table id="metrics-table">');
    expect(html).toContain('popularity <span class="muted">(baseline)</span>');
    expect(readdirSync(join(folder, 'runs')).length).toBeGreaterThanOrEqual(4);
    // another protocol (other cut-offs) cannot share the table
    const other = await cli(['train', 'popularity', '--config', config, '--ks', '10', '--run-id', 'other-ks'], folder);
    expect(other.code).toBe(0);
    const mixed = await cli(['report', join(folder, 'runs', 'markov-1'), join(folder, 'runs', 'other-ks')], folder);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(/runs evaluated under different protocols: .*markov-1 and .*other-ks \(cut-offs 5,10,20 vs 10\)/);
  });
});
