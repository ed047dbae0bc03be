import { checkIntegerOption, checkNumberOption, createTensor, datasetFingerprint, type FitData, type ScoreScale, type SequenceDataset, type Tensor } from '@genrec/core';
import { BaselineRecommender, type BaselineState } from './baseline-model.js';
import { OnePassFit, checkCommonFitOptions, checkFitData, type BaselineFitOptions } from './fit-run.js';
import { itemMetadataOf } from './item-metadata.js';
import { checkCompressedRows, checkStoredHyperParameters, openBaselineFolder, type OpenedBaseline } from './load-baseline.js';
import { findSorted, lexicographicOrder } from './sparse.js';

/** Options of {@link fitMarkov}. */
export interface MarkovFitOptions extends BaselineFitOptions {
  /**
   * Context length: 1 predicts from the last item (a first-order chain), 2 from the last two, up
   * to 3; a context never seen in training backs off to the shorter one, and finally to popularity.
   * @defaultValue 1
   */
  order?: number;
  /**
   * Dirichlet smoothing `α` in `[1e-9, 1e12]` ({@link MIN_MARKOV_SMOOTHING}): the pseudo-count
   * given to the shorter context's distribution,
   * `P(j | c) = (count(c → j) + α · P(j | shorter c)) / (count(c → ·) + α)`. Small values trust the
   * observed transitions, large ones the popularity prior. @defaultValue 1
   */
  smoothing?: number;
}

const HYPER_PARAMETERS = ['order', 'smoothing'] as const;

/** The largest context length. */
export const MAX_MARKOV_ORDER = 3;

/**
 * The smallest `smoothing`: below it the probability of an item that follows none of the
 * history's contexts (`prior x (α / (count + α))^order`) can underflow float64 to 0, its score to
 * -Infinity, and `recommend` would return short rows. At 1e-9 it stays above 1e-120 for any
 * counts that fit the int32 tensors.
 */
export const MIN_MARKOV_SMOOTHING = 1e-9;

/** Transitions of one context length, in compressed rows over the sorted distinct contexts. */
interface ContextTable {
  /** Context length. */
  order: number;
  /** Distinct contexts, `order` ids each, ascending lexicographically. */
  contexts: Int32Array;
  /** Offsets of each context's successors, length `contextCount + 1`. */
  offsets: Int32Array;
  /** Successor ids, ascending within a context. */
  next: Int32Array;
  /** Transition counts, parallel to `next`. */
  counts: Int32Array;
  /** Sum of each context's counts. */
  totals: Float64Array;
}

function contextCount(table: ContextTable): number {
  return table.offsets.length - 1;
}

/** Index of the context made of the last `table.order` items of `history`, or -1. */
function findContext(table: ContextTable, history: Int32Array): number {
  const order = table.order;
  const start = history.length - order;
  if (start < 0) return -1;
  const contexts = table.contexts;
  let low = 0;
  let high = contextCount(table) - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    let comparison = 0;
    for (let c = 0; c < order && comparison === 0; c++) comparison = contexts[middle * order + c]! - history[start + c]!;
    if (comparison < 0) low = middle + 1;
    else if (comparison > 0) high = middle - 1;
    else return middle;
  }
  return -1;
}

function totalsOf(offsets: Int32Array, counts: Int32Array): Float64Array {
  const totals = new Float64Array(offsets.length - 1);
  for (let c = 0; c < totals.length; c++) {
    let sum = 0;
    for (let e = offsets[c]!; e < offsets[c + 1]!; e++) sum += counts[e]!;
    totals[c] = sum;
  }
  return totals;
}

/** Counts the transitions `(context of length order) → next` of the first `rows` users. */
function buildContextTable(train: SequenceDataset, rows: number, order: number): ContextTable {
  const { offsets, items } = train;
  let tupleCount = 0;
  for (let r = 0; r < rows; r++) tupleCount += Math.max(0, offsets[r + 1]! - offsets[r]! - order);
  const columns = Array.from({ length: order + 1 }, () => new Int32Array(tupleCount));
  let n = 0;
  for (let r = 0; r < rows; r++) {
    const from = offsets[r]!;
    for (let t = from + order; t < offsets[r + 1]!; t++) {
      for (let c = 0; c < order; c++) columns[c]![n] = items[t - order + c]!;
      columns[order]![n] = items[t]!;
      n++;
    }
  }
  const sorted = lexicographicOrder(columns, tupleCount, train.itemCount + 1);
  const contexts = new Int32Array(tupleCount * order);
  const contextOffsets = new Int32Array(tupleCount + 1);
  const next = new Int32Array(tupleCount);
  const counts = new Int32Array(tupleCount);
  let contextsFound = 0;
  let entries = 0;
  let previous = -1;
  for (let s = 0; s < tupleCount; s++) {
    const index = sorted[s]!;
    let sameContext = previous >= 0;
    for (let c = 0; c < order && sameContext; c++) sameContext = columns[c]![index] === columns[c]![previous];
    if (!sameContext) {
      for (let c = 0; c < order; c++) contexts[contextsFound * order + c] = columns[c]![index]!;
      contextOffsets[contextsFound] = entries;
      contextsFound++;
    }
    const successor = columns[order]![index]!;
    if (sameContext && next[entries - 1] === successor) counts[entries - 1]!++;
    else {
      next[entries] = successor;
      counts[entries] = 1;
      entries++;
    }
    previous = index;
  }
  contextOffsets[contextsFound] = entries;
  const tableOffsets = contextOffsets.slice(0, contextsFound + 1);
  const tableCounts = counts.slice(0, entries);
  return {
    order,
    contexts: contexts.slice(0, contextsFound * order),
    offsets: tableOffsets,
    next: next.slice(0, entries),
    counts: tableCounts,
    totals: totalsOf(tableOffsets, tableCounts),
  };
}

/**
 * The item-to-item transition baseline (a Markov chain of order 1 to 3 with Dirichlet smoothing
 * and back-off to popularity). For a history ending in context `c`,
 * `P(j | c) = (count(c → j) + α · P(j | c')) / (count(c → ·) + α)` where `c'` drops the oldest item
 * of `c`, an unseen context falls back to `c'`, and the empty context is the add-one popularity
 * `(count(j) + 1) / (interactions + itemCount)`. Scores are `log P(j | history)` (`scoreScale`
 * `'log-probability'`, a full distribution over the catalogue, ≤ 0). An empty history gets the
 * popularity distribution.
 *
 * @example
 * ```ts
 * const model = await fitMarkov({ train: split.train }, { order: 2 });
 * const logP = await model.score([[5, 9]], [[10, 11]]); // log P(10 | 5, 9), log P(11 | 5, 9)
 * ```
 */
export class MarkovModel extends BaselineRecommender {
  /** `'markov'`. */
  readonly kind = 'markov';
  /** Scores are log-probabilities under the smoothed chain. */
  readonly scoreScale: ScoreScale = 'log-probability';
  private readonly prior: Float64Array;

  /** @internal Use {@link fitMarkov} or {@link loadMarkov}. */
  constructor(
    state: BaselineState,
    private readonly tables: readonly ContextTable[],
    private readonly smoothing: number,
  ) {
    super(state);
    const denominator = state.trainingInteractions + state.itemCount;
    this.prior = new Float64Array(state.itemCount);
    for (let j = 0; j < state.itemCount; j++) this.prior[j] = (state.popularity[j]! + 1) / denominator;
  }

  protected scoreRow(history: Int32Array, row: Float64Array): void {
    row.set(this.prior);
    const alpha = this.smoothing;
    for (const table of this.tables) {
      const context = findContext(table, history);
      if (context < 0) continue;
      const denominator = table.totals[context]! + alpha;
      const factor = alpha / denominator;
      for (let j = 0; j < row.length; j++) row[j]! *= factor;
      for (let e = table.offsets[context]!; e < table.offsets[context + 1]!; e++) row[table.next[e]! - 1]! += table.counts[e]! / denominator;
    }
    for (let j = 0; j < row.length; j++) row[j] = Math.log(row[j]!);
  }

  protected candidateScorer(history: Int32Array): (itemId: number) => number {
    const found = this.tables.map((table) => findContext(table, history));
    return (itemId) => this.probability(found, itemId);
  }

  /** P(item | contexts found), with exactly the operations of {@link scoreRow} (bit-identical). */
  private probability(found: readonly number[], itemId: number): number {
    let p = this.prior[itemId - 1]!;
    const alpha = this.smoothing;
    for (let o = 0; o < this.tables.length; o++) {
      const context = found[o]!;
      if (context < 0) continue;
      const table = this.tables[o]!;
      const denominator = table.totals[context]! + alpha;
      p *= alpha / denominator;
      const entry = findSorted(table.next, table.offsets[context]!, table.offsets[context + 1]!, itemId);
      if (entry >= 0) p += table.counts[entry]! / denominator;
    }
    return Math.log(p);
  }

  /** Mean negative log-likelihood of each training interaction given its prefix (the `epoch-end` loss). */
  trainingLoss(train: SequenceDataset, rows: number): number {
    let sum = 0;
    let count = 0;
    for (let r = 0; r < rows; r++) {
      const from = train.offsets[r]!;
      for (let t = from; t < train.offsets[r + 1]!; t++) {
        const prefix = train.items.subarray(from, t);
        sum -= this.probability(
          this.tables.map((table) => findContext(table, prefix)),
          train.items[t]!,
        );
        count++;
      }
    }
    return count === 0 ? 0 : sum / count;
  }

  protected tensors(): Record<string, Tensor> {
    const tensors: Record<string, Tensor> = {};
    for (const table of this.tables) {
      const prefix = `order${table.order}`;
      tensors[`${prefix}.contexts`] = createTensor(table.contexts, [contextCount(table), table.order]);
      tensors[`${prefix}.offsets`] = createTensor(table.offsets, [table.offsets.length]);
      tensors[`${prefix}.next`] = createTensor(table.next, [table.next.length]);
      tensors[`${prefix}.counts`] = createTensor(table.counts, [table.counts.length]);
    }
    return tensors;
  }
}

interface MarkovHyperParameters {
  order: number;
  smoothing: number;
}

function checkMarkovOptions(options: MarkovFitOptions, where: string): MarkovHyperParameters & ReturnType<typeof checkCommonFitOptions> {
  const common = checkCommonFitOptions(options, HYPER_PARAMETERS, where);
  const order = checkIntegerOption(options.order ?? 1, 'order', 1, MAX_MARKOV_ORDER);
  const smoothing = checkNumberOption(options.smoothing ?? 1, 'smoothing', MIN_MARKOV_SMOOTHING, 1e12);
  return { ...common, order, smoothing };
}

/**
 * Fits the Markov baseline: one pass counting, for each context length `1 .. order`, every
 * transition (last items → next item) of the training sequences.
 *
 * @param data - `train` is required; `validation` is not used; `catalog` titles are saved with the model.
 * @param options - see {@link MarkovFitOptions}.
 * @returns the fitted model.
 * @throws GenrecError `INVALID_OPTION` for an unknown or invalid option (NaN included), `INVALID_INPUT` / `SHAPE_MISMATCH` for malformed data.
 * @example
 * ```ts
 * const split = leaveOneOutSplit(generateSyntheticDataset().dataset);
 * const model = await fitMarkov({ train: split.train }, { order: 1, smoothing: 1 });
 * const next = await model.recommend([[5, 17]], { k: 10 }); // what usually follows item 17
 * ```
 */
export async function fitMarkov(data: FitData, options: MarkovFitOptions = {}): Promise<MarkovModel> {
  const resolved = checkMarkovOptions(options, 'fitMarkov');
  const train = checkFitData(data, 'fitMarkov');
  const run = new OnePassFit('markov', resolved, train.userCount);
  const popularity = new Int32Array(train.itemCount);
  let rows = 0;
  for (; rows < train.userCount; rows++) {
    if (!(await run.next(rows))) break;
    for (let i = train.offsets[rows]!; i < train.offsets[rows + 1]!; i++) popularity[train.items[i]! - 1]!++;
  }
  const tables: ContextTable[] = [];
  for (let order = 1; order <= resolved.order; order++) tables.push(buildContextTable(train, rows, order));
  const model = new MarkovModel(
    {
      itemCount: train.itemCount,
      popularity,
      hyperParameters: { seed: resolved.seed, order: resolved.order, smoothing: resolved.smoothing },
      dataFingerprint: datasetFingerprint(train),
      trainingInteractions: train.offsets[rows]!,
      complete: run.complete,
      items: itemMetadataOf(data),
    },
    tables,
    resolved.smoothing,
  );
  run.end(() => model.trainingLoss(train, rows));
  return model;
}

function readContextTable(opened: OpenedBaseline, order: number): ContextTable {
  const { itemCount } = opened.state;
  const prefix = `order${order}`;
  const offsets = opened.tensor(`${prefix}.offsets`, 'int32');
  const contextTotal = offsets.length - 1;
  const contexts = opened.tensor(`${prefix}.contexts`, 'int32', [contextTotal, order]);
  const next = opened.tensor(`${prefix}.next`, 'int32');
  const counts = opened.tensor(`${prefix}.counts`, 'int32', [next.length]);
  checkCompressedRows(`${prefix}.next`, offsets, next, contextTotal, itemCount, true, opened.corrupt);
  for (let c = 0; c < contextTotal; c++) {
    if (offsets[c + 1] === offsets[c]) throw opened.corrupt(`tensor "${prefix}.offsets": context ${c} has no successor`);
    let comparison = c === 0 ? 1 : 0;
    for (let i = 0; i < order; i++) {
      const id = contexts[c * order + i]!;
      if (id < 1 || id > itemCount) throw opened.corrupt(`tensor "${prefix}.contexts" holds item id ${id} outside 1..${itemCount}`);
      if (comparison === 0) comparison = id - contexts[(c - 1) * order + i]!;
    }
    if (comparison <= 0) throw opened.corrupt(`tensor "${prefix}.contexts" is not strictly ascending at context ${c}`);
  }
  for (let e = 0; e < counts.length; e++) if (counts[e]! < 1) throw opened.corrupt(`tensor "${prefix}.counts" holds a count below 1`);
  return { order, contexts, offsets, next, counts, totals: totalsOf(offsets, counts) };
}

/**
 * Loads a Markov model saved by `MarkovModel.save`.
 *
 * @throws GenrecError `NOT_FOUND`, `FORMAT_VERSION` (another model kind or a newer format), `CORRUPT_ARTIFACT`.
 * @example
 * ```ts
 * await model.save('runs/markov');
 * const same = await loadMarkov('runs/markov');
 * ```
 */
export async function loadMarkov(directory: string): Promise<MarkovModel> {
  const opened = openBaselineFolder(directory, 'markov');
  const hyper = checkStoredHyperParameters(directory, () => checkMarkovOptions(opened.state.hyperParameters, 'markov manifest'));
  const tables: ContextTable[] = [];
  for (let order = 1; order <= hyper.order; order++) tables.push(readContextTable(opened, order));
  return new MarkovModel(opened.state, tables, hyper.smoothing);
}
