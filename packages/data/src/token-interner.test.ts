import { Rng } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { IdMap } from './id-map.js';
import { TokenInterner } from './token-interner.js';

describe('TokenInterner', () => {
  it('gives exactly the ids of IdMap.add on mixed tokens', () => {
    const rng = new Rng(6);
    const pool = ['0', '7', '007', '70', '-1', '1e3', 'abc', '', '123456789', '1234567890', String(1 << 23), String((1 << 23) - 1), '4000'];
    const reference = new IdMap();
    const interned = new IdMap();
    const interner = new TokenInterner(interned);
    for (let i = 0; i < 2000; i++) {
      const token = rng.uniform() < 0.5 ? pool[rng.int(pool.length)]! : String(rng.int(100000));
      expect(interner.intern(token)).toBe(reference.add(token));
    }
    expect(interned.externals()).toEqual(reference.externals());
  });
});
