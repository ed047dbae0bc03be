/**
 * Where the first JSON syntax error of `text` is (Node 20's `JSON.parse` messages give no
 * position): a small recursive-descent reading of RFC 8259, returning the 1-based line and column
 * of the first character that cannot continue a valid document.
 *
 * @param text - text that `JSON.parse` refused
 * @returns the line and column, or undefined when the text is valid JSON
 * @example
 * ```ts
 * jsonErrorPosition('{\n  "a": [1,\n}'); // { line: 3, column: 1 }
 * ```
 */
export function jsonErrorPosition(text: string): { line: number; column: number } | undefined {
  let at = 0;
  const fail = (): never => {
    throw at;
  };
  const space = (): void => {
    while (at < text.length && ' \t\n\r'.includes(text[at]!)) at++;
  };
  const literal = (word: string): void => {
    for (const character of word) if (text[at++] !== character) ((at -= 1), fail());
  };
  const string = (): void => {
    at++; // the opening quote
    while (at < text.length && text[at] !== '"') {
      const character = text[at]!;
      if (character < ' ') fail();
      if (character === '\\') {
        at++;
        if (text[at] === 'u') {
          for (let i = 1; i <= 4; i++) if (!/[0-9a-fA-F]/.test(text[at + i] ?? '')) ((at += i), fail());
          at += 4;
        } else if (!'"\\/bfnrt'.includes(text[at] ?? 'x')) fail();
      }
      at++;
    }
    if (at >= text.length) fail();
    at++;
  };
  const number = (): void => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(at));
    if (!match || match[0] === '' || match[0] === '-') fail();
    at += match![0].length;
  };
  const value = (): void => {
    space();
    const character = text[at];
    if (character === '{') {
      at++;
      space();
      if (text[at] === '}') return void at++;
      for (;;) {
        space();
        if (text[at] !== '"') fail();
        string();
        space();
        if (text[at] !== ':') fail();
        at++;
        value();
        space();
        if (text[at] === ',') at++;
        else if (text[at] === '}') return void at++;
        else fail();
      }
    } else if (character === '[') {
      at++;
      space();
      if (text[at] === ']') return void at++;
      for (;;) {
        value();
        space();
        if (text[at] === ',') at++;
        else if (text[at] === ']') return void at++;
        else fail();
      }
    } else if (character === '"') string();
    else if (character === 't') literal('true');
    else if (character === 'f') literal('false');
    else if (character === 'n') literal('null');
    else number();
  };
  try {
    value();
    space();
    if (at < text.length) fail();
    return undefined;
  } catch (position) {
    if (typeof position !== 'number') throw position;
    const before = text.slice(0, position);
    const line = before.split('\n').length;
    return { line, column: position - before.lastIndexOf('\n') };
  }
}
