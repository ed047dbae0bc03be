import { Rng } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { DelimitedRecordParser } from './delimited-record.js';

/** RFC 4180 writer: quote a field when it holds a delimiter, quote or line break. */
function writeField(value: string): string {
  return /[",\n]/.test(value) || value.startsWith(' ') ? `"${value.replace(/"/g, '""')}"` : value;
}

describe('DelimitedRecordParser', () => {
  it('splits plain, quoted and multi-line records (goldens)', () => {
    const parser = new DelimitedRecordParser(',', '"');
    expect(parser.feed('a,b,,c')).toEqual(['a', 'b', '', 'c']);
    expect(parser.feed('"a,1","say ""hi""",x')).toEqual(['a,1', 'say "hi"', 'x']);
    expect(parser.feed('"',)).toBeUndefined();
    expect(parser.pending).toBe(true);
    expect(parser.feed('still open""')).toBeUndefined();
    expect(parser.feed('closed",tail,')).toEqual(['\nstill open"\nclosed', 'tail', '']);
    expect(parser.feed('mid"quote,"x"y')).toEqual(['mid"quote', 'xy']);
    expect(new DelimitedRecordParser('::', null).feed('1::2::"3"')).toEqual(['1', '2', '"3"']);
    expect(new DelimitedRecordParser('\t', '"').feed('"a\tb"\tc')).toEqual(['a\tb', 'c']);
  });

  it('round-trips random fields written RFC 4180 style', () => {
    const rng = new Rng(4);
    const alphabet = ['a', 'b', ',', '"', '\n', ' ', 'x'];
    for (let trial = 0; trial < 300; trial++) {
      const fields = Array.from({ length: 1 + rng.int(5) }, () => Array.from({ length: rng.int(6) }, () => alphabet[rng.int(alphabet.length)]!).join(''));
      const lines = fields.map(writeField).join(',').split('\n');
      const parser = new DelimitedRecordParser(',', '"');
      let record: string[] | undefined;
      for (const line of lines) record = parser.feed(line);
      expect(record).toEqual(fields);
    }
  });
});
