import { GenrecError, type Matrix } from '@genrec/core';
import { giniIndex, shannonEntropy } from './inequality.js';

/** Options of the beyond-accuracy metrics. */
export interface BeyondAccuracyOptions {
  /**
   * Popularity of each item (e.g. interaction count in the training data), indexed by item id:
   * `itemCount + 1` values, `popularity[id]` for ids `1 .. itemCount`; entry 0 (the padding id) is
   * ignored. This is the layout of a count array filled with `counts[itemId]++` over
   * `@genrec/data` sequences. Needed for average popularity, tail share and novelty.
   */
  popularity?: ArrayLike<number>;
  /**
   * Share of the catalogue, least popular first (ties by lower id), that forms the long tail.
   * @defaultValue 0.1
   */
  tailFraction?: number;
  /**
   * Denominator turning popularity into a probability for novelty, `-log2(max(pop, 1) / denominator)`
   * (use the number of training users when popularity counts users).
   * @defaultValue the sum of `popularity`
   */
  noveltyDenominator?: number;
  /**
   * Item embeddings `[itemCount, d]` for intra-list diversity (mean pairwise cosine distance); row
   * `j` holds item `j + 1` (the layout of core's `FitData.itemVectors`).
   */
  embeddings?: Matrix;
}

/** The beyond-accuracy settings recorded in a result. */
export interface BeyondAccuracyProtocol {
  /** Whether popularity was given (avg popularity, tail share, novelty computed). */
  popularity: boolean;
  /** Tail share of the catalogue. */
  tailFraction: number;
  /** Number of tail items. */
  tailItemCount: number;
  /** Novelty denominator used. */
  noveltyDenominator: number | null;
  /** Whether intra-list diversity was computed (cosine distance of the given embeddings). */
  intraListDiversity: boolean;
  /** Fixed definitions. */
  definitions: {
    coverage: 'distinct recommended items in the top K of all users / itemCount';
    gini: 'Gini index of top-K recommendation counts over all catalogue items';
    entropy: 'Shannon entropy (bits) of top-K recommendation counts';
    perList: 'popularity, tail, novelty and ild are means over the items in the top K of a user (slots of invalid ids kept as misses hold no item), then over users with at least 1 such item (ild: 2)';
  };
}

/**
 * Accumulates beyond-accuracy metrics over users' top-K lists. Internal: the evaluators feed it.
 * Per-item arrays are indexed by item id (`itemCount + 1` slots, slot 0 unused).
 */
export class BeyondAccuracyAccumulator {
  private readonly counts: Float64Array[];
  private readonly popularity: Float64Array | undefined;
  private readonly isTail: Uint8Array | undefined;
  private readonly selfInformation: Float64Array | undefined;
  private readonly unitEmbeddings: Float32Array | undefined;
  private readonly dimension: number;
  private readonly tailItemCount: number;
  private readonly noveltyDenominator: number | null;
  private readonly tailFraction: number;
  /** Per list metric: perUser[name][kIndex][u]. */
  readonly perUser: Map<string, Float64Array[]> = new Map();
  private readonly sums: Map<string, Float64Array> = new Map();
  private readonly users: Map<string, Float64Array> = new Map();
  private readonly ildPrefix: Float64Array;
  /** Scratch: the real (non-zero) items of a user's top max K, and their count within each K. */
  private readonly realItems: Int32Array;
  private readonly realCounts: Int32Array;

  constructor(
    private readonly ks: Int32Array,
    private readonly itemCount: number,
    userCount: number,
    options: BeyondAccuracyOptions,
    private readonly keepPerUser: boolean,
  ) {
    this.counts = Array.from(ks, () => new Float64Array(itemCount + 1));
    this.tailFraction = options.tailFraction ?? 0.1;
    if (!(this.tailFraction >= 0 && this.tailFraction <= 1)) {
      throw new GenrecError('INVALID_OPTION', `tailFraction must be in [0, 1], got ${this.tailFraction}`, { details: { field: 'tailFraction' } });
    }
    const names: string[] = [];
    this.tailItemCount = 0;
    this.noveltyDenominator = null;
    if (options.popularity !== undefined) {
      if (options.popularity.length !== itemCount + 1) {
        throw new GenrecError(
          'SHAPE_MISMATCH',
          `popularity has ${options.popularity.length} values; indexed by item id it needs itemCount + 1 = ${itemCount + 1} (entry 0, the padding id, is ignored)`,
          { details: { field: 'popularity' } },
        );
      }
      const popularity = Float64Array.from(options.popularity);
      popularity[0] = 0;
      let total = 0;
      for (let i = 1; i <= itemCount; i++) {
        const p = popularity[i]!;
        if (!(p >= 0) || !Number.isFinite(p)) {
          throw new GenrecError('INVALID_INPUT', `popularity of item ${i} is ${p}; it must be finite and >= 0`, { details: { field: 'popularity', item: i } });
        }
        total += p;
      }
      this.popularity = popularity;
      const order = Array.from({ length: itemCount }, (_, i) => i + 1).sort((a, b) => popularity[a]! - popularity[b]! || a - b);
      this.tailItemCount = Math.floor(this.tailFraction * itemCount);
      this.isTail = new Uint8Array(itemCount + 1);
      for (let i = 0; i < this.tailItemCount; i++) this.isTail[order[i]!] = 1;
      const denominator = options.noveltyDenominator ?? total;
      if (!(denominator > 0) || !Number.isFinite(denominator)) {
        throw new GenrecError('INVALID_OPTION', `noveltyDenominator must be a positive number, got ${denominator}`, { details: { field: 'noveltyDenominator' } });
      }
      this.noveltyDenominator = denominator;
      this.selfInformation = new Float64Array(itemCount + 1);
      for (let i = 1; i <= itemCount; i++) this.selfInformation[i] = -Math.log2(Math.max(popularity[i]!, 1) / denominator);
      names.push('popularity', 'tail', 'novelty');
    }
    this.dimension = 0;
    if (options.embeddings !== undefined) {
      const { rows, cols, data } = options.embeddings;
      if (rows !== itemCount) {
        throw new GenrecError('SHAPE_MISMATCH', `embeddings have ${rows} rows for ${itemCount} items`, { details: { field: 'embeddings' } });
      }
      this.dimension = cols;
      // Unit vectors indexed by item id: row `id` (row 0, the padding id, stays zero).
      this.unitEmbeddings = new Float32Array((rows + 1) * cols);
      for (let r = 0; r < rows; r++) {
        let norm = 0;
        for (let c = 0; c < cols; c++) norm += data[r * cols + c]! * data[r * cols + c]!;
        if (!Number.isFinite(norm)) {
          throw new GenrecError('INVALID_INPUT', `embedding of item ${r + 1} (row ${r}) is not finite`, { details: { field: 'embeddings', item: r + 1 } });
        }
        const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
        for (let c = 0; c < cols; c++) this.unitEmbeddings[(r + 1) * cols + c] = data[r * cols + c]! * scale;
      }
      names.push('ild');
    }
    this.ildPrefix = new Float64Array(ks[ks.length - 1]! + 1);
    this.realItems = new Int32Array(ks[ks.length - 1]!);
    this.realCounts = new Int32Array(ks.length);
    for (const name of names) {
      this.sums.set(name, new Float64Array(ks.length));
      this.users.set(name, new Float64Array(ks.length));
      if (keepPerUser) this.perUser.set(name, Array.from(ks, () => new Float64Array(userCount).fill(Number.NaN)));
    }
  }

  /**
   * Adds user `u`'s effective list (`length` entries, best first; only the first max K are read).
   * An entry 0 is a slot that holds no item (an invalid id kept as a miss): it takes its place in
   * the top K but adds to no count and no per-list mean.
   */
  addUser(u: number, list: Int32Array, length: number): void {
    const ks = this.ks;
    const maxLength = Math.min(length, ks[ks.length - 1]!);
    // Real items of the top max K, compacted, and how many of them fall in the top ks[kIndex].
    const real = this.realItems;
    const realAt = this.realCounts;
    let count = 0;
    for (let kIndex = 0, j = 0; kIndex < ks.length; kIndex++) {
      const limit = Math.min(maxLength, ks[kIndex]!);
      for (; j < limit; j++) {
        const item = list[j]!;
        if (item !== 0) real[count++] = item;
      }
      realAt[kIndex] = count;
      const counts = this.counts[kIndex]!;
      for (let i = 0; i < count; i++) counts[real[i]!]! += 1;
    }
    if (count === 0) return;
    if (this.popularity !== undefined) {
      let pop = 0;
      let tail = 0;
      let novelty = 0;
      let i = 0;
      for (let kIndex = 0; kIndex < ks.length; kIndex++) {
        const limit = realAt[kIndex]!;
        for (; i < limit; i++) {
          const item = real[i]!;
          pop += this.popularity[item]!;
          tail += this.isTail![item]!;
          novelty += this.selfInformation![item]!;
        }
        if (limit === 0) continue;
        this.record('popularity', kIndex, u, pop / limit);
        this.record('tail', kIndex, u, tail / limit);
        this.record('novelty', kIndex, u, novelty / limit);
      }
    }
    if (this.unitEmbeddings !== undefined && count >= 2) {
      const e = this.unitEmbeddings;
      const d = this.dimension;
      const prefix = this.ildPrefix;
      prefix[0] = 0;
      prefix[1] = 0;
      for (let j = 1; j < count; j++) {
        const bj = real[j]! * d;
        let distance = 0;
        for (let i = 0; i < j; i++) {
          const bi = real[i]! * d;
          let dot = 0;
          for (let c = 0; c < d; c++) dot += e[bi + c]! * e[bj + c]!;
          distance += 1 - dot;
        }
        prefix[j + 1] = prefix[j]! + distance;
      }
      for (let kIndex = 0; kIndex < ks.length; kIndex++) {
        const limit = realAt[kIndex]!;
        if (limit >= 2) this.record('ild', kIndex, u, prefix[limit]! / ((limit * (limit - 1)) / 2));
      }
    }
  }

  private record(name: string, kIndex: number, u: number, value: number): void {
    this.sums.get(name)![kIndex]! += value;
    this.users.get(name)![kIndex]! += 1;
    if (this.keepPerUser) this.perUser.get(name)![kIndex]![u] = value;
  }

  /** Means keyed `name@K`: coverage, gini, entropy and the per-list metrics that were computed. */
  means(): Record<string, number> {
    const out: Record<string, number> = {};
    this.ks.forEach((k, kIndex) => {
      const counts = this.counts[kIndex]!.subarray(1); // items 1..itemCount
      let distinct = 0;
      for (let i = 0; i < this.itemCount; i++) if (counts[i]! > 0) distinct++;
      out[`coverage@${k}`] = distinct / this.itemCount;
      out[`gini@${k}`] = giniIndex(counts);
      out[`entropy@${k}`] = shannonEntropy(counts);
      for (const [name, sums] of this.sums) {
        const users = this.users.get(name)![kIndex]!;
        out[`${name}@${k}`] = users === 0 ? Number.NaN : sums[kIndex]! / users;
      }
    });
    return out;
  }

  /** Per-user values keyed `name@K` (NaN where undefined). */
  perUserValues(): Record<string, Float64Array> {
    const out: Record<string, Float64Array> = {};
    for (const [name, columns] of this.perUser) this.ks.forEach((k, kIndex) => (out[`${name}@${k}`] = columns[kIndex]!));
    return out;
  }

  /** Recommendation counts per item id at cut-off index `kIndex` (`itemCount + 1` slots, slot 0 unused). */
  itemCounts(kIndex: number): Float64Array {
    return this.counts[kIndex]!;
  }

  /** The settings to record in a result. */
  protocol(): BeyondAccuracyProtocol {
    return {
      popularity: this.popularity !== undefined,
      tailFraction: this.tailFraction,
      tailItemCount: this.tailItemCount,
      noveltyDenominator: this.noveltyDenominator,
      intraListDiversity: this.unitEmbeddings !== undefined,
      definitions: {
        coverage: 'distinct recommended items in the top K of all users / itemCount',
        gini: 'Gini index of top-K recommendation counts over all catalogue items',
        entropy: 'Shannon entropy (bits) of top-K recommendation counts',
        perList:
          'popularity, tail, novelty and ild are means over the items in the top K of a user (slots of invalid ids kept as misses hold no item), then over users with at least 1 such item (ild: 2)',
      },
    };
  }
}
