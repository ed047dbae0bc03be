import { GenrecError } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { createSequenceDataset } from './sequence-dataset.js';
import { formatSplitSummary } from './split-summary.js';
import { leaveOneOutSplit, summarizeSplit } from './splits.js';

describe('formatSplitSummary', () => {
  it('prints a right-aligned table with thousands separators', () => {
    const text = formatSplitSummary({
      trainUsers: 19412,
      trainInteractions: 128773,
      validationUsers: 19412,
      validationTargets: 19412,
      testUsers: 7,
      testTargets: 1234567,
    });
    expect(text).toBe(
      [
        'part         users  interactions / targets',
        'train       19,412                 128,773',
        'validation  19,412                  19,412',
        'test             7               1,234,567',
      ].join('\n'),
    );
  });

  it('prints the summary of a real split', () => {
    // users with 4, 3 and 2 items: two evaluated, train = 2 + 1 + 2 interactions
    const split = leaveOneOutSplit(createSequenceDataset({ sequences: [[1, 2, 3, 4], [2, 3, 4], [1, 4]] }));
    expect(formatSplitSummary(summarizeSplit(split)).split('\n')).toEqual([
      'part        users  interactions / targets',
      'train           3                       5',
      'validation      2                       2',
      'test            2                       2',
    ]);
  });

  it('rejects counts that are not non-negative integers', () => {
    const summary = { trainUsers: 1, trainInteractions: 1, validationUsers: 1, validationTargets: 1, testUsers: 1, testTargets: Number.NaN };
    expect(() => formatSplitSummary(summary)).toThrow(GenrecError);
    expect(() => formatSplitSummary({ ...summary, testTargets: -1 })).toThrow(/testTargets/);
  });
});
