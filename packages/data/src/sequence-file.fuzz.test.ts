import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { assertFuzz, fuzzDirectory, fuzzRuns, fuzzTimeoutMs, mutate, mutationsArbitrary, OutcomeTally } from './fuzz/harness.js';
import { externalRows, referenceSequenceFile } from './fuzz/references.js';
import { datasetToArrays, validateSequenceDataset } from './sequence-dataset.js';
import { readSequenceFile } from './sequence-file.js';

// Property-based fuzz tests of readSequenceFile: mutated valid files must give a GenrecError or a
// dataset that passes the contract's invariants, equals a naive reference reading of the same
// bytes, and survives a write -> read round trip. Budget: fuzz/harness.ts (GENREC_LONG_RUN=1).
const directory = fuzzDirectory('genrec-fuzz-sequences-');
const tallies: [string, OutcomeTally][] = [];
afterAll(() => {
  for (const [reader, tally] of tallies) console.log(tally.summary(reader));
});

/** A valid sequence file: ids dense 1..N, sparse integers or string tokens; spaces or tabs; LF or CRLF. */
const sequenceFileArbitrary = fc
  .record({
    mode: fc.constantFrom('dense', 'sparse', 'string'),
    rows: fc.array(fc.array(fc.nat({ max: 40 }), { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 6 }),
    separator: fc.constantFrom(' ', '\t', '  '),
    lineEnd: fc.constantFrom('\n', '\r\n'),
    byteOrderMark: fc.boolean(),
    trailing: fc.constantFrom('', '\n', '\n\n'),
  })
  .map(({ mode, rows, separator, lineEnd, byteOrderMark, trailing }) => {
    const token = (n: number, user: boolean): string =>
      mode === 'dense' ? String(n + 1) : mode === 'sparse' ? String((n * 1_000_003 + (user ? 7 : 0)) % 2 ** 31) : `${user ? 'u' : 'i'}${n}\u00e9`;
    const lines = rows.map((items, row) => [token(row, true), ...items.map((item) => token(item, false))].join(separator));
    const text = `${byteOrderMark ? '\ufeff' : ''}${lines.join(lineEnd)}${lineEnd}${trailing}`;
    return { text: new TextEncoder().encode(text), idType: mode === 'string' ? ('string' as const) : ('integer' as const) };
  });

let caseNumber = 0;

async function checkCase(path: string, content: Uint8Array, idType: 'integer' | 'string', tally: OutcomeTally): Promise<void> {
  const dataset = await tally.run(() => readSequenceFile(path, { idType }));
  const expected = referenceSequenceFile(content, idType);
  if (!dataset) {
    expect(expected, 'the reader failed on a file the reference accepts').toBeUndefined();
    return;
  }
  validateSequenceDataset(dataset);
  const rows = externalRows(dataset);
  expect(rows).toEqual(expected);
  // Distinct items agree with itemCount; ids without externals are exactly 1..N.
  expect(new Set(rows.flatMap((row) => row.slice(1))).size).toBe(dataset.itemCount);
  // Round trip: writing the rows back gives the same dataset.
  const again = join(directory, `again-${caseNumber}.txt`);
  await writeFile(again, rows.map((row) => row.join(' ')).join('\n') + '\n');
  const reread = await readSequenceFile(again, { idType });
  expect(datasetToArrays(reread)).toEqual(datasetToArrays(dataset));
  expect(reread.externalItemIds).toEqual(dataset.externalItemIds);
  expect(reread.externalUserIds).toEqual(dataset.externalUserIds);
  expect(Array.from(reread.userIds)).toEqual(Array.from(dataset.userIds));
}

describe('readSequenceFile fuzz', () => {
  it(
    `gives a GenrecError or reference-equal, round-tripping data on ${fuzzRuns} mutated files`,
    async () => {
      const tally = new OutcomeTally();
      tallies.push(['readSequenceFile', tally]);
      await assertFuzz(
        fc.asyncProperty(sequenceFileArbitrary, mutationsArbitrary, async ({ text, idType }, mutations) => {
          const content = mutate(text, mutations);
          const path = join(directory, `case-${++caseNumber}.txt`);
          await writeFile(path, content);
          await checkCase(path, content, idType, tally);
        }),
        1,
      );
      expect(tally.cases).toBeGreaterThanOrEqual(fuzzRuns);
      expect(tally.counts.get('valid') ?? 0).toBeGreaterThan(fuzzRuns / 20);
    },
    fuzzTimeoutMs,
  );

  it(
    `gives a GenrecError or the data gunzip gives on ${fuzzRuns} mutated .gz files (compressed bytes or content mutated)`,
    async () => {
      const tally = new OutcomeTally();
      tallies.push(['readSequenceFile (.gz)', tally]);
      await assertFuzz(
        fc.asyncProperty(sequenceFileArbitrary, mutationsArbitrary, fc.boolean(), async ({ text, idType }, mutations, mutateCompressed) => {
          const compressed = mutateCompressed ? mutate(gzipSync(text), mutations) : gzipSync(mutate(text, mutations));
          const path = join(directory, `case-${++caseNumber}.txt.gz`);
          await writeFile(path, compressed);
          let content: Uint8Array | undefined;
          try {
            content = gunzipSync(compressed);
          } catch {
            content = undefined;
          }
          if (content === undefined) {
            // Not valid gzip for zlib: the reader must fail with a GenrecError.
            const dataset = await tally.run(() => readSequenceFile(path, { idType }));
            expect(dataset, 'the reader accepted a file gunzip rejects').toBeUndefined();
            return;
          }
          await checkCase(path, content, idType, tally);
        }),
        2,
      );
      expect(tally.cases).toBeGreaterThanOrEqual(fuzzRuns);
      expect(tally.counts.get('GenrecError IO_ERROR') ?? 0).toBeGreaterThan(0);
    },
    fuzzTimeoutMs,
  );
});
