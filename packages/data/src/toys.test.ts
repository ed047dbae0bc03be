import { sharedPath } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { deduplicateInteractions, kCoreFilter } from './filters.js';
import { catalogCoverage, readItemCatalog } from './item-catalog.js';
import { readSequenceFile } from './sequence-file.js';
import { leaveOneOutSplit, summarizeSplit } from './splits.js';
import { datasetStatistics } from './statistics.js';
import { paddedTrainingSequences } from './training-examples.js';

// Acceptance tests on the real Amazon 2014 Toys 5-core file (shared/data, never in the repository).
const sequencesPath = sharedPath('data', 'amazon2014-toys', 'Toys_and_Games.txt');
const itemsPath = sharedPath('data', 'amazon2014-toys', 'items.jsonl');
if (!sequencesPath || !itemsPath) {
  console.log('skipping the Toys acceptance tests: shared/data/amazon2014-toys (Toys_and_Games.txt, items.jsonl) not found (set GENREC_SHARED_DIR)');
}

describe.skipIf(!sequencesPath || !itemsPath)('Amazon 2014 Toys (shared data)', () => {
  it('reads exactly 19,412 users, 11,924 items and 167,597 interactions, with the published statistics', async () => {
    const toys = await readSequenceFile(sequencesPath!);
    expect(toys.userCount).toBe(19412);
    expect(toys.itemCount).toBe(11924);
    expect(toys.items.length).toBe(167597);
    // ids are contiguous 1..N, so they are kept verbatim
    expect(toys.externalItemIds).toBeUndefined();
    expect(toys.externalUserIds).toBeUndefined();
    expect(toys.userIds[0]).toBe(1);
    expect(Array.from(toys.items.subarray(0, 5))).toEqual([1, 2, 3, 4, 5]);
    const statistics = datasetStatistics(toys);
    // shared/data/amazon2014-toys/SOURCE.md: density 0.000724; length min 5, median 6, mean 8.634, max 550; item frequency 5..309
    expect(statistics.density).toBeCloseTo(0.000724, 6);
    expect(statistics.sequenceLength.min).toBe(5);
    expect(statistics.sequenceLength.median).toBe(6);
    expect(statistics.sequenceLength.mean).toBeCloseTo(8.634, 3);
    expect(statistics.sequenceLength.max).toBe(550);
    expect(statistics.itemFrequency).toEqual({ min: 5, max: 309 });
    expect(statistics.interactedItems).toBe(11924);
  });

  it('joins items.jsonl to every item by item_id', async () => {
    const toys = await readSequenceFile(sequencesPath!);
    const catalog = await readItemCatalog(itemsPath!);
    expect(catalog.itemCount).toBe(11924);
    const coverage = catalogCoverage(toys, catalog);
    expect(coverage.missing.length).toBe(0);
    expect(coverage.withoutInteractions.length).toBe(0);
    expect(coverage.covered).toBe(11924);
    for (let item = 1; item <= 11924; item++) {
      const record = catalog.records[item]!;
      expect(record.id).toBe(item);
      expect(record.title!.length).toBeGreaterThan(0);
      expect(record.categories!.length).toBeGreaterThan(0);
      expect(typeof record.fields.asin).toBe('string');
    }
    expect(catalog.records[2]!.title).toBe('LEGO Star Wars Clone Troopers vs Droidekas 75000');
    expect(catalog.records[2]!.categories).toEqual([['Toys & Games', 'Building Toys', 'Building Sets']]);
    expect(catalog.records[2]!.fields.p5_item_id).toBe(7448);
  });

  it('is already a 5-core without repeats, and splits like the sasrec_ce peer', async () => {
    const toys = await readSequenceFile(sequencesPath!);
    expect(kCoreFilter(toys, { k: 5 }).report.removedInteractions).toBe(0);
    expect(deduplicateInteractions(toys).report.removedInteractions).toBe(0);
    const split = leaveOneOutSplit(toys, { maxHistoryLength: 50 });
    expect(summarizeSplit(split)).toEqual({
      trainUsers: 19412,
      trainInteractions: 167597 - 2 * 19412,
      validationUsers: 19412,
      validationTargets: 19412,
      testUsers: 19412,
      testTargets: 19412,
    });
    // shared/peers/README.md section 1: 19,412 training rows, 106,592 loss positions at L = 50
    const rows = paddedTrainingSequences(split.train, { maxLength: 50 });
    expect(rows.rowCount).toBe(19412);
    expect(rows.targetCount).toBe(106592);
    // user 1 = "1 1 2 3 4 5": train part [1, 2, 3]
    expect(Array.from(rows.inputs.subarray(47, 50))).toEqual([0, 1, 2]);
    expect(Array.from(rows.targets.subarray(47, 50))).toEqual([0, 2, 3]);
  });
});
