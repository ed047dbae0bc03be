import type { ItemCatalog, ItemRecord } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { fitSetrec } from './fit-setrec.js';
import { defaultTextFields } from '@genrec/semantic-id';
import { defaultContentFields } from './index.js';
import { CHEAP, cheapCfVectors, smallSplit } from './test-fixtures.js';

/** The synthetic catalogue with its titles moved into an `attributes` field (as `attributeCatalog` writes them), no title or categories. */
function attributesOnly(catalog: ItemCatalog): ItemCatalog {
  const records = catalog.records.map((record): ItemRecord | undefined =>
    record === undefined ? undefined : { id: record.id, fields: { attributes: (record.title ?? '').split(/\s+/).filter(Boolean).map((word) => `a_${word.toLowerCase()}`).join(' ') } },
  );
  return { ...catalog, records };
}

describe('SETRec content fields', () => {
  it('defaultTextFields keeps title/categories when there is such text, else takes attribute ids', () => {
    const { synthetic } = smallSplit();
    expect(defaultTextFields(synthetic.catalog, ['title', 'categories'])).toEqual(['title', 'categories']);
    expect(defaultTextFields(attributesOnly(synthetic.catalog), ['title', 'categories'])).toEqual(['attributes']);
    const bare: ItemCatalog = { ...synthetic.catalog, records: synthetic.catalog.records.map((record) => record && { id: record.id, fields: {} }) };
    expect(defaultTextFields(bare, ['title', 'categories'])).toEqual(['title', 'categories']);
    expect(defaultTextFields(undefined, ['title'])).toEqual(['title']);
    expect(defaultContentFields).toBe(defaultTextFields); // the deprecated alias
  });

  it('fits on a catalogue of attribute ids alone (Sports has no titles) and records the fields it embedded', async () => {
    const { split, synthetic } = smallSplit();
    const cfVectors = await cheapCfVectors(split.train);
    const catalog = attributesOnly(synthetic.catalog);
    const model = await fitSetrec({ train: split.train, catalog }, { ...CHEAP, cfVectors, epochs: 1, beta: 0.5 });
    try {
      expect(model.describe().hyperParameters['contentFields']).toEqual(['attributes']);
      const rows = await model.recommend({ offsets: Int32Array.from([0, 3]), items: split.test.historyItems.slice(0, 3) }, { k: 5 });
      expect(Array.from(rows.lengths)).toEqual([5]);
      for (const id of rows.items) expect(id >= 1 && id <= split.train.itemCount).toBe(true);
    } finally {
      await model.dispose();
    }
    // named fields are taken as given: the title fields of an attribute-only catalogue hold nothing
    await expect(fitSetrec({ train: split.train, catalog }, { ...CHEAP, cfVectors, epochs: 1, contentFields: ['title', 'categories'] })).rejects.toThrow(/hold no word to embed/);
  });
});
