import { GenrecError } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { IdMap } from './id-map.js';

describe('IdMap', () => {
  it('assigns dense 1-based ids and maps back', () => {
    const map = new IdMap();
    expect(map.add('x')).toBe(1);
    expect(map.add('y')).toBe(2);
    expect(map.add('x')).toBe(1);
    expect(map.size).toBe(2);
    expect(map.idOf('y')).toBe(2);
    expect(map.idOf('z')).toBeUndefined();
    expect(map.externalOf(1)).toBe('x');
    expect(map.externals()).toEqual(['', 'x', 'y']);
    expect(map.isVerbatim()).toBe(false);
    for (const bad of [0, 3, 1.5]) expect(() => map.externalOf(bad)).toThrow(GenrecError);
    expect(() => map.requireId('z')).toThrow(/unknown external id/);
  });

  it('densifies numerically (verbatim when already 1..N), by first appearance, or automatically', () => {
    const map = new IdMap();
    for (const id of ['3', '1', '2']) map.add(id);
    const numeric = map.densify('numeric');
    expect(numeric.map.isVerbatim()).toBe(true);
    expect(Array.from(numeric.remap)).toEqual([0, 3, 1, 2]);
    const gaps = new IdMap();
    for (const id of ['30', '7', '100']) gaps.add(id);
    const ranked = gaps.densify('auto');
    expect(ranked.map.externals()).toEqual(['', '7', '30', '100']);
    expect(Array.from(ranked.remap)).toEqual([0, 2, 1, 3]);
    const mixed = new IdMap();
    for (const id of ['b', '1']) mixed.add(id);
    expect(Array.from(mixed.densify('auto').remap)).toEqual([0, 1, 2]);
    expect(() => mixed.densify('numeric')).toThrow(GenrecError);
    expect(mixed.densify('first-seen').map).toBe(mixed);
  });

  it('round-trips through fromExternals and builds verbatim maps', () => {
    const map = IdMap.fromExternals(['', 'a', 'b']);
    expect(map.idOf('b')).toBe(2);
    expect(() => IdMap.fromExternals(['', 'a', 'a'])).toThrow(/twice/);
    expect(IdMap.verbatim(3).externals()).toEqual(['', '1', '2', '3']);
    expect(IdMap.verbatim(3).isVerbatim()).toBe(true);
  });
});
