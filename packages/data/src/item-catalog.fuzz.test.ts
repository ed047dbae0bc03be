import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ItemRecord } from '@genrec/core';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { assertFuzz, fuzzDirectory, fuzzRuns, fuzzTimeoutMs, mutate, mutationsArbitrary, OutcomeTally } from './fuzz/harness.js';
import { referenceCatalog } from './fuzz/references.js';
import { readItemCatalog } from './item-catalog.js';

// Property-based fuzz test of readItemCatalog: mutated valid JSONL files must give a GenrecError or
// a catalogue equal to a naive reference reading, with records indexed by id, that survives a
// write -> read round trip. Huge ids must be refused at their line (maxItemId). Budget: fuzz/harness.ts.
const directory = fuzzDirectory('genrec-fuzz-items-');
const tallies: [string, OutcomeTally][] = [];
afterAll(() => {
  for (const [reader, tally] of tallies) console.log(tally.summary(reader));
});
const maxItemId = 1000;
/** Dense ids 1..40 whose external ids are the decimal strings 3, 6, ..., 120 (lookup mode). */
const externalItemIds = ['', ...Array.from({ length: 40 }, (_, k) => String(3 * (k + 1)))];

const recordArbitrary = fc.record(
  {
    title: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('Ball "x"', 'a\\b', '\u00e9t\u00e9 \u{1f600}', '')),
    categories: fc.oneof(
      fc.array(fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }), { maxLength: 3 }),
      fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }),
      fc.string({ maxLength: 6 }),
    ),
    asin: fc.string({ maxLength: 10 }),
    price: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant(null)),
  },
  { requiredKeys: [] },
);

/** A valid items.jsonl: distinct ids in 1..60 (numbers or decimal strings), optional fields. */
const catalogArbitrary = fc
  .record({
    ids: fc.uniqueArray(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 8 }),
    records: fc.array(fc.tuple(recordArbitrary, fc.boolean()), { minLength: 8, maxLength: 8 }),
    lineEnd: fc.constantFrom('\n', '\r\n'),
    // Now and then one id out of range: above maxItemId, far above it, or not a positive integer.
    oddId: fc.oneof(
      { arbitrary: fc.constant(null), weight: 4 },
      { arbitrary: fc.tuple(fc.nat({ max: 7 }), fc.constantFrom<unknown>(1001, 200_000_000, 2 ** 53, 1e300, 0, -3, 2.5, '0012', '1e3')), weight: 1 },
    ),
  })
  .map(({ ids, records, lineEnd, oddId }) =>
    new TextEncoder().encode(
      ids
        .map((id, k) => {
          const itemId = oddId && oddId[0] === k ? oddId[1] : records[k]![1] ? String(id) : id;
          return JSON.stringify({ item_id: itemId, ...records[k]![0] });
        })
        .join(lineEnd) + lineEnd,
    ),
  );

/** Writes records back as JSONL (the reader's fields spread next to id, title and categories). */
function writeJsonl(records: readonly (ItemRecord | undefined)[]): string {
  const lines: string[] = [];
  for (const record of records) {
    if (!record) continue;
    const object: Record<string, unknown> = { item_id: record.id };
    if (record.title !== undefined) object.title = record.title;
    if (record.categories !== undefined) object.categories = record.categories;
    for (const key of Object.keys(record.fields)) Object.defineProperty(object, key, { value: record.fields[key], enumerable: true });
    lines.push(JSON.stringify(object));
  }
  return lines.join('\n') + '\n';
}

let caseNumber = 0;

describe('readItemCatalog fuzz', () => {
  for (const [reader, lookup, seedOffset] of [
    ['readItemCatalog', undefined, 6],
    ['readItemCatalog (externalItemIds)', externalItemIds, 8],
  ] as const) {
    it(
      `${reader}: a GenrecError or a reference-equal, round-tripping catalogue on ${fuzzRuns} mutated files`,
      async () => {
        const tally = new OutcomeTally();
        tallies.push([reader, tally]);
        const options = lookup ? { externalItemIds: lookup } : { maxItemId };
        await assertFuzz(
          fc.asyncProperty(catalogArbitrary, mutationsArbitrary, async (text, mutations) => {
            const content = mutate(text, mutations);
            const path = join(directory, `case-${++caseNumber}.jsonl`);
            await writeFile(path, content);
            const catalog = await tally.run(() => readItemCatalog(path, options));
            const expected = referenceCatalog(content, lookup ? lookup.length - 1 : maxItemId, lookup);
            if (!catalog) {
              expect(expected, 'the reader failed on a file the reference accepts').toBeUndefined();
              return;
            }
            expect(expected, 'the reader accepted a file the reference rejects').toBeDefined();
            // Sizes agree: one slot per id 0..itemCount, records at their own id, none at 0.
            expect(catalog.itemCount).toBe(expected!.itemCount);
            expect(catalog.records.length).toBe(catalog.itemCount + 1);
            expect(catalog.records[0]).toBeUndefined();
            expect(catalog.skippedRecords).toBe(expected!.skipped);
            const present = catalog.records.flatMap((record, id) => (record ? [[id, record] as const] : []));
            expect(present.length).toBe(expected!.records.size);
            for (const [id, record] of present) {
              expect(record.id).toBe(id);
              expect(JSON.stringify(record)).toBe(JSON.stringify(expected!.records.get(id)));
              expect(Object.getPrototypeOf(record.fields)).toBe(Object.prototype);
            }
            if (lookup) return;
            // Round trip (verbatim ids).
            const again = join(directory, `again-${caseNumber}.jsonl`);
            await writeFile(again, writeJsonl(catalog.records));
            const reread = await readItemCatalog(again, { maxItemId });
            expect(JSON.stringify(reread.records)).toBe(JSON.stringify(catalog.records));
            expect(reread.itemCount).toBe(catalog.itemCount);
          }),
          seedOffset,
        );
        expect(tally.cases).toBeGreaterThanOrEqual(fuzzRuns);
        expect(tally.counts.get('valid') ?? 0).toBeGreaterThan(fuzzRuns / 20);
      },
      fuzzTimeoutMs,
    );
  }
});
