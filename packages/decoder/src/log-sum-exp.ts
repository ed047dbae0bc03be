/*
 * exp(-z / STEPS) for z in [0, LIMIT * STEPS): a table of exp(-k / STEPS) times a degree-5
 * Taylor polynomial of the remainder (|f| < 1 / STEPS, truncation error < 6e-18 relative). Terms
 * below exp(-LIMIT) (< 4.3e-18 of the largest term) are dropped. About 1.5x faster than Math.exp in
 * the beam search's per-row log-sum-exp; agrees with it to ~1e-15 (test: log-sum-exp.test.ts).
 */
const STEPS = 256;
const LIMIT = 40;
const CUTOFF = LIMIT * STEPS;
const TABLE = /* @__PURE__ */ (() => {
  const table = new Float64Array(CUTOFF + 1);
  for (let k = 0; k <= CUTOFF; k++) table[k] = Math.exp(-k / STEPS);
  return table;
})();

/**
 * `log(sum_i exp(values[offset + i]))` over `width` values whose maximum is `max` (finite),
 * in float64. `-Infinity` entries contribute nothing.
 */
export function logSumExpRow(values: Float32Array, offset: number, width: number, max: number): number {
  let sum = 0;
  const end = offset + width;
  for (let i = offset; i < end; i++) {
    const z = (max - values[i]!) * STEPS;
    if (!(z < CUTOFF)) continue;
    const k = z | 0;
    const f = (k - z) / STEPS;
    sum += TABLE[k]! * (1 + f * (1 + f * (0.5 + f * (1 / 6 + f * (1 / 24 + f / 120)))));
  }
  return max + Math.log(sum);
}
