import { GenrecError, createMatrix, type Matrix, type SetIdTable } from '@genrec/core';

/** The codes and codebooks of a discrete SETRec model. */
export interface DiscreteParts {
  /** `itemCount x slots` codes, row `j` = item `j + 1`, slot 0 = CF. */
  codes: Int32Array;
  /** One codebook per slot, `codebookSizes[s] x d` row-major (semantic codebooks in the rotated space). */
  codebooks: Float32Array[];
  /** Codes per slot. */
  codebookSizes: number[];
  /** OPQ rotation `R` of the concatenated semantic tokens (`n·d x n·d`, row-major): codes quantise `x R`. */
  rotation: Float32Array | undefined;
}

/**
 * A core `SetIdTable` over a discrete SETRec model's codes: slot `s` of item `i` is codeword
 * `codes[i][s]` of codebook `s` (semantic slots in the OPQ-rotated space, where the model's
 * semantic queries are rotated too). `@genrec/decoder`'s `SetIdDecoder` grounds per-slot code
 * distributions on it.
 */
export class DiscreteSetTable implements SetIdTable {
  /** Always `'discrete'`. */
  readonly variant = 'discrete' as const;
  /** n + 1. */
  readonly slotCount: number;
  /** `d` for every slot. */
  readonly slotDimensions: readonly number[];
  /** Items `1 .. itemCount`. */
  readonly itemIds: Int32Array;
  /** Catalogue size. */
  readonly itemCount: number;
  /** Codes per slot. */
  readonly codebookSizes: readonly number[];

  constructor(
    readonly parts: DiscreteParts,
    readonly slotWeights: Float32Array,
    itemCount: number,
    readonly dimension: number,
  ) {
    this.slotCount = parts.codebooks.length;
    this.slotDimensions = Array.from({ length: this.slotCount }, () => dimension);
    this.itemCount = itemCount;
    this.itemIds = Int32Array.from({ length: itemCount }, (_, j) => j + 1);
    this.codebookSizes = parts.codebookSizes;
    if (parts.codes.length !== itemCount * this.slotCount) throw new GenrecError('SHAPE_MISMATCH', `${parts.codes.length} codes for ${itemCount} items x ${this.slotCount} slots`);
  }

  /** The code of every item in slot `slot`. */
  slotCodes(slot: number): Int32Array {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.slotCount) throw new GenrecError('INVALID_INPUT', `slot ${slot} is outside 0..${this.slotCount - 1}`);
    const out = new Int32Array(this.itemCount);
    for (let i = 0; i < this.itemCount; i++) out[i] = this.parts.codes[i * this.slotCount + slot]!;
    return out;
  }

  /** The codeword of every item in slot `slot` (`itemCount x d`). */
  slotVectors(slot: number): Matrix {
    const codes = this.slotCodes(slot);
    const d = this.dimension;
    const codebook = this.parts.codebooks[slot]!;
    const out = createMatrix(this.itemCount, d);
    for (let i = 0; i < this.itemCount; i++) out.data.set(codebook.subarray(codes[i]! * d, (codes[i]! + 1) * d), i * d);
    return out;
  }

  /** Row `i` = `w_0 c_0(i) ‖ … ‖ w_n c_n(i)`: the inner product with concatenated (rotated) queries is the item's weighted score. */
  flatten(): Matrix {
    const d = this.dimension;
    const width = d * this.slotCount;
    const out = createMatrix(this.itemCount, width);
    for (let s = 0; s < this.slotCount; s++) {
      const vectors = this.slotVectors(s);
      const weight = this.slotWeights[s]!;
      for (let i = 0; i < this.itemCount; i++) for (let c = 0; c < d; c++) out.data[i * width + s * d + c] = weight * vectors.data[i * d + c]!;
    }
    return out;
  }
}
