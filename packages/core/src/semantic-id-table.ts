import type { SemanticIdTable } from './contracts/semantic-id.js';
import { GenrecError } from './errors.js';

/** Input of {@link createSemanticIdTable}. */
export interface SemanticIdTableInit {
  /** Item id of each row. */
  itemIds: Int32Array | readonly number[];
  /** Codes, `itemIds.length x levels`, row-major. */
  codes: Int32Array | readonly number[];
  /** Codes per item. */
  levels: number;
  /** Size of each level; by default the largest code seen + 1. */
  codebookSizes?: readonly number[];
  /** Whether the last level is a collision-breaking level. @defaultValue false */
  hasCollisionLevel?: boolean;
}

/**
 * An in-memory {@link SemanticIdTable} with lookups both ways.
 *
 * @throws GenrecError `INVALID_INPUT` when codes are out of range, an item id repeats, or two
 * items share one tuple (ids must identify items).
 */
export function createSemanticIdTable(init: SemanticIdTableInit): SemanticIdTable {
  const itemIds = Int32Array.from(init.itemIds);
  const codes = Int32Array.from(init.codes);
  const levels = init.levels;
  if (!Number.isInteger(levels) || levels <= 0) throw new GenrecError('INVALID_INPUT', `levels must be a positive integer, got ${levels}`);
  if (codes.length !== itemIds.length * levels) {
    throw new GenrecError('SHAPE_MISMATCH', `codes has ${codes.length} values, expected items x levels = ${itemIds.length} x ${levels}`);
  }
  const codebookSizes = init.codebookSizes ? [...init.codebookSizes] : new Array<number>(levels).fill(0);
  if (codebookSizes.length !== levels) throw new GenrecError('SHAPE_MISMATCH', `codebookSizes has ${codebookSizes.length} levels, expected ${levels}`);
  if (!init.codebookSizes) for (let i = 0; i < codes.length; i++) codebookSizes[i % levels] = Math.max(codebookSizes[i % levels]!, codes[i]! + 1);
  for (let i = 0; i < codes.length; i++) {
    const level = i % levels;
    if (!Number.isInteger(codes[i]) || codes[i]! < 0 || codes[i]! >= codebookSizes[level]!) {
      throw new GenrecError('INVALID_INPUT', `item ${itemIds[Math.floor(i / levels)]} has code ${codes[i]} at level ${level}, outside 0..${codebookSizes[level]! - 1}`);
    }
  }
  const rowOfItem = new Map<number, number>();
  const itemOfKey = new Map<string, number>();
  for (let row = 0; row < itemIds.length; row++) {
    const id = itemIds[row]!;
    if (rowOfItem.has(id)) throw new GenrecError('INVALID_INPUT', `item ${id} appears twice in the semantic id table`);
    rowOfItem.set(id, row);
    const key = codes.subarray(row * levels, (row + 1) * levels).join(',');
    const other = itemOfKey.get(key);
    if (other !== undefined) throw new GenrecError('INVALID_INPUT', `items ${other} and ${id} share the semantic id (${key}); add a collision level`);
    itemOfKey.set(key, id);
  }
  return {
    levels,
    codebookSizes,
    itemCount: itemIds.length,
    itemIds,
    codes,
    hasCollisionLevel: init.hasCollisionLevel ?? false,
    codesOf(itemId) {
      const row = rowOfItem.get(itemId);
      return row === undefined ? undefined : codes.subarray(row * levels, (row + 1) * levels);
    },
    itemOf(tuple) {
      if (tuple.length !== levels) return undefined;
      return itemOfKey.get(Array.prototype.join.call(tuple, ',') as string);
    },
  };
}
