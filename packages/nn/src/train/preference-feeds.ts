import { GenrecError, batchSize, toHistoryBatch, type HistoryBatch } from '@genrec/core';
import type { PreferenceShape, SupervisedShape } from './preference-model.js';

/**
 * Checks a preference hook's `shape` argument: every named field a positive safe integer.
 *
 * @param shape - the `PreferenceShape` / `SupervisedShape` given to a builder or feeds function.
 * @param fields - the fields to check (`['users', 'candidates']`).
 * @param where - the hook method, for the message (`'buildLogProb'`).
 * @throws GenrecError `INVALID_INPUT` (`details.field: 'shape.<field>'`): `<where>: shape.<field> must be a positive integer, got <value>`.
 * @example
 * ```ts
 * checkPreferenceShape({ users: 4, candidates: 2 }, ['users', 'candidates'], 'buildLogProb'); // passes
 * checkPreferenceShape({ users: 0 }, ['users'], 'buildSupervisedLoss'); // throws
 * ```
 */
export function checkPreferenceShape(shape: unknown, fields: readonly string[], where: string): void {
  for (const field of fields) {
    const n = (shape as Record<string, unknown> | undefined)?.[field];
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) {
      throw new GenrecError('INVALID_INPUT', `${where}: shape.${field} must be a positive integer, got ${String(n)}`, { details: { field: `shape.${field}` } });
    }
  }
}

/**
 * Each history's most recent `maxLength` items, left-padded with 0: the int64 `[users, maxLength]`
 * input of an item-level model's graph.
 *
 * @param histories - the histories (at least `users` of them).
 * @param users - the rows to fill.
 * @param maxLength - the row length.
 * @returns `users x maxLength` item ids, row-major.
 * @example
 * ```ts
 * paddedItemSequences({ offsets: Int32Array.of(0, 3), items: Int32Array.of(4, 5, 6) }, 1, 2); // [5n, 6n]
 * ```
 */
export function paddedItemSequences(histories: HistoryBatch, users: number, maxLength: number): BigInt64Array {
  const seq = new BigInt64Array(users * maxLength);
  for (let u = 0; u < users; u++) {
    const to = histories.offsets[u + 1]!;
    const from = Math.max(histories.offsets[u]!, to - maxLength);
    const base = u * maxLength + maxLength - (to - from);
    for (let i = from; i < to; i++) seq[base + i - from] = BigInt(histories.items[i]!);
  }
  return seq;
}

function itemIds(ids: Int32Array, itemCount: number, field: string): BigInt64Array {
  const out = new BigInt64Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (!(id >= 1 && id <= itemCount)) throw new GenrecError('INVALID_INPUT', `${field}[${i}] = ${id} is outside the catalogue 1..${itemCount}`, { details: { field, position: i } });
    out[i] = BigInt(id);
  }
  return out;
}

/** The input names and sizes of an item-level model's preference graphs. */
export interface ItemPreferenceInputs {
  /** Catalogue size (ids `1 .. itemCount`). */
  itemCount: number;
  /** History length of the sequence inputs. */
  maxLength: number;
  /** Input names: `logProbSeq`, `candidates` (of `buildLogProb`), `supervisedSeq`, `targets` (of `buildSupervisedLoss`). */
  names: { readonly logProbSeq: string; readonly candidates: string; readonly supervisedSeq: string; readonly targets: string };
}

/**
 * `logProbFeeds` of an item-level model (one token per item: SASRec, SETRec): the padded histories
 * and the candidate ids as int64.
 *
 * @param histories - one history per user (`shape.users`).
 * @param candidates - `users x candidates` item ids, row-major.
 * @param shape - the batch shape.
 * @param inputs - the model's catalogue, history length and input names.
 * @returns the feeds.
 * @throws GenrecError `INVALID_INPUT` for a bad shape or an id outside the catalogue,
 * `SHAPE_MISMATCH` for a history or candidate count that differs from the shape.
 * @example
 * ```ts
 * const feeds = itemLogProbFeeds([[1, 2]], Int32Array.of(3, 4), { users: 1, candidates: 2 }, { itemCount: 10, maxLength: 50, names: PREFERENCE_INPUTS });
 * ```
 */
export function itemLogProbFeeds(histories: HistoryBatch, candidates: Int32Array, shape: PreferenceShape, inputs: ItemPreferenceInputs): Record<string, BigInt64Array> {
  checkPreferenceShape(shape, ['users', 'candidates'], 'logProbFeeds');
  const batch = toHistoryBatch(histories, inputs.itemCount);
  if (batchSize(batch) !== shape.users) throw new GenrecError('SHAPE_MISMATCH', `logProbFeeds: ${batchSize(batch)} histories for shape.users = ${shape.users}`, { details: { field: 'histories' } });
  if (!(candidates instanceof Int32Array) || candidates.length !== shape.users * shape.candidates) {
    throw new GenrecError('SHAPE_MISMATCH', `logProbFeeds: candidates must be an Int32Array of users x candidates = ${shape.users * shape.candidates} ids`, { details: { field: 'candidates' } });
  }
  return { [inputs.names.logProbSeq]: paddedItemSequences(batch, shape.users, inputs.maxLength), [inputs.names.candidates]: itemIds(candidates, inputs.itemCount, 'candidates') };
}

/**
 * `supervisedFeeds` of an item-level model: the padded histories and one next-item target per
 * user as int64.
 *
 * @param histories - one history per user (`shape.users`).
 * @param targets - one item id per user.
 * @param shape - the batch shape.
 * @param inputs - the model's catalogue, history length and input names.
 * @returns the feeds.
 * @throws GenrecError `INVALID_INPUT` for a bad shape or an id outside the catalogue,
 * `SHAPE_MISMATCH` for a history or target count that differs from the shape.
 * @example
 * ```ts
 * const feeds = itemSupervisedFeeds([[1, 2]], Int32Array.of(3), { users: 1 }, { itemCount: 10, maxLength: 50, names: PREFERENCE_INPUTS });
 * ```
 */
export function itemSupervisedFeeds(histories: HistoryBatch, targets: Int32Array, shape: SupervisedShape, inputs: ItemPreferenceInputs): Record<string, BigInt64Array> {
  checkPreferenceShape(shape, ['users'], 'supervisedFeeds');
  const batch = toHistoryBatch(histories, inputs.itemCount);
  if (batchSize(batch) !== shape.users) throw new GenrecError('SHAPE_MISMATCH', `supervisedFeeds: ${batchSize(batch)} histories for shape.users = ${shape.users}`, { details: { field: 'histories' } });
  if (!(targets instanceof Int32Array) || targets.length !== shape.users) {
    throw new GenrecError('SHAPE_MISMATCH', `supervisedFeeds: targets must be an Int32Array of ${shape.users} ids`, { details: { field: 'targets' } });
  }
  return { [inputs.names.supervisedSeq]: paddedItemSequences(batch, shape.users, inputs.maxLength), [inputs.names.targets]: itemIds(targets, inputs.itemCount, 'targets') };
}

/**
 * `withParameters`' merge: the model's current values (copies) with the given ones replacing
 * theirs (copied), every given name checked against the model's.
 *
 * @param current - the model's parameter values (copies: the result reuses them).
 * @param next - the new values of some or all parameters.
 * @returns `current`, updated.
 * @throws GenrecError `UNKNOWN_ID` for a name the model does not have, `SHAPE_MISMATCH` for a value
 * that is not a Float32Array of the parameter's length.
 * @example
 * ```ts
 * const merged = mergeParameterValues(model.parameterValues(), trained);
 * ```
 */
export function mergeParameterValues(current: Map<string, Float32Array>, next: ReadonlyMap<string, Float32Array>): Map<string, Float32Array> {
  for (const [name, value] of next) {
    const existing = current.get(name);
    if (!existing) throw new GenrecError('UNKNOWN_ID', `withParameters: the model has no parameter "${name}"`, { details: { field: name } });
    if (!(value instanceof Float32Array) || value.length !== existing.length) {
      throw new GenrecError('SHAPE_MISMATCH', `withParameters: "${name}" needs a Float32Array of ${existing.length} values`, { details: { field: name } });
    }
    current.set(name, value.slice());
  }
  return current;
}
