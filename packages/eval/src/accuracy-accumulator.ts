import { CUTOFF_METRICS, type ApDenominator, type GainForm } from './protocol.js';

/** Number of cut-off metrics (hitrate, recall, precision, ndcg, mrr, map). */
const METRIC_COUNT = CUTOFF_METRICS.length;
const HITRATE = 0;
const RECALL = 1;
const PRECISION = 2;
const NDCG = 3;
const MRR = 4;
const MAP = 5;

/** Gain of a grade under a gain form (grade > 0 means relevant). */
export function gainOf(grade: number, form: GainForm): number {
  if (form === 'binary') return 1;
  if (form === 'linear') return grade;
  return 2 ** grade - 1;
}

/**
 * Per-user accuracy metrics at several cut-offs, from the positions of the relevant items
 * (deterministic) or from groups of tied positions (expected over random tie order), with
 * compensated sums for the means and optional per-user arrays. Internal: the evaluators feed it.
 */
export class AccuracyAccumulator {
  readonly ks: Int32Array;
  readonly maxK: number;
  /** disc[j] = 1 / log2(j + 2). */
  private readonly discount: Float64Array;
  /** cumulativeDiscount[x] = sum_{j < x} disc[j], x = 0..maxK. */
  private readonly cumulativeDiscount: Float64Array;
  /** harmonic[x] = sum_{j < x} 1 / (j + 1), x = 0..maxK. */
  private readonly harmonic: Float64Array;
  /** Per-user values: perUser[m * kCount + k][u]; plus mrr@full and auc. */
  readonly perUser: Float64Array[] | undefined;
  readonly perUserMrrFull: Float64Array | undefined;
  readonly perUserAuc: Float64Array | undefined;
  /** Neumaier sums and compensations: index m * kCount + k, then mrr@full, then auc. */
  private readonly sums: Float64Array;
  private readonly compensations: Float64Array;
  /** Scratch per user, index m * kCount + k. */
  private readonly values: Float64Array;
  private readonly idealPrefix: Float64Array;
  evaluatedUsers = 0;
  skippedUsers = 0;

  constructor(
    ks: readonly number[],
    userCount: number,
    private readonly gain: GainForm,
    private readonly apDenominator: ApDenominator,
    keepPerUser: boolean,
    private readonly withAuc: boolean,
  ) {
    this.ks = Int32Array.from(ks);
    this.maxK = ks[ks.length - 1]!;
    this.discount = new Float64Array(this.maxK);
    this.cumulativeDiscount = new Float64Array(this.maxK + 1);
    this.harmonic = new Float64Array(this.maxK + 1);
    for (let j = 0; j < this.maxK; j++) {
      this.discount[j] = 1 / Math.log2(j + 2);
      this.cumulativeDiscount[j + 1] = this.cumulativeDiscount[j]! + this.discount[j]!;
      this.harmonic[j + 1] = this.harmonic[j]! + 1 / (j + 1);
    }
    const slots = METRIC_COUNT * ks.length;
    this.values = new Float64Array(slots);
    this.sums = new Float64Array(slots + 2);
    this.compensations = new Float64Array(slots + 2);
    this.idealPrefix = new Float64Array(this.maxK + 1);
    if (keepPerUser) {
      this.perUser = [];
      for (let s = 0; s < slots; s++) this.perUser.push(new Float64Array(userCount));
      this.perUserMrrFull = new Float64Array(userCount);
      this.perUserAuc = withAuc ? new Float64Array(userCount) : undefined;
    } else {
      this.perUser = undefined;
      this.perUserMrrFull = undefined;
      this.perUserAuc = undefined;
    }
  }

  /** The cut-off metric names with their slot index. */
  static metricNames(): readonly string[] {
    return CUTOFF_METRICS;
  }

  /** Marks user `u` as skipped (no relevant item, `usersWithoutRelevant: 'skip'`). */
  skipUser(u: number): void {
    this.skippedUsers++;
    if (this.perUser !== undefined) {
      for (const column of this.perUser) column[u] = Number.NaN;
      this.perUserMrrFull![u] = Number.NaN;
      if (this.perUserAuc !== undefined) this.perUserAuc[u] = Number.NaN;
    }
  }

  /** Records user `u` with every metric 0 (no relevant item, `usersWithoutRelevant: 'zero'`). */
  zeroUser(u: number): void {
    this.values.fill(0);
    this.commit(u, 0, 0);
  }

  /**
   * Fills `idealPrefix[x]` = best DCG over the first x positions given the user's relevant gains
   * (binary: the cumulative discount table itself). `gains` is sorted descending in place.
   */
  private prepareIdeal(relevantCount: number, idealGains: Float64Array | undefined): Float64Array {
    const limit = Math.min(relevantCount, this.maxK);
    if (idealGains === undefined || this.gain === 'binary') return this.cumulativeDiscount;
    {
      const sorted = idealGains.subarray(0, relevantCount).sort().reverse();
      this.idealPrefix[0] = 0;
      for (let x = 0; x < limit; x++) this.idealPrefix[x + 1] = this.idealPrefix[x]! + sorted[x]! * this.discount[x]!;
    }
    return this.idealPrefix;
  }

  /**
   * Adds a user whose relevant items sit at known 0-based `positions` (ascending, `count` of them,
   * relevant items absent from the ranking omitted) with their NDCG `gains`.
   *
   * @param relevantCount - number of relevant items of the user (> 0)
   * @param idealGains - gains of all relevant items (graded gains only; reordered in place)
   * @param auc - the user's AUC when computed, else ignored
   */
  addPositions(
    u: number,
    relevantCount: number,
    positions: Int32Array,
    gains: Float64Array,
    count: number,
    idealGains: Float64Array | undefined,
    auc: number,
  ): void {
    const ideal = this.prepareIdeal(relevantCount, idealGains);
    const ks = this.ks;
    const kCount = ks.length;
    const discount = this.discount;
    const first = count > 0 ? positions[0]! : -1;
    let i = 0;
    let hits = 0;
    let dcg = 0;
    let apSum = 0;
    for (let kIndex = 0; kIndex < kCount; kIndex++) {
      const k = ks[kIndex]!;
      while (i < count) {
        const p = positions[i]!;
        if (p >= k) break;
        hits++;
        dcg += gains[i]! * discount[p]!;
        apSum += hits / (p + 1);
        i++;
      }
      this.storeCutoff(kIndex, k, relevantCount, ideal, hits > 0 ? 1 : 0, hits, dcg, first >= 0 && first < k ? 1 / (first + 1) : 0, apSum);
    }
    this.commit(u, first >= 0 ? 1 / (first + 1) : 0, auc);
  }

  /**
   * Adds a user whose relevant items sit in groups of tied positions, reporting the exact
   * expectation of every metric over a uniformly random order inside each group.
   * Group g covers positions `groupStart[g] .. groupStart[g] + groupSize[g] - 1` (ascending starts,
   * disjoint) and holds `groupRelevant[g] >= 1` relevant items whose NDCG gains sum to `groupGain[g]`.
   */
  addTieGroups(
    u: number,
    relevantCount: number,
    groupStart: Float64Array,
    groupSize: Float64Array,
    groupRelevant: Float64Array,
    groupGain: Float64Array,
    groupCount: number,
    idealGains: Float64Array | undefined,
    auc: number,
  ): void {
    const ideal = this.prepareIdeal(relevantCount, idealGains);
    const ks = this.ks;
    const kCount = ks.length;
    const cumulative = this.cumulativeDiscount;
    const harmonic = this.harmonic;
    for (let kIndex = 0; kIndex < kCount; kIndex++) {
      const k = ks[kIndex]!;
      let hits = 0;
      let dcg = 0;
      let missProbability = 1;
      let apSum = 0;
      let before = 0; // relevant items in earlier groups
      for (let g = 0; g < groupCount; g++) {
        const a = groupStart[g]!;
        if (a >= k) break;
        const t = groupSize[g]!;
        const h = groupRelevant[g]!;
        const inside = Math.min(t, k - a); // positions of the group above the cut-off
        hits += (h * inside) / t;
        dcg += (groupGain[g]! / t) * (cumulative[a + inside]! - cumulative[a]!);
        if (inside >= t) missProbability = 0;
        else if (missProbability > 0) {
          // P(no relevant among the first `inside` of t positions) = prod (t-h-i)/(t-i)
          let p = 1;
          for (let i = 0; i < inside && p > 0; i++) p *= (t - h - i) / (t - i);
          missProbability *= p;
        }
        // AP: sum over positions p in the group above K of 1/(p+1) * E[hit_p (1 + hits before p)].
        const harmonicSum = harmonic[a + inside]! - harmonic[a]!;
        apSum += (h / t) * (1 + before) * harmonicSum;
        if (t > 1) apSum += ((h * (h - 1)) / (t * (t - 1))) * (inside - (a + 1) * harmonicSum);
        before += h;
      }
      const mrr = groupCount > 0 ? expectedReciprocalRank(groupStart[0]!, groupSize[0]!, groupRelevant[0]!, k) : 0;
      this.storeCutoff(kIndex, k, relevantCount, ideal, 1 - missProbability, hits, dcg, mrr, apSum);
    }
    const full = groupCount > 0 ? expectedReciprocalRank(groupStart[0]!, groupSize[0]!, groupRelevant[0]!, Infinity) : 0;
    this.commit(u, full, auc);
  }

  /**
   * Stores the metric values at cut-off `ks[kIndex] = k` from the (expected) hit indicator, hits,
   * DCG, reciprocal rank and AP sum of the user's top k.
   */
  private storeCutoff(
    kIndex: number,
    k: number,
    relevantCount: number,
    ideal: Float64Array,
    hitRate: number,
    hits: number,
    dcg: number,
    mrr: number,
    apSum: number,
  ): void {
    const values = this.values;
    const kCount = this.ks.length;
    const idealCount = relevantCount < k ? relevantCount : k;
    values[HITRATE * kCount + kIndex] = hitRate;
    values[RECALL * kCount + kIndex] = hits / relevantCount;
    values[PRECISION * kCount + kIndex] = hits / k;
    values[NDCG * kCount + kIndex] = dcg / ideal[idealCount]!;
    values[MRR * kCount + kIndex] = mrr;
    values[MAP * kCount + kIndex] = apSum / (this.apDenominator === 'relevant' ? relevantCount : idealCount);
  }

  private commit(u: number, mrrFull: number, auc: number): void {
    this.evaluatedUsers++;
    const values = this.values;
    const sums = this.sums;
    const compensations = this.compensations;
    const slots = values.length;
    for (let s = 0; s <= slots + 1; s++) {
      const v = s < slots ? values[s]! : s === slots ? mrrFull : this.withAuc ? auc : 0;
      // Neumaier compensated summation.
      const sum = sums[s]!;
      const next = sum + v;
      compensations[s]! += Math.abs(sum) >= Math.abs(v) ? sum - next + v : v - next + sum;
      sums[s] = next;
    }
    if (this.perUser !== undefined) {
      for (let s = 0; s < slots; s++) this.perUser[s]![u] = values[s]!;
      this.perUserMrrFull![u] = mrrFull;
      if (this.perUserAuc !== undefined) this.perUserAuc[u] = auc;
    }
  }

  /** Means over evaluated users, keyed `name@K`, `mrr@full` and (when computed) `auc`. */
  means(): Record<string, number> {
    const out: Record<string, number> = {};
    const kCount = this.ks.length;
    const n = this.evaluatedUsers;
    const mean = (s: number): number => (n === 0 ? Number.NaN : (this.sums[s]! + this.compensations[s]!) / n);
    CUTOFF_METRICS.forEach((name, m) => {
      for (let kIndex = 0; kIndex < kCount; kIndex++) out[`${name}@${this.ks[kIndex]}`] = mean(m * kCount + kIndex);
    });
    out['mrr@full'] = mean(METRIC_COUNT * kCount);
    if (this.withAuc) out['auc'] = mean(METRIC_COUNT * kCount + 1);
    return out;
  }

  /** Per-user arrays with the keys of {@link AccuracyAccumulator.means} (NaN for skipped users). */
  perUserValues(): Record<string, Float64Array> | undefined {
    if (this.perUser === undefined) return undefined;
    const out: Record<string, Float64Array> = {};
    const kCount = this.ks.length;
    CUTOFF_METRICS.forEach((name, m) => {
      for (let kIndex = 0; kIndex < kCount; kIndex++) out[`${name}@${this.ks[kIndex]}`] = this.perUser![m * kCount + kIndex]!;
    });
    out['mrr@full'] = this.perUserMrrFull!;
    if (this.perUserAuc !== undefined) out['auc'] = this.perUserAuc;
    return out;
  }
}

/**
 * E[1 / rank of the first relevant item] when the first group holding relevant items starts at
 * 0-based position `a`, has `t` positions and `h` relevant items in uniformly random order;
 * ranks at or beyond `cutoff` count 0.
 */
export function expectedReciprocalRank(a: number, t: number, h: number, cutoff: number): number {
  // P(first relevant at offset i) = C(t-1-i, h-1) / C(t, h); P_0 = h/t, P_{i+1} = P_i (t-h-i)/(t-1-i).
  let probability = h / t;
  let total = 0;
  const last = Math.min(t - h, cutoff - a - 1);
  for (let i = 0; i <= last; i++) {
    total += probability / (a + i + 1);
    probability *= (t - h - i) / (t - 1 - i);
  }
  return total;
}
