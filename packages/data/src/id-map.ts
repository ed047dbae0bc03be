import { GenrecError } from '@genrec/core';

/**
 * How an {@link IdMap} numbers its external ids once all of them are known (see
 * {@link IdMap.densify}):
 * - `'first-seen'`: in order of first appearance;
 * - `'numeric'`: every external id must be a positive decimal integer; ordered by value, and when
 *   the values are exactly `1..N` each id keeps its value (the Amazon sequence files);
 * - `'auto'`: `'numeric'` when every external id is a positive decimal integer, else `'first-seen'`.
 */
export type IdOrder = 'first-seen' | 'numeric' | 'auto';

const POSITIVE_INTEGER = /^[1-9][0-9]*$/;

/**
 * A two-way map between external ids (strings) and dense 1-based integer ids. Id 0 is never
 * assigned: it is the padding id of every model.
 *
 * @example
 * ```ts
 * const users = new IdMap();
 * users.add('A2X'); // 1
 * users.add('B7Q'); // 2
 * users.add('A2X'); // 1 again
 * users.externalOf(2); // 'B7Q'
 * ```
 */
export class IdMap {
  private readonly denseByExternal = new Map<string, number>();
  private readonly externalByDense: string[] = [''];

  /** Number of ids (the largest dense id). */
  get size(): number {
    return this.externalByDense.length - 1;
  }

  /** The dense id of `external`, assigning the next free id when it is new. */
  add(external: string): number {
    const known = this.denseByExternal.get(external);
    if (known !== undefined) return known;
    const id = this.externalByDense.length;
    this.externalByDense.push(external);
    this.denseByExternal.set(external, id);
    return id;
  }

  /** The dense id of `external`, or undefined when it is unknown. */
  idOf(external: string): number | undefined {
    return this.denseByExternal.get(external);
  }

  /**
   * The dense id of `external`.
   *
   * @throws GenrecError `UNKNOWN_ID` when it is unknown.
   */
  requireId(external: string): number {
    const id = this.denseByExternal.get(external);
    if (id === undefined) throw new GenrecError('UNKNOWN_ID', `unknown external id "${external}"`);
    return id;
  }

  /** True when `external` is known. */
  has(external: string): boolean {
    return this.denseByExternal.has(external);
  }

  /**
   * The external id of dense id `id`.
   *
   * @throws GenrecError `UNKNOWN_ID` unless `1 <= id <= size`.
   */
  externalOf(id: number): string {
    if (!Number.isInteger(id) || id < 1 || id > this.size) {
      throw new GenrecError('UNKNOWN_ID', `dense id ${id} is outside 1..${this.size}`);
    }
    return this.externalByDense[id]!;
  }

  /** External ids indexed by dense id (index 0 is `''`, the padding slot). */
  externals(): readonly string[] {
    return this.externalByDense;
  }

  /** True when every external id is the decimal form of its own dense id (`'1'` is 1, `'2'` is 2, ...). */
  isVerbatim(): boolean {
    for (let id = 1; id < this.externalByDense.length; id++) if (this.externalByDense[id] !== String(id)) return false;
    return true;
  }

  /**
   * Renumbers the ids by `order` and returns the new map together with `remap`, where
   * `remap[oldId]` is the new id (`remap[0] = 0`).
   *
   * @throws GenrecError `INVALID_INPUT` when `order` is `'numeric'` and an external id is not a
   *   positive integer.
   */
  densify(order: IdOrder): { map: IdMap; remap: Int32Array } {
    const count = this.size;
    const remap = new Int32Array(count + 1);
    let numeric = order !== 'first-seen';
    if (numeric) {
      for (let id = 1; id <= count; id++) {
        if (!POSITIVE_INTEGER.test(this.externalByDense[id]!)) {
          if (order === 'numeric') {
            throw new GenrecError('INVALID_INPUT', `external id "${this.externalByDense[id]}" is not a positive integer`);
          }
          numeric = false;
          break;
        }
      }
    }
    if (!numeric) {
      for (let id = 0; id <= count; id++) remap[id] = id;
      return { map: this, remap };
    }
    const values = new Float64Array(count + 1);
    for (let id = 1; id <= count; id++) values[id] = Number(this.externalByDense[id]);
    // Doubles order ids exactly up to 2^53; beyond, equal doubles are ordered by the digits
    // (canonical positive integers: the longer is larger, else the lexicographically larger).
    const externals = this.externalByDense;
    const order_ = Array.from({ length: count }, (_, i) => i + 1).sort(
      (a, b) =>
        values[a]! - values[b]! ||
        externals[a]!.length - externals[b]!.length ||
        (externals[a]! < externals[b]! ? -1 : externals[a]! > externals[b]! ? 1 : 0),
    );
    const map = new IdMap();
    for (let rank = 0; rank < count; rank++) {
      const oldId = order_[rank]!;
      remap[oldId] = map.add(this.externalByDense[oldId]!);
    }
    return { map, remap };
  }

  /**
   * A map whose dense id `i` is `externals[i]` (index 0 is ignored).
   *
   * @throws GenrecError `DUPLICATE_ID` when an external id repeats.
   */
  static fromExternals(externals: readonly string[]): IdMap {
    const map = new IdMap();
    for (let id = 1; id < externals.length; id++) {
      const external = externals[id]!;
      if (map.has(external)) throw new GenrecError('DUPLICATE_ID', `external id "${external}" appears twice`);
      map.add(external);
    }
    return map;
  }

  /** The map `'1' -> 1, ..., String(count) -> count`. */
  static verbatim(count: number): IdMap {
    const map = new IdMap();
    for (let id = 1; id <= count; id++) map.add(String(id));
    return map;
  }
}
