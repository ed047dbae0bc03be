import { GenrecError } from '@genrec/core';

type FloatArray = Float32Array | Float64Array;
type IndexArray = BigInt64Array | Int32Array;

/**
 * The JavaScript side of one row-sparse parameter during a step: maps the caller's row ids to
 * positions in the `[maxRows, width]` slice the graph reads (first appearance first, in the order
 * the lookups are declared), gathers the touched rows of the parameter and of its optimizer state
 * into reused slices, and writes the updated rows back. Untouched slice rows keep whatever an
 * earlier step left there: no index points at them, so their gradient is exactly zero and their
 * updated values are dropped.
 */
export class RowSparseRows {
  private readonly slot: Int32Array;
  private readonly rowIds: Int32Array;
  private readonly slices = new Map<string, FloatArray>();
  private readonly locals = new Map<string, IndexArray>();
  private readonly smallBigInts: bigint[] = [];
  /** Distinct rows mapped so far in this step. */
  count = 0;

  constructor(
    /** The parameter's name. */
    readonly name: string,
    /** The graph input of the slice (`<name>:rows`). */
    readonly rowsName: string,
    /** Rows of the full parameter. */
    readonly rowCount: number,
    /** Values per row. */
    readonly width: number,
    /** Rows of the slice. */
    readonly maxRows: number,
  ) {
    this.slot = new Int32Array(rowCount).fill(-1);
    this.rowIds = new Int32Array(maxRows);
  }

  /**
   * Maps the ids of one lookup input to slice positions (new ids get the next free position).
   * @throws GenrecError `INVALID_INPUT` for an id outside `0 .. rowCount - 1` or more than `maxRows` distinct ids.
   */
  mapIndices(source: string, ids: IndexArray): IndexArray {
    const key = `${source}:${ids.length}:${ids instanceof Int32Array ? 'i32' : 'i64'}`;
    let local = this.locals.get(key);
    if (!local) {
      local = ids instanceof Int32Array ? new Int32Array(ids.length) : new BigInt64Array(ids.length);
      this.locals.set(key, local);
    }
    const slot = this.slot;
    for (let i = 0; i < ids.length; i++) {
      const id = Number(ids[i]!);
      if (!(id >= 0 && id < this.rowCount && Number.isInteger(id))) {
        throw new GenrecError('INVALID_INPUT', `input "${source}" index ${i} is ${id}, outside the ${this.rowCount} rows of row-sparse parameter ${this.name}`, { details: { field: source } });
      }
      let position = slot[id]!;
      if (position < 0) {
        if (this.count === this.maxRows) {
          throw new GenrecError('INVALID_INPUT', `the step touches more than maxRows = ${this.maxRows} distinct rows of row-sparse parameter ${this.name} (input "${source}")`, { details: { field: source } });
        }
        position = this.count++;
        slot[id] = position;
        this.rowIds[position] = id;
      }
      if (local instanceof Int32Array) local[i] = position;
      else local[i] = this.bigint(position);
    }
    return local;
  }

  private bigint(position: number): bigint {
    let value = this.smallBigInts[position];
    if (value === undefined) {
      for (let k = this.smallBigInts.length; k <= position; k++) this.smallBigInts.push(BigInt(k));
      value = this.smallBigInts[position]!;
    }
    return value;
  }

  /** Copies the mapped rows of `full` into the reused slice kept under `key`. */
  gather(key: string, full: FloatArray): FloatArray {
    let slice = this.slices.get(key);
    if (!slice || slice.constructor !== full.constructor) {
      slice = full instanceof Float64Array ? new Float64Array(this.maxRows * this.width) : new Float32Array(this.maxRows * this.width);
      this.slices.set(key, slice);
    }
    const w = this.width;
    for (let k = 0; k < this.count; k++) {
      const id = this.rowIds[k]!;
      slice.set(full.subarray(id * w, id * w + w), k * w);
    }
    return slice;
  }

  /** Writes the mapped rows of `slice` (an updated slice) back into `full`. */
  scatter(slice: FloatArray, full: FloatArray): void {
    const w = this.width;
    for (let k = 0; k < this.count; k++) {
      const id = this.rowIds[k]!;
      full.set(slice.subarray(k * w, k * w + w), id * w);
    }
  }

  /** Forgets this step's mapping (every slot back to -1). */
  reset(): void {
    for (let k = 0; k < this.count; k++) this.slot[this.rowIds[k]!] = -1;
    this.count = 0;
  }
}
