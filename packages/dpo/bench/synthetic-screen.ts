/**
 * Screens alignment configurations on the synthetic default (5,000 users x 2,000 items) with a
 * cheap SASRec, the way the Toys acceptance protocol asks: every configuration at one short fixed
 * budget (the defaults unless flags say otherwise), compared on **validation**; the configuration with the best validation NDCG@10 (the rule
 * is fixed before looking at test) is then compared once with the un-aligned model on **test**
 * (paired t-test and Wilcoxon over users, Holm-corrected over the two).
 *
 *   npx tsx --conditions=@genrec/source bench/synthetic-screen.ts [--quick] [--seed 1] [--lr 5e-4] [--steps N] [--share 0.1] [--rounds 2] [--lambda 0.1]
 *
 * Prints one Markdown table row per configuration and the test comparison, and writes JSON to
 * `--out` when given.
 */
import { writeFileSync } from 'node:fs';
import { generateSyntheticDataset, leaveOneOutSplit } from '@genrec/data';
import { evaluateRecommender, holmAdjust, pairedTTest, wilcoxonSignedRank } from '@genrec/eval';
import { fitItemKnn } from '@genrec/model-baselines';
import { fitSasrec, sasrecPreferenceModel } from '@genrec/model-sasrec';
import { alignModel, exposureAwareReward, itemPopularity, recommenderReward, type AlignOptions, type RewardModel } from '../src/index.js';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const value = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
};
const seed = Number(value('seed', '1'));
const out = value('out', '');

const { dataset } = generateSyntheticDataset({ ratings: true }); // the same items as the default, plus ratings for explicit feedback
const split = leaveOneOutSplit(dataset, { maxHistoryLength: 50 });
const started = performance.now();
const base = await fitSasrec({ train: split.train }, { hiddenSize: 32, blocks: 1, maxLength: 20, dropout: 0.1, learningRate: 0.005, batchSize: 128, epochs: 3, threads: 1, seed });
const judge = await fitItemKnn({ train: split.train });
const popularity = itemPopularity(split.train);
console.log(`base SASRec fitted in ${((performance.now() - started) / 1000).toFixed(1)} s`);

const relevance = recommenderReward(judge);
const rewards: Record<string, RewardModel> = {
  itemknn: relevance,
  'itemknn-pop0.5': exposureAwareReward(relevance, { weight: 0.5, popularity }),
  'itemknn-pop1': exposureAwareReward(relevance, { weight: 1, popularity }),
  'itemknn-pop2': exposureAwareReward(relevance, { weight: 2, popularity }),
};
/** The fixed budget of every configuration. */
const budget: AlignOptions = {
  rounds: Number(value('rounds', '2')),
  userShare: Number(value('share', '0.1')),
  ...(flag('lr') ? { learningRate: Number(value('lr', '0')) } : {}),
  ...(flag('lambda') ? { supervisedWeight: Number(value('lambda', '0')) } : {}),
  ...(flag('steps') ? { steps: Number(value('steps', '0')) } : {}),
  batchSize: 64,
  diagnosticUsers: 256,
  threads: 1,
  seed,
};
console.log(`budget: ${JSON.stringify(budget)}`);
const configs: { name: string; options: AlignOptions }[] = [];
for (const loss of ['dpo', 'cdpo', 'ipo', 'sdpo'] as const) {
  for (const beta of flag('quick') ? [0.1] : [0.1, 1]) {
    configs.push({ name: `self-hard ${loss} β=${beta}`, options: { source: 'self-hard-negatives', loss, beta } });
    configs.push({ name: `reward(itemknn) ${loss} β=${beta}`, options: { source: 'reward-model', rewardModel: rewards.itemknn!, candidates: 20, loss, beta } });
    configs.push({ name: `explicit ${loss} β=${beta}`, options: { source: 'explicit-feedback', loss, beta } });
  }
}
for (const weight of ['0.5', '1', '2']) configs.push({ name: `reward(itemknn − ${weight}·pop) dpo β=0.1`, options: { source: 'reward-model', rewardModel: rewards[`itemknn-pop${weight}`]!, candidates: 20, loss: 'dpo', beta: 0.1 } });

const fmt = (x: number | null | undefined, digits = 4) => (x === null || x === undefined || Number.isNaN(x) ? '—' : x.toFixed(digits));
const rows: Record<string, unknown>[] = [];
let before: Record<string, number> | null = null;
console.log('| configuration | pairs | margins | accuracies | KL | FN share | val NDCG@10 | val Recall@10 | coverage@10 | popularity@10 | Gini@10 | exposure Gini | s |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
let best: { name: string; options: AlignOptions; ndcg: number } | undefined;
for (const config of configs) {
  const t0 = performance.now();
  const result = await alignModel(base, sasrecPreferenceModel(base), { train: split.train, validation: split.validation }, { ...budget, ...config.options });
  const last = result.rounds.at(-1)!;
  const v = last.after.validation!;
  before ??= result.before.validation;
  const seconds = (performance.now() - t0) / 1000;
  const kl = result.rounds.reduce((s, r) => s + (r.after.kl ?? 0), 0);
  const fn = result.rounds.reduce((s, r) => s + r.falseNegativeShare, 0) / result.rounds.length;
  console.log(
    `| ${config.name} | ${result.rounds.map((r) => r.pairs).join(' + ')} | ${fmt(last.training['rewards/margins'])} | ${fmt(last.training['rewards/accuracies'], 3)} | ${fmt(kl)} | ${fmt(fn, 3)} | ${fmt(v['ndcg@10'])} | ${fmt(v['recall@10'])} | ${fmt(v['coverage@10'], 3)} | ${fmt(v['popularity@10'], 1)} | ${fmt(v['gini@10'])} | ${fmt(v.exposureGini)} | ${seconds.toFixed(1)} |`,
  );
  rows.push({ name: config.name, rounds: result.rounds, seconds });
  if (!best || v['ndcg@10']! > best.ndcg) best = { name: config.name, options: config.options, ndcg: v['ndcg@10']! };
  await result.model.dispose();
}
const b = before!;
console.log(`| (un-aligned) | — | — | — | 0 | — | ${fmt(b['ndcg@10'])} | ${fmt(b['recall@10'])} | ${fmt(b['coverage@10'], 3)} | ${fmt(b['popularity@10'], 1)} | ${fmt(b['gini@10'])} | ${fmt(b.exposureGini)} | — |`);

// the chosen configuration (best validation NDCG@10), once on test against the un-aligned model
const chosen = await alignModel(base, sasrecPreferenceModel(base), { train: split.train, validation: split.validation }, { ...budget, ...best!.options });
const ks = [10];
const baseline = await evaluateRecommender(base, split.test, { ks, beyondAccuracy: { popularity } });
const aligned = await evaluateRecommender(chosen.model, split.test, { ks, beyondAccuracy: { popularity } });
const t = pairedTTest(aligned.perUser!['ndcg@10']!, baseline.perUser!['ndcg@10']!);
const w = wilcoxonSignedRank(aligned.perUser!['ndcg@10']!, baseline.perUser!['ndcg@10']!);
const [tHolm, wHolm] = holmAdjust([t.pValue, w.pValue]);
console.log(
  `\nchosen on validation: ${best!.name}\ntest NDCG@10 ${fmt(baseline.metrics['ndcg@10'])} -> ${fmt(aligned.metrics['ndcg@10'])} (mean difference ${fmt(t.meanDifference, 5)}, paired t p = ${t.pValue.toExponential(2)} (Holm ${tHolm!.toExponential(2)}), Wilcoxon p = ${w.pValue.toExponential(2)} (Holm ${wHolm!.toExponential(2)}), n = ${t.n}); ` +
    `test Recall@10 ${fmt(baseline.metrics['recall@10'])} -> ${fmt(aligned.metrics['recall@10'])}; coverage@10 ${fmt(baseline.beyondAccuracy!['coverage@10'], 3)} -> ${fmt(aligned.beyondAccuracy!['coverage@10'], 3)}`,
);
if (out) writeFileSync(out, JSON.stringify({ seed, configs: rows, before: b, chosen: best!.name, test: { baseline: baseline.metrics, aligned: aligned.metrics, t, w } }, null, 2));
await Promise.all([chosen.model.dispose(), base.dispose(), judge.dispose()]);
console.log(`total ${((performance.now() - started) / 1000).toFixed(0)} s`);
