import { GenrecError } from '@genrec/core';
import type { EvaluationResult } from './evaluation-result.js';
import { CUTOFF_METRICS } from './protocol.js';
import { holmAdjust, pairedBootstrap, pairedTTest, wilcoxonSignedRank, type PairedTestResult } from './significance.js';

const METRIC_LABELS: Record<string, string> = {
  hitrate: 'HitRate',
  recall: 'Recall',
  precision: 'Precision',
  ndcg: 'NDCG',
  mrr: 'MRR',
  map: 'MAP',
  coverage: 'Coverage',
  gini: 'Gini',
  entropy: 'Entropy (bits)',
  popularity: 'Avg popularity',
  tail: 'Tail share',
  novelty: 'Novelty (bits)',
  ild: 'Intra-list diversity',
};

const format = (value: number, digits: number): string => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

/**
 * A one-line summary of the protocol, to print under every table.
 *
 * @param result - an evaluation result
 * @returns the summary (source, users, items, history masking or exclusion, ties, gain, MAP denominator…)
 * @example
 * ```ts
 * describeProtocol(result); // 'source recommender; 3 users evaluated (0 …); 100 items; lists from recommend, history excluded by the model; …'
 * ```
 */
export function describeProtocol(result: EvaluationResult): string {
  const p = result.protocol;
  const parts = [
    `source ${p.source}`,
    `${result.evaluatedUserCount} users evaluated (${result.skippedUserCount} without relevant items ${p.usersWithoutRelevant === 'skip' ? 'skipped' : 'counted as 0'})`,
    `${p.itemCount} items`,
    p.source === 'recommender' ? `lists from recommend, history ${p.maskHistory ? 'excluded by the model' : 'not excluded'}` : `history ${p.maskHistory ? 'masked' : 'not masked'}`,
    `ties ${p.tiePolicy}`,
    `NDCG gain ${p.gain}`,
    `MAP / min(|rel|, K)`.replace('min(|rel|, K)', p.apDenominator === 'relevant' ? '|rel|' : 'min(|rel|, K)'),
  ];
  if (p.source !== 'score-matrix') parts.push(`dedupe ${p.dedupe ? 'on' : 'off'}`, `invalid ids: ${p.invalidIds}`, `lists read: ${p.listDepth}`);
  return parts.join('; ');
}

/** Options of {@link formatResultTable}. */
export interface TableOptions {
  /**
   * Decimal digits.
   * @defaultValue 4
   */
  digits?: number;
}

/**
 * Renders a result as Markdown: one row per metric, one column per K, then the uncut metrics,
 * beyond-accuracy, decoding diagnostics and exposure, and the protocol line.
 *
 * @param result - an evaluation result
 * @param options - formatting
 * @returns Markdown text
 * @example
 * ```ts
 * console.log(formatResultTable(result));
 * ```
 */
export function formatResultTable(result: EvaluationResult, options: TableOptions = {}): string {
  const digits = options.digits ?? 4;
  const ks = result.protocol.ks;
  const lines: string[] = [];
  if (result.system !== null) lines.push(`**${result.system}**`, '');
  lines.push(`| metric | ${ks.map((k) => `@${k}`).join(' | ')} |`, `|---|${ks.map(() => '---:').join('|')}|`);
  const rows = (names: readonly string[], record: Record<string, number>): void => {
    for (const name of names) {
      if (!(`${name}@${ks[0]}` in record)) continue;
      lines.push(`| ${METRIC_LABELS[name] ?? name} | ${ks.map((k) => format(record[`${name}@${k}`]!, digits)).join(' | ')} |`);
    }
  };
  rows(CUTOFF_METRICS, result.metrics);
  if (result.beyondAccuracy !== null) rows(['coverage', 'gini', 'entropy', 'popularity', 'tail', 'novelty', 'ild'], result.beyondAccuracy);
  lines.push('');
  const extras: string[] = [`MRR (uncut) ${format(result.metrics['mrr@full']!, digits)}`];
  if ('auc' in result.metrics) extras.push(`AUC ${format(result.metrics['auc']!, digits)}`);
  lines.push(extras.join(' · '));
  if (result.decoding !== null) {
    const d = result.decoding;
    lines.push(
      `Decoding: invalid ids ${format(d.invalidRate, digits)}, duplicates ${format(d.duplicateRate, digits)}, lists shorter than K as generated ${ks
        .map((k) => `@${k} ${format(d.shortListRate[`@${k}`]!, digits)}`)
        .join(', ')}; after filtering ${ks.map((k) => `@${k} ${format(d.shortAfterFilteringRate[`@${k}`]!, digits)}`).join(', ')}`,
    );
  }
  if (result.exposure !== null) {
    const e = result.exposure;
    lines.push(
      `Expected exposure (gamma ${e.protocol.gamma}, depth ${e.protocol.depth}, ${e.protocol.samplesPerUser} ranking(s) per user): EE-L ${format(e.eeL, digits)}, EE-D ${format(e.eeD, digits)}, EE-R ${format(e.eeR, digits)}, Gini of item exposure ${format(e.itemExposureGini, digits)} (target ${format(e.itemTargetExposureGini, digits)})`,
    );
  }
  lines.push('', `_Protocol: ${describeProtocol(result)}._`);
  return lines.join('\n');
}

/** Which paired test marks significance in a comparison. */
export type ComparisonTest = 'paired-t' | 'wilcoxon' | 'bootstrap';

/** Options of {@link compareResults}. */
export interface ComparisonOptions {
  /**
   * Index of the baseline among the results.
   * @defaultValue 0
   */
  baseline?: number;
  /**
   * Metric keys to compare (each must have per-user values in every result).
   * @defaultValue every accuracy key `name@K` plus `mrr@full` (and `auc` when present)
   */
  metrics?: readonly string[];
  /**
   * The paired test.
   * @defaultValue 'paired-t'
   */
  test?: ComparisonTest;
  /**
   * Significance level after correction.
   * @defaultValue 0.05
   */
  alpha?: number;
  /**
   * Multiple-comparison correction over all (system, metric) pairs.
   * @defaultValue 'holm'
   */
  correction?: 'holm' | 'none';
  /**
   * Seed (bootstrap).
   * @defaultValue 0
   */
  seed?: number;
  /**
   * Bootstrap resamples.
   * @defaultValue 10000
   */
  resamples?: number;
}

/** One cell of a comparison: a system's mean of a metric and its test against the baseline. */
export interface ComparisonCell {
  /** Mean of the metric. */
  mean: number;
  /** The test against the baseline (null for the baseline itself). */
  test: PairedTestResult | null;
  /** p-value after the correction. */
  adjustedPValue: number | null;
  /** adjustedPValue < alpha. */
  significant: boolean;
}

/** Several systems compared on the same users under the same protocol. */
export interface Comparison {
  /** Names of the systems (result.system or `system i`). */
  systems: string[];
  /** Index of the baseline. */
  baseline: number;
  /** Compared metric keys. */
  metrics: string[];
  /** cells[system][metric]. */
  cells: ComparisonCell[][];
  /** Test, alpha, correction and the common protocol. */
  settings: { test: ComparisonTest; alpha: number; correction: 'holm' | 'none'; protocol: EvaluationResult['protocol'] };
}

/**
 * Compares systems evaluated on the same users under the same protocol with paired tests against a
 * baseline, correcting the p-values of all (system, metric) pairs with Holm's method.
 *
 * @param results - results with per-user values, same users, same protocol
 * @param options - baseline, metrics, test, alpha, correction
 * @returns the comparison (render with {@link formatComparisonTable})
 * @throws GenrecError `INVALID_INPUT` when protocols differ, per-user values are missing or user counts differ
 * @example
 * ```ts
 * console.log(formatComparisonTable(compareResults([sasrec, tiger], { test: 'wilcoxon' })));
 * ```
 */
export function compareResults(results: readonly EvaluationResult[], options: ComparisonOptions = {}): Comparison {
  if (results.length < 2) throw new GenrecError('INVALID_INPUT', `a comparison needs at least two results, got ${results.length}`);
  const baseline = options.baseline ?? 0;
  if (!Number.isInteger(baseline) || baseline < 0 || baseline >= results.length) {
    throw new GenrecError('INVALID_OPTION', `baseline must be an index into the ${results.length} results, got ${baseline}`, { details: { field: 'baseline' } });
  }
  const test = options.test ?? 'paired-t';
  const alpha = options.alpha ?? 0.05;
  const correction = options.correction ?? 'holm';
  const reference = results[baseline]!;
  const referenceProtocol = JSON.stringify(reference.protocol);
  results.forEach((result, i) => {
    if (JSON.stringify(result.protocol) !== referenceProtocol) {
      const differing = Object.keys(result.protocol).filter(
        (key) => JSON.stringify((result.protocol as unknown as Record<string, unknown>)[key]) !== JSON.stringify((reference.protocol as unknown as Record<string, unknown>)[key]),
      );
      throw new GenrecError('INVALID_INPUT', `result ${i} was computed under another protocol than the baseline (differs in: ${differing.join(', ')})`, {
        details: { field: 'results', index: i },
      });
    }
    if (result.perUser === null) throw new GenrecError('INVALID_INPUT', `result ${i} has no per-user values (evaluate with keepPerUser: true)`, { details: { index: i } });
    if (result.userCount !== reference.userCount) {
      throw new GenrecError('SHAPE_MISMATCH', `result ${i} covers ${result.userCount} users, the baseline ${reference.userCount}`, { details: { index: i } });
    }
  });
  const metrics = options.metrics
    ? [...options.metrics]
    : [...reference.protocol.ks.flatMap((k) => CUTOFF_METRICS.map((m) => `${m}@${k}`)), 'mrr@full', ...('auc' in reference.metrics ? ['auc'] : [])];
  for (const key of metrics) {
    results.forEach((result, i) => {
      if (result.perUser![key] === undefined) throw new GenrecError('INVALID_INPUT', `result ${i} has no per-user values for ${key}`, { details: { field: 'metrics', index: i } });
    });
  }
  const cells: ComparisonCell[][] = results.map((result, i) =>
    metrics.map((key) => {
      const values = result.perUser![key]!;
      const meanValue = key in result.metrics ? result.metrics[key]! : result.beyondAccuracy?.[key] ?? Number.NaN;
      if (i === baseline) return { mean: meanValue, test: null, adjustedPValue: null, significant: false };
      const other = reference.perUser![key]!;
      const outcome =
        test === 'paired-t'
          ? pairedTTest(values, other)
          : test === 'wilcoxon'
            ? wilcoxonSignedRank(values, other)
            : pairedBootstrap(values, other, { seed: options.seed ?? 0, resamples: options.resamples ?? 10_000 });
      return { mean: meanValue, test: outcome, adjustedPValue: null, significant: false };
    }),
  );
  const flat = cells.flatMap((row) => row.filter((cell) => cell.test !== null));
  const raw = flat.map((cell) => cell.test!.pValue);
  const adjusted = correction === 'holm' ? holmAdjust(raw) : raw;
  flat.forEach((cell, i) => {
    cell.adjustedPValue = adjusted[i]!;
    cell.significant = adjusted[i]! < alpha;
  });
  return {
    systems: results.map((result, i) => result.system ?? `system ${i}`),
    baseline,
    metrics,
    cells,
    settings: { test, alpha, correction, protocol: reference.protocol },
  };
}

/**
 * Renders a comparison as Markdown: systems as rows, metrics as columns, a dagger on means that
 * differ significantly from the baseline (after the correction), with the direction arrow.
 *
 * @param comparison - from {@link compareResults}
 * @param options - formatting
 * @returns Markdown text
 */
export function formatComparisonTable(comparison: Comparison, options: TableOptions = {}): string {
  const digits = options.digits ?? 4;
  const lines = [`| system | ${comparison.metrics.join(' | ')} |`, `|---|${comparison.metrics.map(() => '---:').join('|')}|`];
  comparison.cells.forEach((row, i) => {
    const name = i === comparison.baseline ? `${comparison.systems[i]} (baseline)` : comparison.systems[i];
    const cells = row.map((cell) => {
      let text = format(cell.mean, digits);
      if (cell.significant) text += cell.test!.meanDifference > 0 ? ' ▲†' : ' ▼†';
      return text;
    });
    lines.push(`| ${name} | ${cells.join(' | ')} |`);
  });
  const { test, alpha, correction } = comparison.settings;
  const testName = test === 'paired-t' ? 'paired t-test' : test === 'wilcoxon' ? 'Wilcoxon signed-rank test' : 'paired bootstrap';
  lines.push('', `† significantly different from the baseline (${testName}, ${correction === 'holm' ? 'Holm-corrected over all cells' : 'uncorrected'}, alpha ${alpha}); ▲/▼ higher/lower.`);
  return lines.join('\n');
}
