/** One measured point of a recall–throughput curve. */
export interface RecallQpsPoint {
  recall: number;
  qps: number;
}

/** Queries per second of a curve at a given recall (see {@link qpsAtRecall}). */
export interface QpsAtRecall {
  qps: number;
  /**
   * True when the recall asked for is below every measured point: `qps` is then the fastest
   * point's, which reaches a higher recall, so the curve's throughput at that recall is at least this.
   */
  lowerBound: boolean;
}

/**
 * The Pareto frontier of a recall–throughput curve: the points that no other point beats in both
 * recall and queries per second, by ascending recall (and so descending qps).
 *
 * @param points - measured points, any order
 * @returns the frontier, ascending recall.
 * @example
 * ```ts
 * paretoFrontier([{ recall: 0.9, qps: 100 }, { recall: 0.8, qps: 50 }, { recall: 0.95, qps: 60 }]);
 * // [{ recall: 0.9, qps: 100 }, { recall: 0.95, qps: 60 }]
 * ```
 */
export function paretoFrontier(points: readonly RecallQpsPoint[]): RecallQpsPoint[] {
  const byRecall = points.filter((point) => Number.isFinite(point.recall) && point.qps > 0).sort((a, b) => b.recall - a.recall || b.qps - a.qps);
  const frontier: RecallQpsPoint[] = [];
  for (const point of byRecall) if (frontier.length === 0 || point.qps > frontier[frontier.length - 1]!.qps) frontier.push(point);
  return frontier.reverse();
}

/**
 * Queries per second of a recall–throughput curve at a fixed recall: on the curve's Pareto
 * frontier, log(qps) interpolated linearly in recall between the two points around `recall`. Below
 * the frontier's lowest recall the fastest point is returned as a lower bound; above its highest
 * recall the curve does not reach `recall` and the answer is `undefined`. Use it to compare two
 * indexes (or an index and a peer such as faiss) at equal recall instead of equal `ef`.
 *
 * @param points - measured `{ recall, qps }` points of one index (e.g. an `ef` sweep)
 * @param recall - the recall to read the curve at
 * @returns the interpolated qps, or `undefined` when no point reaches `recall`.
 * @example
 * ```ts
 * qpsAtRecall([{ recall: 0.9, qps: 1000 }, { recall: 0.99, qps: 100 }], 0.945); // { qps: 316.2…, lowerBound: false }
 * ```
 */
export function qpsAtRecall(points: readonly RecallQpsPoint[], recall: number): QpsAtRecall | undefined {
  const frontier = paretoFrontier(points);
  if (frontier.length === 0 || recall > frontier[frontier.length - 1]!.recall) return undefined;
  const lowest = frontier[0]!;
  if (recall <= lowest.recall) return { qps: lowest.qps, lowerBound: recall < lowest.recall };
  for (let i = 0; i + 1 < frontier.length; i++) {
    const low = frontier[i]!;
    const high = frontier[i + 1]!;
    if (recall === high.recall) return { qps: high.qps, lowerBound: false };
    if (recall < high.recall) {
      const t = (recall - low.recall) / (high.recall - low.recall);
      return { qps: Math.exp(Math.log(low.qps) + t * (Math.log(high.qps) - Math.log(low.qps))), lowerBound: false };
    }
  }
  return undefined;
}
