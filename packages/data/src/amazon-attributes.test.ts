import { sharedPath } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { attributeCatalog, attributeCountMatrix } from './attribute-features.js';
import { readItemCatalog } from './item-catalog.js';
import { attributesOf, readItemAttributes, type ItemAttributes } from './item-attributes.js';
import { readSequenceFile } from './sequence-file.js';

// Acceptance tests on the real S3-Rec attribute files of Amazon 2014 Sports and Toys (shared/data,
// never in the repository). Expected numbers: shared/data/amazon2014-*/SOURCE.md and a Python
// json.load of the same files.
const sportsTsv = sharedPath('data', 'amazon2014-sports', 'items.tsv');
const sportsJson = sharedPath('data', 'amazon2014-sports', 'Sports_and_Outdoors_item2attributes.json');
const sportsSequences = sharedPath('data', 'amazon2014-sports', 'Sports_and_Outdoors.txt');
const toysJson = sharedPath('data', 'amazon2014-toys', 'Toys_and_Games_item2attributes.json');
const toysItems = sharedPath('data', 'amazon2014-toys', 'items.jsonl');
const haveSports = Boolean(sportsTsv && sportsJson && sportsSequences);
const haveToys = Boolean(toysJson && toysItems);
if (!haveSports) console.log('skipping the Sports attribute tests: shared/data/amazon2014-sports (items.tsv, *_item2attributes.json) not found (set GENREC_SHARED_DIR)');
if (!haveToys) console.log('skipping the Toys attribute tests: shared/data/amazon2014-toys (Toys_and_Games_item2attributes.json, items.jsonl) not found (set GENREC_SHARED_DIR)');

function occurrences(attributes: ItemAttributes, attribute: number): { total: number; items: number } {
  let total = 0;
  let items = 0;
  for (let item = 1; item <= attributes.itemCount; item++) {
    const list = attributesOf(attributes, item);
    const count = list.filter((value) => value === attribute).length;
    total += count;
    if (count > 0) items++;
  }
  return { total, items };
}

describe.skipIf(!haveSports)('Amazon 2014 Sports attributes (shared data)', () => {
  it('reads items.tsv: 18,357 items, 2,277 attributes, 6.02 per item, the ASINs', async () => {
    const sports = await readItemAttributes(sportsTsv!);
    expect(sports.itemCount).toBe(18357);
    expect(sports.attributeCount).toBe(2277);
    expect(sports.values.length).toBe(110458);
    expect(sports.values.length / sports.itemCount).toBeCloseTo(6.02, 2);
    expect(new Set(sports.values).size).toBe(2277);
    expect(sports.unlistedItems).toBe(0);
    expect(sports.itemsWithRepeatedAttributes).toBe(957);
    expect(Array.from(attributesOf(sports, 1))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(attributesOf(sports, 100))).toEqual([1703, 2, 3, 4, 56, 57, 178]);
    expect(Array.from(attributesOf(sports, 8001))).toEqual([141, 2, 13, 142, 143, 142, 143, 144, 143, 145]);
    expect(sports.externalIds![1]).toBe('1881509818');
    expect(sports.externalIds![18357]).toBe('B00JVUXQW4');
    // SOURCE.md: attribute 2 is on every item, 18,556 occurrences
    expect(occurrences(sports, 2)).toEqual({ total: 18556, items: 18357 });
    const unique = await readItemAttributes(sportsTsv!, { repeatedAttributes: 'remove' });
    expect(unique.values.length).toBe(106440);
  });

  it('reads the JSON file to exactly the same lists, covering the id space of the sequences', async () => {
    const fromTsv = await readItemAttributes(sportsTsv!);
    const fromJson = await readItemAttributes(sportsJson!);
    expect(fromJson.itemCount).toBe(fromTsv.itemCount);
    expect(fromJson.attributeCount).toBe(fromTsv.attributeCount);
    expect(fromJson.offsets).toEqual(fromTsv.offsets);
    expect(fromJson.values).toEqual(fromTsv.values);
    const sequences = await readSequenceFile(sportsSequences!);
    expect(sequences.itemCount).toBe(18357);
    expect(sequences.userCount).toBe(35598);
    const counts = attributeCountMatrix(fromJson);
    expect(counts.rows).toBe(18357);
    expect(counts.cols).toBe(2277);
    expect(counts.indices.length).toBe(106440);
    const catalog = attributeCatalog(fromJson);
    expect(catalog.records[1]!.fields.attributes).toBe('a1 a2 a3 a4 a5 a6');
  });
});

describe.skipIf(!haveToys)('Amazon 2014 Toys attributes (shared data)', () => {
  it('reads the JSON file: 11,924 items, 1,027 attributes, equal to the attribute_ids of items.jsonl', async () => {
    const toys = await readItemAttributes(toysJson!);
    expect(toys.itemCount).toBe(11924);
    expect(toys.attributeCount).toBe(1027);
    expect(toys.values.length).toBe(51022);
    expect(toys.unlistedItems).toBe(0);
    expect(occurrences(toys, 2)).toEqual({ total: 11949, items: 11924 });
    const catalog = await readItemCatalog(toysItems!);
    for (let item = 1; item <= 11924; item++) {
      expect(Array.from(attributesOf(toys, item))).toEqual(catalog.records[item]!.fields.attribute_ids);
    }
    const combined = attributeCatalog(toys, { base: catalog });
    expect(combined.records[2]!.title).toBe('LEGO Star Wars Clone Troopers vs Droidekas 75000');
    expect(combined.records[2]!.fields.attributes).toBe('a201 a2 a61 a62');
  });
});
