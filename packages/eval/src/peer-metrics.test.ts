import { describe, expect, it } from 'vitest';
import { evaluateRankedLists } from './evaluate-ranked-lists.js';
import { itemSetsFromPadded } from './item-sets.js';
import { createRankedLists } from './ranked-lists.js';
import { generatePeerMetricsData } from './synthetic-peer-data.js';

/*
 * The peer numbers items 0..items-1; generatePeerMetricsData shifts every id by +1 at that boundary
 * (genrec ids 1..items, padding 0) and keeps the peer's checksums over its 0-based ids.
 * Reference values printed by the peer itself on the first 10,000 users of its synthetic data:
 *   /usr/bin/python3 /work/shared/peers/metrics.py --users 10000
 * (run 2026-11-26 under flock /tmp/genrec-bench.lock; numpy 1.24.2). The full 1M-user comparison
 * is bench/metrics-peer.ts.
 */
const PEER_10K = {
  checksumRanked: 12503655450,
  checksumRelevant: 750797381,
  values: {
    'recall@10': 0.08129833333333333,
    'ndcg@10': 0.05157182594801857,
    'mrr@10': 0.07259095238095238,
    'hitrate@10': 0.2436,
    'recall@50': 0.4100849999999999,
    'ndcg@50': 0.14627784663241009,
    'mrr@50': 0.08690637587239054,
    'hitrate@50': 0.584,
  } as Record<string, number>,
};

describe('agreement with the numpy peer (metrics.py, first 10,000 users)', () => {
  const data = generatePeerMetricsData({ users: 10_000 });

  it('regenerates the peer data bit for bit (checksums), shifted to ids 1..items', () => {
    expect(data.rankedChecksum).toBe(PEER_10K.checksumRanked);
    expect(data.relevantChecksum).toBe(PEER_10K.checksumRelevant);
    // The arrays hold peer id + 1: their sums exceed the peer's 0-based checksums by one per entry.
    let rankedSum = 0;
    let minimum = Infinity;
    let maximum = -Infinity;
    for (const item of data.ranked) {
      rankedSum += item;
      minimum = Math.min(minimum, item);
      maximum = Math.max(maximum, item);
    }
    expect(rankedSum - data.ranked.length).toBe(PEER_10K.checksumRanked);
    expect(minimum).toBe(1);
    expect(maximum).toBe(data.items);
    let relevantSum = 0;
    let relevantEntries = 0;
    let misplaced = 0; // ids below 1 inside a row, or padding other than 0 after it
    data.relevant.forEach((item, i) => {
      if (i % 5 < data.relevantCount[Math.floor(i / 5)]!) {
        if (item < 1) misplaced++;
        relevantSum += item;
        relevantEntries++;
      } else if (item !== 0) misplaced++;
    });
    expect(misplaced).toBe(0);
    expect(relevantSum - relevantEntries).toBe(PEER_10K.checksumRelevant);
    // Spot checks of the generator definition: ranked rows are distinct.
    for (let u = 0; u < 50; u++) {
      const row = new Set(data.ranked.subarray(u * 50, u * 50 + 50));
      expect(row.size).toBe(50);
    }
  });

  it('matches Recall, NDCG, MRR@K and HitRate at K = 10 and 50 to 1e-15 (seven are bit-equal, recall@50 is 1 ulp off: summation order; one call with both K)', () => {
    const result = evaluateRankedLists(createRankedLists(data.ranked, 50), itemSetsFromPadded(data.relevant, 5), {
      itemCount: data.items,
      ks: [10, 50],
    });
    expect(result.evaluatedUserCount).toBe(10_000);
    for (const [key, value] of Object.entries(PEER_10K.values)) expect(Math.abs(result.metrics[key]! - value)).toBeLessThan(1e-15);
  });

  it('gives the same values when reading only the top max K of each list', () => {
    for (const k of [10, 50]) {
      const result = evaluateRankedLists(createRankedLists(data.ranked, 50), itemSetsFromPadded(data.relevant, 5), {
        itemCount: data.items,
        ks: [k],
        listDepth: 'max-k',
        keepPerUser: false,
      });
      for (const name of ['recall', 'ndcg', 'mrr', 'hitrate']) {
        expect(Math.abs(result.metrics[`${name}@${k}`]! - PEER_10K.values[`${name}@${k}`]!)).toBeLessThan(1e-15);
      }
      expect(result.metrics['mrr@full']).toBeUndefined();
    }
  });
});
