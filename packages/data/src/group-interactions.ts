import type { InteractionDataset } from './sequence-dataset.js';

/** Flat interaction triples to group into user sequences (see {@link groupInteractions}). */
export interface InteractionTriples {
  /** Dataset name. */
  name: string;
  /** Dense user id (1-based) per interaction. */
  users: Int32Array;
  /** Dense item id (1-based) per interaction. */
  items: Int32Array;
  /** Timestamp per interaction, if known; sequences are ordered by it. */
  timestamps?: Float64Array;
  /** Rating per interaction, if known. */
  ratings?: Float32Array;
  /** Number of users (largest dense user id). */
  userCount: number;
  /** Number of items (largest dense item id). */
  itemCount: number;
  /** External user ids by dense id, if they are not the ids themselves. */
  externalUserIds?: readonly string[];
  /** External item ids by dense id, if they are not the ids themselves. */
  externalItemIds?: readonly string[];
}

/**
 * Groups flat interactions into per-user chronological sequences: row `r` is dense user `r + 1`
 * (users without interactions get no row), and inside a row interactions are ordered by timestamp,
 * ties (and logs without timestamps) keeping their input order (a stable sort).
 *
 * @param triples - the interactions.
 * @returns the grouped dataset.
 */
export function groupInteractions(triples: InteractionTriples): InteractionDataset {
  const { users, items, timestamps, ratings, userCount } = triples;
  const total = users.length;
  const counts = new Int32Array(userCount + 2);
  for (let i = 0; i < total; i++) counts[users[i]! + 1]!++;
  const start = new Int32Array(userCount + 2);
  for (let user = 1; user <= userCount + 1; user++) start[user] = start[user - 1]! + counts[user]!;
  // start[u] is now where user u's interactions begin (users are 1-based; start[1] = 0).
  const order = new Int32Array(total);
  const cursor = start.slice();
  for (let i = 0; i < total; i++) order[cursor[users[i]!]!++] = i;
  if (timestamps) {
    for (let user = 1; user <= userCount; user++) {
      const from = start[user]!;
      const to = start[user + 1]!;
      if (to - from > 1 && !isSortedBy(order, from, to, timestamps)) {
        const slice = Array.from(order.subarray(from, to)).sort((a, b) => timestamps[a]! - timestamps[b]! || a - b);
        order.set(slice, from);
      }
    }
  }
  let rowCount = 0;
  for (let user = 1; user <= userCount; user++) if (counts[user + 1]! > 0) rowCount++;
  const offsets = new Int32Array(rowCount + 1);
  const userIds = new Int32Array(rowCount);
  let row = 0;
  for (let user = 1; user <= userCount; user++) {
    if (counts[user + 1]! === 0) continue;
    userIds[row] = user;
    offsets[row + 1] = start[user + 1]!;
    row++;
  }
  const outItems = new Int32Array(total);
  for (let i = 0; i < total; i++) outItems[i] = items[order[i]!]!;
  const dataset: { -readonly [K in keyof InteractionDataset]: InteractionDataset[K] } = {
    name: triples.name,
    userCount: rowCount,
    itemCount: triples.itemCount,
    offsets,
    items: outItems,
    userIds,
  };
  if (timestamps) {
    const out = new Float64Array(total);
    for (let i = 0; i < total; i++) out[i] = timestamps[order[i]!]!;
    dataset.timestamps = out;
  }
  if (ratings) {
    const out = new Float32Array(total);
    for (let i = 0; i < total; i++) out[i] = ratings[order[i]!]!;
    dataset.ratings = out;
  }
  if (triples.externalUserIds) dataset.externalUserIds = triples.externalUserIds;
  if (triples.externalItemIds) dataset.externalItemIds = triples.externalItemIds;
  return dataset;
}

function isSortedBy(order: Int32Array, from: number, to: number, keys: Float64Array): boolean {
  for (let i = from + 1; i < to; i++) if (keys[order[i]!]! < keys[order[i - 1]!]!) return false;
  return true;
}
