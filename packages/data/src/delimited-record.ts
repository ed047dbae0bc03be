/**
 * Splits delimited text records (CSV, TSV, `::`-separated) into fields, RFC 4180 style: a field
 * that starts with the quote character runs to the matching closing quote, `""` inside it is one
 * quote, and it may contain the delimiter and line breaks (the record then continues on the next
 * line; the line break is kept as `\n`). Feed it one line at a time. Internal to the package.
 *
 * Two bounds keep memory proportional to what a caller uses: a record continued over several lines
 * may hold at most `maxRecordLength` characters (then {@link feed} throws {@link RecordTooLongError}),
 * and at most `fieldLimit` fields of a record are returned (the rest of the record is still parsed,
 * so quotes keep their meaning, but not kept).
 */
export class DelimitedRecordParser {
  private fields: string[] = [];
  private current = '';
  private inQuotes = false;
  private fieldStarted = false;
  private recordLength = 0;

  /**
   * @param delimiter - the field separator (one or more characters).
   * @param quote - the quote character, or `null` for formats without quoting.
   * @param maxRecordLength - longest record (all its lines together) in characters.
   */
  constructor(
    private readonly delimiter: string,
    private readonly quote: string | null,
    private readonly maxRecordLength: number = Number.POSITIVE_INFINITY,
  ) {}

  /** True while a quoted field is open across lines. */
  get pending(): boolean {
    return this.inQuotes;
  }

  /**
   * Parses one line. Returns the record's first `fieldLimit` fields (all of them by default), or
   * `undefined` when a quoted field is still open and the record continues on the next line.
   *
   * @throws RecordTooLongError when a record continued over lines exceeds `maxRecordLength`.
   */
  feed(text: string, fieldLimit: number = Number.POSITIVE_INFINITY): string[] | undefined {
    const { delimiter, quote } = this;
    if (!this.inQuotes && this.fields.length === 0 && !this.fieldStarted && (quote === null || !text.includes(quote))) {
      return Number.isFinite(fieldLimit) ? text.split(delimiter, fieldLimit) : text.split(delimiter);
    }
    this.recordLength += text.length + 1;
    if (this.recordLength > this.maxRecordLength) {
      this.reset();
      throw new RecordTooLongError(this.maxRecordLength);
    }
    let keep = this.fields.length < fieldLimit;
    let i = 0;
    for (;;) {
      if (this.inQuotes) {
        const close = text.indexOf(quote!, i);
        if (close < 0) {
          // The quoted field runs on to the next line.
          if (keep) this.current += `${text.slice(i)}\n`;
          return undefined;
        }
        if (keep) this.current += text.slice(i, close);
        if (text[close + 1] === quote) {
          if (keep) this.current += quote;
          i = close + 2;
          continue;
        }
        this.inQuotes = false;
        i = close + 1;
      }
      if (!this.fieldStarted && quote !== null && text[i] === quote) {
        this.inQuotes = true;
        this.fieldStarted = true;
        i++;
        continue;
      }
      // Unquoted text (or text after a closing quote, kept literally) up to the next delimiter.
      const next = text.indexOf(delimiter, i);
      if (next < 0) {
        if (keep) this.current += text.slice(i);
        break;
      }
      if (keep) {
        this.current += text.slice(i, next);
        this.fields.push(this.current);
        keep = this.fields.length < fieldLimit;
      }
      this.current = '';
      this.fieldStarted = false;
      i = next + delimiter.length;
    }
    if (keep) this.fields.push(this.current);
    const record = this.fields;
    this.reset();
    return record;
  }

  private reset(): void {
    this.fields = [];
    this.current = '';
    this.inQuotes = false;
    this.fieldStarted = false;
    this.recordLength = 0;
  }
}

/** Thrown by {@link DelimitedRecordParser.feed} for a record over its length bound. Internal. */
export class RecordTooLongError extends Error {
  constructor(readonly maxRecordLength: number) {
    super(`record too long: more than ${maxRecordLength} characters`);
  }
}
