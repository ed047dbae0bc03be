import { GenrecError, type ProgressEvent } from '@genrec/core';
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

describe('readItemCatalog hardening', () => {
  const code = async (promise: Promise<unknown>): Promise<unknown> =>
    promise.then(
      () => 'resolved',
      (error: unknown) => (GenrecError.isInstance(error) ? `${error.code} ${error.details.field}` : error),
    );

  it('checks verbatim ids against itemCount or maxItemId at their line, before sizing anything', async () => {
    const path = fixture('range.jsonl', ['{"item_id": 3}', '{"item_id": 11}', '{"item_id": 2}']);
    const over = await expectError(readItemCatalog(path, { itemCount: 10 }), 'INVALID_INPUT', path, 2);
    expect(over.message).toMatch(/item id 11 is above itemCount \(10\)/);
    const bound = await expectError(readItemCatalog(path, { maxItemId: 10 }), 'INVALID_INPUT', path, 2);
    expect(bound.message).toMatch(/above maxItemId \(10\); give itemCount or raise maxItemId/);
    const catalog = await readItemCatalog(path, { maxItemId: 11 });
    expect(catalog.itemCount).toBe(11);
    expect(catalog.records.length).toBe(12);
    expect(catalog.records.flatMap((record, id) => (record ? [id] : []))).toEqual([2, 3, 11]);
    expect((await readItemCatalog(path, { itemCount: 20 })).records.length).toBe(21);
  });

  it('keeps a "__proto__" key as an ordinary field', async () => {
    const path = fixture('proto.jsonl', ['{"item_id": 1, "__proto__": {"polluted": true}, "x": 1}']);
    const record = (await readItemCatalog(path)).records[1]!;
    expect(Object.getPrototypeOf(record.fields)).toBe(Object.prototype);
    expect(Object.keys(record.fields)).toEqual(['__proto__', 'x']);
    expect((record.fields as Record<string, unknown>).polluted).toBeUndefined();
    expect(JSON.stringify(record.fields)).toBe('{"__proto__":{"polluted":true},"x":1}');
  });

  it('rejects unknown options and invalid option values with INVALID_OPTION', async () => {
    const path = fixture('options.jsonl', ['{"item_id": 1}']);
    expect(await code(readItemCatalog(path, { unknownIds: 'ignore' as never }))).toBe('INVALID_OPTION unknownIds');
    expect(await code(readItemCatalog(path, { itemCount: 2 ** 27 }))).toBe('INVALID_OPTION itemCount');
    expect(await code(readItemCatalog(path, { itemCount: 1.5 }))).toBe('INVALID_OPTION itemCount');
    expect(await code(readItemCatalog(path, { maxItemId: 0 }))).toBe('INVALID_OPTION maxItemId');
    expect(await code(readItemCatalog(path, { idfield: 'id' } as never))).toBe('INVALID_OPTION idfield');
    expect(await code(readItemCatalog(path, { idField: '' }))).toBe('INVALID_OPTION idField');
    expect(await code(readItemCatalog(path, { externalItemIds: 'abc' as never }))).toBe('INVALID_OPTION externalItemIds');
  });

  it('rejects a line longer than maxLineLength and reports read-items progress', async () => {
    const path = fixture('long.jsonl', ['{"item_id": 1}', `{"item_id": 2, "title": "${'t'.repeat(100)}"}`]);
    expect((await expectError(readItemCatalog(path, { maxLineLength: 64 }), 'PARSE_ERROR', path, 2)).message).toMatch(/line too long/);
    const events: ProgressEvent[] = [];
    await readItemCatalog(path, { onProgress: (event) => void events.push(event) });
    expect(events.map((event) => `${event.type} ${(event as { task: string }).task}`)).toEqual(['task-start read-items', 'task-end read-items']);
  });
});
