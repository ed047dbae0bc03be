import { GenrecError } from '@genrec/core';

/** What {@link addCollisionLevel} returns. */
export interface CollisionLevelResult {
  /** Codes with one more level: `rows x (levels + 1)`, row-major. */
  codes: Int32Array;
  /** Size the collision level needs: the largest group of items sharing all `levels` codes. */
  collisionLevelSize: number;
  /** Items whose `levels` codes are also another item's. */
  collidingItems: number;
  /** Distinct `levels`-code tuples. */
  distinctTuples: number;
}

/**
 * Appends TIGER's disambiguation token: among rows sharing all `levels` codes, the i-th row (in row
 * order) gets token i, so (12,24,52) twice becomes (12,24,52,0) and (12,24,52,1). The level is as
 * large as the largest group (not a fixed 16: on Toys titles groups of ~60–76 items occur).
 *
 * @throws GenrecError `SHAPE_MISMATCH` when `codes.length` is not a multiple of `levels`.
 * @example
 * ```ts
 * addCollisionLevel(Int32Array.from([1, 2, 1, 2, 3, 4]), 2).codes; // [1,2,0, 1,2,1, 3,4,0]
 * ```
 */
export function addCollisionLevel(codes: Int32Array, levels: number): CollisionLevelResult {
  if (!Number.isInteger(levels) || levels < 1 || codes.length % levels !== 0) {
    throw new GenrecError('SHAPE_MISMATCH', `${codes.length} codes do not form rows of ${levels}`);
  }
  const rows = codes.length / levels;
  const out = new Int32Array(rows * (levels + 1));
  const groupSize = new Map<string, number>();
  for (let row = 0; row < rows; row++) {
    const key = tupleKey(codes, row * levels, levels);
    const index = groupSize.get(key) ?? 0;
    groupSize.set(key, index + 1);
    out.set(codes.subarray(row * levels, (row + 1) * levels), row * (levels + 1));
    out[row * (levels + 1) + levels] = index;
  }
  let largest = 0;
  let colliding = 0;
  for (const size of groupSize.values()) {
    largest = Math.max(largest, size);
    if (size > 1) colliding += size;
  }
  return { codes: out, collisionLevelSize: Math.max(1, largest), collidingItems: colliding, distinctTuples: groupSize.size };
}

/** A map key for `length` codes starting at `offset`. */
export function tupleKey(codes: ArrayLike<number>, offset: number, length: number): string {
  let key = '';
  for (let i = 0; i < length; i++) key += (i === 0 ? '' : ',') + codes[offset + i]!;
  return key;
}
