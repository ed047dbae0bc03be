/**
 * Gini index of non-negative values (0 = perfectly equal, towards 1 = concentrated on one entry):
 * `G = sum_i (2i - n + 1) x_(i) / (n sum x)` over the values sorted ascending (0-based i).
 * All-zero input gives 0.
 *
 * @param values - non-negative values, e.g. recommendation counts or exposure per item
 * @returns the Gini index
 * @example
 * ```ts
 * giniIndex([1, 1, 1, 1]); // 0
 * giniIndex([0, 0, 0, 4]); // 0.75
 * ```
 */
export function giniIndex(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  let total = 0;
  let weighted = 0;
  for (let i = 0; i < n; i++) {
    total += sorted[i]!;
    weighted += (2 * i - n + 1) * sorted[i]!;
  }
  return total === 0 ? 0 : weighted / (n * total);
}

/**
 * Shannon entropy in bits of the distribution proportional to non-negative `values`
 * (`-sum p log2 p`, terms with p = 0 omitted). All-zero input gives 0.
 *
 * @param values - non-negative counts or masses
 * @returns entropy in bits
 * @example
 * ```ts
 * shannonEntropy([1, 1, 1, 1]); // 2
 * ```
 */
export function shannonEntropy(values: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i]!;
  if (total === 0) return 0;
  let entropy = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v > 0) {
      const p = v / total;
      entropy -= p * Math.log2(p);
    }
  }
  return entropy;
}
