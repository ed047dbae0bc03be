import { GenrecError } from '../errors.js';

/**
 * The retired-item set every model keeps (see `Recommender.retireItems`): sorted unique ids in
 * `1 .. itemCount`, validated on every change.
 */
export class RetiredItems {
  private readonly set = new Set<number>();
  private sorted: Int32Array = new Int32Array(0);

  constructor(private readonly itemCount: number, initial: ArrayLike<number> = []) {
    this.retire(initial);
  }

  /** Retires ids (validated first: nothing changes when one is invalid). */
  retire(itemIds: ArrayLike<number>): void {
    this.check(itemIds, 'retireItems');
    for (let i = 0; i < itemIds.length; i++) this.set.add(itemIds[i]!);
    this.refresh();
  }

  /** Restores ids (validated first). */
  restore(itemIds: ArrayLike<number>): void {
    this.check(itemIds, 'restoreItems');
    for (let i = 0; i < itemIds.length; i++) this.set.delete(itemIds[i]!);
    this.refresh();
  }

  /** The retired ids, ascending (a fresh copy). */
  get ids(): Int32Array {
    return this.sorted.slice();
  }

  /** Whether `id` is retired. */
  has(id: number): boolean {
    return this.set.has(id);
  }

  /** Number of retired items. */
  get size(): number {
    return this.set.size;
  }

  private check(itemIds: ArrayLike<number>, field: string): void {
    if (itemIds === null || typeof itemIds !== 'object' || typeof itemIds.length !== 'number') {
      throw new GenrecError('INVALID_INPUT', `${field} takes an array of item ids`, { details: { field } });
    }
    for (let i = 0; i < itemIds.length; i++) {
      const id = itemIds[i]!;
      if (!Number.isInteger(id) || id < 1 || id > this.itemCount) {
        throw new GenrecError('INVALID_INPUT', `${field}: position ${i} holds item id ${String(id)}, outside the catalogue 1..${this.itemCount}`, { details: { field, position: i } });
      }
    }
  }

  private refresh(): void {
    this.sorted = Int32Array.from(this.set).sort();
  }
}
