import { GenrecError, Rng, createSemanticIdTable, createTokenLayout, type TokenLayout } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { PrefixTrie } from './prefix-trie.js';

/** Naive reference: the allowed tokens after a token prefix, from a plain list of token tuples. */
function naiveAllowed(items: Map<number, number[]>, prefix: number[]): number[] {
  const allowed = new Set<number>();
  for (const tokens of items.values()) if (prefix.every((token, i) => tokens[i] === token) && tokens.length > prefix.length) allowed.add(tokens[prefix.length]!);
  return [...allowed].sort((a, b) => a - b);
}

function naivePrefixCount(items: Map<number, number[]>, levels: number): number {
  const prefixes = new Set<string>(['']);
  for (const tokens of items.values()) for (let l = 1; l <= levels; l++) prefixes.add(tokens.slice(0, l).join(','));
  return prefixes.size;
}

function toTokens(layout: TokenLayout, codes: number[]): number[] {
  return codes.map((code, level) => layout.levelOffsets[level]! + code);
}

/** Checks every structural fact of the trie against the naive reference. */
function expectMatchesReference(trie: PrefixTrie, items: Map<number, number[]>): void {
  expect(trie.itemCount).toBe(items.size);
  expect(trie.nodeCount).toBe(naivePrefixCount(items, trie.levels));
  const prefixes = new Set<string>(['']);
  for (const tokens of items.values()) for (let l = 0; l < trie.levels; l++) prefixes.add(tokens.slice(0, l).join(','));
  for (const key of prefixes) {
    const prefix = key === '' ? [] : key.split(',').map(Number);
    const expected = naiveAllowed(items, prefix);
    expect(Array.from(trie.allowedTokens(prefix))).toEqual(expected);
    const node = trie.walk(prefix);
    expect(trie.depth(node)).toBe(prefix.length);
    // The bitmask says exactly the same as the list.
    for (let token = 0; token < trie.vocabularySize; token++) expect(trie.isAllowed(node, token)).toBe(expected.includes(token));
  }
  for (const [id, tokens] of items) {
    expect(trie.itemAt(trie.walk(tokens))).toBe(id);
    expect(trie.itemOfTokens(tokens)).toBe(id);
    expect(Array.from(trie.tokensOf(id)!)).toEqual(tokens);
    expect(trie.isLeaf(trie.leafOf(id))).toBe(true);
  }
}

describe('PrefixTrie', () => {
  const layout = createTokenLayout({ levelSizes: [4, 3, 5] }); // tokens 3..6, 7..9, 10..14

  it('builds the allowed-token lists, bitmasks and leaves of a small table (hand-checked)', () => {
    const table = createSemanticIdTable({ itemIds: [10, 11, 12, 13], codes: [0, 1, 4, 0, 1, 2, 0, 2, 0, 3, 0, 0], levels: 3, codebookSizes: [4, 3, 5] });
    const trie = PrefixTrie.fromTable(table, layout);
    expect(Array.from(trie.allowedTokens([]))).toEqual([3, 6]);
    expect(Array.from(trie.allowedTokens([3]))).toEqual([8, 9]);
    expect(Array.from(trie.allowedTokens([3, 8]))).toEqual([12, 14]);
    expect(Array.from(trie.allowedTokens([6, 7]))).toEqual([10]);
    expect(Array.from(trie.allowedTokens([4]))).toEqual([]);
    expect(trie.walk([4])).toBe(-1);
    expect(trie.itemOfTokens([3, 8, 14])).toBe(10);
    expect(trie.itemOfTokens([3, 8, 12])).toBe(11);
    expect(trie.itemOfTokens([6, 7, 10])).toBe(13);
    // root + {3, 6} + {3-8, 3-9, 6-7} + 4 leaves
    expect(trie.nodeCount).toBe(1 + 2 + 3 + 4);
    expect(trie.maskWords).toBe(1);
    expect(trie.maskOf(trie.root)[0]).toBe((1 << 3) | (1 << 6));
    expect(trie.itemAt(trie.root)).toBe(-1);
  });

  it('matches a naive reference on a random table, with and without the bitmask', () => {
    const rng = new Rng(3);
    const items = new Map<number, number[]>();
    const seen = new Set<string>();
    const ids: number[] = [];
    const codes: number[] = [];
    while (items.size < 60) {
      const tuple = [rng.int(4), rng.int(3), rng.int(5)];
      if (seen.has(tuple.join())) continue;
      seen.add(tuple.join());
      const id = 100 + items.size * 7;
      items.set(id, toTokens(layout, tuple));
      ids.push(id);
      codes.push(...tuple);
    }
    const table = createSemanticIdTable({ itemIds: ids, codes, levels: 3, codebookSizes: [4, 3, 5] });
    expectMatchesReference(PrefixTrie.fromTable(table, layout), items);
    expectMatchesReference(PrefixTrie.fromTable(table, layout, { bitmask: false }), items);
  });

  it('stays equal to the reference through random inserts and removes (nodes pruned and reused)', () => {
    const big = createTokenLayout({ levelSizes: [6, 6, 6] });
    const trie = new PrefixTrie(big);
    const items = new Map<number, number[]>();
    const rng = new Rng(11);
    let nextId = 0;
    for (let operation = 0; operation < 600; operation++) {
      if (items.size > 0 && rng.uniform() < 0.45) {
        const ids = [...items.keys()];
        const id = ids[rng.int(ids.length)]!;
        trie.remove(id);
        items.delete(id);
        expect(trie.has(id)).toBe(false);
      } else {
        const tuple = [rng.int(6), rng.int(6), rng.int(6)];
        const tokens = toTokens(big, tuple);
        if ([...items.values()].some((other) => other.join() === tokens.join())) {
          expect(() => trie.insert(nextId, tuple)).toThrow(GenrecError);
          continue;
        }
        trie.insert(nextId, tuple);
        items.set(nextId++, tokens);
      }
      if (operation % 50 === 49) expectMatchesReference(trie, items);
    }
    expectMatchesReference(trie, items);
    for (const id of [...items.keys()]) trie.remove(id);
    expect(trie.nodeCount).toBe(1);
    expect(Array.from(trie.allowedTokens([]))).toEqual([]);
    // Node ids are reused: the slots never exceed the peak population by much.
    expect(trie.nodeIdLimit).toBeLessThan(1 + 6 + 36 + 216 + 1);
  });

  it('rejects bad input with GenrecError codes', () => {
    const table = createSemanticIdTable({ itemIds: [1], codes: [0, 0, 0], levels: 3, codebookSizes: [4, 3, 5] });
    const trie = PrefixTrie.fromTable(table, layout);
    const codeOf = (fn: () => unknown): string | undefined => {
      try {
        fn();
      } catch (error) {
        return GenrecError.isInstance(error) ? error.code : 'not a GenrecError';
      }
      return undefined;
    };
    expect(codeOf(() => trie.walk([3, 7, 10, 3]))).toBe('INVALID_INPUT'); // prefix longer than the id length
    expect(codeOf(() => trie.allowedTokens([3, 7, 10, 3]))).toBe('INVALID_INPUT');
    expect(codeOf(() => trie.insert(1, [1, 1, 1]))).toBe('DUPLICATE_ID');
    expect(codeOf(() => trie.insert(2, [0, 0, 0]))).toBe('INVALID_INPUT'); // same semantic id as item 1
    expect(codeOf(() => trie.insert(2, [0, 3, 0]))).toBe('INVALID_INPUT'); // code outside level 1
    expect(codeOf(() => trie.insert(2, [0, 0]))).toBe('SHAPE_MISMATCH');
    expect(codeOf(() => trie.remove(5))).toBe('UNKNOWN_ID');
    expect(codeOf(() => trie.depth(999))).toBe('INVALID_INPUT');
    const twoLevels = createTokenLayout({ levelSizes: [4, 3] });
    expect(codeOf(() => PrefixTrie.fromTable(table, twoLevels))).toBe('SHAPE_MISMATCH');
    const small = createTokenLayout({ levelSizes: [2, 3, 5] });
    expect(codeOf(() => PrefixTrie.fromTable(table, small))).toBe('SHAPE_MISMATCH'); // codebook 4 > layout 2
    expect(codeOf(() => new PrefixTrie(layout, { bitmask: false }).maskOf(0))).toBe('UNSUPPORTED');
  });

  it('builds the 12,000-id TIGER-sized catalogue quickly with the expected node count', () => {
    // Portable catalogue of the peer (README section 2): distinct splitmix64 codes, seed 7.
    const layoutTiger = createTokenLayout({ levelSizes: [256, 256, 256, 16] });
    const rng = new Rng(7);
    const seen = new Set<number>();
    const codes: number[] = [];
    const ids: number[] = [];
    while (ids.length < 12000) {
      const tuple = [rng.int(256), rng.int(256), rng.int(256), rng.int(16)];
      const key = ((tuple[0]! * 256 + tuple[1]!) * 256 + tuple[2]!) * 16 + tuple[3]!;
      if (seen.has(key)) continue;
      seen.add(key);
      ids.push(ids.length + 1);
      codes.push(...tuple);
    }
    const started = performance.now();
    const trie = PrefixTrie.fromTable(createSemanticIdTable({ itemIds: ids, codes, levels: 4, codebookSizes: [256, 256, 256, 16] }), layoutTiger);
    const seconds = (performance.now() - started) / 1000;
    const prefixes = new Set<string>();
    for (let i = 0; i < ids.length; i++) for (let l = 1; l <= 4; l++) prefixes.add(codes.slice(i * 4, i * 4 + l).join());
    expect(trie.nodeCount).toBe(1 + prefixes.size);
    expect(seconds).toBeLessThan(5);
  });
});
