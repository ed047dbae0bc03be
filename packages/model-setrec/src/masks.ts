/**
 * SETRec's attention masks as "allowed" matrices (1 = may attend), row-major `[queries, keys]`.
 *
 * History layout: item column `t` (0-based, oldest first) contributes `slots` tokens at indices
 * `t * slots + s`. A history token sees the tokens of earlier items and itself, never its sibling
 * tokens (the other tokens of its own item) nor later items: the sparse sibling mask.
 *
 * Padding is not part of these constant masks; the graphs combine them with a key-padding mask.
 */

/**
 * The sparse sibling mask over `length` items of `slots` tokens each:
 * `allowed(i, j) = item(j) < item(i) || i === j`.
 *
 * @param length - history columns
 * @param slots - tokens per item (n + 1)
 * @returns `[length·slots, length·slots]` row-major
 * @example
 * ```ts
 * siblingMask(2, 2); // item 0: tokens 0, 1; item 1: tokens 2, 3 → rows [1,0,0,0], [0,1,0,0], [1,1,1,0], [1,1,0,1]
 * ```
 */
export function siblingMask(length: number, slots: number): Uint8Array {
  const size = length * slots;
  const out = new Uint8Array(size * size);
  for (let i = 0; i < size; i++) {
    const item = Math.floor(i / slots);
    out.fill(1, i * size, i * size + item * slots); // every token of the earlier items
    out[i * size + i] = 1; // itself
  }
  return out;
}

/**
 * Cross-attention of the per-position queries of the query decoder in training: the query group
 * of column `t` (its `slots` queries, index `t * slots + s`) reads the encoder tokens of items
 * `0..t` (its prefix) and predicts item `t + 1`: `allowed(i, j) = item(j) <= item(i)`.
 *
 * @param length - history columns
 * @param slots - tokens (and queries) per item
 * @returns `[length·slots, length·slots]` row-major
 * @example
 * ```ts
 * prefixCrossMask(2, 1); // [1, 0, 1, 1]
 * ```
 */
export function prefixCrossMask(length: number, slots: number): Uint8Array {
  const size = length * slots;
  const out = new Uint8Array(size * size);
  for (let i = 0; i < size; i++) out.fill(1, i * size, i * size + (Math.floor(i / slots) + 1) * slots);
  return out;
}

/**
 * The causal backbone's training layout: column `t` holds its item's `slots` tokens at
 * `t * 2·slots + s`, then the `slots` queries that predict item `t + 1` at `t * 2·slots + slots + s`.
 * A token follows the sibling mask over tokens and never sees a query; a query sees every token of
 * items `0..t` and itself, never another query.
 *
 * @param length - history columns
 * @param slots - tokens (and queries) per item
 * @returns `[2·length·slots, 2·length·slots]` row-major
 * @example
 * ```ts
 * interleavedCausalMask(1, 1); // token, query: [1, 0], [1, 1]
 * ```
 */
export function interleavedCausalMask(length: number, slots: number): Uint8Array {
  const group = 2 * slots;
  const size = length * group;
  const out = new Uint8Array(size * size);
  for (let i = 0; i < size; i++) {
    const item = Math.floor(i / group);
    const isQuery = i % group >= slots;
    const lastItem = isQuery ? item : item - 1;
    for (let t = 0; t <= lastItem; t++) out.fill(1, i * size + t * group, i * size + t * group + slots);
    out[i * size + i] = 1;
  }
  return out;
}

/**
 * The causal backbone at inference: the `length·slots` history tokens (sibling mask), then one
 * group of `slots` queries, each seeing every history token and itself.
 *
 * @param length - history columns
 * @param slots - tokens (and queries) per item
 * @returns `[(length + 1)·slots, (length + 1)·slots]` row-major
 * @example
 * ```ts
 * queryCausalMask(1, 1); // token, query: [1, 0], [1, 1]
 * ```
 */
export function queryCausalMask(length: number, slots: number): Uint8Array {
  const tokens = length * slots;
  const size = tokens + slots;
  const out = new Uint8Array(size * size);
  const history = siblingMask(length, slots);
  for (let i = 0; i < tokens; i++) out.set(history.subarray(i * tokens, (i + 1) * tokens), i * size);
  for (let i = tokens; i < size; i++) {
    out.fill(1, i * size, i * size + tokens);
    out[i * size + i] = 1;
  }
  return out;
}
