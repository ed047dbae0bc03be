import type { ReportInput } from './report-input.js';
import { lorenzCurve, meanAndSpread } from './statistics.js';

/**
 * A report input with every section filled (three systems, two seeds, training curves, semantic
 * ids, exposure, alignment rounds), for tests and the screenshot script. Not exported.
 */
export function sampleReportInput(): ReportInput {
  const ks = [5, 10, 20];
  const system = (name: string, base: number, baseline = false): ReportInput['systems'][number] => ({
    name,
    ...(baseline ? { baseline: true } : {}),
    metrics: Object.fromEntries(
      ks.flatMap((k) => [
        [`recall@${k}`, meanAndSpread([base * Math.log2(k + 1), base * Math.log2(k + 1) * 1.02])],
        [`ndcg@${k}`, meanAndSpread([base * 0.6 * Math.log2(k + 1), base * 0.6 * Math.log2(k + 1) * 0.99])],
      ]),
    ),
    ...(baseline ? {} : { significance: { 'recall@10': 'higher' as const, 'ndcg@10': 'higher' as const } }),
    trainingSeconds: baseline ? 0.1 : 12.5,
  });
  const curve = (name: string, epochs: number, start: number) => ({
    name,
    epochs: Array.from({ length: epochs }, (_, e) => ({ epoch: e + 1, loss: start / (e + 1), validation: { 'ndcg@10': 0.05 + 0.02 * Math.sqrt(e) } })),
  });
  const zipf = Array.from({ length: 500 }, (_, i) => 1 / (i + 1));
  return {
    title: 'genrec sample report <&>',
    subtitle: 'synthetic data, leave-one-out, full ranking',
    dataset: { name: 'synthetic', users: 5000, items: 2000, interactions: 59439, fingerprint: '0123456789abcdef' },
    systems: [system('popularity', 0.02, true), system('sasrec', 0.08), system('tiger "small"', 0.07)],
    significance: { test: 'paired t-test', alpha: 0.05, correction: 'Holm-corrected' },
    protocol: 'source recommender; 5000 users evaluated; history excluded by the model',
    training: [curve('sasrec seed 1', 5, 7), curve('sasrec seed 2', 5, 7.2), curve('tiger "small"', 4, 3)],
    semanticIds: [
      {
        title: 'semantic ids 3 x 32',
        itemCount: 2000,
        codebookSizes: [32, 32, 32, 4],
        utilisationPerLevel: [1, 0.97, 0.75],
        perplexityPerLevel: [30.2, 28.1, 20.5],
        collisionGroups: [
          { size: 1, count: 1700 },
          { size: 2, count: 120 },
          { size: 3, count: 20 },
        ],
        summary: { 'relative quantisation error': 0.41, 'largest collision group': 3 },
      },
    ],
    exposure: [
      { name: 'training data', lorenz: lorenzCurve(zipf, 51), gini: 0.6 },
      { name: 'popularity', lorenz: lorenzCurve(zipf.map((v, i) => (i < 20 ? v : 0)), 51), gini: 0.98, longTailShare: 0 },
      { name: 'sasrec', lorenz: lorenzCurve(zipf.map((v) => Math.sqrt(v)), 51), gini: 0.4, longTailShare: 0.31 },
    ],
    longTailDefinition: 'long tail = the 80% least popular items of the training data',
    alignment: [
      { round: 0, name: 'tiger', metrics: { 'ndcg@10': 0.05 } },
      { round: 1, name: 'tiger', metrics: { 'ndcg@10': 0.055 } },
      { round: 2, name: 'tiger', metrics: { 'ndcg@10': 0.058 } },
    ],
    notes: ['command: genrec report runs/*'],
  };
}
