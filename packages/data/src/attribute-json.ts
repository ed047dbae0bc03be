import { GenrecError } from '@genrec/core';

/** Receives what {@link AttributeJsonParser} reads. Internal to the package. */
export interface AttributeEntrySink {
  /** An object key (digits only, as written) on `line`. */
  beginItem(idText: string, line: number): void;
  /** One element of the current key's list (digits only, as written). */
  attribute(idText: string, line: number): void;
  /** The current key's list is closed. */
  endItem(): void;
}

// Parser states.
const START = 0;
const KEY_OR_END = 1;
const KEY = 2;
const IN_KEY = 3;
const COLON = 4;
const LIST_OPEN = 5;
const VALUE_OR_LIST_END = 6;
const VALUE = 7;
const IN_NUMBER = 8;
const COMMA_OR_LIST_END = 9;
const COMMA_OR_END = 10;
const DONE = 11;

/** Longest key or number accepted, in digits (2^53 has 16). */
const MAX_DIGITS = 16;

/**
 * A streaming parser for the one JSON shape of S3-Rec's `*_item2attributes.json`: an object whose
 * keys are decimal item ids and whose values are lists of non-negative integer literals,
 * `{"1": [1, 2, 3], "156": [7, 2]}`. Anything else (other value types, escapes in keys, fractions,
 * exponents, signs, a second top-level value) is a `PARSE_ERROR` naming the file, the line and the
 * column, raised at the first wrong character. Keys and numbers are bounded to
 * {@link MAX_DIGITS} digits, so memory stays bounded by what the sink keeps. Chunks may split
 * tokens anywhere. Internal to the package.
 */
export class AttributeJsonParser {
  private state = START;
  private token = '';
  private line = 1;
  private column = 0;
  private tokenLine = 1;
  private first = true;
  private items = 0;

  constructor(
    private readonly file: string,
    private readonly sink: AttributeEntrySink,
  ) {}

  /** Parses the next piece of text. */
  feed(chunk: string): void {
    let start = 0;
    if (this.first && chunk.length > 0) {
      this.first = false;
      if (chunk.charCodeAt(0) === 0xfeff) start = 1;
    }
    for (let i = start; i < chunk.length; i++) {
      const code = chunk.charCodeAt(i);
      if (code === 10) {
        this.line++;
        this.column = 0;
      } else {
        this.column++;
      }
      this.step(code);
    }
  }

  /** Checks that the text ended after a complete object. */
  end(): void {
    if (this.state === START) this.fail('the file is empty; expected a JSON object {"item_id": [attribute_id, ...]}');
    if (this.state !== DONE) this.fail('unexpected end of file inside the JSON object (the file may be truncated)');
    if (this.items === 0) this.fail('the object lists no items');
  }

  private step(code: number): void {
    const whitespace = code === 32 || code === 10 || code === 13 || code === 9;
    switch (this.state) {
      case START:
        if (whitespace) return;
        if (code !== 123 /* { */) this.unexpected(code, 'a JSON object ("{")');
        this.state = KEY_OR_END;
        return;
      case KEY_OR_END:
      case KEY:
        if (whitespace) return;
        if (code === 125 /* } */ && this.state === KEY_OR_END) {
          this.state = DONE;
          return;
        }
        if (code !== 34 /* " */) this.unexpected(code, this.state === KEY ? 'a quoted item id' : 'a quoted item id or "}"');
        this.state = IN_KEY;
        this.token = '';
        this.tokenLine = this.line;
        return;
      case IN_KEY:
        if (code === 34) {
          if (this.token === '') this.fail('an empty key; keys must be item ids');
          this.sink.beginItem(this.token, this.tokenLine);
          this.items++;
          this.state = COLON;
          return;
        }
        if (code < 48 || code > 57) this.fail(`object keys must be item ids written as decimal digits; found ${describe(code)} in a key`);
        if (this.token.length >= MAX_DIGITS) this.fail(`item id "${this.token}…" has more than ${MAX_DIGITS} digits`);
        this.token += String.fromCharCode(code);
        return;
      case COLON:
        if (whitespace) return;
        if (code !== 58 /* : */) this.unexpected(code, '":"');
        this.state = LIST_OPEN;
        return;
      case LIST_OPEN:
        if (whitespace) return;
        if (code !== 91 /* [ */) this.unexpected(code, 'a list of attribute ids ("[")');
        this.state = VALUE_OR_LIST_END;
        return;
      case VALUE_OR_LIST_END:
      case VALUE:
        if (whitespace) return;
        if (code === 93 /* ] */ && this.state === VALUE_OR_LIST_END) {
          this.sink.endItem();
          this.state = COMMA_OR_END;
          return;
        }
        if (code < 48 || code > 57) this.unexpected(code, 'an attribute id (a non-negative integer)');
        this.state = IN_NUMBER;
        this.token = String.fromCharCode(code);
        this.tokenLine = this.line;
        return;
      case IN_NUMBER:
        if (code >= 48 && code <= 57) {
          if (this.token.length >= MAX_DIGITS) this.fail(`attribute id "${this.token}…" has more than ${MAX_DIGITS} digits`);
          this.token += String.fromCharCode(code);
          return;
        }
        if (code === 46 /* . */ || code === 101 /* e */ || code === 69 /* E */) this.fail(`attribute id ${this.token}${describe(code)}… is not an integer`);
        this.sink.attribute(this.token, this.tokenLine);
        this.state = COMMA_OR_LIST_END;
        this.step(code);
        return;
      case COMMA_OR_LIST_END:
        if (whitespace) return;
        if (code === 44 /* , */) {
          this.state = VALUE;
          return;
        }
        if (code !== 93) this.unexpected(code, '"," or "]"');
        this.sink.endItem();
        this.state = COMMA_OR_END;
        return;
      case COMMA_OR_END:
        if (whitespace) return;
        if (code === 44) {
          this.state = KEY;
          return;
        }
        if (code !== 125) this.unexpected(code, '"," or "}"');
        this.state = DONE;
        return;
      default:
        if (!whitespace) this.unexpected(code, 'nothing after the closing "}"');
    }
  }

  private unexpected(code: number, expected: string): never {
    return this.fail(`expected ${expected}, found ${describe(code)}`);
  }

  private fail(message: string): never {
    throw new GenrecError('PARSE_ERROR', `${message} at column ${this.column}`, { details: { file: this.file, line: this.line } });
  }
}

function describe(code: number): string {
  if (code < 32 || code === 127) return `the control character U+${code.toString(16).padStart(4, '0')}`;
  return JSON.stringify(String.fromCharCode(code));
}
