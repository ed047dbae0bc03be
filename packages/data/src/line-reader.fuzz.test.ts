import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { assertFuzz, fuzzDirectory, fuzzRuns, fuzzTimeoutMs, mutate, mutationsArbitrary, OutcomeTally } from './fuzz/harness.js';
import { referenceLines } from './fuzz/references.js';
import { forEachLine } from './line-reader.js';

// Property-based fuzz test of forEachLine, the reader under every other reader: mutated text with
// every kind of line break must give exactly the lines (and numbers) of a naive split, or a
// GenrecError exactly when the naive rules say the file is invalid (line too long, blank line in
// the middle, empty file). Budget: fuzz/harness.ts.
const directory = fuzzDirectory('genrec-fuzz-lines-');
const tally = new OutcomeTally();
afterAll(() => console.log(tally.summary('forEachLine')));

const textArbitrary = fc
  .array(fc.tuple(fc.string({ unit: 'grapheme', maxLength: 20 }), fc.constantFrom('\n', '\r\n', '\r', '\n\n', ' \n')), { maxLength: 12 })
  .map((lines) => new TextEncoder().encode(lines.map(([text, end]) => text + end).join('')));

let caseNumber = 0;

describe('forEachLine fuzz', () => {
  it(
    `gives the lines of a naive split, or a GenrecError exactly where the rules say so, on ${fuzzRuns} mutated files`,
    async () => {
      await assertFuzz(
        fc.asyncProperty(
          textArbitrary,
          mutationsArbitrary,
          fc.record({ maxLineLength: fc.oneof(fc.constant(undefined), fc.integer({ min: 1, max: 40 })), blankLines: fc.constantFrom('error' as const, 'skip' as const), allowEmpty: fc.boolean() }),
          async (text, mutations, options) => {
            const content = mutate(text, mutations);
            const path = join(directory, `case-${++caseNumber}.txt`);
            await writeFile(path, content);
            const seen: { text: string; line: number }[] = [];
            const count = await tally.run(() =>
              forEachLine(path, (line, number) => void seen.push({ text: line, line: number }), {
                blankLines: options.blankLines,
                allowEmpty: options.allowEmpty,
                ...(options.maxLineLength === undefined ? {} : { maxLineLength: options.maxLineLength }),
              }),
            );
            const expected = referenceLines(content, options.maxLineLength ?? 64 * 1024 * 1024, options.blankLines, options.allowEmpty);
            if (count === undefined) {
              expect(expected, 'forEachLine failed where the naive split succeeds').toBeUndefined();
              return;
            }
            expect(seen).toEqual(expected);
            expect(count).toBe(seen.length);
          },
        ),
        7,
      );
      expect(tally.cases).toBeGreaterThanOrEqual(fuzzRuns);
      expect(tally.counts.get('valid') ?? 0).toBeGreaterThan(fuzzRuns / 20);
    },
    fuzzTimeoutMs,
  );
});
