import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { assertFuzz, fuzzDirectory, fuzzRuns, fuzzTimeoutMs, mutate, mutationsArbitrary, OutcomeTally } from './fuzz/harness.js';
import { attributesOf, readItemAttributes, type ItemAttributes } from './item-attributes.js';

// Property-based fuzz test of readItemAttributes (both formats): mutated valid files must give a
// GenrecError or attribute lists that satisfy the invariants, agree with a naive reference reading
// and survive a write -> read round trip. Ids above the bounds must be refused. Budget: fuzz/harness.ts.
const directory = fuzzDirectory('genrec-fuzz-attributes-');
const jsonTally = new OutcomeTally();
const tsvTally = new OutcomeTally();
afterAll(() => {
  console.log(jsonTally.summary('readItemAttributes (json)'));
  console.log(tsvTally.summary('readItemAttributes (tsv)'));
});
const limits = { maxItemId: 1000, maxAttributeId: 1000 };
const DECIMAL_ID = /^[1-9][0-9]{0,15}$/;

type Lists = Map<number, number[]>;

const listsArbitrary = fc.record({
  ids: fc.uniqueArray(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 }),
  lists: fc.array(fc.array(fc.integer({ min: 1, max: 30 }), { maxLength: 5 }), { minLength: 8, maxLength: 8 }),
  space: fc.constantFrom('', ' ', '\n', '\r\n', '\t '),
});

const jsonArbitrary = listsArbitrary.map(({ ids, lists, space }) =>
  new TextEncoder().encode(`{${ids.map((id, k) => `${space}"${id}":${space}[${lists[k]!.join(`,${space}`)}]`).join(',')}${space}}`),
);

const tsvArbitrary = listsArbitrary.map(({ ids, lists, space }) =>
  new TextEncoder().encode(
    `item_id\tasin\tattribute_ids\n${ids.map((id, k) => `${id}\tB${id}X\t${lists[k]!.join(' ')}`).join(space.includes('\r') ? '\r\n' : '\n')}\n`,
  ),
);

/** The invariants of any result. */
function checkInvariants(attributes: ItemAttributes): void {
  const { itemCount, attributeCount, offsets, values } = attributes;
  expect(itemCount).toBeLessThanOrEqual(limits.maxItemId);
  expect(attributeCount).toBeLessThanOrEqual(limits.maxAttributeId);
  expect(offsets.length).toBe(itemCount + 2);
  expect(offsets[0]).toBe(0);
  expect(offsets[1]).toBe(0);
  expect(offsets[itemCount + 1]).toBe(values.length);
  for (let i = 1; i < offsets.length; i++) expect(offsets[i]!).toBeGreaterThanOrEqual(offsets[i - 1]!);
  for (const value of values) {
    expect(value).toBeGreaterThanOrEqual(1);
    expect(value).toBeLessThanOrEqual(attributeCount);
  }
}

function toLists(attributes: ItemAttributes): Lists {
  const lists: Lists = new Map();
  for (let item = 1; item <= attributes.itemCount; item++) {
    const list = Array.from(attributesOf(attributes, item));
    if (list.length > 0) lists.set(item, list);
  }
  return lists;
}

function withoutEmpty(lists: Lists): Lists {
  return new Map([...lists].filter(([, list]) => list.length > 0));
}

/**
 * What the JSON reader must return, from `JSON.parse` and plain checks: a map, `'reject'`, or
 * `'unknown'` for texts outside the restricted alphabet (where only "accepted implies JSON.parse
 * agrees" is checked).
 */
function referenceJson(text: string): Lists | 'reject' | 'unknown' {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (!/^[ \t\n\r{}[\]":,0-9]*$/.test(body)) return 'unknown';
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return 'reject';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'reject';
  // This alphabet has no backslash, so strings hold no escapes: a key is a quoted run followed by a colon.
  const keys = [...body.matchAll(/"([^"]*)"\s*:/g)].map((match) => match[1]!);
  if (keys.length === 0 || new Set(keys).size !== keys.length) return 'reject';
  const lists: Lists = new Map();
  for (const key of keys) {
    if (!DECIMAL_ID.test(key) || Number(key) > limits.maxItemId) return 'reject';
    const list = (value as Record<string, unknown>)[key];
    if (!Array.isArray(list)) return 'reject';
    for (const element of list) if (typeof element !== 'number' || !Number.isInteger(element) || element < 1 || element > limits.maxAttributeId) return 'reject';
    lists.set(Number(key), list as number[]);
  }
  return lists;
}

/** What the TSV reader must return (the line reader's rules: blank lines only at the end, BOM removed). */
function referenceTsv(text: string): Lists | 'reject' {
  const lines = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).split(/\r\n|\n|\r/);
  const blank = (line: string): boolean => /^[ \t\r\v\f]*$/.test(line);
  let last = lines.length - 1;
  while (last >= 0 && blank(lines[last]!)) last--;
  if (last < 1) return 'reject';
  if (lines.slice(0, last).some(blank)) return 'reject';
  const header = lines[0]!.split('\t').map((name) => name.trim());
  const column = (name: string): number => (header.indexOf(name) === header.lastIndexOf(name) ? header.indexOf(name) : -2);
  const [itemIndex, attributesIndex, asinIndex] = [column('item_id'), column('attribute_ids'), column('asin')];
  if (itemIndex < 0 || attributesIndex < 0 || asinIndex === -2) return 'reject';
  const lists: Lists = new Map();
  for (const line of lines.slice(1, last + 1)) {
    const fields = line.split('\t');
    if (fields.length !== header.length) return 'reject';
    const id = fields[itemIndex]!.trim();
    if (!DECIMAL_ID.test(id) || Number(id) > limits.maxItemId || lists.has(Number(id))) return 'reject';
    const list: number[] = [];
    for (const token of fields[attributesIndex]!.split(' ')) {
      if (token === '') continue;
      if (!DECIMAL_ID.test(token) || Number(token) > limits.maxAttributeId) return 'reject';
      list.push(Number(token));
    }
    lists.set(Number(id), list);
  }
  return lists;
}

let caseNumber = 0;

describe('readItemAttributes fuzz', () => {
  it(
    `JSON: gives a GenrecError or reference-equal, round-tripping lists on ${fuzzRuns} mutated files`,
    async () => {
      await assertFuzz(
        fc.asyncProperty(jsonArbitrary, mutationsArbitrary, async (content, mutations) => {
          const bytes = mutate(content, mutations);
          const path = join(directory, `case-${++caseNumber}.json`);
          await writeFile(path, bytes);
          const attributes = await jsonTally.run(() => readItemAttributes(path, limits));
          const text = new TextDecoder().decode(bytes);
          const expected = referenceJson(text);
          if (!attributes) {
            expect(expected === 'reject' || expected === 'unknown', 'the reader failed on a file the reference accepts').toBe(true);
            return;
          }
          expect(expected, 'the reader accepted a file the reference rejects').not.toBe('reject');
          checkInvariants(attributes);
          const lists = toLists(attributes);
          if (expected === 'unknown') {
            const parsed = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text) as Record<string, number[]>;
            expect(lists).toEqual(withoutEmpty(new Map(Object.entries(parsed).map(([key, list]) => [Number(key), list]))));
          } else if (expected !== 'reject') {
            expect(lists).toEqual(withoutEmpty(expected));
            expect(attributes.itemCount).toBe(Math.max(...expected.keys()));
          }
          // Round trip through the JSON form.
          const again = join(directory, `again-${caseNumber}.json`);
          await writeFile(again, JSON.stringify(Object.fromEntries([...lists].map(([item, list]) => [String(item), list]))));
          if (lists.size > 0) expect(toLists(await readItemAttributes(again, limits))).toEqual(lists);
        }),
        31,
      );
      expect(jsonTally.cases).toBeGreaterThanOrEqual(fuzzRuns);
      expect(jsonTally.counts.get('valid') ?? 0).toBeGreaterThan(fuzzRuns / 20);
    },
    fuzzTimeoutMs,
  );

  it(
    `TSV: gives a GenrecError or reference-equal lists on ${fuzzRuns} mutated files`,
    async () => {
      await assertFuzz(
        fc.asyncProperty(tsvArbitrary, mutationsArbitrary, async (content, mutations) => {
          const bytes = mutate(content, mutations);
          const path = join(directory, `case-${++caseNumber}.tsv`);
          await writeFile(path, bytes);
          const attributes = await tsvTally.run(() => readItemAttributes(path, limits));
          const expected = referenceTsv(new TextDecoder().decode(bytes));
          if (!attributes) {
            expect(expected, 'the reader failed on a file the reference accepts').toBe('reject');
            return;
          }
          expect(expected, 'the reader accepted a file the reference rejects').not.toBe('reject');
          checkInvariants(attributes);
          expect(toLists(attributes)).toEqual(withoutEmpty(expected as Lists));
          expect(attributes.itemCount).toBe(Math.max(...(expected as Lists).keys()));
        }),
        32,
      );
      expect(tsvTally.cases).toBeGreaterThanOrEqual(fuzzRuns);
      expect(tsvTally.counts.get('valid') ?? 0).toBeGreaterThan(fuzzRuns / 20);
    },
    fuzzTimeoutMs,
  );
});
