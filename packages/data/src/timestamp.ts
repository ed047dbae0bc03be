/**
 * Strict parsing of the timestamps and numbers found in interaction logs. Internal to the package
 * (the readers document the rules).
 */

/** Units a numeric timestamp may be in. */
export const TIMESTAMP_UNITS = ['seconds', 'milliseconds'] as const;

/** The unit of numeric timestamps in a log. */
export type TimestampUnit = (typeof TIMESTAMP_UNITS)[number];

/**
 * Largest magnitude of a timestamp, in seconds from 1970-01-01T00:00:00Z: 8.64e12 s (±100,000,000
 * days), the range of a JavaScript `Date`. Anything outside is not a time.
 */
export const MAX_TIMESTAMP_SECONDS = 8.64e12;

const DECIMAL_NUMBER = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const ISO_DATE_TIME =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]{1,9}))?)?(?:([Zz])|([+-])([0-9]{2})(?::?([0-9]{2}))?)?)?$/;

/**
 * A decimal number (`12`, `-3.5`, `.5`, `1e9`; no hex, no `Infinity`, no `_`, no inner spaces) as
 * a finite number, or `undefined`. Surrounding whitespace is ignored.
 */
export function parseDecimal(token: string): number | undefined {
  const trimmed = token.trim();
  if (!DECIMAL_NUMBER.test(trimmed)) return undefined;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : undefined;
}

/**
 * A timestamp token as seconds since 1970-01-01T00:00:00Z, or a string saying why it is not one.
 * Accepted: a decimal number in `unit`, or an ISO 8601 / RFC 3339 date (`2021-03-04`), date-time
 * (`2021-03-04T05:06:07`, `T` or a space, optional seconds and fraction) with an optional zone
 * (`Z`, `+02:00`, `+0200`, `+02`). A value without a zone is UTC, whatever the machine's zone.
 * Fields are range-checked (month 1-12, day within the month, hour 0-23, minute and second 0-59,
 * zone offset below 24 h), and the result must lie within {@link MAX_TIMESTAMP_SECONDS}.
 */
export function parseTimestamp(token: string, unit: TimestampUnit): number | string {
  const trimmed = token.trim();
  if (trimmed === '') return 'it is empty';
  if (DECIMAL_NUMBER.test(trimmed)) {
    const value = Number(trimmed) * (unit === 'milliseconds' ? 1e-3 : 1);
    if (!Number.isFinite(value) || Math.abs(value) > MAX_TIMESTAMP_SECONDS) {
      return `it is outside the range of dates (±${MAX_TIMESTAMP_SECONDS} seconds, read as ${unit})`;
    }
    return value;
  }
  const match = ISO_DATE_TIME.exec(trimmed);
  if (!match) return 'it is neither a decimal number nor an ISO 8601 date (YYYY-MM-DD[THH:MM[:SS[.fff]]][Z|±HH:MM])';
  const [, yearText, monthText, dayText, hourText, minuteText, secondText, fractionText, , sign, zoneHourText, zoneMinuteText] = match;
  const year = Number(yearText);
  const month = Number(monthText);
  const day = Number(dayText);
  const hour = hourText === undefined ? 0 : Number(hourText);
  const minute = minuteText === undefined ? 0 : Number(minuteText);
  const second = secondText === undefined ? 0 : Number(secondText);
  if (month < 1 || month > 12) return `month ${monthText} is not in 01-12`;
  if (day < 1 || day > daysInMonth(year, month)) return `day ${dayText} is not in month ${monthText} of ${yearText}`;
  if (hour > 23) return `hour ${hourText} is not in 00-23`;
  if (minute > 59) return `minute ${minuteText} is not in 00-59`;
  if (second > 59) return `second ${secondText} is not in 00-59`;
  let offset = 0;
  if (sign !== undefined) {
    const zoneHour = Number(zoneHourText);
    const zoneMinute = zoneMinuteText === undefined ? 0 : Number(zoneMinuteText);
    if (zoneHour > 23 || zoneMinute > 59) return `zone offset ${sign}${zoneHourText}:${zoneMinuteText ?? '00'} is not a valid offset`;
    offset = (sign === '-' ? -1 : 1) * (zoneHour * 3600 + zoneMinute * 60);
  }
  const fraction = fractionText === undefined ? 0 : Number(`0.${fractionText}`);
  return daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second + fraction - offset;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's `days_from_civil`). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}
