import { describe, expect, it } from 'vitest';
import { createSemanticIdTable } from './semantic-id-table.js';
import { codeOf, createTokenLayout, tokenOf } from './token-layout.js';

describe('token layout', () => {
  it('reproduces the TIGER peer layout (PAD 0, BOS 1, EOS 2, levels from 3)', () => {
    const layout = createTokenLayout({ levelSizes: [256, 256, 256, 16] });
    expect(layout.levelOffsets).toEqual([3, 259, 515, 771]);
    expect(layout.vocabularySize).toBe(787);
    expect(layout.specialTokens).toEqual({ pad: 0, bos: 1, eos: 2 });
    expect(tokenOf(layout, 3, 15)).toBe(786);
    expect(codeOf(layout, 258)).toEqual({ level: 0, code: 255 });
    expect(codeOf(layout, 259)).toEqual({ level: 1, code: 0 });
    expect(codeOf(layout, 1)).toBeUndefined();
    expect(() => tokenOf(layout, 3, 16)).toThrowError(/outside the layout/);
    expect(() => createTokenLayout({ levelSizes: [4], specialTokens: ['bos'] })).toThrowError(/pad/);
  });
});

describe('semantic id table', () => {
  it('looks up items and codes both ways', () => {
    const table = createSemanticIdTable({ itemIds: [10, 20, 30], codes: [0, 1, 0, 0, 1, 1, 2, 0, 0], levels: 3, hasCollisionLevel: true });
    expect(table.codebookSizes).toEqual([3, 2, 2]);
    expect(Array.from(table.codesOf(20)!)).toEqual([0, 1, 1]);
    expect(table.codesOf(99)).toBeUndefined();
    expect(table.itemOf([2, 0, 0])).toBe(30);
    expect(table.itemOf(new Int32Array([0, 1, 0]))).toBe(10);
    expect(table.itemOf([0, 1])).toBeUndefined();
  });

  it('refuses shared tuples, repeated items and out-of-range codes', () => {
    expect(() => createSemanticIdTable({ itemIds: [1, 2], codes: [0, 1, 0, 1], levels: 2 })).toThrowError(/share the semantic id/);
    expect(() => createSemanticIdTable({ itemIds: [1, 1], codes: [0, 1, 0, 0], levels: 2 })).toThrowError(/appears twice/);
    expect(() => createSemanticIdTable({ itemIds: [1], codes: [0, 5], levels: 2, codebookSizes: [2, 2] })).toThrowError(/outside 0..1/);
    expect(() => createSemanticIdTable({ itemIds: [1], codes: [0, 5, 1], levels: 2 })).toThrowError(/expected items x levels/);
  });
});
