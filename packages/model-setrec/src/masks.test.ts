import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interleavedCausalMask, prefixCrossMask, queryCausalMask, siblingMask } from './masks.js';

/** A position of a SETRec sequence, described the naive way. */
interface Slot {
  item: number;
  slot: number;
  kind: 'token' | 'query';
}

/** The naive rule, written from the paper's sentence, pair by pair. */
function allowedNaive(q: Slot, k: Slot, layout: 'history' | 'prefix-cross' | 'causal'): boolean {
  if (layout === 'prefix-cross') return k.item <= q.item; // query group t reads the tokens of items 0..t
  if (k.kind === 'query') return q.kind === 'query' && q.item === k.item && q.slot === k.slot; // a query is seen by itself only
  if (q.kind === 'token') return k.item < q.item || (k.item === q.item && k.slot === q.slot); // earlier items and itself, no sibling
  return k.item <= q.item; // a query reads every token of the items it follows
}

function naiveMatrix(positions: Slot[], keys: Slot[], layout: 'history' | 'prefix-cross' | 'causal'): number[] {
  return positions.flatMap((q) => keys.map((k) => (allowedNaive(q, k, layout) ? 1 : 0)));
}

function tokens(length: number, slots: number): Slot[] {
  return Array.from({ length: length * slots }, (_, i) => ({ item: Math.floor(i / slots), slot: i % slots, kind: 'token' as const }));
}

describe('SETRec masks', () => {
  it('the sibling mask: a token sees earlier items and itself, never a sibling (worked example)', () => {
    // 2 items x 2 tokens: item 0 = tokens 0, 1; item 1 = tokens 2, 3
    expect(Array.from(siblingMask(2, 2))).toEqual([1, 0, 0, 0, 0, 1, 0, 0, 1, 1, 1, 0, 1, 1, 0, 1]);
  });

  it('every builder equals the naive pairwise rule', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 6 }), (length, slots) => {
        const history = tokens(length, slots);
        expect(Array.from(siblingMask(length, slots))).toEqual(naiveMatrix(history, history, 'history'));
        const queries = history.map((t) => ({ ...t, kind: 'query' as const }));
        expect(Array.from(prefixCrossMask(length, slots))).toEqual(naiveMatrix(queries, history, 'prefix-cross'));
        // causal training layout: per item its tokens, then the queries that follow it
        const interleaved = Array.from({ length }, (_, t) => [
          ...Array.from({ length: slots }, (_, s) => ({ item: t, slot: s, kind: 'token' as const })),
          ...Array.from({ length: slots }, (_, s) => ({ item: t, slot: s, kind: 'query' as const })),
        ]).flat();
        expect(Array.from(interleavedCausalMask(length, slots))).toEqual(naiveMatrix(interleaved, interleaved, 'causal'));
        // causal inference layout: all tokens, then one query group after the last item
        const appended = [...history, ...Array.from({ length: slots }, (_, s) => ({ item: length - 1, slot: s, kind: 'query' as const }))];
        expect(Array.from(queryCausalMask(length, slots))).toEqual(naiveMatrix(appended, appended, 'causal'));
      }),
      { numRuns: 60, seed: 20261205 },
    );
  });

  it('nothing attends to the future, and every token of an earlier item is visible', () => {
    const length = 5;
    const slots = 3;
    const mask = siblingMask(length, slots);
    const size = length * slots;
    let visible = 0;
    for (let i = 0; i < size; i++) {
      for (let j = 0; j < size; j++) {
        const earlier = Math.floor(j / slots) < Math.floor(i / slots);
        if (Math.floor(j / slots) > Math.floor(i / slots)) expect(mask[i * size + j]).toBe(0);
        if (earlier) expect(mask[i * size + j]).toBe(1);
        visible += mask[i * size + j]!;
      }
    }
    // Σ_t slots·(t·slots + 1) over t = 0..4 = 3·(0 + 3 + 6 + 9 + 12) + 15
    expect(visible).toBe(105);
  });
});
