import { gzipSync } from 'node:zlib';
import { GenrecError } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { attributeCatalog, attributeCountMatrix } from './attribute-features.js';
import { AttributeJsonParser } from './attribute-json.js';
import { attributesOf, readItemAttributes, type ItemAttributes } from './item-attributes.js';
import { expectError, fixtureDirectory } from './test-helpers.js';

const { fixture } = fixtureDirectory('genrec-attributes-');

const TSV = 'item_id\tasin\tattribute_ids\n1\tA1\t5 2 7\n3\tA3\t\n2\tA2\t2 2 9\n';
const JSON_TEXT = '{"1": [5, 2, 7], "3": [],\n "2": [2, 2, 9]}\n';

function lists(attributes: ItemAttributes): number[][] {
  return Array.from({ length: attributes.itemCount }, (_, i) => Array.from(attributesOf(attributes, i + 1)));
}

describe('readItemAttributes', () => {
  it('reads a TSV file into rows indexed by item id, keeping file order, repeats and external ids', async () => {
    const attributes = await readItemAttributes(fixture('small.tsv', TSV));
    expect(attributes.itemCount).toBe(3);
    expect(attributes.attributeCount).toBe(9);
    expect(Array.from(attributes.offsets)).toEqual([0, 0, 3, 6, 6]);
    expect(Array.from(attributes.values)).toEqual([5, 2, 7, 2, 2, 9]);
    expect(attributes.externalIds).toEqual(['', 'A1', 'A2', 'A3']);
    expect(attributes.unlistedItems).toBe(0);
    expect(attributes.itemsWithRepeatedAttributes).toBe(1);
    expect(lists(attributes)).toEqual([[5, 2, 7], [2, 2, 9], []]);
  });

  it('reads the JSON form (whitespace, line breaks, gzip) to the same result', async () => {
    const fromTsv = await readItemAttributes(fixture('same.tsv', TSV));
    const fromJson = await readItemAttributes(fixture('small.json', JSON_TEXT));
    expect(fromJson.offsets).toEqual(fromTsv.offsets);
    expect(fromJson.values).toEqual(fromTsv.values);
    expect(fromJson.attributeCount).toBe(9);
    expect(fromJson.externalIds).toBeUndefined();
    const gzipped = await readItemAttributes(fixture('small.json.gz', gzipSync(JSON_TEXT)));
    expect(gzipped.values).toEqual(fromTsv.values);
    const spaced = await readItemAttributes(fixture('spaced.json', '\ufeff \r\n{ "2" :[ 2 ,2,9 ] ,\t"1":[5,2,7],"3":[ ] }\n\n'));
    expect(spaced.values).toEqual(fromTsv.values);
  });

  it('honours itemCount, attributeCount and repeatedAttributes', async () => {
    const path = fixture('options.tsv', TSV);
    const wide = await readItemAttributes(path, { itemCount: 5, attributeCount: 12 });
    expect(wide.itemCount).toBe(5);
    expect(wide.attributeCount).toBe(12);
    expect(Array.from(wide.offsets)).toEqual([0, 0, 3, 6, 6, 6, 6]);
    expect(wide.unlistedItems).toBe(2);
    expect(attributesOf(wide, 5).length).toBe(0);
    const unique = await readItemAttributes(path, { repeatedAttributes: 'remove' });
    expect(lists(unique)).toEqual([[5, 2, 7], [2, 9], []]);
    expect(unique.itemsWithRepeatedAttributes).toBe(1);
    await expectError(readItemAttributes(path, { itemCount: 2 }), 'INVALID_INPUT', path, 3);
    await expectError(readItemAttributes(path, { attributeCount: 8 }), 'INVALID_INPUT', path, 4);
    await expectError(readItemAttributes(path, { maxAttributeId: 6 }), 'INVALID_INPUT', path, 2);
  });

  it('names file and line for malformed JSON', async () => {
    const cases: [string, string, string, number][] = [
      ['fraction.json', '{"1": [1, 2.5]}', 'PARSE_ERROR', 1],
      ['exponent.json', '{"1": [1e3]}', 'PARSE_ERROR', 1],
      ['negative.json', '{"1": [-1]}', 'PARSE_ERROR', 1],
      ['string-value.json', '{"1": ["1"]}', 'PARSE_ERROR', 1],
      ['zero-attribute.json', '{"1": [0]}', 'PARSE_ERROR', 1],
      ['leading-zero.json', '{"01": [1]}', 'PARSE_ERROR', 1],
      ['zero-item.json', '{"0": [1]}', 'PARSE_ERROR', 1],
      ['escaped-key.json', '{"\\u0031": [1]}', 'PARSE_ERROR', 1],
      ['word-key.json', '{\n"1": [1],\n"x": [2]\n}', 'PARSE_ERROR', 3],
      ['truncated.json', '{"1": [1],\n"2": [1, 2', 'PARSE_ERROR', 2],
      ['array.json', '[1, 2]', 'PARSE_ERROR', 1],
      ['trailing.json', '{"1": [1]}\n{"2": [2]}', 'PARSE_ERROR', 2],
      ['nested.json', '{"1": [[1]]}', 'PARSE_ERROR', 1],
      ['empty-object.json', '{ }', 'PARSE_ERROR', 1],
      ['empty.json', '\n', 'PARSE_ERROR', 2],
      ['duplicate.json', '{"1": [1],\n"1": [2]}', 'DUPLICATE_ID', 2],
      ['huge-item.json', '{"200000000": [1]}', 'INVALID_INPUT', 1],
      ['huge-attribute.json', '{"1": [99999999999]}', 'INVALID_INPUT', 1],
      ['too-many-digits.json', '{"1": [12345678901234567890]}', 'PARSE_ERROR', 1],
    ];
    for (const [name, text, code, line] of cases) {
      const path = fixture(name, text);
      const error = await expectError(readItemAttributes(path), code, path, line);
      expect(error.message).toMatch(/column \d+|item id|attribute id/);
    }
  });

  it('names file and line for malformed TSV', async () => {
    const cases: [string, string, string, number, string?][] = [
      ['fields.tsv', 'item_id\tasin\tattribute_ids\n1\tA\t1 2\n2\tB\n', 'PARSE_ERROR', 3],
      ['header.tsv', 'item\tasin\tattribute_ids\n1\tA\t1\n', 'PARSE_ERROR', 1, 'itemColumn'],
      ['word.tsv', 'item_id\tattribute_ids\n1\t3 x\n', 'PARSE_ERROR', 2, 'attribute_ids'],
      ['item-word.tsv', 'item_id\tattribute_ids\nfoo\t3\n', 'PARSE_ERROR', 2, 'item_id'],
      ['double-space.tsv', 'item_id\tattribute_ids\n1\t3  4 -1\n', 'PARSE_ERROR', 2, 'attribute_ids'],
      ['duplicate.tsv', 'item_id\tattribute_ids\n1\t3\n2\t3\n1\t4\n', 'DUPLICATE_ID', 4, 'item_id'],
      ['huge.tsv', 'item_id\tattribute_ids\n200000000\t3\n', 'INVALID_INPUT', 2, 'item_id'],
      ['header-only.tsv', 'item_id\tattribute_ids\n', 'PARSE_ERROR', 2],
      ['blank.tsv', 'item_id\tattribute_ids\n1\t3\n\n2\t4\n', 'PARSE_ERROR', 3],
      ['twice.tsv', 'item_id\titem_id\tattribute_ids\n1\t1\t3\n', 'PARSE_ERROR', 1, 'itemColumn'],
    ];
    for (const [name, text, code, line, field] of cases) {
      const path = fixture(name, text);
      const error = await expectError(readItemAttributes(path), code, path, line);
      if (field !== undefined) expect(error.details.field).toBe(field);
    }
    const path = fixture('no-asin.tsv', 'item_id\tattribute_ids\n1\t3\n');
    expect((await readItemAttributes(path)).externalIds).toBeUndefined();
    await expectError(readItemAttributes(path, { externalIdColumn: 'asin' }), 'PARSE_ERROR', path, 1);
    const long = fixture('long.tsv', `item_id\tattribute_ids\n1\t${'3 '.repeat(100)}\n`);
    await expectError(readItemAttributes(long, { maxLineLength: 50 }), 'PARSE_ERROR', long, 2);
  });

  it('rejects missing files, unknown formats and bad options', async () => {
    await expect(readItemAttributes(fixture('x.tsv', TSV).replace('x.tsv', 'absent.tsv'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(readItemAttributes(fixture('x.json', JSON_TEXT).replace('x.json', 'absent.json'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const odd = fixture('attributes.dat', TSV);
    await expect(readItemAttributes(odd)).rejects.toMatchObject({ code: 'INVALID_OPTION', details: { field: 'format' } });
    expect((await readItemAttributes(odd, { format: 'tsv' })).itemCount).toBe(3);
    for (const options of [{ format: 'csv' }, { itemCount: 0 }, { maxItemId: 2 ** 27 }, { maxAttributeId: 0 }, { repeatedAttributes: 'drop' }, { itemColumn: '' }, { nonsense: 1 }]) {
      await expect(readItemAttributes(odd, options as never)).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    }
  });

  it('parses the same whatever the chunk boundaries', () => {
    const events: string[] = [];
    const sink = { beginItem: (id: string, line: number) => events.push(`item ${id}@${line}`), attribute: (id: string) => events.push(id), endItem: () => events.push('end') };
    const whole = new AttributeJsonParser('whole', sink);
    whole.feed(JSON_TEXT);
    whole.end();
    const expected = [...events];
    expect(expected).toEqual(['item 1@1', '5', '2', '7', 'end', 'item 3@1', 'end', 'item 2@2', '2', '2', '9', 'end']);
    events.length = 0;
    const split = new AttributeJsonParser('split', sink);
    for (const char of JSON_TEXT) split.feed(char);
    split.end();
    expect(events).toEqual(expected);
  });

  it('reports progress on the file bytes', async () => {
    const seen: string[] = [];
    await readItemAttributes(fixture('progress.json', JSON_TEXT), { onProgress: (event) => seen.push(`${event.type}:${'task' in event ? event.task : ''}`) });
    expect(seen).toEqual(['task-start:read-item-attributes', 'task-end:read-item-attributes']);
  });
});

describe('attributeCatalog', () => {
  it('gives every item a record whose field holds its attribute tokens', async () => {
    const attributes = await readItemAttributes(fixture('catalog.tsv', TSV), { itemCount: 4 });
    const catalog = attributeCatalog(attributes);
    expect(catalog.itemCount).toBe(4);
    expect(catalog.records[0]).toBeUndefined();
    expect(catalog.records.slice(1)).toEqual([
      { id: 1, fields: { attributes: 'a5 a2 a7' } },
      { id: 2, fields: { attributes: 'a2 a2 a9' } },
      { id: 3, fields: { attributes: '' } },
      { id: 4, fields: { attributes: '' } },
    ]);
    // a word tokenizer (\w\w+, as semantic-id's and scikit-learn's) keeps every token whole
    expect('a5 a2 a7'.toLowerCase().match(/[\p{L}\p{N}_]{2,}/gu)).toEqual(['a5', 'a2', 'a7']);
    expect(attributeCatalog(attributes, { prefix: 'attr_', field: 'tags' }).records[2]).toEqual({ id: 2, fields: { tags: 'attr_2 attr_2 attr_9' } });
  });

  it('extends a base catalogue, keeping titles, categories and fields', async () => {
    const attributes = await readItemAttributes(fixture('base.tsv', TSV));
    const base = {
      itemCount: 5,
      records: [undefined, { id: 1, title: 'Red ball', categories: [['Toys', 'Balls']], fields: { asin: 'X1' } }, undefined, undefined, undefined, { id: 5, fields: {} }],
    };
    const catalog = attributeCatalog(attributes, { base });
    expect(catalog.itemCount).toBe(5);
    expect(catalog.records[1]).toEqual({ id: 1, title: 'Red ball', categories: [['Toys', 'Balls']], fields: { asin: 'X1', attributes: 'a5 a2 a7' } });
    expect(catalog.records[2]).toEqual({ id: 2, fields: { attributes: 'a2 a2 a9' } });
    expect(catalog.records[5]).toEqual({ id: 5, fields: { attributes: '' } });
    expect(base.records[1]!.fields).toEqual({ asin: 'X1' }); // not mutated
  });

  it('rejects prefixes a tokenizer would split and reserved field names', async () => {
    const attributes = await readItemAttributes(fixture('bad.tsv', TSV));
    for (const options of [{ prefix: 'a-' }, { prefix: '' }, { prefix: '1a' }, { field: 'title' }, { field: '' }, { other: 1 }]) {
      expect(() => attributeCatalog(attributes, options as never)).toThrow(GenrecError);
    }
  });
});

describe('attributeCountMatrix', () => {
  it('counts attributes per item in compressed rows with ascending columns', async () => {
    const attributes = await readItemAttributes(fixture('matrix.tsv', TSV));
    const counts = attributeCountMatrix(attributes);
    expect(counts.rows).toBe(3);
    expect(counts.cols).toBe(9);
    expect(Array.from(counts.indptr)).toEqual([0, 3, 5, 5]);
    expect(Array.from(counts.indices)).toEqual([1, 4, 6, 1, 8]); // attributes 2 5 7 | 2 9
    expect(Array.from(counts.values)).toEqual([1, 1, 1, 2, 1]);
    expect(Array.from(attributeCountMatrix(attributes, { binary: true }).values)).toEqual([1, 1, 1, 1, 1]);
    expect(() => attributeCountMatrix(attributes, { binary: 1 as never })).toThrow(GenrecError);
  });
});
