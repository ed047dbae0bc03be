import { GenrecError, type Matrix } from '@genrec/core';
import { giniIndex, shannonEntropy } from './inequality.js';

/** Options of the beyond-accuracy metrics. */
export interface BeyondAccuracyOptions {
  /**
   * Popularity of each item (e.g. interaction count in the training data), `itemCount` values.
   * Needed for average popularity, tail share and novelty.
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
  /** Item embeddings `[itemCount, d]` for intra-list diversity (mean pairwise cosine distance). */
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
    perList: 'popularity, tail, novelty and ild are means over the top-K list of a user, then over users with a non-empty list (ild: at least 2 items)';
  };
}

/** Accumulates beyond-accuracy metrics over users' top-K lists. Internal: the evaluators feed it. */
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

  constructor(
    private readonly ks: Int32Array,
    private readonly itemCount: number,
    userCount: number,
    options: BeyondAccuracyOptions,
    private readonly keepPerUser: boolean,
  ) {
    this.counts = Array.from(ks, () => new Float64Array(itemCount));
    this.tailFraction = options.tailFraction ?? 0.1;
    if (!(this.tailFraction >= 0 && this.tailFraction <= 1)) {
      throw new GenrecError('INVALID_OPTION', `tailFraction must be in [0, 1], got ${this.tailFraction}`, { details: { field: 'tailFraction' } });
    }
    const names: string[] = [];
    this.tailItemCount = 0;
    this.noveltyDenominator = null;
    if (options.popularity !== undefined) {
      const popularity = Float64Array.from(options.popularity);
      if (popularity.length !== itemCount) {
        throw new GenrecError('SHAPE_MISMATCH', `popularity has ${popularity.length} values for ${itemCount} items`, { details: { field: 'popularity' } });
      }
      let total = 0;
      for (let i = 0; i < itemCount; i++) {
        const p = popularity[i]!;
        if (!(p >= 0) || !Number.isFinite(p)) {
          throw new GenrecError('INVALID_INPUT', `popularity of item ${i} is ${p}; it must be finite and >= 0`, { details: { field: 'popularity', item: i } });
        }
        total += p;
      }
      this.popularity = popularity;
      const order = Array.from({ length: itemCount }, (_, i) => i).sort((a, b) => popularity[a]! - popularity[b]! || a - b);
      this.tailItemCount = Math.floor(this.tailFraction * itemCount);
      this.isTail = new Uint8Array(itemCount);
      for (let i = 0; i < this.tailItemCount; i++) this.isTail[order[i]!] = 1;
      const denominator = options.noveltyDenominator ?? total;
      if (!(denominator > 0) || !Number.isFinite(denominator)) {
        throw new GenrecError('INVALID_OPTION', `noveltyDenominator must be a positive number, got ${denominator}`, { details: { field: 'noveltyDenominator' } });
      }
      this.noveltyDenominator = denominator;
      this.selfInformation = new Float64Array(itemCount);
      for (let i = 0; i < itemCount; i++) this.selfInformation[i] = -Math.log2(Math.max(popularity[i]!, 1) / denominator);
      names.push('popularity', 'tail', 'novelty');
    }
    this.dimension = 0;
    if (options.embeddings !== undefined) {
      const { rows, cols, data } = options.embeddings;
      if (rows !== itemCount) {
        throw new GenrecError('SHAPE_MISMATCH', `embeddings have ${rows} rows for ${itemCount} items`, { details: { field: 'embeddings' } });
      }
      this.dimension = cols;
      this.unitEmbeddings = new Float32Array(rows * cols);
      for (let r = 0; r < rows; r++) {
        let norm = 0;
        for (let c = 0; c < cols; c++) norm += data[r * cols + c]! * data[r * cols + c]!;
        if (!Number.isFinite(norm)) {
          throw new GenrecError('INVALID_INPUT', `embedding of item ${r} is not finite`, { details: { field: 'embeddings', item: r } });
        }
        const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
        for (let c = 0; c < cols; c++) this.unitEmbeddings[r * cols + c] = data[r * cols + c]! * scale;
      }
      names.push('ild');
    }
    this.ildPrefix = new Float64Array(ks[ks.length - 1]! + 1);
    for (const name of names) {
      this.sums.set(name, new Float64Array(ks.length));
      this.users.set(name, new Float64Array(ks.length));
      if (keepPerUser) this.perUser.set(name, Array.from(ks, () => new Float64Array(userCount).fill(Number.NaN)));
    }
  }

  /** Adds user `u`'s effective list (`length` items, best first; only the first max K are read). */
  addUser(u: number, list: Int32Array, length: number): void {
    const ks = this.ks;
    for (let kIndex = 0; kIndex < ks.length; kIndex++) {
      const counts = this.counts[kIndex]!;
      const limit = Math.min(length, ks[kIndex]!);
      for (let j = 0; j < limit; j++) counts[list[j]!]! += 1;
    }
    if (length === 0) return;
    if (this.popularity !== undefined) {
      let pop = 0;
      let tail = 0;
      let novelty = 0;
      let j = 0;
      for (let kIndex = 0; kIndex < ks.length; kIndex++) {
        const limit = Math.min(length, ks[kIndex]!);
        for (; j < limit; j++) {
          const item = list[j]!;
          pop += this.popularity[item]!;
          tail += this.isTail![item]!;
          novelty += this.selfInformation![item]!;
        }
        this.record('popularity', kIndex, u, pop / limit);
        this.record('tail', kIndex, u, tail / limit);
        this.record('novelty', kIndex, u, novelty / limit);
      }
    }
    if (this.unitEmbeddings !== undefined && length >= 2) {
      const e = this.unitEmbeddings;
      const d = this.dimension;
      const maxLength = Math.min(length, ks[ks.length - 1]!);
      const prefix = this.ildPrefix;
      prefix[0] = 0;
      prefix[1] = 0;
      for (let j = 1; j < maxLength; j++) {
        const bj = list[j]! * d;
        let distance = 0;
        for (let i = 0; i < j; i++) {
          const bi = list[i]! * d;
          let dot = 0;
          for (let c = 0; c < d; c++) dot += e[bi + c]! * e[bj + c]!;
          distance += 1 - dot;
        }
        prefix[j + 1] = prefix[j]! + distance;
      }
      for (let kIndex = 0; kIndex < ks.length; kIndex++) {
        const limit = Math.min(length, ks[kIndex]!);
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
      const counts = this.counts[kIndex]!;
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

  /** Recommendation counts per item at cut-off index `kIndex`. */
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
          'popularity, tail, novelty and ild are means over the top-K list of a user, then over users with a non-empty list (ild: at least 2 items)',
      },
    };
  }
}
