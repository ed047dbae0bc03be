/**
 * Ordered semantic ids: per item a tuple of `levels` codes (TIGER/OneRec style). The last level
 * may be a collision-breaking level whose size depends on the data.
 */
export interface SemanticIdTable {
  /** Number of code positions per item (including a collision level, if any). */
  readonly levels: number;
  /** Number of distinct codes each level may take (`codebookSizes[l]`). */
  readonly codebookSizes: readonly number[];
  /** Number of items in the table. */
  readonly itemCount: number;
  /** Item id of each row. */
  readonly itemIds: Int32Array;
  /** Codes, `itemCount x levels`, row-major; row `r` belongs to `itemIds[r]`. */
  readonly codes: Int32Array;
  /** True when the last level only breaks collisions between items sharing all other codes. */
  readonly hasCollisionLevel: boolean;
  /** The codes of an item (a view), or undefined for an unknown item. */
  codesOf(itemId: number): Int32Array | undefined;
  /** The item whose tuple equals `codes`, or undefined. */
  itemOf(codes: ArrayLike<number>): number | undefined;
}

/**
 * How level codes map to a model's vocabulary: code `c` of level `l` is token
 * `levelOffsets[l] + c`; special tokens (pad, start, end…) sit outside every level's range. A
 * trie, a model and an exported ONNX file that share a layout agree on every token id.
 */
export interface TokenLayout {
  /** Total vocabulary size (special tokens plus every level's codes). */
  readonly vocabularySize: number;
  /** First token id of each level. */
  readonly levelOffsets: readonly number[];
  /** Number of codes of each level. */
  readonly levelSizes: readonly number[];
  /** Special tokens by name; `pad` is always present. */
  readonly specialTokens: Readonly<{ pad: number; bos?: number; eos?: number } & Record<string, number>>;
}
