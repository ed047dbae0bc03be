import { GenrecError, type Matrix } from '@genrec/core';
import { tupleKey } from './collision-level.js';
import { relativeResidual } from './residual-quantizer.js';
import type { SemanticIds } from './semantic-ids.js';

/** Health of a semantic-id table (see {@link semanticIdHealth}). */
export interface SemanticIdHealth {
  /** Items in the table. */
  itemCount: number;
  /** Quantiser levels (without the collision level). */
  quantizerLevels: number;
  /** Size of every level, collision level last when present. */
  codebookSizes: number[];
  /** `sum ||x - x̂||² / sum ||x||²`. */
  relativeQuantizationError: number;
  /** `sum ||x - x̂||² / items`. */
  meanSquaredError: number;
  /** Distinct codes used / codebook size, per quantiser level. */
  utilisationPerLevel: number[];
  /** `exp(entropy)` of each quantiser level's code distribution (at most the codebook size; higher is more even). */
  perplexityPerLevel: number[];
  /** Distinct tuples of the quantiser levels. */
  distinctPrefixes: number;
  /** Fraction of items whose quantiser-level tuple is also another item's (before the collision token). */
  collisionRateBefore: number;
  /** Fraction of items whose full id (with the collision token) is also another item's (0 for a valid table). */
  collisionRateAfter: number;
  /** Most items sharing one quantiser-level tuple. */
  largestCollisionGroup: number;
  /** Size of the collision level (0 without one). */
  collisionLevelSize: number;
}

/**
 * Measures quantisation error, per-level utilisation and perplexity, and collisions before and
 * after the collision token.
 *
 * @param vectors - the items' vectors, row `r` for `ids.table.itemIds[r]`.
 * @throws GenrecError `SHAPE_MISMATCH` when `vectors` does not match the table.
 * @example
 * ```ts
 * const report = semanticIdHealth(ids, embeddings);
 * report.collisionRateBefore; // e.g. 0.45 on Toys titles
 * ```
 */
export function semanticIdHealth(ids: SemanticIds, vectors: Matrix): SemanticIdHealth {
  const { table, quantizer } = ids;
  if (vectors.rows !== table.itemCount || vectors.cols !== quantizer.dimension) {
    throw new GenrecError('SHAPE_MISMATCH', `health needs ${table.itemCount} x ${quantizer.dimension} vectors, got ${vectors.rows} x ${vectors.cols}`);
  }
  const levels = table.levels;
  const prefix = quantizer.levels;
  const reconstruction = quantizer.decode(table.codes, levels);
  const residual = reconstruction;
  let squaredError = 0;
  for (let i = 0; i < residual.data.length; i++) {
    const delta = vectors.data[i]! - residual.data[i]!;
    residual.data[i] = delta;
    squaredError += delta * delta;
  }
  const utilisationPerLevel: number[] = [];
  const perplexityPerLevel: number[] = [];
  for (let level = 0; level < prefix; level++) {
    const size = quantizer.codebookSizes[level]!;
    const counts = new Float64Array(size);
    for (let row = 0; row < table.itemCount; row++) { const code = table.codes[row * levels + level]!; counts[code] = counts[code]! + 1; }
    let used = 0;
    let entropy = 0;
    for (const count of counts) {
      if (count === 0) continue;
      used++;
      const p = count / table.itemCount;
      entropy -= p * Math.log(p);
    }
    utilisationPerLevel.push(used / size);
    perplexityPerLevel.push(Math.exp(entropy));
  }
  const prefixGroups = groupSizes(table.codes, levels, prefix, table.itemCount);
  const fullGroups = groupSizes(table.codes, levels, levels, table.itemCount);
  return {
    itemCount: table.itemCount,
    quantizerLevels: prefix,
    codebookSizes: [...table.codebookSizes],
    relativeQuantizationError: relativeResidual(residual, vectors),
    meanSquaredError: squaredError / Math.max(1, table.itemCount),
    utilisationPerLevel,
    perplexityPerLevel,
    distinctPrefixes: prefixGroups.distinct,
    collisionRateBefore: prefixGroups.colliding / Math.max(1, table.itemCount),
    collisionRateAfter: fullGroups.colliding / Math.max(1, table.itemCount),
    largestCollisionGroup: prefixGroups.largest,
    collisionLevelSize: table.hasCollisionLevel ? table.codebookSizes[levels - 1]! : 0,
  };
}

function groupSizes(codes: Int32Array, stride: number, length: number, rows: number): { distinct: number; colliding: number; largest: number } {
  const sizes = new Map<string, number>();
  for (let row = 0; row < rows; row++) {
    const key = tupleKey(codes, row * stride, length);
    sizes.set(key, (sizes.get(key) ?? 0) + 1);
  }
  let colliding = 0;
  let largest = 0;
  for (const size of sizes.values()) {
    if (size > 1) colliding += size;
    largest = Math.max(largest, size);
  }
  return { distinct: sizes.size, colliding, largest };
}

/** Options of {@link formatHealthReport}. */
export interface HealthReportFormat {
  /** First line of the text. @defaultValue 'semantic-id health' */
  title?: string;
}

/**
 * The health report as a plain-text table (what a command line prints): one block of the overall
 * numbers, then one row per level with its codebook size, utilisation and perplexity (the
 * collision level last, without them). Fixed column widths, no colours, a trailing newline.
 *
 * @param report - what {@link semanticIdHealth} returned
 * @returns the table, lines separated by `\n`
 * @throws GenrecError `INVALID_INPUT` when `report` is not a health report (a field missing or of another type)
 * @example
 * ```ts
 * process.stdout.write(formatHealthReport(semanticIdHealth(ids, vectors)));
 * // semantic-id health: 11924 items, 3 quantiser levels + collision level
 * // relative quantisation error   0.4012
 * // ...
 * ```
 */
export function formatHealthReport(report: SemanticIdHealth, options: HealthReportFormat = {}): string {
  checkReport(report);
  const percent = (value: number): string => `${(100 * value).toFixed(1)}%`;
  const hasCollisionLevel = report.codebookSizes.length > report.quantizerLevels;
  const lines: string[] = [];
  const levels = `${report.quantizerLevels} quantiser level${report.quantizerLevels === 1 ? '' : 's'}${hasCollisionLevel ? ' + collision level' : ''}`;
  lines.push(`${options.title ?? 'semantic-id health'}: ${report.itemCount} items, ${levels}`);
  const rows: Array<[string, string]> = [
    ['relative quantisation error', report.relativeQuantizationError.toFixed(4)],
    ['mean squared error', report.meanSquaredError.toPrecision(4)],
    ['distinct prefixes', `${report.distinctPrefixes} of ${report.itemCount}`],
    ['items colliding before token', percent(report.collisionRateBefore)],
    ['items colliding after token', percent(report.collisionRateAfter)],
    ['largest collision group', String(report.largestCollisionGroup)],
  ];
  const width = Math.max(...rows.map(([name]) => name.length)) + 2;
  for (const [name, value] of rows) lines.push(`${name.padEnd(width)}${value}`);
  lines.push('');
  const table: string[][] = [['level', 'codes', 'utilisation', 'perplexity']];
  for (let level = 0; level < report.quantizerLevels; level++) {
    table.push([String(level + 1), String(report.codebookSizes[level]), percent(report.utilisationPerLevel[level]!), report.perplexityPerLevel[level]!.toFixed(1)]);
  }
  if (hasCollisionLevel) table.push(['collision', String(report.collisionLevelSize), '-', '-']);
  const widths = table[0]!.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
  for (const row of table) lines.push(row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ').trimEnd());
  return lines.join('\n') + '\n';
}

function checkReport(report: SemanticIdHealth): void {
  const numbers = ['itemCount', 'quantizerLevels', 'relativeQuantizationError', 'meanSquaredError', 'distinctPrefixes', 'collisionRateBefore', 'collisionRateAfter', 'largestCollisionGroup', 'collisionLevelSize'] as const;
  const bad =
    typeof report !== 'object' ||
    report === null ||
    numbers.some((field) => typeof report[field] !== 'number') ||
    !Array.isArray(report.codebookSizes) ||
    !Array.isArray(report.utilisationPerLevel) ||
    !Array.isArray(report.perplexityPerLevel) ||
    report.utilisationPerLevel.length < report.quantizerLevels ||
    report.perplexityPerLevel.length < report.quantizerLevels ||
    report.codebookSizes.length < report.quantizerLevels;
  if (bad) throw new GenrecError('INVALID_INPUT', 'formatHealthReport needs the object semanticIdHealth returns', { details: { field: 'report' } });
}
