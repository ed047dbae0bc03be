/**
 * Preference alignment of a Toys-trained TIGER, by the issue's protocol: configurations screened
 * on **validation** at one short fixed budget, the best one (a rule fixed before the screen runs:
 * the highest validation NDCG@10 among configurations whose validation coverage@10 is within
 * `--max-coverage-drop`, default 5% relative, of the un-aligned model's) compared once with the
 * un-aligned model on **test**.
 *
 *   npx tsx --conditions=@genrec/source bench/toys-tiger.ts --tiger DIR --sasrec DIR --phase screen --out screen.json
 *   npx tsx --conditions=@genrec/source bench/toys-tiger.ts --tiger DIR --sasrec DIR --phase test --screen screen.json --out test.json
 *   npx tsx --conditions=@genrec/source bench/toys-tiger.ts --tiger DIR --sasrec DIR --phase exposure --out exposure.json
 *
 * `--tiger`: a saved TIGER trained on Toys' training part (e.g. `genrec train tiger`'s
 * `seeds/42/model`); `--sasrec`: a saved SASRec trained on the same training part, the reward
 * model of the `reward-model` pairs (it scores the beam's candidates; it never sees test).
 * The split is `leaveOneOutSplit(…, { maxHistoryLength: 50 })`, as `genrec`'s default config.
 *
 * Phases:
 * - `screen`: every configuration (`--configs 'a;b'` by row name, default: pair source x loss x β
 *   over `--losses` and `--betas`, reward-model ones also exposure-aware for each `--screen-lambdas`
 *   value, plus a supervised-only control with the same number of steps) from the same model at the
 *   same budget; one Markdown row each (validation metrics after the last round) and the chosen one
 *   (`--max-coverage-drop 0.05`; the control is never chosen; none qualifying is a result).
 * - `test`: reads the chosen configuration from `--screen`'s JSON, aligns it again (same seed:
 *   the same model, up to floating-point nondeterminism — validation NDCG@10 0.0482 vs the
 *   screen's 0.0483 once) and compares it with the un-aligned model on the test users once:
 *   paired t-test over users, Holm-corrected over the reported metrics.
 * - `exposure`: reward-model pairs with the exposure-aware reward, relevance − λ·popularity
 *   penalty, for each `--lambdas` value: validation NDCG@10 against exposure Gini and the
 *   recommended items' mean popularity.
 *
 * Budget flags (every phase): `--rounds 1 --share 0.05 --candidates 20 --cut random|last --steps N
 * --supervised-steps 0 --lr 5e-4 --batch 64 --seed 1 --lambda 0.1 --threads 0`;
 * the validation diagnostics run over all validation users.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { sharedPath } from '@genrec/core';
import { leaveOneOutSplit, readSequenceFile } from '@genrec/data';
import { evaluateRecommender, holmAdjust, pairedTTest } from '@genrec/eval';
import { loadSasrec } from '@genrec/model-sasrec';
import { loadTiger, tigerPreferenceModel } from '@genrec/model-tiger';
import { alignModel, exposureAwareReward, itemPopularity, recommenderReward, type AlignOptions, type AlignmentResult } from '../src/index.js';

const args = process.argv.slice(2);
const value = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
};
const phase = value('phase', 'screen');
const out = value('out', '');
const file = sharedPath('data', 'amazon2014-toys', 'Toys_and_Games.txt');
if (file === undefined) {
  console.error('skipped: ../shared/data has no amazon2014-toys');
  process.exit(0);
}
const tigerDir = value('tiger', '');
const sasrecDir = value('sasrec', '');
if (!tigerDir || !sasrecDir) {
  console.error('usage: toys-tiger.ts --tiger DIR --sasrec DIR [--phase screen|test|exposure] [--out FILE]');
  process.exit(2);
}
const log = (line: string): void => void process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
const started = performance.now();
const split = leaveOneOutSplit(await readSequenceFile(file), { maxHistoryLength: 50 });
const model = await loadTiger(tigerDir);
const judge = await loadSasrec(sasrecDir);
const popularity = itemPopularity(split.train);
const relevance = recommenderReward(judge);
log(`Toys: ${split.train.userCount} users, ${split.train.itemCount} items; TIGER ${tigerDir}; reward SASRec ${sasrecDir}`);

const seed = Number(value('seed', '1'));
const budget: AlignOptions = {
  rounds: Number(value('rounds', '1')),
  userShare: Number(value('share', '0.05')),
  candidates: Number(value('candidates', '20')),
  supervisedWeight: Number(value('lambda', '0.1')),
  cut: value('cut', 'random') as 'random' | 'last',
  supervisedSteps: Number(value('supervised-steps', '0')),
  learningRate: Number(value('lr', '5e-4')),
  batchSize: Number(value('batch', '64')),
  ...(args.includes('--steps') ? { steps: Number(value('steps', '0')) } : {}),
  diagnosticUsers: Number(value('diagnostic-users', '256')),
  klUsers: Number(value('kl-users', '16')),
  threads: Number(value('threads', '0')),
  seed,
};
const validation = split.validation;
log(`budget ${JSON.stringify(budget)}; validation users ${validation.size}`);

interface Config {
  name: string;
  options: AlignOptions;
}
type Loss = 'dpo' | 'cdpo' | 'ipo' | 'sdpo';
/** A positive finite number from the command line, or a clear exit. */
function positive(text: string, what: string): number {
  const x = Number(text);
  if (!Number.isFinite(x) || x <= 0) throw new Error(`${what}: expected a positive number, got '${text}'`);
  return x;
}
/** One reward-model configuration; λ > 0 makes its reward exposure-aware (relevance − λ·popularity penalty). */
const rewardConfig = (loss: Loss, beta: number, lambda: number): Config => ({
  name: lambda > 0 ? `reward(sasrec, λ=${lambda}) ${loss} β=${beta}` : `reward(sasrec) ${loss} β=${beta}`,
  options: { source: 'reward-model', rewardModel: lambda > 0 ? exposureAwareReward(relevance, { weight: lambda, popularity }) : relevance, loss, beta },
});
/**
 * The screened grid: pair source x loss x β (`--losses`, `--betas`), each reward-model configuration
 * also with the exposure-aware reward for every `--screen-lambdas` value (none by default).
 */
function screenConfigs(): Config[] {
  const configs: Config[] = [];
  const betas = value('betas', '0.1,1').split(',').map(Number);
  const lambdas = value('screen-lambdas', '').split(',').filter(Boolean).map((text) => positive(text, '--screen-lambdas'));
  for (const loss of value('losses', 'dpo,cdpo,ipo,sdpo').split(',') as Loss[]) {
    for (const beta of betas) {
      configs.push({ name: `self-hard ${loss} β=${beta}`, options: { source: 'self-hard-negatives', loss, beta } });
      for (const lambda of [0, ...lambdas]) configs.push(rewardConfig(loss, beta, lambda));
    }
  }
  return configs;
}
/** A configuration by its row name, e.g. `self-hard ipo β=1`, `reward(sasrec, λ=2) dpo β=0.1`, `supervised only (75 steps)`. */
const configByName = (name: string): Config => {
  // the control: the same users' logged next items, supervised steps only, as many as a preference configuration takes
  if (name.startsWith('supervised only')) return { name, options: { source: 'self-hard-negatives', steps: 0, supervisedSteps: Number(/\d+/.exec(name)?.[0] ?? value('control-steps', '16')) } };
  const m = /^(self-hard|reward\(sasrec(?:, λ=([\d.]+))?\)) (dpo|cdpo|ipo|sdpo) β=([\d.]+)$/.exec(name.trim());
  if (!m) throw new Error(`unknown configuration ${name}`);
  const [, source, lambda, loss, beta] = m as unknown as [string, string, string | undefined, Loss, string];
  const b = positive(beta, `β in '${name}'`);
  if (source === 'self-hard') return { name: `self-hard ${loss} β=${b}`, options: { source: 'self-hard-negatives', loss, beta: b } };
  return rewardConfig(loss, b, lambda === undefined ? 0 : positive(lambda, `λ in '${name}'`));
};

const fmt = (x: number | null | undefined, digits = 4): string => (x === null || x === undefined || Number.isNaN(x) ? '—' : x.toFixed(digits));
const summary = (name: string, result: AlignmentResult, seconds: number) => {
  const last = result.rounds.at(-1)!;
  const v = last.after.validation!;
  return {
    name,
    pairs: result.rounds.map((r) => r.pairs),
    margins: last.training['rewards/margins'],
    accuracies: last.training['rewards/accuracies'],
    kl: result.rounds.reduce((s, r) => s + (r.after.kl ?? 0), 0),
    falseNegativeShare: result.rounds.reduce((s, r) => s + r.falseNegativeShare, 0) / result.rounds.length,
    validation: v,
    timings: result.rounds.map((r) => r.timings),
    seconds,
  };
};
type Row = ReturnType<typeof summary>;
const header = '| configuration | pairs | margins | acc. | KL | FN share | val NDCG@10 | val R@10 | coverage@10 | popularity@10 | exposure Gini | round s (pairs / ref / train) |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|';
const line = (r: Row): string =>
  `| ${r.name} | ${r.pairs.join(' + ')} | ${fmt(r.margins)} | ${fmt(r.accuracies, 3)} | ${fmt(r.kl)} | ${fmt(r.falseNegativeShare, 3)} | ${fmt(r.validation['ndcg@10'])} | ${fmt(r.validation['recall@10'])} | ${fmt(r.validation['coverage@10'], 3)} | ${fmt(r.validation['popularity@10'], 1)} | ${fmt(r.validation.exposureGini)} | ${r.timings.map((t) => `${((t.pairsMs + t.referenceMs + t.trainMs) / 1000).toFixed(0)} (${(t.pairsMs / 1000).toFixed(0)} / ${(t.referenceMs / 1000).toFixed(0)} / ${(t.trainMs / 1000).toFixed(0)})`).join(', ')} |`;

async function run(config: Config): Promise<{ row: Row; result: AlignmentResult }> {
  const t0 = performance.now();
  const result = await alignModel(model, tigerPreferenceModel(model), { train: split.train, validation }, { ...budget, ...config.options });
  return { row: summary(config.name, result, (performance.now() - t0) / 1000), result };
}

if (phase === 'screen') {
  const names = value('configs', '');
  const configs = names ? names.split(';').map(configByName) : screenConfigs();
  const rows: Row[] = [];
  let before: AlignmentResult['before'] | undefined;
  console.log(header);
  for (const config of configs) {
    const { row, result } = await run(config);
    before ??= result.before;
    rows.push(row);
    console.log(line(row));
    await result.model.dispose();
    if (out) writeFileSync(out, JSON.stringify({ budget: { ...budget, rewardModel: undefined }, before, rows }, null, 2));
    if (!names && config === configs.at(-1) && !config.name.startsWith('supervised only')) configs.push(configByName(`supervised only (${result.rounds[0]!.steps} steps)`));
  }
  const b = before!.validation!;
  console.log(`| (un-aligned) | — | — | — | 0 | — | ${fmt(b['ndcg@10'])} | ${fmt(b['recall@10'])} | ${fmt(b['coverage@10'], 3)} | ${fmt(b['popularity@10'], 1)} | ${fmt(b.exposureGini)} | — |`);
  // The selection rule, fixed before the screen runs: among the preference configurations (the supervised-only
  // control is reported, not chosen) whose validation coverage@10 is at most `--max-coverage-drop` (relative)
  // below the un-aligned model's, the highest validation NDCG@10. `--max-coverage-drop 1` ranks on NDCG@10 alone.
  const maxDrop = Number(value('max-coverage-drop', '0.05'));
  if (!(maxDrop >= 0 && maxDrop <= 1)) throw new Error(`--max-coverage-drop must be in [0, 1], got '${value('max-coverage-drop', '')}'`);
  const floor = (1 - maxDrop) * b['coverage@10']!;
  const eligible = rows.filter((r) => !r.name.startsWith('supervised only') && r.validation['coverage@10']! >= floor);
  const rule = `highest validation NDCG@10 among preference configurations with validation coverage@10 ≥ ${fmt(floor, 4)} (un-aligned ${fmt(b['coverage@10'], 4)} less ${maxDrop * 100}%)`;
  const best = eligible.length > 0 ? eligible.reduce((a, r) => (r.validation['ndcg@10']! > a.validation['ndcg@10']! ? r : a)) : undefined;
  console.log(best ? `chosen on validation (${rule}): ${best.name}, ${fmt(best.validation['ndcg@10'])} vs un-aligned ${fmt(b['ndcg@10'])}` : `no configuration qualifies (${rule}): keep the un-aligned model`);
  if (out) writeFileSync(out, JSON.stringify({ budget: { ...budget, rewardModel: undefined }, before, rows, rule, chosen: best?.name ?? null }, null, 2));
} else if (phase === 'test') {
  const screen = JSON.parse(readFileSync(value('screen', ''), 'utf8')) as { chosen: string | null };
  const name = value('config', screen.chosen ?? '');
  if (!name) throw new Error('the screen chose no configuration (none met its rule): nothing to test');
  const config = configByName(name);
  const { row, result } = await run(config);
  console.log(`${header}\n${line(row)}`);
  const ks = [10, 20];
  const [baseline, aligned] = [
    await evaluateRecommender(model, split.test, { ks, excludeHistory: true, beyondAccuracy: { popularity } }),
    await evaluateRecommender(result.model, split.test, { ks, excludeHistory: true, beyondAccuracy: { popularity } }),
  ];
  const metrics = ['recall@10', 'ndcg@10', 'recall@20', 'ndcg@20'];
  const tests = metrics.map((m) => pairedTTest(aligned.perUser![m]!, baseline.perUser![m]!));
  const holm = holmAdjust(tests.map((t) => t.pValue));
  console.log(`\n${config.name} vs un-aligned on ${split.test.size} test users (paired t-test, Holm over ${metrics.length} metrics)`);
  console.log('| metric | un-aligned | aligned | difference | p | Holm p |\n|---|---:|---:|---:|---:|---:|');
  metrics.forEach((m, i) => console.log(`| ${m} | ${fmt(baseline.metrics[m])} | ${fmt(aligned.metrics[m])} | ${fmt(tests[i]!.meanDifference, 5)} | ${tests[i]!.pValue.toExponential(2)} | ${holm[i]!.toExponential(2)} |`));
  for (const m of ['coverage@10', 'popularity@10', 'gini@10']) console.log(`| ${m} | ${fmt(baseline.beyondAccuracy![m], 4)} | ${fmt(aligned.beyondAccuracy![m], 4)} | | | |`);
  if (out) writeFileSync(out, JSON.stringify({ config: config.name, row, test: { baseline: baseline.metrics, aligned: aligned.metrics, baselineBeyond: baseline.beyondAccuracy, alignedBeyond: aligned.beyondAccuracy, tests, holm } }, null, 2));
  await result.model.dispose();
} else if (phase === 'exposure') {
  const rows: (Row & { lambda: number })[] = [];
  console.log(header.replace('| configuration |', '| λ |'));
  for (const lambda of value('lambdas', '0,0.5,1,2,4').split(',').map(Number)) {
    const reward = exposureAwareReward(relevance, { weight: lambda, popularity });
    const { row, result } = await run({ name: `λ=${lambda}`, options: { source: 'reward-model', rewardModel: reward, loss: (value('loss', 'dpo') as 'dpo'), beta: Number(value('beta', '0.1')) } });
    rows.push({ ...row, lambda });
    console.log(line(row));
    if (out) writeFileSync(out, JSON.stringify({ budget: { ...budget, rewardModel: undefined }, before: result.before, rows }, null, 2));
    await result.model.dispose();
  }
} else {
  console.error(`unknown phase ${phase}`);
  process.exit(2);
}
await Promise.all([model.dispose(), judge.dispose()]);
log(`total ${((performance.now() - started) / 1000).toFixed(0)} s`);
