const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Escapes text for HTML element content and attribute values.
 *
 * @param text - any text
 * @returns the text with `& < > " '` replaced by entities
 * @example
 * ```ts
 * escapeHtml('<b>"x"</b>'); // '&lt;b&gt;&quot;x&quot;&lt;/b&gt;'
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ESCAPES[character]!);
}

/**
 * JSON for a `<script type="application/json">` block: `<`, `>`, `&` and the line separators
 * U+2028/U+2029 are written as `\uXXXX` escapes, so no string in the data can close the script
 * element; `JSON.parse` of the block's text gives the value back unchanged.
 *
 * @param value - a JSON-serialisable value
 * @returns the escaped JSON text
 * @example
 * ```ts
 * jsonForScript({ title: '</script>' }); // '{"title":"\\u003c/script\\u003e"}'
 * ```
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
