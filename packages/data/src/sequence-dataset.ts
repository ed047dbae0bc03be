import { GenrecError, type SequenceDataset } from '@genrec/core';

/**
 * A {@link SequenceDataset} that may also carry a rating per interaction (interaction logs with a
 * rating column). Everything in this package that accepts a `SequenceDataset` keeps `ratings` and
 * `timestamps` aligned with `items`.
 */
export interface InteractionDataset extends SequenceDataset {
  /** Ratings parallel to `items`, when the source had a rating column. */
  readonly ratings?: Float32Array;
}

/** Input of {@link createSequenceDataset}. */
export interface SequenceDatasetInit {
  /** A name for reports. @defaultValue `'dataset'` */
  name?: string;
  /** One chronological list of item ids (1-based) per user row. */
  sequences: readonly (readonly number[] | Int32Array)[];
  /** Timestamps (seconds) parallel to `sequences`. */
  timestamps?: readonly (readonly number[] | Float64Array)[];
  /** Ratings parallel to `sequences`. */
  ratings?: readonly (readonly number[] | Float32Array)[];
  /** Largest item id. @defaultValue the largest id in `sequences` */
  itemCount?: number;
  /** Dense user id of each row. @defaultValue `1 .. sequences.length` */
  userIds?: readonly number[] | Int32Array;
  /** External user ids by dense id (index 0 unused). */
  externalUserIds?: readonly string[];
  /** External item ids by item id (index 0 unused). */
  externalItemIds?: readonly string[];
}

/**
 * Builds a dataset from plain arrays, validating it.
 *
 * @param init - see {@link SequenceDatasetInit}.
 * @returns a dataset in compressed-row form.
 * @throws GenrecError `INVALID_INPUT` when an item id is not an integer in `1..itemCount`, or
 *   `SHAPE_MISMATCH` when timestamps or ratings do not line up with the sequences.
 * @example
 * ```ts
 * const dataset = createSequenceDataset({ sequences: [[1, 2, 3], [2, 3]] });
 * dataset.offsets; // Int32Array [0, 3, 5]
 * ```
 */
export function createSequenceDataset(init: SequenceDatasetInit): InteractionDataset {
  const rowCount = init.sequences.length;
  const offsets = new Int32Array(rowCount + 1);
  for (let row = 0; row < rowCount; row++) offsets[row + 1] = offsets[row]! + init.sequences[row]!.length;
  const total = offsets[rowCount]!;
  const items = new Int32Array(total);
  let maxItem = 0;
  for (let row = 0; row < rowCount; row++) {
    const sequence = init.sequences[row]!;
    for (let i = 0; i < sequence.length; i++) {
      const item = sequence[i]!;
      if (!Number.isInteger(item) || item < 1) {
        throw new GenrecError('INVALID_INPUT', `sequence ${row} position ${i}: item id ${item} is not a positive integer`);
      }
      items[offsets[row]! + i] = item;
      if (item > maxItem) maxItem = item;
    }
  }
  const itemCount = init.itemCount ?? maxItem;
  if (maxItem > itemCount) throw new GenrecError('INVALID_INPUT', `item id ${maxItem} exceeds itemCount ${itemCount}`);
  const userIds = Int32Array.from(init.userIds ?? Array.from({ length: rowCount }, (_, row) => row + 1));
  if (userIds.length !== rowCount) {
    throw new GenrecError('SHAPE_MISMATCH', `userIds has ${userIds.length} entries for ${rowCount} sequences`);
  }
  const dataset: {
    -readonly [K in keyof InteractionDataset]: InteractionDataset[K];
  } = { name: init.name ?? 'dataset', userCount: rowCount, itemCount, offsets, items, userIds };
  if (init.timestamps) dataset.timestamps = flattenParallel(init.timestamps, offsets, 'timestamps', Float64Array);
  if (init.ratings) dataset.ratings = flattenParallel(init.ratings, offsets, 'ratings', Float32Array);
  if (init.externalUserIds) dataset.externalUserIds = init.externalUserIds;
  if (init.externalItemIds) dataset.externalItemIds = init.externalItemIds;
  return dataset;
}

function flattenParallel<T extends Float64Array | Float32Array>(
  values: readonly (readonly number[] | Float64Array | Float32Array)[],
  offsets: Int32Array,
  field: string,
  Kind: new (length: number) => T,
): T {
  const rowCount = offsets.length - 1;
  if (values.length !== rowCount) {
    throw new GenrecError('SHAPE_MISMATCH', `${field} has ${values.length} rows for ${rowCount} sequences`, { details: { field } });
  }
  const out = new Kind(offsets[rowCount]!);
  for (let row = 0; row < rowCount; row++) {
    const rowValues = values[row]!;
    if (rowValues.length !== offsets[row + 1]! - offsets[row]!) {
      throw new GenrecError('SHAPE_MISMATCH', `${field} row ${row} has ${rowValues.length} values for ${offsets[row + 1]! - offsets[row]!} items`, {
        details: { field },
      });
    }
    for (let i = 0; i < rowValues.length; i++) out[offsets[row]! + i] = rowValues[i]!;
  }
  return out;
}

/**
 * The items of user row `row`, as a view (no copy).
 *
 * @example
 * ```ts
 * sequenceOf(createSequenceDataset({ sequences: [[4, 5]] }), 0); // Int32Array [4, 5]
 * ```
 */
export function sequenceOf(dataset: SequenceDataset, row: number): Int32Array {
  return dataset.items.subarray(dataset.offsets[row]!, dataset.offsets[row + 1]!);
}

/** The sequences as nested arrays (for tests and small data). */
export function datasetToArrays(dataset: SequenceDataset): number[][] {
  const out: number[][] = [];
  for (let row = 0; row < dataset.userCount; row++) out.push(Array.from(sequenceOf(dataset, row)));
  return out;
}

/**
 * Checks the invariants of the {@link SequenceDataset} contract (offsets, id ranges, parallel
 * arrays).
 *
 * @throws GenrecError `SHAPE_MISMATCH` or `INVALID_INPUT` naming the first violation.
 */
export function validateSequenceDataset(dataset: InteractionDataset): void {
  const { offsets, items, userCount, itemCount } = dataset;
  if (offsets.length !== userCount + 1) throw new GenrecError('SHAPE_MISMATCH', `offsets has ${offsets.length} entries for ${userCount} users`);
  if (offsets[0] !== 0 || offsets[userCount] !== items.length) {
    throw new GenrecError('SHAPE_MISMATCH', `offsets must start at 0 and end at items.length ${items.length}`);
  }
  for (let row = 0; row < userCount; row++) {
    if (offsets[row + 1]! < offsets[row]!) throw new GenrecError('INVALID_INPUT', `offsets decrease at row ${row}`);
  }
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    if (item < 1 || item > itemCount) throw new GenrecError('INVALID_INPUT', `items[${i}] = ${item} is outside 1..${itemCount}`);
  }
  if (dataset.userIds.length !== userCount) throw new GenrecError('SHAPE_MISMATCH', `userIds has ${dataset.userIds.length} entries for ${userCount} users`);
  if (dataset.timestamps && dataset.timestamps.length !== items.length) throw new GenrecError('SHAPE_MISMATCH', 'timestamps do not line up with items');
  if (dataset.ratings && dataset.ratings.length !== items.length) throw new GenrecError('SHAPE_MISMATCH', 'ratings do not line up with items');
  if (dataset.externalItemIds && dataset.externalItemIds.length !== itemCount + 1) {
    throw new GenrecError('SHAPE_MISMATCH', `externalItemIds has ${dataset.externalItemIds.length} entries for ${itemCount} items (+1 padding slot)`);
  }
}

/** Result of {@link selectInteractions}. */
export interface SelectionResult {
  /** The dataset that keeps the selected interactions. */
  dataset: InteractionDataset;
  /** `itemIdMap[oldId]` = new id, 0 when the item has no interaction left (or ids were not compacted: identity). */
  itemIdMap: Int32Array;
  /** Number of user rows dropped because nothing of theirs was kept. */
  removedUsers: number;
  /** Number of item ids dropped by compaction. */
  removedItems: number;
  /** Number of interactions dropped. */
  removedInteractions: number;
}

/**
 * Keeps the interactions whose `keep` flag is 1, drops user rows left empty, and (by default)
 * renumbers the remaining items `1..N'` in their old order. External ids follow the items: when
 * the source had none, the old numeric ids become the external ids, so nothing is lost. User ids
 * (`userIds`) are kept as they were. The shared building block of the filters.
 *
 * @param dataset - the source.
 * @param keep - one flag per interaction (`items.length`).
 * @param compactItemIds - renumber items so no id is without interactions. @defaultValue `true`
 */
export function selectInteractions(dataset: InteractionDataset, keep: Uint8Array, compactItemIds = true): SelectionResult {
  const { offsets, items, userCount, itemCount } = dataset;
  if (keep.length !== items.length) throw new GenrecError('SHAPE_MISMATCH', `keep has ${keep.length} flags for ${items.length} interactions`);
  const itemUsed = new Uint8Array(itemCount + 1);
  let keptTotal = 0;
  let keptRows = 0;
  for (let row = 0; row < userCount; row++) {
    let rowKept = 0;
    for (let i = offsets[row]!; i < offsets[row + 1]!; i++) {
      if (keep[i]) {
        rowKept++;
        itemUsed[items[i]!] = 1;
      }
    }
    keptTotal += rowKept;
    if (rowKept > 0) keptRows++;
  }
  const itemIdMap = new Int32Array(itemCount + 1);
  let newItemCount = 0;
  for (let item = 1; item <= itemCount; item++) {
    if (!compactItemIds) itemIdMap[item] = item;
    else if (itemUsed[item]) itemIdMap[item] = ++newItemCount;
  }
  if (!compactItemIds) newItemCount = itemCount;
  const newOffsets = new Int32Array(keptRows + 1);
  const newItems = new Int32Array(keptTotal);
  const newUserIds = new Int32Array(keptRows);
  const newTimestamps = dataset.timestamps ? new Float64Array(keptTotal) : undefined;
  const newRatings = dataset.ratings ? new Float32Array(keptTotal) : undefined;
  let out = 0;
  let outRow = 0;
  for (let row = 0; row < userCount; row++) {
    const start = out;
    for (let i = offsets[row]!; i < offsets[row + 1]!; i++) {
      if (!keep[i]) continue;
      newItems[out] = itemIdMap[items[i]!]!;
      if (newTimestamps) newTimestamps[out] = dataset.timestamps![i]!;
      if (newRatings) newRatings[out] = dataset.ratings![i]!;
      out++;
    }
    if (out > start) {
      newUserIds[outRow] = dataset.userIds[row]!;
      newOffsets[++outRow] = out;
    }
  }
  const result: { -readonly [K in keyof InteractionDataset]: InteractionDataset[K] } = {
    name: dataset.name,
    userCount: keptRows,
    itemCount: newItemCount,
    offsets: newOffsets,
    items: newItems,
    userIds: newUserIds,
  };
  if (newTimestamps) result.timestamps = newTimestamps;
  if (newRatings) result.ratings = newRatings;
  if (dataset.externalUserIds) result.externalUserIds = dataset.externalUserIds;
  const identity = newItemCount === itemCount;
  if (identity) {
    if (dataset.externalItemIds) result.externalItemIds = dataset.externalItemIds;
  } else {
    const externals: string[] = new Array<string>(newItemCount + 1);
    externals[0] = '';
    for (let item = 1; item <= itemCount; item++) {
      const newId = itemIdMap[item]!;
      if (newId > 0) externals[newId] = dataset.externalItemIds ? dataset.externalItemIds[item]! : String(item);
    }
    result.externalItemIds = externals;
  }
  return {
    dataset: result,
    itemIdMap,
    removedUsers: userCount - keptRows,
    removedItems: itemCount - newItemCount,
    removedInteractions: items.length - keptTotal,
  };
}
