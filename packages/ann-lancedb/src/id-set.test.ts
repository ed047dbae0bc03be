import { describe, expect, it } from 'vitest';
import { Rng } from '@genrec/core';
import { BITSET_ID_LIMIT, IdSet } from './id-set.js';

describe('IdSet', () => {
  it('matches a Set on random adds and deletes, small and large ids', () => {
    const rng = new Rng(3);
    const ids = new IdSet();
    const reference = new Set<number>();
    const pool = [0, 1, 31, 32, 33, 1000, 65_535, BITSET_ID_LIMIT - 1, BITSET_ID_LIMIT, 2 ** 31 - 1, ...Array.from({ length: 200 }, () => rng.int(5000))];
    for (let step = 0; step < 5000; step++) {
      const id = pool[rng.int(pool.length)]!;
      if (rng.uniform() < 0.6) {
        expect(ids.add(id)).toBe(!reference.has(id));
        reference.add(id);
      } else {
        expect(ids.delete(id)).toBe(reference.has(id));
        reference.delete(id);
      }
      expect(ids.size).toBe(reference.size);
    }
    for (const id of pool) expect(ids.has(id)).toBe(reference.has(id));
    expect(ids.has(5001)).toBe(false);
  });

  it('costs one bit per id value for dense ids: 10 million ids in 2 MiB', () => {
    const ids = new IdSet();
    for (let id = 1; id <= 10_000_000; id += 1) ids.add(id);
    expect(ids.size).toBe(10_000_000);
    expect(ids.bitsetBytes).toBeLessThanOrEqual(2 * 1024 * 1024);
    expect(ids.has(10_000_000)).toBe(true);
    expect(ids.has(10_000_001)).toBe(false);
  });
});
