/**
 * A strict parser for the subset of Python literal syntax that `.npy` headers use (numpy reads them
 * with `ast.literal_eval`): dicts, tuples, lists, single- or double-quoted strings without escapes,
 * plain decimal integers, `True`, `False` and `None`, with Python's whitespace (space, tab, form
 * feed, newlines) and `#` comments between tokens.
 *
 * Everything else is refused, also where Python would accept it (escapes, string prefixes, adjacent
 * strings, signs, `0x`/`0o`/`0b`, `_` in numbers, leading zeros, the Python 2 `L` suffix that numpy
 * filters out of old headers): numpy never writes those, and refusing is safer than guessing.
 * Whatever this parser accepts, Python reads as the same value.
 */

/** A parsed Python literal. */
export type PythonValue =
  | { readonly kind: 'str'; readonly value: string }
  | { readonly kind: 'int'; readonly value: bigint }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'none' }
  | { readonly kind: 'tuple' | 'list'; readonly items: readonly PythonValue[] }
  | { readonly kind: 'dict'; readonly entries: readonly (readonly [PythonValue, PythonValue])[] };

/** Thrown by {@link parsePythonLiteral}; the caller turns it into a GenrecError. */
export class PythonLiteralError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at character ${offset}`);
  }
}

const MAX_DEPTH = 32;
const WHITESPACE = new Set([' ', '\t', '\f', '\n', '\r']);

/**
 * Parses one Python literal filling `text` (only whitespace and comments around it).
 *
 * @throws PythonLiteralError on anything outside the subset
 */
export function parsePythonLiteral(text: string): PythonValue {
  let position = 0;
  const fail = (message: string): never => {
    throw new PythonLiteralError(message, position);
  };

  const skipSpace = (): void => {
    while (position < text.length) {
      const char = text[position]!;
      if (WHITESPACE.has(char)) position++;
      else if (char === '#') {
        while (position < text.length && text[position] !== '\n' && text[position] !== '\r') position++;
      } else break;
    }
  };

  const expect = (char: string): void => {
    skipSpace();
    if (text[position] !== char) fail(`expected "${char}", found ${describeChar(text[position])}`);
    position++;
  };

  // after an item of a container: a comma (optionally followed by the closing bracket) or the closing bracket
  const afterItem = (closing: string): 'next' | 'end' => {
    skipSpace();
    const char = text[position];
    if (char === ',') {
      position++;
      skipSpace();
      if (text[position] === closing) {
        position++;
        return 'end';
      }
      return 'next';
    }
    if (char === closing) {
      position++;
      return 'end';
    }
    return fail(`expected "," or "${closing}", found ${describeChar(char)}`);
  };

  const value = (depth: number): PythonValue => {
    if (depth > MAX_DEPTH) fail(`nested deeper than ${MAX_DEPTH} levels`);
    skipSpace();
    const char = text[position];
    if (char === undefined) return fail('unexpected end of the header');
    if (char === '{') {
      position++;
      const entries: [PythonValue, PythonValue][] = [];
      skipSpace();
      if (text[position] === '}') {
        position++;
        return { kind: 'dict', entries };
      }
      for (;;) {
        const key = value(depth + 1);
        expect(':');
        entries.push([key, value(depth + 1)]);
        if (afterItem('}') === 'end') return { kind: 'dict', entries };
      }
    }
    if (char === '(' || char === '[') {
      const closing = char === '(' ? ')' : ']';
      position++;
      const items: PythonValue[] = [];
      skipSpace();
      if (text[position] === closing) {
        position++;
        return { kind: char === '(' ? 'tuple' : 'list', items };
      }
      let sawComma = false;
      for (;;) {
        items.push(value(depth + 1));
        skipSpace();
        if (text[position] === ',') sawComma = true;
        if (afterItem(closing) === 'end') break;
      }
      // "(x)" is x itself; "(x,)" and "(x, y)" are tuples
      if (char === '(' && items.length === 1 && !sawComma) return items[0]!;
      return { kind: char === '(' ? 'tuple' : 'list', items };
    }
    if (char === "'" || char === '"') {
      const start = ++position;
      while (position < text.length && text[position] !== char) {
        const inner = text[position]!;
        if (inner === '\\') fail('backslash escapes are not supported');
        if (inner === '\n' || inner === '\r') fail('unterminated string');
        position++;
      }
      if (position >= text.length) fail('unterminated string');
      const result = text.slice(start, position);
      position++;
      if (result === '' && text[position] === char) fail('triple-quoted strings are not supported');
      skipSpace();
      if (text[position] === "'" || text[position] === '"') fail('adjacent strings are not supported');
      return { kind: 'str', value: result };
    }
    if (char >= '0' && char <= '9') {
      const start = position;
      while (position < text.length && /[0-9A-Za-z_.]/.test(text[position]!)) position++;
      const token = text.slice(start, position);
      if (!/^(0|[1-9][0-9]*)$/.test(token)) {
        position = start;
        fail(`${JSON.stringify(token)} is not a plain decimal integer`);
      }
      return { kind: 'int', value: BigInt(token) };
    }
    if (/[A-Za-z_]/.test(char)) {
      const start = position;
      while (position < text.length && /[A-Za-z0-9_]/.test(text[position]!)) position++;
      const name = text.slice(start, position);
      if (name === 'True' || name === 'False') return { kind: 'bool', value: name === 'True' };
      if (name === 'None') return { kind: 'none' };
      position = start;
      return fail(`${JSON.stringify(name)} is not a literal`);
    }
    return fail(`unexpected ${describeChar(char)}`);
  };

  if (text.includes('\0')) {
    position = text.indexOf('\0');
    fail('NUL character');
  }
  // ast.literal_eval strips leading spaces and tabs; Python then skips blank and comment-only
  // lines, and the literal must start its line (an indented first line is an "unexpected indent")
  while (text[position] === ' ' || text[position] === '\t') position++;
  for (;;) {
    const lineStart = position;
    while (text[position] === ' ' || text[position] === '\t' || text[position] === '\f') position++;
    if (text[position] === '#') while (position < text.length && text[position] !== '\n' && text[position] !== '\r') position++;
    if (text[position] === '\n' || text[position] === '\r') {
      position++;
      continue;
    }
    // a form feed resets Python's indentation count: only what follows the last one counts
    const indentation = text.slice(lineStart, position);
    if (indentation !== '' && !indentation.endsWith('\f')) fail('the literal is indented');
    break;
  }
  const result = value(0);
  const end = position;
  skipSpace();
  if (position < text.length) fail(`unexpected ${describeChar(text[position])} after the literal`);
  // Python also refuses a last line (after the literal's line, not ended by a newline) of spaces
  // or tabs only: an "unexpected indent"
  const lastLineStart = Math.max(text.lastIndexOf('\n'), text.lastIndexOf('\r')) + 1;
  if (lastLineStart > end) {
    const lastLine = text.slice(lastLineStart);
    if (/^[ \t\f]*$/.test(lastLine) && lastLine.slice(lastLine.lastIndexOf('\f') + 1) !== '') {
      position = lastLineStart;
      fail('the last line is indented');
    }
  }
  return result;
}

function describeChar(char: string | undefined): string {
  return char === undefined ? 'the end' : JSON.stringify(char);
}
