/**
 * The keys of every object in a JSON text, in file order, with the first key that an object
 * repeats. `JSON.parse` keeps the last of duplicate keys silently; formats that forbid duplicates
 * (safetensors) scan the text with this after `JSON.parse` accepted it.
 */
export interface JsonKeyScan {
  /** The top-level object's keys in file order (JavaScript objects reorder integer-like keys). */
  readonly topLevelKeys: readonly string[];
  /** The first repeated key, with the path of the object holding it (`[]` for the top level). */
  readonly duplicate?: { readonly key: string; readonly path: readonly string[] };
}

interface Frame {
  readonly isObject: boolean;
  readonly keys: Set<string>;
  /** The enclosing frame and this value's key in it (objects) — the path is built only when needed. */
  readonly parent: Frame | undefined;
  readonly keyInParent: string | undefined;
  expectKey: boolean;
  lastKey: string;
}

function pathOf(frame: Frame): string[] {
  const path: string[] = [];
  for (let current: Frame | undefined = frame; current?.parent !== undefined; current = current.parent) {
    if (current.keyInParent !== undefined) path.unshift(current.keyInParent);
  }
  return path;
}

/**
 * Scans a JSON text that `JSON.parse` has accepted. Runs in one pass without recursion, so deep
 * nesting cannot overflow the stack.
 *
 * @param text - valid JSON
 * @returns the top-level keys and the first duplicate key, if any
 */
export function scanJsonKeys(text: string): JsonKeyScan {
  const stack: Frame[] = [];
  const topLevelKeys: string[] = [];
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (char === 0x22 /* " */) {
      let end = i + 1;
      while (end < text.length && text.charCodeAt(end) !== 0x22) end += text.charCodeAt(end) === 0x5c /* \ */ ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top?.isObject && top.expectKey) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (top.keys.has(key)) return { topLevelKeys, duplicate: { key, path: pathOf(top) } };
        top.keys.add(key);
        top.lastKey = key;
        top.expectKey = false;
        if (stack.length === 1) topLevelKeys.push(key);
      }
      i = end;
    } else if (char === 0x7b /* { */ || char === 0x5b /* [ */) {
      const parent = stack[stack.length - 1];
      const keyInParent = parent?.isObject ? parent.lastKey : undefined;
      stack.push({ isObject: char === 0x7b, keys: new Set(), parent, keyInParent, expectKey: true, lastKey: '' });
    } else if (char === 0x7d /* } */ || char === 0x5d /* ] */) {
      stack.pop();
    } else if (char === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top?.isObject) top.expectKey = true;
    }
  }
  return { topLevelKeys };
}
