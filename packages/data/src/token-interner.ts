import type { IdMap } from './id-map.js';

const DIRECT_LIMIT = 1 << 23;

/**
 * Speeds up {@link IdMap.add} for logs whose ids are mostly decimal integers: a token in canonical
 * form (digits, no leading zero) below 2^23 is looked up in a typed array indexed by its value
 * instead of hashing a fresh string; any other token goes to the map. The ids are exactly those
 * `map.add(token)` would give (the table is only a cache of the map). The table never grows past
 * 16 entries per distinct id seen plus 65,536, so a few huge ids cannot make it large. Internal to
 * the package.
 */
export class TokenInterner {
  private table = new Int32Array(1024);

  constructor(private readonly map: IdMap) {}

  /** The dense id of `token` in the map, adding it when new. */
  intern(token: string): number {
    const value = canonicalInteger(token);
    if (value < 0 || value >= DIRECT_LIMIT || (value >= this.table.length && value >= 16 * this.map.size + 65536)) return this.map.add(token);
    if (value >= this.table.length) {
      let length = this.table.length * 2;
      while (length <= value) length *= 2;
      const grown = new Int32Array(Math.min(length, DIRECT_LIMIT));
      grown.set(this.table);
      this.table = grown;
    }
    let id = this.table[value]!;
    if (id === 0) {
      id = this.map.add(token);
      this.table[value] = id;
    }
    return id;
  }
}

/** The value of a canonical decimal integer of at most 9 digits, else -1. */
function canonicalInteger(token: string): number {
  const length = token.length;
  if (length === 0 || length > 9 || (length > 1 && token.charCodeAt(0) === 48)) return -1;
  let value = 0;
  for (let i = 0; i < length; i++) {
    const digit = token.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}
