import type { SeedSummary } from '@genrec/report';

/**
 * An aligned plain-text table: the first row is the header, a rule under it; the first column is
 * left-aligned, the others right-aligned.
 *
 * @param rows - header and body rows (every row as long as the header)
 * @param align - per column; default: the first left, the others right
 * @returns the lines joined by `\n`, without a final line break
 * @example
 * ```ts
 * textTable([['system', 'recall@10'], ['sasrec', '0.4012']]);
 * // system  recall@10
 * // ------  ---------
 * // sasrec     0.4012
 * ```
 */
export function textTable(rows: readonly (readonly string[])[], align: readonly ('left' | 'right')[] = []): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => [...(row[column] ?? '')].length)));
  const render = (row: readonly string[]): string =>
    row
      .map((cell, column) => {
        const pad = widths[column]! - [...cell].length;
        return (align[column] ?? (column === 0 ? 'left' : 'right')) === 'left' ? cell + ' '.repeat(pad) : ' '.repeat(pad) + cell;
      })
      .join('  ')
      .trimEnd();
  return [render(rows[0]!), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.slice(1).map(render)].join('\n');
}

/**
 * `0.2800`, `0.2800 ± 0.0031`, with `▲†` / `▼†` for a significant difference.
 *
 * @example
 * ```ts
 * metricCell({ mean: 0.28, std: 0.0031, n: 3 }, 'higher'); // '0.2800 ± 0.0031 ▲†'
 * ```
 */
export function metricCell(summary: SeedSummary | undefined, mark?: 'higher' | 'lower', digits = 4): string {
  if (summary === undefined || !Number.isFinite(summary.mean)) return '-';
  const spread = summary.n > 1 ? ` ± ${summary.std.toFixed(digits)}` : '';
  return `${summary.mean.toFixed(digits)}${spread}${mark === 'higher' ? ' ▲†' : mark === 'lower' ? ' ▼†' : ''}`;
}

/** A row of a metrics table. */
export interface TableSystem {
  name: string;
  baseline: boolean;
  summary: Record<string, SeedSummary>;
  significantInEverySeed: Record<string, 'higher' | 'lower'>;
}

/**
 * The quality table `train`, `evaluate`, `sweep` and `report` print: one row per system, the mean
 * (± sample standard deviation over seeds when there are several) of each metric, significance
 * marks against the baseline, the training time, then the footnotes.
 * @example
 * ```ts
 * console.log(formatQualityTable(metrics.systems, metrics.tableMetrics, { baseline: 'popularity', test: 'paired-t', alpha: 0.05, seeds: 1 }));
 * ```
 */
export function formatQualityTable(systems: readonly TableSystem[], metrics: readonly string[], notes: { baseline: string | null; test: string; alpha: number; seeds: number }): string {
  const timed = systems.some((system) => system.summary['trainingSeconds'] !== undefined);
  const header = ['system', ...metrics, ...(timed ? ['train s'] : [])];
  const rows = systems.map((system) => [
    system.baseline ? `${system.name} (baseline)` : system.name,
    ...metrics.map((metric) => metricCell(system.summary[metric], system.significantInEverySeed[metric])),
    ...(timed ? [system.summary['trainingSeconds'] === undefined ? '-' : system.summary['trainingSeconds'].mean.toFixed(1)] : []),
  ]);
  const lines = [textTable([header, ...rows])];
  if (notes.seeds > 1) lines.push(`mean ± sample standard deviation over ${notes.seeds} seeds`);
  if (notes.baseline !== null) {
    const test = notes.test === 'paired-t' ? 'paired t-test' : notes.test === 'wilcoxon' ? 'Wilcoxon signed-rank test' : 'paired bootstrap';
    lines.push(`▲† / ▼†: significantly higher / lower than ${notes.baseline} (${test}, Holm-corrected, alpha ${notes.alpha}${notes.seeds > 1 ? ', in every seed' : ''})`);
  }
  return lines.join('\n');
}
