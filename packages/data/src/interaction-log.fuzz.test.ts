import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { assertFuzz, fuzzDirectory, fuzzRuns, fuzzTimeoutMs, mutate, mutationsArbitrary, OutcomeTally } from './fuzz/harness.js';
import { csvRecordsToKeys, interactionKeys, referenceMovieLens } from './fuzz/references.js';
import { readInteractionLog, readMovieLensRatings } from './interaction-log.js';
import type { InteractionDataset } from './sequence-dataset.js';
import { validateSequenceDataset } from './sequence-dataset.js';

// Property-based fuzz tests of readInteractionLog (CSV and TSV, compared with Python's csv module)
// and readMovieLensRatings (compared with a naive reference). Budget: fuzz/harness.ts.
const directory = fuzzDirectory('genrec-fuzz-logs-');
const tallies: [string, OutcomeTally][] = [];
afterAll(() => {
  for (const [reader, tally] of tallies) console.log(tally.summary(reader));
});
const pythonScript = join(dirname(fileURLToPath(import.meta.url)), 'fuzz', 'csv_reference.py');
const python = '/usr/bin/python3';
const hasPython = spawnSync(python, ['--version']).status === 0;
if (!hasPython) console.log('interaction-log fuzz: /usr/bin/python3 not found; CSV cases are checked against invariants only');

/** Invariants every dataset read from a log must hold. */
function checkDataset(dataset: InteractionDataset): void {
  validateSequenceDataset(dataset);
  expect(dataset.userIds.length).toBe(dataset.userCount);
  for (let row = 0; row < dataset.userCount; row++) {
    expect(dataset.offsets[row + 1]!).toBeGreaterThan(dataset.offsets[row]!);
    if (dataset.timestamps) {
      for (let i = dataset.offsets[row]! + 1; i < dataset.offsets[row + 1]!; i++) expect(dataset.timestamps[i]!).toBeGreaterThanOrEqual(dataset.timestamps[i - 1]!);
    }
  }
  if (dataset.timestamps) for (const time of dataset.timestamps) expect(Math.abs(time)).toBeLessThanOrEqual(8.64e12);
  if (dataset.ratings) for (const rating of dataset.ratings) expect(Number.isFinite(rating)).toBe(true);
}

const tokenArbitrary = fc.oneof(
  fc.nat({ max: 30 }).map((n) => String(n + 1)),
  fc.constantFrom('B00X', 'a,b', 'say "hi"', 'two\nlines', 'tab\there', ' padded ', '\u00e9t\u00e9', '\u{1f600}', '007'),
);
const timestampArbitrary = fc.oneof(
  fc.integer({ min: 0, max: 2_000_000_000 }).map(String),
  fc.constantFrom('2021-01-02T03:04:05Z', '2021-01-02 03:04:05', '2021-01-02', '2020-02-29T23:59:59.250+02:00', '1.5e9', '-86400'),
);
const ratingArbitrary = fc.oneof(fc.integer({ min: 1, max: 5 }).map(String), fc.constantFrom('4.5', '0.5', '.5', '3.'));

/** A valid delimited log with a header `user,item,timestamp,rating`; fields quoted when needed (or at random). */
function logArbitrary(delimiter: string): fc.Arbitrary<Uint8Array> {
  const field = (value: string, quoteAnyway: boolean): string =>
    quoteAnyway || value.includes(delimiter) || value.includes('"') || value.includes('\n') || value.includes('\r') ? `"${value.replaceAll('"', '""')}"` : value;
  return fc
    .record({
      rows: fc.array(fc.tuple(tokenArbitrary, tokenArbitrary, timestampArbitrary, ratingArbitrary, fc.boolean()), { minLength: 1, maxLength: 8 }),
      lineEnd: fc.constantFrom('\n', '\r\n'),
    })
    .map(({ rows, lineEnd }) => {
      const lines = [['user', 'item', 'timestamp', 'rating'].join(delimiter)];
      for (const [user, item, time, rating, quoteAnyway] of rows) lines.push([field(user, quoteAnyway), field(item, false), time, rating].join(delimiter));
      return new TextEncoder().encode(lines.join(lineEnd) + lineEnd);
    });
}

interface PythonCase {
  path: string;
  keys: string[];
  content: Uint8Array;
}

/** Parses every case with Python's csv module in one process and compares interactions. */
function compareWithPython(cases: PythonCase[], delimiter: string, tally: OutcomeTally): void {
  if (!hasPython || cases.length === 0) return;
  const child = spawnSync(python, [pythonScript], {
    input: JSON.stringify(cases.map(({ path }) => ({ path, delimiter }))),
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  expect(child.status, child.stderr).toBe(0);
  const results = JSON.parse(child.stdout) as ({ rows: string[][] } | { error: string })[];
  expect(results.length).toBe(cases.length);
  cases.forEach((item, index) => {
    const result = results[index]!;
    if ('error' in result) {
      // Python's csv (utf-8 strict) refused a file the reader accepted: only invalid UTF-8 may do that.
      expect(Buffer.from(item.content).toString('utf8').includes('\ufffd') || /\u0000/.test(Buffer.from(item.content).toString('utf8')), `${item.path}: ${result.error}`).toBe(true);
      tally.add('python: not comparable (invalid UTF-8)');
      return;
    }
    expect(csvRecordsToKeys(result.rows), `${item.path}: ${JSON.stringify(Buffer.from(item.content).toString('utf8'))}`).toEqual(item.keys);
    tally.add('python: agrees');
  });
}

let caseNumber = 0;

function describeDelimited(reader: string, delimiter: string, extension: string, seedOffset: number): void {
  it(
    `${reader}: a GenrecError or data that Python's csv agrees with, on ${fuzzRuns} mutated files`,
    async () => {
      const tally = new OutcomeTally();
      tallies.push([reader, tally]);
      const valid: PythonCase[] = [];
      await assertFuzz(
        fc.asyncProperty(logArbitrary(delimiter), mutationsArbitrary, async (text, mutations) => {
          const content = mutate(text, mutations);
          const path = join(directory, `case-${++caseNumber}.${extension}`);
          await writeFile(path, content);
          const dataset = await tally.run(() => readInteractionLog(path, { delimiter, columns: { user: 0, item: 1, timestamp: 2, rating: 3 } }));
          if (!dataset) return;
          checkDataset(dataset);
          valid.push({ path, keys: interactionKeys(dataset), content });
        }),
        seedOffset,
      );
      compareWithPython(valid, delimiter, tally);
      expect(tally.cases).toBeGreaterThanOrEqual(fuzzRuns);
      expect(valid.length).toBeGreaterThan(fuzzRuns / 20);
    },
    fuzzTimeoutMs,
  );
}

describe('interaction log fuzz', () => {
  describeDelimited('readInteractionLog (CSV)', ',', 'csv', 3);
  describeDelimited('readInteractionLog (TSV)', '\t', 'tsv', 4);

  it(
    `readMovieLensRatings: a GenrecError or the reference's interactions, on ${fuzzRuns} mutated files`,
    async () => {
      const tally = new OutcomeTally();
      tallies.push(['readMovieLensRatings', tally]);
      const fileArbitrary = fc
        .array(fc.tuple(fc.nat({ max: 20 }), fc.nat({ max: 50 }), fc.constantFrom('1', '3', '4.5', '5'), fc.integer({ min: 9e8, max: 1.1e9 })), {
          minLength: 1,
          maxLength: 10,
        })
        .map((rows) => new TextEncoder().encode(rows.map(([user, item, rating, time]) => `${user + 1}::${item + 1}::${rating}::${time}\n`).join('')));
      await assertFuzz(
        fc.asyncProperty(fileArbitrary, mutationsArbitrary, async (text, mutations) => {
          const content = mutate(text, mutations);
          const path = join(directory, `case-${++caseNumber}.dat`);
          await writeFile(path, content);
          const dataset = await tally.run(() => readMovieLensRatings(path));
          const expected = referenceMovieLens(content);
          if (!dataset) {
            expect(expected, 'the reader failed on a file the reference accepts').toBeUndefined();
            return;
          }
          checkDataset(dataset);
          expect(interactionKeys(dataset)).toEqual(expected);
        }),
        5,
      );
      expect(tally.cases).toBeGreaterThanOrEqual(fuzzRuns);
      expect(tally.counts.get('valid') ?? 0).toBeGreaterThan(fuzzRuns / 20);
    },
    fuzzTimeoutMs,
  );
});
