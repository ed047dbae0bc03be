import { GenrecError } from '@genrec/core';
import { splitmix64Halves, uint64Mod } from './splitmix64-fast.js';

/** Options of {@link generatePeerMetricsData}. */
export interface PeerMetricsDataOptions {
  /**
   * Number of users.
   * @defaultValue 1_000_000
   */
  users?: number;
  /**
   * Catalogue size (even, at least 125).
   * @defaultValue 50_000
   */
  items?: number;
  /**
   * Generator seed.
   * @defaultValue 1
   */
  seed?: number;
}

/**
 * The synthetic inputs of the peer `metrics` workload, flat and row-major, in genrec's item ids:
 * the peer numbers items `0 .. items-1`, so every id here is the peer's id + 1 (`1 .. items`), and
 * padding is 0 (the peer pads with -1). The checksums are the peer's, over its 0-based ids.
 */
export interface PeerMetricsData {
  /** Number of users. */
  readonly users: number;
  /** Catalogue size: item ids `1 .. items`. */
  readonly items: number;
  /** Ranked lists, best first: `[users, 50]` item ids (peer id + 1), distinct within a row. */
  readonly ranked: Int32Array;
  /** Relevant items: `[users, 5]` item ids (peer id + 1), padded with 0 after `relevantCount[u]` entries. */
  readonly relevant: Int32Array;
  /** Number of relevant items of each user (1..5). */
  readonly relevantCount: Int32Array;
  /** The peer's `checksum_ranked_sum`: the sum of its 0-based ranked ids (= sum of `ranked` − 50 · users). */
  readonly rankedChecksum: number;
  /** The peer's `checksum_relevant_sum`: the sum of its 0-based relevant ids (= sum of non-padding `relevant` − their count). */
  readonly relevantChecksum: number;
}

/** List length of the peer workload. */
export const PEER_LIST_LENGTH = 50;
/** Width of the padded relevant-item rows of the peer workload. */
export const PEER_MAX_RELEVANT = 5;
const POSITION_SPAN = 125;
const TWO_32 = 4294967296;

/**
 * Regenerates, bit for bit, the synthetic data of the Python peer `metrics.py`
 * (`/work/shared/peers/README.md`, section 5) with its splitmix64 counter generator:
 * `r(u, k) = splitmix64(seed * 2^32 + u * 64 + k)`, `a_u = r(u,0) % items`,
 * `s_u = 1 + 2 * (r(u,1) % (items / 2))` (+2 when divisible by 5), `ranked[u][j] = (a_u + j s_u) % items`,
 * `n_rel = 1 + r(u,2) % 5`, `b_u = r(u,3) % 125`, `p_m = (b_u + 11 m) % 125`,
 * `relevant[u][m] = (a_u + p_m s_u) % items` — in the peer's 0-based ids, which are shifted by +1
 * here (the boundary to genrec's ids `1 .. items`); the checksums stay the peer's.
 *
 * @param options - sizes and seed
 * @returns the ranked lists, relevant items and checksums
 * @throws GenrecError `INVALID_OPTION` for sizes the peer does not accept
 * @example
 * ```ts
 * const data = generatePeerMetricsData({ users: 10_000 });
 * data.ranked.length; // 500_000
 * ```
 */
export function generatePeerMetricsData(options: PeerMetricsDataOptions = {}): PeerMetricsData {
  const users = options.users ?? 1_000_000;
  const items = options.items ?? 50_000;
  const seed = options.seed ?? 1;
  if (!Number.isSafeInteger(users) || users < 0 || users > 67_108_863) {
    throw new GenrecError('INVALID_OPTION', `users must be an integer in 0..67108863, got ${users}`, { details: { field: 'users' } });
  }
  if (!Number.isSafeInteger(items) || items % 2 !== 0 || items < POSITION_SPAN || items >= 2 ** 26) {
    throw new GenrecError('INVALID_OPTION', `items must be an even integer in 125..2^26, got ${items}`, { details: { field: 'items' } });
  }
  if (!Number.isSafeInteger(seed) || seed < 0 || seed >= TWO_32) {
    throw new GenrecError('INVALID_OPTION', `seed must be an integer in 0..2^32-1, got ${seed}`, { details: { field: 'seed' } });
  }
  const ranked = new Int32Array(users * PEER_LIST_LENGTH);
  const relevant = new Int32Array(users * PEER_MAX_RELEVANT); // 0 = padding
  const relevantCount = new Int32Array(users);
  const halves = { hi: 0, lo: 0 };
  const draw = (u: number, k: number, modulus: number): number => {
    const low = u * 64 + k; // < 2^32 for users < 2^26
    splitmix64Halves(seed, low, halves);
    return uint64Mod(halves.hi, halves.lo, modulus);
  };
  let rankedChecksum = 0;
  let relevantChecksum = 0;
  const half = items / 2;
  for (let u = 0; u < users; u++) {
    const a = draw(u, 0, items);
    let step = 1 + 2 * draw(u, 1, half);
    if (step % 5 === 0) step += 2;
    const base = u * PEER_LIST_LENGTH;
    for (let j = 0; j < PEER_LIST_LENGTH; j++) {
      const peerItem = (a + j * step) % items; // the peer's 0-based id
      ranked[base + j] = peerItem + 1;
      rankedChecksum += peerItem;
    }
    const count = 1 + draw(u, 2, PEER_MAX_RELEVANT);
    const b = draw(u, 3, POSITION_SPAN);
    relevantCount[u] = count;
    for (let m = 0; m < count; m++) {
      const position = (b + 11 * m) % POSITION_SPAN;
      const peerItem = (a + position * step) % items;
      relevant[u * PEER_MAX_RELEVANT + m] = peerItem + 1;
      relevantChecksum += peerItem;
    }
  }
  return { users, items, ranked, relevant, relevantCount, rankedChecksum, relevantChecksum };
}
