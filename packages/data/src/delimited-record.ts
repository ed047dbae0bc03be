/**
 * Splits delimited text records (CSV, TSV, `::`-separated) into fields, RFC 4180 style: a field
 * that starts with the quote character runs to the matching closing quote, `""` inside it is one
 * quote, and it may contain the delimiter and line breaks (the record then continues on the next
 * line). Feed it one line at a time. Internal to the package.
 */
export class DelimitedRecordParser {
  private fields: string[] = [];
  private current = '';
  private inQuotes = false;
  private fieldStarted = false;

  /**
   * @param delimiter - the field separator (one or more characters).
   * @param quote - the quote character, or `null` for formats without quoting.
   */
  constructor(
    private readonly delimiter: string,
    private readonly quote: string | null,
  ) {}

  /** True while a quoted field is open across lines. */
  get pending(): boolean {
    return this.inQuotes;
  }

  /**
   * Parses one line. Returns the record's fields, or `undefined` when a quoted field is still
   * open and the record continues on the next line.
   */
  feed(text: string): string[] | undefined {
    const { delimiter, quote } = this;
    if (!this.inQuotes && this.fields.length === 0 && !this.fieldStarted && (quote === null || !text.includes(quote))) {
      return text.split(delimiter);
    }
    let i = 0;
    for (;;) {
      if (this.inQuotes) {
        const close = text.indexOf(quote!, i);
        if (close < 0) {
          // The quoted field runs on to the next line.
          this.current += `${text.slice(i)}\n`;
          return undefined;
        }
        this.current += text.slice(i, close);
        if (text[close + 1] === quote) {
          this.current += quote;
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
        this.current += text.slice(i);
        break;
      }
      this.current += text.slice(i, next);
      this.fields.push(this.current);
      this.current = '';
      this.fieldStarted = false;
      i = next + delimiter.length;
    }
    this.fields.push(this.current);
    const record = this.fields;
    this.fields = [];
    this.current = '';
    this.fieldStarted = false;
    return record;
  }
}
