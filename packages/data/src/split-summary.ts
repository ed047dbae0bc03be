import { GenrecError } from '@genrec/core';
import type { SplitSummary } from './splits.js';

const SUMMARY_FIELDS = ['trainUsers', 'trainInteractions', 'validationUsers', 'validationTargets', 'testUsers', 'testTargets'] as const;

/**
 * Formats a split summary (from {@link summarizeSplit}) as a small text table: one row per part
 * (train, validation, test) with its users and its interactions (train) or targets (validation,
 * test), numbers right-aligned with thousands separators, columns separated by two spaces, no
 * trailing newline. What the demo and command-line tools print.
 *
 * @param summary - the counts of a split.
 * @returns the table, 4 lines.
 * @throws GenrecError `INVALID_INPUT` when a count is not a non-negative integer.
 * @example
 * ```ts
 * console.log(formatSplitSummary(summarizeSplit(leaveOneOutSplit(dataset))));
 * // part        users  interactions / targets
 * // train       5,000                  49,439
 * // validation  5,000                   5,000
 * // test        5,000                   5,000
 * ```
 */
export function formatSplitSummary(summary: SplitSummary): string {
  for (const field of SUMMARY_FIELDS) {
    const value = summary[field];
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new GenrecError('INVALID_INPUT', `summary.${field} must be a non-negative integer, got ${String(value)}`, { details: { field } });
    }
  }
  const format = (value: number): string => value.toLocaleString('en-US');
  const table: [string, string, string][] = [
    ['part', 'users', 'interactions / targets'],
    ['train', format(summary.trainUsers), format(summary.trainInteractions)],
    ['validation', format(summary.validationUsers), format(summary.validationTargets)],
    ['test', format(summary.testUsers), format(summary.testTargets)],
  ];
  const widths = [0, 1, 2].map((column) => Math.max(...table.map((row) => row[column]!.length)));
  return table
    .map(([part, users, counts], index) =>
      index === 0
        ? `${part.padEnd(widths[0]!)}  ${users.padStart(widths[1]!)}  ${counts}`
        : `${part.padEnd(widths[0]!)}  ${users.padStart(widths[1]!)}  ${counts.padStart(widths[2]!)}`,
    )
    .join('\n');
}
