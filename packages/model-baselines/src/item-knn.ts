import {
  checkIntegerOption,
  checkNumberOption,
  createTensor,
  datasetFingerprint,
  selectTopItems,
  type FitData,
  type Recommendations,
  type ScoreScale,
  type SequenceDataset,
  type Tensor,
} from '@genrec/core';
import { BaselineRecommender, type BaselineState } from './baseline-model.js';
import { OnePassFit, checkCommonFitOptions, checkFitData, type BaselineFitOptions } from './fit-run.js';
import { itemMetadataOf } from './item-metadata.js';
import { checkCompressedRows, checkStoredHyperParameters, openBaselineFolder } from './load-baseline.js';
import { Float64Buffer, findSorted } from './sparse.js';

/** Options of {@link fitItemKnn}. */
export interface ItemKnnFitOptions extends BaselineFitOptions {
  /** Neighbours kept per item: its most similar items (ties to the lower id). @defaultValue 100 */
  neighbours?: number;
  /**
   * Two items co-occur for a user when they are at most `window` positions apart in the user's
   * sequence (a window as long as the longest sequence counts every pair; the pairs of a sequence
   * grow with `length x window`). @defaultValue 3
   */
  window?: number;
  /**
   * Weight of a history item `a` positions before the last one: `recencyDecay ** a`, in (0, 1]
   * (1 weighs the whole history equally). @defaultValue 0.6
   */
  recencyDecay?: number;
}

const HYPER_PARAMETERS = ['neighbours', 'window', 'recencyDecay'] as const;

interface ItemKnnHyperParameters {
  neighbours: number;
  window: number;
  recencyDecay: number;
}

function checkItemKnnOptions(options: ItemKnnFitOptions, where: string): ItemKnnHyperParameters & ReturnType<typeof checkCommonFitOptions> {
  const common = checkCommonFitOptions(options, HYPER_PARAMETERS, where);
  const neighbours = checkIntegerOption(options.neighbours ?? 100, 'neighbours', 1);
  const window = checkIntegerOption(options.window ?? 3, 'window', 1);
  const recencyDecay = checkNumberOption(options.recencyDecay ?? 0.6, 'recencyDecay', 0, 1, { minimumExclusive: true });
  return { ...common, neighbours, window, recencyDecay };
}

/**
 * The co-occurrence item-kNN baseline. Two items co-occur when one user's training sequence holds
 * both at most `window` positions apart (counted once per user); their similarity is the cosine
 * of their binary user vectors, `sim(i, j) = users(i and j) / sqrt(users(i) · users(j))`, where
 * `users(i)` counts the users whose sequence holds `i`, and each item keeps its `neighbours` most
 * similar items. A history's score for item `j` is `Σ_t recencyDecay^(age of t) · sim(h_t, j)`
 * over the history items whose neighbour list holds `j` (`scoreScale` `'count'`: a non-negative
 * weight). Items with score 0 come after every positive one, most popular first (score 0). An
 * empty history gets popularity: scores are then training counts, as the popularity baseline's.
 *
 * @example
 * ```ts
 * const model = await fitItemKnn({ train: split.train }, { neighbours: 50 });
 * const { items } = await model.recommend([[5, 9]], { k: 10, filter: (id) => id !== 42 })
 * ```
 */
export class ItemKnnModel extends BaselineRecommender {
  /** `'item-knn'`. */
  readonly kind = 'item-knn';
  /** Scores are sums of similarities (training counts for an empty history). */
  readonly scoreScale: ScoreScale = 'count';
  private popularOrder: Int32Array | undefined;

  /** @internal Use {@link fitItemKnn} or {@link loadItemKnn}. */
  constructor(
    state: BaselineState,
    private readonly offsets: Int32Array,
    private readonly neighbourIds: Int32Array,
    private readonly similarities: Float32Array,
    private readonly recencyDecay: number,
  ) {
    super(state);
  }

  private weight(length: number, t: number): number {
    return this.recencyDecay === 1 ? 1 : Math.pow(this.recencyDecay, length - 1 - t);
  }

  protected scoreRow(history: Int32Array, row: Float64Array): void {
    if (history.length === 0) {
      for (let j = 0; j < this.itemCount; j++) row[j] = this.popularity[j]!;
      return;
    }
    row.fill(0);
    const length = history.length;
    for (let t = 0; t < length; t++) {
      const w = this.weight(length, t);
      const item = history[t]!;
      for (let e = this.offsets[item - 1]!; e < this.offsets[item]!; e++) row[this.neighbourIds[e]! - 1]! += w * this.similarities[e]!;
    }
  }

  protected candidateScorer(history: Int32Array): (itemId: number) => number {
    const length = history.length;
    if (length === 0) return (itemId) => this.popularity[itemId - 1]!;
    return (itemId) => {
      let score = 0;
      for (let t = 0; t < length; t++) {
        const item = history[t]!;
        const entry = findSorted(this.neighbourIds, this.offsets[item - 1]!, this.offsets[item]!, itemId);
        if (entry >= 0) score += this.weight(length, t) * this.similarities[entry]!;
      }
      return score;
    };
  }

  /** Items with a positive score first (best first), then the rest by popularity at score 0. */
  protected override rankUser(history: Int32Array, row: Float64Array, excluded: Uint8Array, out: Recommendations, u: number, filter?: (itemId: number, user: number) => boolean): void {
    this.scoreRow(history, row);
    if (history.length === 0) {
      selectTopItems(row, excluded, out, u, filter);
      return;
    }
    for (let j = 0; j < row.length; j++) if (row[j] === 0) row[j] = -Infinity;
    let length = selectTopItems(row, excluded, out, u, filter);
    if (length === out.k) return;
    const order = this.popularityOrder();
    const base = u * out.k;
    for (let r = 0; r < order.length && length < out.k; r++) {
      const id = order[r]!;
      if (excluded[id] !== 0 || row[id - 1] !== -Infinity) continue;
      if (filter !== undefined && !filter(id, u)) continue;
      out.items[base + length] = id;
      out.scores[base + length] = 0;
      length++;
    }
    out.lengths[u] = length;
  }

  /** Item ids by training count, descending (ties to the lower id). */
  private popularityOrder(): Int32Array {
    if (this.popularOrder === undefined) {
      const ids = new Int32Array(this.itemCount);
      for (let j = 0; j < this.itemCount; j++) ids[j] = j + 1;
      ids.sort((a, b) => this.popularity[b - 1]! - this.popularity[a - 1]! || a - b);
      this.popularOrder = ids;
    }
    return this.popularOrder;
  }

  protected tensors(): Record<string, Tensor> {
    return {
      'neighbours.offsets': createTensor(this.offsets, [this.offsets.length]),
      'neighbours.ids': createTensor(this.neighbourIds, [this.neighbourIds.length]),
      'neighbours.similarities': createTensor(this.similarities, [this.similarities.length]),
    };
  }
}

/** Co-occurring pairs `(a < b)` of the first `rows` users, each counted once per user, and user frequencies. */
function countPairs(train: SequenceDataset, rows: number, window: number): { keys: Float64Array; userFrequency: Int32Array } {
  const { offsets, items, itemCount } = train;
  const radix = itemCount + 1;
  const userFrequency = new Int32Array(itemCount + 1);
  const pairs = new Float64Buffer(1 << 16);
  const rowPairs = new Float64Buffer(256);
  for (let r = 0; r < rows; r++) {
    const sequence = items.subarray(offsets[r]!, offsets[r + 1]!);
    for (const item of new Set(sequence)) userFrequency[item]!++;
    rowPairs.length = 0;
    for (let t = 1; t < sequence.length; t++) {
      for (let s = Math.max(0, t - window); s < t; s++) {
        const a = sequence[s]!;
        const b = sequence[t]!;
        if (a !== b) rowPairs.push(a < b ? a * radix + b : b * radix + a);
      }
    }
    const keys = rowPairs.view().sort();
    for (let i = 0; i < keys.length; i++) if (i === 0 || keys[i] !== keys[i - 1]) pairs.push(keys[i]!);
  }
  return { keys: pairs.view().sort(), userFrequency };
}

/** Cosine similarities of the counted pairs, each item's best `neighbours` kept, rows sorted by id. */
function buildNeighbours(train: SequenceDataset, rows: number, hyper: ItemKnnHyperParameters): { offsets: Int32Array; ids: Int32Array; similarities: Float32Array } {
  const { itemCount } = train;
  const radix = itemCount + 1;
  const { keys, userFrequency } = countPairs(train, rows, hyper.window);
  // distinct pairs with their user counts
  const degree = new Int32Array(itemCount + 2);
  const pairA: number[] = [];
  const pairB: number[] = [];
  const pairCount: number[] = [];
  for (let i = 0; i < keys.length; ) {
    let j = i + 1;
    while (j < keys.length && keys[j] === keys[i]) j++;
    const a = Math.floor(keys[i]! / radix);
    const b = keys[i]! - a * radix;
    pairA.push(a);
    pairB.push(b);
    pairCount.push(j - i);
    degree[a + 1]!++;
    degree[b + 1]!++;
    i = j;
  }
  // every item's candidate neighbours (both directions), compressed rows indexed by item - 1
  const starts = new Int32Array(itemCount + 1);
  for (let item = 1; item <= itemCount; item++) starts[item] = starts[item - 1]! + degree[item + 1]!;
  const fill = starts.slice(0, itemCount);
  const candidateIds = new Int32Array(starts[itemCount]!);
  const candidateSimilarities = new Float64Array(starts[itemCount]!);
  for (let p = 0; p < pairA.length; p++) {
    const a = pairA[p]!;
    const b = pairB[p]!;
    const similarity = pairCount[p]! / Math.sqrt(userFrequency[a]! * userFrequency[b]!);
    candidateIds[fill[a - 1]!] = b;
    candidateSimilarities[fill[a - 1]!++] = similarity;
    candidateIds[fill[b - 1]!] = a;
    candidateSimilarities[fill[b - 1]!++] = similarity;
  }
  // keep the best `neighbours` of each item, then sort the kept ones by id
  const offsets = new Int32Array(itemCount + 1);
  for (let item = 1; item <= itemCount; item++) offsets[item] = offsets[item - 1]! + Math.min(hyper.neighbours, starts[item]! - starts[item - 1]!);
  const ids = new Int32Array(offsets[itemCount]!);
  const similarities = new Float32Array(offsets[itemCount]!);
  for (let item = 1; item <= itemCount; item++) {
    const from = starts[item - 1]!;
    const count = starts[item]! - from;
    const order = Array.from({ length: count }, (_, i) => from + i);
    if (count > hyper.neighbours) {
      order.sort((x, y) => candidateSimilarities[y]! - candidateSimilarities[x]! || candidateIds[x]! - candidateIds[y]!);
      order.length = hyper.neighbours;
    }
    order.sort((x, y) => candidateIds[x]! - candidateIds[y]!);
    const base = offsets[item - 1]!;
    for (let r = 0; r < order.length; r++) {
      ids[base + r] = candidateIds[order[r]!]!;
      similarities[base + r] = candidateSimilarities[order[r]!]!;
    }
  }
  return { offsets, ids, similarities };
}

/**
 * Fits the item-kNN baseline: one pass collecting co-occurring item pairs, then cosine
 * similarities and each item's nearest neighbours.
 *
 * @param data - `train` is required; `validation` is not used; `catalog` titles are saved with the model.
 * @param options - see {@link ItemKnnFitOptions}.
 * @returns the fitted model.
 * @throws GenrecError `INVALID_OPTION` for an unknown or invalid option (NaN included), `INVALID_INPUT` / `SHAPE_MISMATCH` for malformed data.
 * @example
 * ```ts
 * const split = leaveOneOutSplit(generateSyntheticDataset().dataset);
 * const model = await fitItemKnn({ train: split.train }, { neighbours: 50, recencyDecay: 0.8 });
 * const similar = await model.recommend([[5, 17]], { k: 10 });
 * ```
 */
export async function fitItemKnn(data: FitData, options: ItemKnnFitOptions = {}): Promise<ItemKnnModel> {
  const resolved = checkItemKnnOptions(options, 'fitItemKnn');
  const train = checkFitData(data, 'fitItemKnn');
  const run = new OnePassFit('item-knn', resolved, train.userCount);
  const popularity = new Int32Array(train.itemCount);
  let rows = 0;
  for (; rows < train.userCount; rows++) {
    if (!(await run.next(rows))) break;
    for (let i = train.offsets[rows]!; i < train.offsets[rows + 1]!; i++) popularity[train.items[i]! - 1]!++;
  }
  const neighbours = buildNeighbours(train, rows, resolved);
  const model = new ItemKnnModel(
    {
      itemCount: train.itemCount,
      popularity,
      hyperParameters: { seed: resolved.seed, neighbours: resolved.neighbours, window: resolved.window, recencyDecay: resolved.recencyDecay },
      dataFingerprint: datasetFingerprint(train),
      trainingInteractions: train.offsets[rows]!,
      complete: run.complete,
      items: itemMetadataOf(data),
    },
    neighbours.offsets,
    neighbours.ids,
    neighbours.similarities,
    resolved.recencyDecay,
  );
  // item-kNN has no training objective: its epoch-end loss is 0
  run.end(() => 0);
  return model;
}

/**
 * Loads an item-kNN model saved by `ItemKnnModel.save`.
 *
 * @throws GenrecError `NOT_FOUND`, `FORMAT_VERSION` (another model kind or a newer format), `CORRUPT_ARTIFACT`.
 * @example
 * ```ts
 * await model.save('runs/item-knn');
 * const same = await loadItemKnn('runs/item-knn');
 * ```
 */
export async function loadItemKnn(directory: string): Promise<ItemKnnModel> {
  const opened = openBaselineFolder(directory, 'item-knn');
  const hyper = checkStoredHyperParameters(directory, () => checkItemKnnOptions(opened.state.hyperParameters, 'item-knn manifest'));
  const { itemCount } = opened.state;
  const offsets = opened.tensor('neighbours.offsets', 'int32', [itemCount + 1]);
  const ids = opened.tensor('neighbours.ids', 'int32');
  const similarities = opened.tensor('neighbours.similarities', 'float32', [ids.length]);
  checkCompressedRows('neighbours.ids', offsets, ids, itemCount, itemCount, true, opened.corrupt);
  for (let item = 1; item <= itemCount; item++) {
    if (offsets[item]! - offsets[item - 1]! > hyper.neighbours) throw opened.corrupt(`item ${item} keeps more than ${hyper.neighbours} neighbours`);
  }
  for (const similarity of similarities) if (!(similarity > 0 && similarity <= 1 + 1e-6)) throw opened.corrupt(`tensor "neighbours.similarities" holds ${similarity}, outside (0, 1]`);
  return new ItemKnnModel(opened.state, offsets, ids, similarities, hyper.recencyDecay);
}
