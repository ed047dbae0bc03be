import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { GenrecError, type ProgressEvent } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { datasetToArrays, validateSequenceDataset } from './sequence-dataset.js';
import { readSequenceFile } from './sequence-file.js';
import { expectError, fixtureDirectory } from './test-helpers.js';

const { directory, fixture } = fixtureDirectory('genrec-data-sequence-');

describe('readSequenceFile', () => {
  it('reads contiguous integer ids verbatim, rows in file order', async () => {
    const path = fixture('plain.txt', '2 3 1\n1 1 2 4\n3 4\n');
    const dataset = await readSequenceFile(path);
    validateSequenceDataset(dataset);
    expect(dataset.name).toBe('plain');
    expect(dataset.userCount).toBe(3);
    expect(dataset.itemCount).toBe(4);
    expect(Array.from(dataset.offsets)).toEqual([0, 2, 5, 6]);
    expect(Array.from(dataset.items)).toEqual([3, 1, 1, 2, 4, 4]);
    expect(Array.from(dataset.userIds)).toEqual([2, 1, 3]);
    expect(dataset.externalItemIds).toBeUndefined();
    expect(dataset.externalUserIds).toBeUndefined();
    expect(dataset.timestamps).toBeUndefined();
  });

  it('renumbers non-contiguous integer ids by value and keeps the originals', async () => {
    const path = fixture('gaps.txt', '10 30 7\n20 7 100\n');
    const dataset = await readSequenceFile(path);
    expect(dataset.itemCount).toBe(3);
    expect(datasetToArrays(dataset)).toEqual([
      [2, 1],
      [1, 3],
    ]);
    expect(dataset.externalItemIds).toEqual(['', '7', '30', '100']);
    expect(Array.from(dataset.userIds)).toEqual([1, 2]);
    expect(dataset.externalUserIds).toEqual(['', '10', '20']);
  });

  it('treats 0 as an ordinary id that is renumbered (0 is padding)', async () => {
    const dataset = await readSequenceFile(fixture('zero.txt', '1 0 1\n2 1\n'));
    expect(datasetToArrays(dataset)).toEqual([[1, 2], [2]]);
    expect(dataset.externalItemIds).toEqual(['', '0', '1']);
  });

  it('reads string ids in first-seen order', async () => {
    const dataset = await readSequenceFile(fixture('strings.txt', 'alice B00X A11\nbob A11 C22\n'), { idType: 'string', name: 'x' });
    expect(dataset.name).toBe('x');
    expect(datasetToArrays(dataset)).toEqual([
      [1, 2],
      [2, 3],
    ]);
    expect(dataset.externalItemIds).toEqual(['', 'B00X', 'A11', 'C22']);
    expect(dataset.externalUserIds).toEqual(['', 'alice', 'bob']);
  });

  it('accepts CRLF, tabs, several spaces, a BOM, trailing blank lines and gzip', async () => {
    const text = '\ufeff1 1\t2   3\r\n2 3 4\r\n\r\n\n';
    const expected = [
      [1, 2, 3],
      [3, 4],
    ];
    expect(datasetToArrays(await readSequenceFile(fixture('crlf.txt', text)))).toEqual(expected);
    expect(datasetToArrays(await readSequenceFile(fixture('crlf.txt.gz', gzipSync(Buffer.from(text)))))).toEqual(expected);
  });

  it('rejects a non-numeric id with file and line', async () => {
    const path = fixture('bad-id.txt', '1 1 2\n2 3 x4 5\n');
    const error = await expectError(readSequenceFile(path), 'PARSE_ERROR', path, 2);
    expect(error.details.field).toBe('item');
    expect(error.details.column).toBe(3);
    const userPath = fixture('bad-user.txt', '1 1 2\nu2 3\n');
    expect((await expectError(readSequenceFile(userPath), 'PARSE_ERROR', userPath, 2)).details.field).toBe('user');
  });

  it('rejects an empty line in the middle, naming that line', async () => {
    const path = fixture('blank.txt', '1 1 2\n2 2 3\n\n3 3 4\n');
    const error = await expectError(readSequenceFile(path), 'PARSE_ERROR', path, 3);
    expect(error.message).toMatch(/empty line/);
    const leading = fixture('leading-blank.txt', '  \n1 1 2\n');
    await expectError(readSequenceFile(leading), 'PARSE_ERROR', leading, 1);
  });

  it('rejects a line without items (missing column)', async () => {
    const path = fixture('no-items.txt', '1 1 2\n2 2\n3\n');
    await expectError(readSequenceFile(path), 'PARSE_ERROR', path, 3);
  });

  it('rejects an empty file and a blank-only file', async () => {
    const empty = fixture('empty.txt', '');
    expect((await expectError(readSequenceFile(empty), 'PARSE_ERROR', empty, 1)).message).toMatch(/empty/);
    const blank = fixture('blank-only.txt', '\n\n');
    await expectError(readSequenceFile(blank), 'PARSE_ERROR', blank, 1);
  });

  it('rejects a repeated user and ids beyond int32', async () => {
    const path = fixture('repeat.txt', '1 1\n2 2\n1 3\n');
    expect((await expectError(readSequenceFile(path), 'PARSE_ERROR', path, 3)).message).toMatch(/line 1/);
    const big = fixture('big.txt', '1 99999999999\n');
    await expectError(readSequenceFile(big), 'PARSE_ERROR', big, 1);
  });

  it('reports a missing file as NOT_FOUND and a directory as IO_ERROR', async () => {
    const missing = join(directory, 'missing.txt');
    await expectError(readSequenceFile(missing), 'NOT_FOUND', missing, undefined);
    await expectError(readSequenceFile(directory), 'IO_ERROR', directory, undefined);
  });

  it('reports a corrupt gzip file as IO_ERROR with the file', async () => {
    const path = fixture('corrupt.txt.gz', Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    const error: unknown = await readSequenceFile(path).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(GenrecError.isInstance(error)).toBe(true);
    expect((error as GenrecError).code).toBe('IO_ERROR');
    expect((error as GenrecError).details.file).toBe(path);
  });
});

describe('readSequenceFile hardening', () => {
  it('rejects a line longer than maxLineLength as PARSE_ERROR "line too long" with file and line', async () => {
    const path = fixture('long-line.txt', `1 1 2\n2 ${'3 '.repeat(40)}\n`);
    expect((await expectError(readSequenceFile(path, { maxLineLength: 50 }), 'PARSE_ERROR', path, 2)).message).toMatch(/line too long/);
    expect((await readSequenceFile(path, { maxLineLength: 100 })).items.length).toBe(42);
  });

  it('renumbers sparse ids far above the number of ids by value', async () => {
    // 300,000 > 4 x 6 ids + 65,536: renumbered through a sort (the child-process test covers 2^31 - 1)
    const dataset = await readSequenceFile(fixture('sparse.txt', '300000 100000 3\n5 3 299999\n'));
    expect(datasetToArrays(dataset)).toEqual([
      [2, 1],
      [1, 3],
    ]);
    expect(dataset.externalItemIds).toEqual(['', '3', '100000', '299999']);
    expect(dataset.externalUserIds).toEqual(['', '5', '300000']);
    expect(Array.from(dataset.userIds)).toEqual([2, 1]);
  });

  it('rejects unknown options and unknown idType values with INVALID_OPTION', async () => {
    const path = fixture('options.txt', '1 1\n');
    const code = (options: object): Promise<unknown> =>
      readSequenceFile(path, options as never).then(
        () => 'resolved',
        (error: unknown) => (GenrecError.isInstance(error) ? `${error.code} ${error.details.field}` : error),
      );
    expect(await code({ idType: 'int' })).toBe('INVALID_OPTION idType');
    expect(await code({ idTypes: 'string' })).toBe('INVALID_OPTION idTypes');
    expect(await code({ maxLineLength: -1 })).toBe('INVALID_OPTION maxLineLength');
  });

  it('reports read-sequences progress in bytes of the file', async () => {
    const text = '1 1 2 3\n2 2 3\n';
    const events: ProgressEvent[] = [];
    await readSequenceFile(fixture('progress.txt', text), { onProgress: (event) => void events.push(event) });
    expect(events.map((event) => event.type)).toEqual(['task-start', 'task-end']);
    expect(events[1]).toMatchObject({ task: 'read-sequences', done: text.length, total: text.length, unit: 'bytes', metrics: { lines: 2 } });
  });
});
