import { join } from 'node:path';
import { createTensor, writeFileAtomic, writeSafetensors, type EvaluationSet, type ProgressCallback, type Recommender } from '@genrec/core';
import { compareResults, describeProtocol, evaluateRecommender, evaluationResultToJSON, type EvaluationResult } from '@genrec/eval';
import { lorenzCurve, meanAndSpread, type ExposureSection, type SeedSummary } from '@genrec/report';
import type { EvaluationConfig } from '../config/config.js';

/** The paired test of one metric against the baseline. */
export interface SignificanceCell {
  /** Raw p-value. */
  pValue: number;
  /** After Holm's correction over the compared metrics. */
  adjustedPValue: number;
  /** adjustedPValue < alpha. */
  significant: boolean;
  /** Sign of the mean difference (model − baseline). */
  direction: 'higher' | 'lower' | 'same';
}

/** One seed's numbers of a system. */
export interface SeedMetrics {
  seed: number;
  /** Accuracy means (`recall@10`…, `mrr@full`). */
  metrics: Record<string, number>;
  /** Beyond-accuracy means (`coverage@K`, `gini@K`, `tail@K`…). */
  beyondAccuracy: Record<string, number>;
  /** Gini of item exposure and EE-L. */
  exposure: { itemExposureGini: number; eeL: number };
  /** Against the baseline (not for the baseline itself). */
  significance?: Record<string, SignificanceCell>;
  /** Training wall time. */
  trainingSeconds?: number;
  /** Epochs trained and the one kept. */
  epochs?: number;
  bestEpoch?: number;
  stoppedBy?: string;
}

/** A system (the model, or a baseline) of a run: every seed and the summary over seeds. */
export interface SystemMetrics {
  /** Name in tables (`sasrec`, `popularity`). */
  name: string;
  /** Model kind. */
  kind: string;
  /** True for the baseline the significance marks refer to. */
  baseline: boolean;
  /** `baseline` for the systems of `evaluation.baselines`, `model` for the model of the run. */
  role: 'baseline' | 'model';
  /** Options the system was trained with. */
  options: Record<string, unknown>;
  seeds: SeedMetrics[];
  /** Mean and sample standard deviation over seeds of every metric and beyond-accuracy value. */
  summary: Record<string, SeedSummary>;
  /** Metrics whose paired test against the baseline was significant in every seed, with the direction. */
  significantInEverySeed: Record<string, 'higher' | 'lower'>;
  /** Exposure of the first seed's recommendations: Lorenz curve, Gini, long-tail share. */
  exposure: ExposureSection;
}

/** `metrics.json` of a run folder. */
export interface RunMetrics {
  kind: 'genrec.run-metrics';
  formatVersion: 1;
  /** Data name and training-split fingerprint (runs are compared only on the same data). */
  data: { name: string; trainFingerprint: string };
  /** Which users were evaluated (`test`; a sweep's grid uses `validation`). */
  split: 'test' | 'validation';
  ks: number[];
  /** Metric keys of the tables. */
  tableMetrics: string[];
  /** The evaluation protocol in one line (`@genrec/eval`'s `describeProtocol`). */
  protocol: string;
  /** Name of the baseline, when one was evaluated. */
  baseline: string | null;
  significance: { test: string; alpha: number; correction: 'holm' };
  systems: SystemMetrics[];
  /** Popularity of the training data itself (the reference Lorenz curve). */
  trainingData: ExposureSection;
  /** What the long-tail share counts. */
  longTailDefinition: string;
  /** `genrec align`: the aligned model against the un-aligned one, paired over the same test users. */
  comparison?: PairedComparison;
}

/** One metric of a {@link PairedComparison}: both means, their difference and the paired test. */
export interface ComparedMetric extends SignificanceCell {
  /** The reference system's mean. */
  reference: number;
  /** The compared system's mean. */
  system: number;
  /** `system − reference`. */
  difference: number;
}

/** Two systems of a run compared on the same users with a paired test (Holm over the table metrics). */
export interface PairedComparison {
  /** The reference (`sasrec (un-aligned)`). */
  reference: string;
  /** The system compared with it (`sasrec (aligned)`). */
  system: string;
  /** The paired test, its level, the correction. */
  test: string;
  alpha: number;
  correction: 'holm';
  /** One entry per seed: the users compared and every table metric. */
  seeds: { seed: number; users: number; metrics: Record<string, ComparedMetric> }[];
}

/**
 * The cut-off of single-number summaries: 10 when evaluated, else the largest K.
 *
 * @example
 * ```ts
 * primaryK([5, 10, 20]); // 10
 * ```
 */
export function primaryK(ks: readonly number[]): number {
  return ks.includes(10) ? 10 : ks[ks.length - 1]!;
}

/**
 * Metric keys of tables and significance tests: `recall@K` then `ndcg@K` for every K.
 *
 * @example
 * ```ts
 * tableMetricsOf([10, 20]); // ['recall@10', 'recall@20', 'ndcg@10', 'ndcg@20']
 * ```
 */
export function tableMetricsOf(ks: readonly number[]): string[] {
  return [...ks.map((k) => `recall@${k}`), ...ks.map((k) => `ndcg@${k}`)];
}

/**
 * Evaluates a model on users through `@genrec/eval`'s `evaluateRecommender` (the one protocol of
 * every genrec model), with beyond-accuracy metrics (training popularity, long tail) and expected
 * exposure.
 *
 * @param model - a fitted model
 * @param users - test (or validation) users
 * @param config - the `evaluation` section
 * @param popularity - training counts by item id (`itemCount + 1` entries)
 * @param options - name, progress, abort signal
 * @returns the result, per-user values kept
 * @example
 * ```ts
 * const result = await evaluateSystem(model, split.test, defaultConfig().evaluation, popularity, { system: 'sasrec' });
 * ```
 */
export function evaluateSystem(
  model: Recommender,
  users: EvaluationSet,
  config: EvaluationConfig,
  popularity: Float64Array,
  options: { system: string; onProgress?: ProgressCallback; signal?: AbortSignal },
): Promise<EvaluationResult> {
  return evaluateRecommender(model, users, {
    ks: config.ks,
    excludeHistory: config.excludeHistory,
    batchSize: config.batchSize,
    system: options.system,
    keepPerUser: true,
    beyondAccuracy: { popularity, tailFraction: config.longTailFraction },
    exposure: {},
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
}

/**
 * Paired tests of a result against the baseline's, on the table metrics, Holm-corrected.
 *
 * @returns one cell per metric
 * @example
 * ```ts
 * significanceAgainst(popularityResult, sasrecResult, defaultConfig().evaluation, 42)['ndcg@10']; // { pValue, adjustedPValue, significant, direction }
 * ```
 */
export function significanceAgainst(baseline: EvaluationResult, result: EvaluationResult, config: EvaluationConfig, seed: number): Record<string, SignificanceCell> {
  const metrics = tableMetricsOf(config.ks);
  const comparison = compareResults([baseline, result], { metrics, test: config.test, alpha: config.alpha, seed });
  const cells: Record<string, SignificanceCell> = {};
  comparison.metrics.forEach((metric, index) => {
    const cell = comparison.cells[1]![index]!;
    const difference = cell.test?.meanDifference ?? 0;
    cells[metric] = {
      pValue: cell.test?.pValue ?? 1,
      adjustedPValue: cell.adjustedPValue ?? 1,
      significant: cell.significant,
      direction: difference > 0 ? 'higher' : difference < 0 ? 'lower' : 'same',
    };
  });
  return cells;
}

/**
 * A result against a reference result on the same users: both means, the difference and the paired
 * test of every table metric (Holm-corrected, {@link significanceAgainst}).
 *
 * @param reference - the reference's result (per-user values kept)
 * @param result - the compared result, on the same users
 * @param config - the `evaluation` section (cut-offs, test, alpha)
 * @param seed - seed of the bootstrap test
 * @returns one entry per table metric
 * @example
 * ```ts
 * compareToReference(unalignedResult, alignedResult, config.evaluation, 42)['ndcg@10']; // { reference, system, difference, pValue, … }
 * ```
 */
export function compareToReference(reference: EvaluationResult, result: EvaluationResult, config: EvaluationConfig, seed: number): Record<string, ComparedMetric> {
  const cells = significanceAgainst(reference, result, config, seed);
  const compared: Record<string, ComparedMetric> = {};
  for (const [metric, cell] of Object.entries(cells)) {
    const before = reference.metrics[metric] ?? Number.NaN;
    const after = result.metrics[metric] ?? Number.NaN;
    compared[metric] = { reference: before, system: after, difference: after - before, ...cell };
  }
  return compared;
}

const finiteRecord = (record: Record<string, number> | null): Record<string, number> => Object.fromEntries(Object.entries(record ?? {}).filter(([, value]) => Number.isFinite(value)));

/**
 * One seed's numbers from an evaluation result.
 *
 * @example
 * ```ts
 * seedMetricsOf(42, result).metrics['recall@10'];
 * ```
 */
export function seedMetricsOf(seed: number, result: EvaluationResult, extra: Partial<SeedMetrics> = {}): SeedMetrics {
  return {
    seed,
    metrics: finiteRecord(result.metrics),
    beyondAccuracy: finiteRecord(result.beyondAccuracy),
    exposure: { itemExposureGini: result.exposure?.itemExposureGini ?? Number.NaN, eeL: result.exposure?.eeL ?? Number.NaN },
    ...extra,
  };
}

/**
 * Exposure of a result: the Lorenz curve of item exposure (101 points), its Gini, the long-tail share at the primary K.
 *
 * @example
 * ```ts
 * exposureOf('sasrec', result).lorenz.length; // 101
 * ```
 */
export function exposureOf(name: string, result: EvaluationResult): ExposureSection {
  const itemExposure = result.exposure?.itemExposure ?? new Float64Array(1);
  const k = primaryK(result.protocol.ks);
  const tail = result.beyondAccuracy?.[`tail@${k}`];
  return {
    name,
    lorenz: lorenzCurve(itemExposure.subarray(1)),
    gini: result.exposure?.itemExposureGini ?? Number.NaN,
    ...(tail === undefined || !Number.isFinite(tail) ? {} : { longTailShare: tail }),
  };
}

/**
 * Exposure of the training data itself: the Lorenz curve of interaction counts.
 *
 * @example
 * ```ts
 * trainingExposure(trainingPopularity(data)).gini;
 * ```
 */
export function trainingExposure(popularity: Float64Array): ExposureSection {
  const counts = popularity.subarray(1);
  const sorted = Float64Array.from(counts).sort();
  let total = 0;
  let weighted = 0;
  for (let i = 0; i < sorted.length; i++) {
    total += sorted[i]!;
    weighted += (2 * i - sorted.length + 1) * sorted[i]!;
  }
  return { name: 'training data', lorenz: lorenzCurve(counts), gini: total === 0 ? 0 : weighted / (sorted.length * total) };
}

/**
 * A system's summary over its seeds: mean and spread of every value, and the metrics significant
 * (in the same direction) in every seed.
 * @example
 * ```ts
 * systemMetrics({ name: 'sasrec', kind: 'sasrec', baseline: false, role: 'model', options: {}, seeds, exposure }).summary['ndcg@10']; // { mean, std, n }
 * ```
 */
export function systemMetrics(fields: { name: string; kind: string; baseline: boolean; role: 'baseline' | 'model'; options: Record<string, unknown>; seeds: SeedMetrics[]; exposure: ExposureSection }): SystemMetrics {
  const keys = new Set(fields.seeds.flatMap((seed) => [...Object.keys(seed.metrics), ...Object.keys(seed.beyondAccuracy)]));
  const summary: Record<string, SeedSummary> = {};
  for (const key of keys) {
    const values = fields.seeds.map((seed) => seed.metrics[key] ?? seed.beyondAccuracy[key]).filter((value): value is number => value !== undefined && Number.isFinite(value));
    if (values.length === fields.seeds.length && values.length > 0) summary[key] = meanAndSpread(values);
  }
  const times = fields.seeds.map((seed) => seed.trainingSeconds).filter((value): value is number => value !== undefined);
  if (times.length === fields.seeds.length && times.length > 0) summary['trainingSeconds'] = meanAndSpread(times);
  const significantInEverySeed: Record<string, 'higher' | 'lower'> = {};
  const first = fields.seeds[0]?.significance;
  if (first !== undefined) {
    for (const [metric, cell] of Object.entries(first)) {
      if (cell.direction === 'same') continue;
      if (fields.seeds.every((seed) => seed.significance?.[metric]?.significant === true && seed.significance[metric]!.direction === cell.direction)) {
        significantInEverySeed[metric] = cell.direction;
      }
    }
  }
  return { ...fields, summary, significantInEverySeed };
}

/**
 * The protocol line of a result.
 *
 * @example
 * ```ts
 * protocolLine(result); // 'source recommender; 5000 users evaluated …'
 * ```
 */
export function protocolLine(result: EvaluationResult): string {
  return describeProtocol(result);
}

/**
 * Stores an evaluation in `folder`: `evaluation.json` (means, protocol, exposure; no per-user
 * values) and `per-user.safetensors` (float64 per-user values of the table metrics, so later
 * comparisons can run paired tests).
 * @example
 * ```ts
 * storeEvaluation('runs/x/seeds/42', result, [10, 20]);
 * ```
 */
export function storeEvaluation(folder: string, result: EvaluationResult, ks: readonly number[]): void {
  writeFileAtomic(join(folder, 'evaluation.json'), JSON.stringify(evaluationResultToJSON(result), null, 1) + '\n');
  const tensors: Record<string, ReturnType<typeof createTensor>> = {};
  for (const metric of tableMetricsOf(ks)) {
    const values = result.perUser?.[metric];
    if (values !== undefined) tensors[metric] = createTensor(Float64Array.from(values), [values.length]);
  }
  writeSafetensors(join(folder, 'per-user.safetensors'), tensors);
}
