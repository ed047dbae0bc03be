import { GenrecError, type ProgressEvent } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { readInteractionLog, readMovieLensRatings } from './interaction-log.js';
import { datasetToArrays, validateSequenceDataset } from './sequence-dataset.js';
import { expectError, fixtureDirectory } from './test-helpers.js';

const { fixture } = fixtureDirectory('genrec-data-log-');
const expectParseError = (promise: Promise<unknown>, file: string, line: number): Promise<GenrecError> => expectError(promise, 'PARSE_ERROR', file, line);

describe('readInteractionLog', () => {
  it('maps a CSV header, groups by user and orders by timestamp (ties keep file order)', async () => {
    const path = fixture(
      'log.csv',
      ['reviewerID,asin,overall,unixReviewTime', 'u1,B,5,300', 'u2,A,3,100', 'u1,A,4,100', 'u1,C,2,300', 'u2,C,1,50'].join('\n'),
    );
    const dataset = await readInteractionLog(path);
    validateSequenceDataset(dataset);
    expect(dataset.name).toBe('log');
    expect(dataset.externalUserIds).toEqual(['', 'u1', 'u2']);
    expect(dataset.externalItemIds).toEqual(['', 'B', 'A', 'C']);
    // u1: A@100, B@300, C@300 (B before C: file order) ; u2: C@50, A@100
    expect(datasetToArrays(dataset)).toEqual([
      [2, 1, 3],
      [3, 2],
    ]);
    expect(Array.from(dataset.userIds)).toEqual([1, 2]);
    expect(Array.from(dataset.timestamps!)).toEqual([100, 300, 300, 50, 100]);
    expect(Array.from(dataset.ratings!)).toEqual([4, 5, 2, 1, 3]);
  });

  it('parses quoted fields: delimiters, doubled quotes and line breaks inside quotes', async () => {
    const path = fixture('quoted.csv', 'user,item,timestamp\n"a,1","x ""big"" one",1\n"b","multi\nline item",2\nb,"x ""big"" one",3\n');
    const dataset = await readInteractionLog(path);
    expect(dataset.externalUserIds).toEqual(['', 'a,1', 'b']);
    expect(dataset.externalItemIds).toEqual(['', 'x "big" one', 'multi\nline item']);
    expect(datasetToArrays(dataset)).toEqual([[1], [2, 1]]);
  });

  it('reads TSV by extension, keeps integer ids 1..N verbatim and renumbers other integers by value', async () => {
    const path = fixture('log.tsv', 'user_id\titem_id\trating\n2\t30\t1\n1\t10\t2\n2\t10\t3\n');
    const dataset = await readInteractionLog(path);
    expect(dataset.externalUserIds).toBeUndefined();
    expect(dataset.externalItemIds).toEqual(['', '10', '30']);
    expect(datasetToArrays(dataset)).toEqual([[1], [2, 1]]);
    expect(dataset.timestamps).toBeUndefined();
    expect(Array.from(dataset.ratings!)).toEqual([2, 1, 3]);
  });

  it('uses explicit column names or indices, ISO dates and millisecond timestamps', async () => {
    const iso = fixture('iso.csv', 'who;what;when\nx;p;2021-01-02T00:00:00Z\nx;q;2021-01-01T00:00:00Z\n');
    const dataset = await readInteractionLog(iso, { delimiter: ';', columns: { user: 'WHO', item: 1, timestamp: 'when' } });
    expect(datasetToArrays(dataset)).toEqual([[2, 1]]);
    expect(Array.from(dataset.timestamps!)).toEqual([Date.UTC(2021, 0, 1) / 1000, Date.UTC(2021, 0, 2) / 1000]);
    const ms = fixture('ms.csv', 'a,1,1500\na,2,500\n');
    const noHeader = await readInteractionLog(ms, { header: false, columns: { timestamp: 2 }, timestampUnit: 'milliseconds' });
    expect(datasetToArrays(noHeader)).toEqual([[2, 1]]);
    expect(Array.from(noHeader.timestamps!)).toEqual([0.5, 1.5]);
  });

  it('keeps first-seen order when asked', async () => {
    const path = fixture('order.csv', 'user,item\n1,20\n1,10\n');
    expect(datasetToArrays(await readInteractionLog(path, { idOrder: 'first-seen' }))).toEqual([[1, 2]]);
    expect(datasetToArrays(await readInteractionLog(path))).toEqual([[2, 1]]);
  });

  it('reads MovieLens :: files', async () => {
    const path = fixture('ratings.dat', '1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n1::914::3::978301968\n');
    const dataset = await readMovieLensRatings(path);
    expect(dataset.externalItemIds).toEqual(['', '661', '914', '1193']);
    expect(datasetToArrays(dataset)).toEqual([[3, 2, 1], [3]]);
    expect(Array.from(dataset.ratings!)).toEqual([5, 3, 3, 4]);
    expect(Array.from(dataset.timestamps!)).toEqual([978300760, 978301968, 978302109, 978298413]);
  });

  it('rejects a missing column with file and line', async () => {
    const path = fixture('short.csv', 'user,item,timestamp\na,b,1\nc,d\n');
    const error = await expectParseError(readInteractionLog(path), path, 3);
    expect(error.details.field).toBe('timestamp');
    const ml = fixture('short.dat', '1::2::5::100\n1::3::4\n');
    expect((await expectParseError(readMovieLensRatings(ml), ml, 2)).details.field).toBe('timestamp');
  });

  it('rejects a header without a user or item column, or a named column that is absent', async () => {
    const path = fixture('header.csv', 'customer,product\na,b\n');
    expect((await expectParseError(readInteractionLog(path), path, 1)).details.field).toBe('user');
    await expectParseError(readInteractionLog(path, { columns: { user: 'customer', item: 'sku' } }), path, 1);
  });

  it('rejects bad timestamps and ratings, empty ids, unclosed quotes, blank lines, empty files', async () => {
    const time = fixture('time.csv', 'user,item,timestamp\na,b,1\na,c,yesterday-ish\n');
    expect((await expectParseError(readInteractionLog(time), time, 3)).details.field).toBe('timestamp');
    const rating = fixture('rating.csv', 'user,item,rating\na,b,\n');
    expect((await expectParseError(readInteractionLog(rating), rating, 2)).details.field).toBe('rating');
    const emptyId = fixture('empty-id.csv', 'user,item\na,b\n,c\n');
    expect((await expectParseError(readInteractionLog(emptyId), emptyId, 3)).details.field).toBe('user');
    const quote = fixture('quote.csv', 'user,item\na,b\nc,"never closed\nd,e\n');
    await expectParseError(readInteractionLog(quote), quote, 3);
    const blank = fixture('blank.csv', 'user,item\na,b\n\nc,d\n');
    await expectParseError(readInteractionLog(blank), blank, 3);
    const empty = fixture('empty.csv', '');
    await expectParseError(readInteractionLog(empty), empty, 1);
    const headerOnly = fixture('header-only.csv', 'user,item\n');
    await expectParseError(readInteractionLog(headerOnly), headerOnly, 2);
  });

  it('rejects a column mapping by name without a header', async () => {
    const path = fixture('no-header.csv', 'a,b\n');
    const error: unknown = await readInteractionLog(path, { header: false, columns: { user: 'user' } }).catch((caught: unknown) => caught);
    expect(GenrecError.isInstance(error) && error.code).toBe('INVALID_OPTION');
  });
});

describe('interaction log hardening', () => {
  const code = async (promise: Promise<unknown>): Promise<unknown> =>
    promise.then(
      () => 'resolved',
      (error: unknown) => (GenrecError.isInstance(error) ? `${error.code} ${error.details.field}` : error),
    );

  it('rejects garbage timestamps such as "foo 12" (Date.parse made it 2001-12-01)', async () => {
    const path = fixture('garbage-time.csv', 'user,item,timestamp\na,b,1600000000\na,c,foo 12\n');
    const error = await expectParseError(readInteractionLog(path), path, 3);
    expect(error.details.field).toBe('timestamp');
    expect(error.message).toMatch(/"foo 12" is not valid/);
    for (const token of ['2021-02-30', '12/01/2021', '0x10', '2021-01-01T25:00']) {
      const other = fixture('other-time.csv', `user,item,timestamp\na,b,${token}\n`);
      await expectParseError(readInteractionLog(other), other, 2);
    }
  });

  it('reads zone-less ISO times as UTC whatever the machine zone, and honours explicit zones', async () => {
    const path = fixture('zones.csv', 'user,item,timestamp\na,x,2021-01-01T00:00:00\na,y,2021-01-01 06:00:00+05:30\na,z,2021-01-01\n');
    const zone = process.env.TZ;
    try {
      process.env.TZ = 'America/St_Johns';
      const dataset = await readInteractionLog(path);
      expect(Array.from(dataset.timestamps!)).toEqual([Date.UTC(2021, 0, 1) / 1000, Date.UTC(2021, 0, 1) / 1000, Date.UTC(2021, 0, 1, 0, 30) / 1000]);
      expect(dataset.externalItemIds).toEqual(['', 'x', 'y', 'z']);
      expect(datasetToArrays(dataset)).toEqual([[1, 3, 2]]); // x and z tie at midnight UTC (file order), y is 00:30 UTC
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
  });

  it('checks numeric timestamps against the range of dates in their unit', async () => {
    const path = fixture('range.csv', 'user,item,timestamp\na,b,9000000000000\n');
    await expectParseError(readInteractionLog(path), path, 2);
    expect(Array.from((await readInteractionLog(path, { timestampUnit: 'milliseconds' })).timestamps!)).toEqual([9e9]);
  });

  it('rejects unknown enum values and unknown options with INVALID_OPTION', async () => {
    const path = fixture('options.csv', 'user,item,timestamp\na,b,1\n');
    expect(await code(readInteractionLog(path, { timestampUnit: 'hours' as never }))).toBe('INVALID_OPTION timestampUnit');
    expect(await code(readInteractionLog(path, { idOrder: 'sorted' as never }))).toBe('INVALID_OPTION idOrder');
    expect(await code(readInteractionLog(path, { encoding: 'hex' as never }))).toBe('INVALID_OPTION encoding');
    expect(await code(readInteractionLog(path, { timestampUnits: 'seconds' } as never))).toBe('INVALID_OPTION timestampUnits');
    expect(await code(readInteractionLog(path, { columns: { users: 0 } as never }))).toBe('INVALID_OPTION users');
    expect(await code(readInteractionLog(path, { quote: '""' }))).toBe('INVALID_OPTION quote');
    expect(await code(readInteractionLog(path, { delimiter: '\n' }))).toBe('INVALID_OPTION delimiter');
    expect(await code(readInteractionLog(path, { header: 'yes' as never }))).toBe('INVALID_OPTION header');
    expect(await code(readMovieLensRatings(path, { delimiter: ',' } as never))).toBe('INVALID_OPTION delimiter');
  });

  it('requires every record to have the header\'s number of fields', async () => {
    const extra = fixture('extra.csv', 'user,item,timestamp\na,b,1\nc,d,2,e\n');
    expect((await expectParseError(readInteractionLog(extra), extra, 3)).message).toMatch(/expected 3 fields like the header, found more than 3/);
    const noHeader = fixture('no-header-extra.csv', 'a,b\nc,d,e\n');
    await expectParseError(readInteractionLog(noHeader, { header: false }), noHeader, 2);
  });

  it('rejects a quoted record over several lines longer than maxLineLength, and strict ratings', async () => {
    const path = fixture('long-record.csv', `user,item\na,"x\n${'y'.repeat(15)}\n${'z'.repeat(15)}"\n`);
    expect((await expectParseError(readInteractionLog(path, { maxLineLength: 30 }), path, 2)).message).toMatch(/record too long/);
    expect(datasetToArrays(await readInteractionLog(path, { maxLineLength: 40 }))).toEqual([[1]]);
    const rating = fixture('hex-rating.csv', 'user,item,rating\na,b,0x10\n');
    expect((await expectParseError(readInteractionLog(rating), rating, 2)).details.field).toBe('rating');
  });

  it('reports read-interactions progress', async () => {
    const text = 'user,item\na,b\n';
    const events: ProgressEvent[] = [];
    await readInteractionLog(fixture('progress.csv', text), { onProgress: (event) => void events.push(event) });
    expect(events.map((event) => [event.type, (event as { task: string }).task])).toEqual([
      ['task-start', 'read-interactions'],
      ['task-end', 'read-interactions'],
    ]);
    expect(events[1]).toMatchObject({ done: text.length, total: text.length, unit: 'bytes' });
  });
});

describe('readMovieLensRatings hardening', () => {
  it('refuses a line holding two records instead of dropping the second', async () => {
    const runTogether = fixture('run-together.dat', '1::10::5::978300760\n1::20::3::9783007612::30::4::978300762\n');
    const error = await expectParseError(readMovieLensRatings(runTogether), runTogether, 2);
    expect(error.message).toMatch(/expected 4 fields \(UserID::MovieID::Rating::Timestamp\), found more than 4; two records on one line/);
    const spaced = fixture('spaced.dat', '1::10::5::978300760 2::20::3::978300761\n');
    await expectParseError(readMovieLensRatings(spaced), spaced, 1);
  });

  it('refuses non-numeric, zero, negative and too large ids, and fractional timestamps', async () => {
    for (const [line, field] of [
      ['u1::10::5::978300760', 'user'],
      ['1::tt0111::5::978300760', 'item'],
      ['-1::10::5::978300760', 'user'],
      ['1::0::5::978300760', 'item'],
      ['1::+7::5::978300760', 'item'],
      ['2147483648::10::5::978300760', 'user'],
      ['1::10::5::978300760.5', 'timestamp'],
      ['1::10::five::978300760', 'rating'],
    ] as const) {
      const path = fixture('bad.dat', `1::10::5::978300760\n${line}\n`);
      expect((await expectParseError(readMovieLensRatings(path), path, 2)).details.field, line).toBe(field);
    }
  });
});
