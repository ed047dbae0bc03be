import { describe, expect, it } from 'vitest';
import { catalogCoverage, readItemCatalog, remapCatalog } from './item-catalog.js';
import { createSequenceDataset } from './sequence-dataset.js';
import { expectError, fixtureDirectory } from './test-helpers.js';

const files = fixtureDirectory('genrec-data-items-');
const fixture = (name: string, lines: string[]): string => files.fixture(name, lines.join('\n') + '\n');

describe('readItemCatalog', () => {
  it('reads ids verbatim, titles, category paths and keeps the other fields', async () => {
    const path = fixture('items.jsonl', [
      '{"item_id": 2, "title": "Puzzle", "categories": [["Toys", "Puzzles"], ["Games"]], "asin": "B2", "attribute_ids": [1, 2]}',
      '{"item_id": 1, "title": "Ball", "categories": ["Toys", "Balls"]}',
      '{"item_id": 4, "categories": "Misc"}',
    ]);
    const catalog = await readItemCatalog(path);
    expect(catalog.itemCount).toBe(4);
    expect(catalog.skippedRecords).toBe(0);
    expect(catalog.records[0]).toBeUndefined();
    expect(catalog.records[3]).toBeUndefined();
    expect(catalog.records[2]).toEqual({ id: 2, title: 'Puzzle', categories: [['Toys', 'Puzzles'], ['Games']], fields: { asin: 'B2', attribute_ids: [1, 2] } });
    expect(catalog.records[1]).toEqual({ id: 1, title: 'Ball', categories: [['Toys', 'Balls']], fields: {} });
    expect(catalog.records[4]).toEqual({ id: 4, categories: [['Misc']], fields: {} });
  });

  it('looks string ids up in a dataset and skips unknown ones', async () => {
    const path = fixture('asins.jsonl', ['{"asin": "B9", "name": "nine"}', '{"asin": "B7", "name": "seven"}', '{"asin": "B8", "name": "eight"}']);
    const catalog = await readItemCatalog(path, { idField: 'asin', titleField: 'name', externalItemIds: ['', 'B7', 'B9'] });
    expect(catalog.itemCount).toBe(2);
    expect(catalog.skippedRecords).toBe(1);
    expect(catalog.records[1]?.title).toBe('seven');
    expect(catalog.records[2]?.title).toBe('nine');
    await expectError(readItemCatalog(path, { idField: 'asin', externalItemIds: ['', 'B7', 'B9'], unknownIds: 'error' }), 'UNKNOWN_ID', path, 3);
  });

  it('rejects a truncated line, a non-object, a missing id, a bad title or categories, a duplicate', async () => {
    const truncated = fixture('truncated.jsonl', ['{"item_id": 1, "title": "a"}', '{"item_id": 2, "title": "b', '{"item_id": 3}']);
    expect((await expectError(readItemCatalog(truncated), 'PARSE_ERROR', truncated, 2)).message).toMatch(/truncated/);
    const array = fixture('array.jsonl', ['{"item_id": 1}', '[1, 2]']);
    await expectError(readItemCatalog(array), 'PARSE_ERROR', array, 2);
    const noId = fixture('no-id.jsonl', ['{"title": "x"}']);
    expect((await expectError(readItemCatalog(noId), 'PARSE_ERROR', noId, 1)).details.field).toBe('item_id');
    const zero = fixture('zero.jsonl', ['{"item_id": 0}']);
    await expectError(readItemCatalog(zero), 'PARSE_ERROR', zero, 1);
    const title = fixture('title.jsonl', ['{"item_id": 1, "title": 5}']);
    expect((await expectError(readItemCatalog(title), 'PARSE_ERROR', title, 1)).details.field).toBe('title');
    const categories = fixture('categories.jsonl', ['{"item_id": 1, "categories": [["a"], [2]]}']);
    expect((await expectError(readItemCatalog(categories), 'PARSE_ERROR', categories, 1)).details.field).toBe('categories');
    const duplicate = fixture('duplicate.jsonl', ['{"item_id": 1}', '{"item_id": 2}', '{"item_id": 1}']);
    expect((await expectError(readItemCatalog(duplicate), 'DUPLICATE_ID', duplicate, 3)).message).toMatch(/line 1/);
    const blank = fixture('blank.jsonl', ['{"item_id": 1}', '', '{"item_id": 2}']);
    await expectError(readItemCatalog(blank), 'PARSE_ERROR', blank, 2);
    const empty = files.fixture('empty.jsonl', '');
    await expectError(readItemCatalog(empty), 'PARSE_ERROR', empty, 1);
  });

  it('reports coverage against a dataset and remaps after compaction', async () => {
    const path = fixture('cover.jsonl', ['{"item_id": 1, "title": "a"}', '{"item_id": 3, "title": "c"}', '{"item_id": 4, "title": "d"}']);
    const catalog = await readItemCatalog(path);
    const dataset = createSequenceDataset({ sequences: [[1, 2], [2, 3]], itemCount: 4 });
    const coverage = catalogCoverage(dataset, catalog);
    expect(Array.from(coverage.missing)).toEqual([2]);
    expect(Array.from(coverage.withoutInteractions)).toEqual([4]);
    expect(coverage.covered).toBe(2);
    const remapped = remapCatalog(catalog, Int32Array.from([0, 1, 0, 2, 0]));
    expect(remapped.itemCount).toBe(2);
    expect(remapped.records.map((record) => record?.title)).toEqual([undefined, 'a', 'c']);
    expect(remapped.records[2]?.id).toBe(2);
  });
});
