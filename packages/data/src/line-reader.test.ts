import { gzipSync } from 'node:zlib';
import { GenrecError, Rng, type ProgressEvent } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { referenceLines } from './fuzz/references.js';
import { forEachLine } from './line-reader.js';
import { expectError, fixtureDirectory } from './test-helpers.js';

const { fixture } = fixtureDirectory('genrec-data-lines-');

async function collect(path: string, options: Parameters<typeof forEachLine>[2] = {}): Promise<{ text: string; line: number }[]> {
  const lines: { text: string; line: number }[] = [];
  await forEachLine(path, (text, line) => void lines.push({ text, line }), options);
  return lines;
}

describe('forEachLine', () => {
  it('rejects a line longer than maxLineLength with PARSE_ERROR "line too long", file and line, inside the promise', async () => {
    const path = fixture('long.txt', `${'a'.repeat(50)}\n${'b'.repeat(100)}\n${'c'.repeat(101)}\nd\n`);
    const seen: number[] = [];
    const promise = forEachLine(path, (_, line) => void seen.push(line), { maxLineLength: 100 });
    const error = await expectError(promise, 'PARSE_ERROR', path, 3);
    expect(error.message).toMatch(/line too long: more than 100 characters/);
    expect(error.details.maxLineLength).toBe(100);
    expect(seen).toEqual([1, 2]);
  });

  it('stops a line that runs over many chunks as soon as it passes the bound', async () => {
    // 3 MiB without a line break after a short first line; the bound is 200,000 characters.
    const path = fixture('runaway.txt', `ok\n${'x'.repeat(3 << 20)}\n`);
    const events: ProgressEvent[] = [];
    const error = await expectError(
      forEachLine(path, () => {}, { maxLineLength: 200_000, onProgress: (event) => void events.push(event) }),
      'PARSE_ERROR',
      path,
      2,
    );
    expect(error.message).toMatch(/line too long/);
    expect(events.some((event) => event.type === 'task-end')).toBe(false);
  });

  it('splits at \\n, \\r\\n and lone \\r exactly like a naive split, across chunk boundaries, plain and gzip', async () => {
    // 200 KB files (several 64 KiB read chunks, more gzip output chunks) full of line breaks and
    // multi-byte characters, so breaks and characters fall on chunk edges.
    const rng = new Rng(5);
    const alphabet = ['a', 'b', ' ', '\r', '\n', '\r\n', '\u00e9', '\u{1f600}', '\u4e2d'];
    for (let file = 0; file < 12; file++) {
      const parts: string[] = [];
      for (let length = 0; length < 200_000; ) {
        const piece = rng.uniform() < 0.2 ? alphabet[rng.int(alphabet.length)]! : 'x'.repeat(1 + rng.int(40));
        parts.push(piece);
        length += piece.length;
      }
      const text = parts.join('');
      const data = new TextEncoder().encode(text);
      const expected = referenceLines(data, Number.POSITIVE_INFINITY, 'skip');
      expect(await collect(fixture(`breaks-${file}.txt`, data), { blankLines: 'skip' })).toEqual(expected);
      expect(await collect(fixture(`breaks-${file}.txt.gz`, gzipSync(data)), { blankLines: 'skip' })).toEqual(expected);
    }
  });

  it('keeps a \r\n that straddles the 64 KiB read chunk boundary as one line break', async () => {
    const path = fixture('straddle.txt', `${'a'.repeat(65535)}\r\nb\r${'c'.repeat(65533)}\r\nd\n`);
    const lines = await collect(path);
    expect(lines.map(({ text, line }) => [text.length, line])).toEqual([
      [65535, 1],
      [1, 2],
      [65533, 3],
      [1, 4],
    ]);
  });

  it('reads latin1 when asked', async () => {
    const path = fixture('latin1.txt', Buffer.from('caf\u00e9\n', 'latin1'));
    expect(await collect(path, { encoding: 'latin1' })).toEqual([{ text: 'caf\u00e9', line: 1 }]);
  });

  it('reports progress in bytes: task-start, task-progress about every MiB, task-end at the file size', async () => {
    const text = 'x'.repeat(99) + '\n';
    const path = fixture('progress.txt', text.repeat(30_000)); // 3,000,000 bytes
    const events: ProgressEvent[] = [];
    expect(await forEachLine(path, () => {}, { onProgress: (event) => void events.push(event) })).toBe(30_000);
    expect(events[0]).toMatchObject({ type: 'task-start', task: 'read-lines', done: 0, total: 3_000_000, unit: 'bytes' });
    const progress = events.filter((event) => event.type === 'task-progress');
    expect(progress.length).toBeGreaterThanOrEqual(2);
    for (let k = 1; k < progress.length; k++) expect((progress[k] as { done: number }).done).toBeGreaterThan((progress[k - 1] as { done: number }).done);
    expect(events.at(-1)).toMatchObject({ type: 'task-end', task: 'read-lines', done: 3_000_000, total: 3_000_000, metrics: { lines: 30_000 } });
  });

  it('rejects unknown options and invalid values with INVALID_OPTION', async () => {
    const path = fixture('ok.txt', 'a\n');
    const code = async (options: object): Promise<string | undefined> =>
      forEachLine(path, () => {}, options as never).then(
        () => undefined,
        (error: unknown) => (GenrecError.isInstance(error) ? `${error.code} ${error.details.field}` : String(error)),
      );
    expect(await code({ maxLineLenght: 5 })).toBe('INVALID_OPTION maxLineLenght');
    expect(await code({ maxLineLength: 0 })).toBe('INVALID_OPTION maxLineLength');
    expect(await code({ maxLineLength: 2 ** 29 })).toBe('INVALID_OPTION maxLineLength');
    expect(await code({ encoding: 'hex' })).toBe('INVALID_OPTION encoding');
    expect(await code({ blankLines: 'ignore' })).toBe('INVALID_OPTION blankLines');
    expect(await code({ gzip: 'yes' })).toBe('INVALID_OPTION gzip');
    expect(await code({ allowEmpty: 1 })).toBe('INVALID_OPTION allowEmpty');
  });
});
