import { describe, expect, it } from 'vitest';
import { emptyRecommendations, selectTopItems } from '@genrec/core';

// The baselines hand core's selectTopItems float64 score rows. It keeps its heap in the float32
// `Recommendations.scores`, so a float64 score compared with a stored float32 one used to break
// ties (0.7 is above its float32 rounding): regression test for that.
describe("core's selectTopItems with float64 rows", () => {
  it('keeps ties to the lower id when a score is not a float32 value', () => {
    const out = emptyRecommendations(1, 1);
    selectTopItems(Float64Array.from([0.7, 0.7, 0.1]), new Uint8Array(4), out, 0);
    expect(Array.from(out.items)).toEqual([1]);
    expect(out.scores[0]).toBe(Math.fround(0.7));
  });

  it('ranks scores that differ only beyond float32 precision as ties', () => {
    const out = emptyRecommendations(1, 2);
    selectTopItems(Float64Array.from([1, 1 + 1e-12, 0.5]), new Uint8Array(4), out, 0);
    expect(Array.from(out.items)).toEqual([1, 2]);
  });
});
