import { readFileSync } from 'node:fs';
import { sharedPath } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { tfidf, unescapeHtml } from './tfidf.js';

const itemsPath = sharedPath('data', 'amazon2014-toys', 'items.jsonl');
if (!itemsPath) console.log('skipping the Toys title test: ../shared/data/amazon2014-toys/items.jsonl is absent');

describe.skipIf(!itemsPath)('Toys titles', () => {
  it('TF-IDF finds the same vocabulary and weights as scikit-learn (10,079 words)', () => {
    const rows = readFileSync(itemsPath!, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as { item_id: number; title?: string })
      .sort((a, b) => a.item_id - b.item_id);
    const { matrix, model } = tfidf(rows.map((row) => unescapeHtml(row.title ?? '')));
    // Golden values from sklearn 1.2.1 TfidfVectorizer(dtype=float32) on the same titles.
    expect(model.vocabulary.length).toBe(10079);
    expect(matrix.rows).toBe(11924);
    const row = 1; // item 2: "LEGO Star Wars Clone Troopers vs Droidekas 75000"
    const weights = new Map<string, number>();
    for (let p = matrix.indptr[row]!; p < matrix.indptr[row + 1]!; p++) weights.set(model.vocabulary[matrix.indices[p]!]!, matrix.values[p]!);
    const expected: Record<string, number> = { '75000': 0.461938, clone: 0.380697, droidekas: 0.461938, lego: 0.187947, star: 0.229065, troopers: 0.409583, vs: 0.337905, wars: 0.242001 };
    expect(Object.fromEntries(weights)).toEqual(Object.fromEntries(Object.entries(expected).map(([word, value]) => [word, expect.closeTo(value, 6)])));
    // Item 9154 "F.I.D.O." has no token of two characters.
    expect(matrix.indptr[9154]! - matrix.indptr[9153]!).toBe(0);
  });
});
