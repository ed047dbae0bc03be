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
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (this.inQuotes) {
        if (c === quote) {
          if (text[i + 1] === quote) {
            this.current += quote;
            i++;
          } else {
            this.inQuotes = false;
          }
        } else {
          this.current += c;
        }
      } else if (c === quote && !this.fieldStarted) {
        this.inQuotes = true;
        this.fieldStarted = true;
      } else if (text.startsWith(delimiter, i)) {
        this.fields.push(this.current);
        this.current = '';
        this.fieldStarted = false;
        i += delimiter.length - 1;
      } else {
        this.current += c;
        this.fieldStarted = true;
      }
    }
    if (this.inQuotes) {
      this.current += '\n';
      return undefined;
    }
    this.fields.push(this.current);
    const record = this.fields;
    this.fields = [];
    this.current = '';
    this.fieldStarted = false;
    return record;
  }
}
