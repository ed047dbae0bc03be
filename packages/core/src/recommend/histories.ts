import type { Histories, HistoryBatch } from '../contracts/recommender.js';
import { GenrecError } from '../errors.js';

/**
 * Converts histories (compressed rows or one array per user) to a validated {@link HistoryBatch}.
 * Every id must be an integer in `1 .. itemCount`; compressed rows are used as they are (no copy).
 *
 * @param field - the argument's name for messages @defaultValue `'histories'`
 * @throws GenrecError `INVALID_INPUT` naming the user and position of an unknown id, or malformed offsets.
 * @example
 * ```ts
 * const batch = toHistoryBatch([[1, 2], [], [3]], 10); // offsets [0, 2, 2, 3], items [1, 2, 3]
 * ```
 */
export function toHistoryBatch(histories: Histories, itemCount: number, field = 'histories'): HistoryBatch {
  let batch: HistoryBatch;
  if (Array.isArray(histories)) {
    const lists = histories as readonly ArrayLike<number>[];
    const offsets = new Int32Array(lists.length + 1);
    let total = 0;
    for (let u = 0; u < lists.length; u++) {
      const list = lists[u];
      if (list === null || typeof list !== 'object' || typeof list.length !== 'number') {
        throw new GenrecError('INVALID_INPUT', `${field}[${u}] must be an array of item ids`, { details: { field, user: u } });
      }
      total += list.length;
      offsets[u + 1] = total;
    }
    const items = new Int32Array(total);
    for (let u = 0; u < lists.length; u++) {
      const list = lists[u]!;
      const start = offsets[u]!;
      for (let i = 0; i < list.length; i++) {
        const id = list[i]!;
        if (!Number.isInteger(id) || id < 1 || id > itemCount) throw unknownId(field, u, i, id, itemCount);
        items[start + i] = id;
      }
    }
    return { offsets, items };
  }
  batch = histories as HistoryBatch;
  const { offsets, items } = batch ?? ({} as Partial<HistoryBatch>);
  if (!(offsets instanceof Int32Array) || !(items instanceof Int32Array) || offsets.length < 1) {
    throw new GenrecError('INVALID_INPUT', `${field} must be an array of id arrays or { offsets: Int32Array, items: Int32Array }`, { details: { field } });
  }
  if (offsets[0] !== 0 || offsets[offsets.length - 1] !== items.length) {
    throw new GenrecError('INVALID_INPUT', `${field}.offsets must start at 0 and end at items.length (${items.length})`, { details: { field } });
  }
  for (let u = 0; u + 1 < offsets.length; u++) {
    const from = offsets[u]!;
    const to = offsets[u + 1]!;
    if (to < from) throw new GenrecError('INVALID_INPUT', `${field}.offsets decrease at user ${u}`, { details: { field, user: u } });
    for (let i = from; i < to; i++) {
      const id = items[i]!;
      if (id < 1 || id > itemCount) throw unknownId(field, u, i - from, id, itemCount);
    }
  }
  return batch;
}

function unknownId(field: string, user: number, position: number, id: number, itemCount: number): GenrecError {
  return new GenrecError('INVALID_INPUT', `${field}: user ${user}, position ${position} holds item id ${String(id)}, outside the catalogue 1..${itemCount}`, {
    details: { field, user, position, id },
  });
}

/** Number of users of a history batch. */
export function batchSize(batch: HistoryBatch): number {
  return batch.offsets.length - 1;
}
