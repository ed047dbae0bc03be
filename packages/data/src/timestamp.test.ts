import { Rng } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { parseDecimal, parseTimestamp } from './timestamp.js';

describe('parseTimestamp', () => {
  it('reads numbers in the unit and ISO 8601 dates with zones (golden values from Date.UTC)', () => {
    expect(parseTimestamp('1600000000', 'seconds')).toBe(1_600_000_000);
    expect(parseTimestamp(' 1500 ', 'milliseconds')).toBe(1.5);
    expect(parseTimestamp('-86400', 'seconds')).toBe(-86400);
    expect(parseTimestamp('1.5e9', 'seconds')).toBe(1.5e9);
    expect(parseTimestamp('2021-03-04', 'seconds')).toBe(Date.UTC(2021, 2, 4) / 1000);
    expect(parseTimestamp('2021-03-04T05:06:07Z', 'seconds')).toBe(Date.UTC(2021, 2, 4, 5, 6, 7) / 1000);
    expect(parseTimestamp('2021-03-04 05:06', 'seconds')).toBe(Date.UTC(2021, 2, 4, 5, 6) / 1000);
    expect(parseTimestamp('2021-03-04T05:06:07+02:00', 'seconds')).toBe(Date.UTC(2021, 2, 4, 3, 6, 7) / 1000);
    expect(parseTimestamp('2021-03-04T05:06:07.25-0130', 'seconds')).toBe(Date.UTC(2021, 2, 4, 6, 36, 7, 250) / 1000);
    expect(parseTimestamp('2021-03-04t05:06:07+05', 'seconds')).toBe(Date.UTC(2021, 2, 4, 0, 6, 7) / 1000);
    expect(parseTimestamp('2000-02-29', 'seconds')).toBe(Date.UTC(2000, 1, 29) / 1000);
    expect(parseTimestamp('1969-12-31T23:59:59z', 'seconds')).toBe(-1);
    expect(parseTimestamp('0001-01-01', 'seconds')).toBe(new Date('0001-01-01T00:00:00Z').getTime() / 1000);
  });

  it('reads zone-less date-times as UTC, whatever the machine time zone', () => {
    const zone = process.env.TZ;
    try {
      process.env.TZ = 'Asia/Kolkata';
      expect(new Date(2021, 0, 1).getTime()).not.toBe(Date.UTC(2021, 0, 1)); // the zone change took effect
      expect(parseTimestamp('2021-01-01T00:00:00', 'seconds')).toBe(Date.UTC(2021, 0, 1) / 1000);
      expect(parseTimestamp('2021-01-01 00:00', 'seconds')).toBe(Date.UTC(2021, 0, 1) / 1000);
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
  });

  it('agrees with Date.parse on 2,000 random RFC 3339 UTC times over years 0000-9999', () => {
    const rng = new Rng(11);
    const pad = (value: number, width: number): string => String(value).padStart(width, '0');
    for (let k = 0; k < 2000; k++) {
      const year = rng.int(10000);
      const month = 1 + rng.int(12);
      const day = 1 + rng.int(28);
      const text = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${pad(rng.int(24), 2)}:${pad(rng.int(60), 2)}:${pad(rng.int(60), 2)}.${pad(rng.int(1000), 3)}Z`;
      expect(parseTimestamp(text, 'seconds'), text).toBe(Date.parse(text) / 1000);
    }
  });

  it('rejects garbage, impossible fields and out-of-range values with a reason', () => {
    const garbage = [
      'foo 12', // Date.parse reads this as 2001-12-01
      '12 foo',
      '',
      '   ',
      'yesterday',
      '2021/01/02',
      '2021-1-2',
      'Mon, 04 Mar 2021 05:06:07 GMT',
      '2021-01-01T',
      '2021-01-01Z',
      '0x10',
      '1_000',
      'Infinity',
      'NaN',
      '1e400',
      '1 2',
      '2021-13-01',
      '2021-00-10',
      '2021-02-29',
      '1900-02-29',
      '2021-04-31',
      '2021-01-01T24:00',
      '2021-01-01T00:60',
      '2021-01-01T00:00:60',
      '2021-01-01T00:00:00+24:00',
      '2021-01-01T00:00:00+05:60',
      '9e12',
    ];
    for (const token of garbage) expect(typeof parseTimestamp(token, 'seconds'), token).toBe('string');
    expect(typeof parseTimestamp('9e15', 'milliseconds')).toBe('string');
    expect(parseTimestamp('8.64e15', 'milliseconds')).toBe(8.64e12);
  });
});

describe('parseDecimal', () => {
  it('accepts decimal numbers only', () => {
    expect(parseDecimal(' 4.5 ')).toBe(4.5);
    expect(parseDecimal('.5')).toBe(0.5);
    expect(parseDecimal('3.')).toBe(3);
    expect(parseDecimal('-2e-1')).toBe(-0.2);
    for (const token of ['', ' ', '0x10', '0b1', '1_0', 'Infinity', '-Infinity', 'NaN', '1e999', '4,5', '5 stars', '+', '.']) {
      expect(parseDecimal(token), token).toBeUndefined();
    }
  });
});
