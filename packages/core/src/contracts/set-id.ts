import type { Matrix } from '../matrix.js';

/**
 * Set identifiers (SETRec style): each item is a set of `slotCount` order-agnostic tokens — slot 0
 * is the collaborative (CF) token, slots 1.. are semantic tokens. In the continuous variant a
 * token is a vector; in the discrete variant it is a code of that slot's codebook (whose
 * codeword is the vector). An item's score for generated slot queries `q_s` is
 * `sum_s weight_s * <q_s, v_s(item)>`, which is one inner product over concatenated, weighted
 * vectors (see {@link SetIdTable.flatten}), so a vector index can ground generated tokens.
 */
export interface SetIdTable {
  /** `'continuous'` (vectors per slot) or `'discrete'` (codes per slot, codewords as vectors). */
  readonly variant: 'continuous' | 'discrete';
  /** Number of slots (n semantic + 1 CF). */
  readonly slotCount: number;
  /** Vector dimension of each slot. */
  readonly slotDimensions: readonly number[];
  /** Weight of each slot in the item score. */
  readonly slotWeights: Float32Array;
  /** Number of items. */
  readonly itemCount: number;
  /** Item id of each row. */
  readonly itemIds: Int32Array;
  /** The vectors of slot `s`: `itemCount x slotDimensions[s]` (codewords looked up for the discrete variant). */
  slotVectors(slot: number): Matrix;
  /** Discrete variant: the code of each item in slot `s`. Undefined for the continuous variant. */
  slotCodes?(slot: number): Int32Array;
  /** Discrete variant: codebook size of each slot. */
  readonly codebookSizes?: readonly number[];
  /**
   * Row `i` = concatenation over slots of `slotWeights[s] * slotVectors(s)[i]`: an item's score for
   * concatenated queries is one inner product with its row.
   */
  flatten(): Matrix;
}
