import {
  ExclusionMask,
  GenrecError,
  RetiredItems,
  batchSize,
  checkIntegerOption,
  checkKnownOptions,
  checkRecommendOptions,
  createMatrix,
  emptyRecommendations,
  popularityLogits,
  selectTopItems,
  toHistoryBatch,
  writeModelFolder,
  type Histories,
  type HistoryBatch,
  type ItemCatalog,
  type Matrix,
  type ModelDescription,
  type RecommendOptions,
  type Recommendations,
  type Recommender,
  type ScoreScale,
  type Tensor,
  type VectorIndex,
} from '@genrec/core';
import { Graph, matMul, matMulTopK } from '@genrec/nn';
import { HiddenStateRunner } from './hidden-states.js';
import type { SasrecSpec } from './options.js';
import { buildScoreGraph, sasrecParameterShapes, type SasrecArchitecture } from './sasrec-graph.js';
import { PACKAGE_NAME, SASREC_FORMAT_VERSION, SASREC_KIND, version } from './version.js';

/** How a model's weights were trained (stored with it, reported by `describe`). */
export interface SasrecTrainingSummary {
  /** The epoch whose weights the model holds (0 = untrained, e.g. aborted before the first epoch ended). */
  epoch: number;
  /** Epochs trained in all (including resumed ones). */
  epochsTrained: number;
  /** Why training stopped. */
  stoppedBy: 'epochs' | 'early-stopping' | 'abort';
  /** Validation metrics of the kept epoch, when validated. */
  validation?: Record<string, number>;
  /** Mean training loss of each epoch. */
  losses: number[];
}

/** Everything a {@link SasrecModel} is made of. */
export interface SasrecModelInit {
  spec: SasrecSpec;
  itemCount: number;
  /** Parameter values by `@genrec/nn` name (not copied: the model owns them). */
  parameters: Map<string, Float32Array>;
  /** Training interactions per item, index `j` = item `j + 1` (the empty-history fallback). */
  popularity: Int32Array;
  dataFingerprint: string;
  training: SasrecTrainingSummary;
  retiredItems?: ArrayLike<number>;
  externalItemIds?: readonly string[];
  catalog?: ItemCatalog;
  /** A runner to share (not released by this model's `dispose`); a new owned one when omitted. */
  runner?: HiddenStateRunner;
}

/** Options of {@link SasrecModel.exportOnnx}. */
export interface ExportOnnxOptions {
  /** Rows of the exported graph's static batch. @defaultValue 1 */
  batchSize?: number;
}

/** Options of {@link SasrecModel.useIndex}. */
export interface UseIndexOptions {
  /**
   * Add the model's item embeddings (ids `1 .. itemCount`) to the index first. `'auto'` adds them
   * when the index is empty. @defaultValue 'auto'
   */
  addItems?: boolean | 'auto';
}

/** Extra candidates of the top-k shortcut, for excluded history items (see `recommend`). */
const SHORTLIST_SLACK = 32;

/** Products larger than this many scores are split into blocks of users (64 MiB of float32). */
const SCORE_BLOCK = 1 << 24;

/**
 * A fitted SASRec model (made by `fitSasrec`, `loadSasrec` or a preference model's
 * `withParameters`). It implements core's `Recommender`.
 *
 * **Scores** are logits (`scoreScale: 'logit'`): `h · e_item`, the dot product of the user's last
 * hidden state with the item's embedding; `log π(item | history)` = logit − logsumexp over all
 * items (what the preference hook computes). **Empty histories** get the fallback of add-one
 * smoothed training popularity, scored `log((count + 1) / (total + itemCount))`.
 *
 * `recommend` ranks the whole catalogue exactly (batched products with `@genrec/nn`'s `matMul`,
 * then core's `ExclusionMask` and `selectTopItems`), or asks a `VectorIndex` given to
 * {@link SasrecModel.useIndex}.
 *
 * @example
 * ```ts
 * const model = await fitSasrec({ train: split.train, validation: split.validation });
 * const top = await model.recommend([[1, 5, 9]], { k: 10 });
 * await model.save('runs/sasrec');
 * ```
 */
export class SasrecModel implements Recommender {
  /** Always `'sasrec'`. */
  readonly kind = SASREC_KIND;
  /** Scores are logits (dot products). */
  readonly scoreScale: ScoreScale = 'logit';
  /** Catalogue size (ids `1 .. itemCount`). */
  readonly itemCount: number;
  /** The resolved hyper-parameters. */
  readonly spec: SasrecSpec;
  /** The architecture. */
  readonly architecture: SasrecArchitecture;
  /** How it was trained. */
  readonly training: SasrecTrainingSummary;
  /** Fingerprint of the training data. */
  readonly dataFingerprint: string;
  /** External item ids (index = item id), when the training data had them. */
  readonly externalItemIds: readonly string[] | undefined;
  /** The item catalogue, when given at fit time (titles only after loading). */
  readonly catalog: ItemCatalog | undefined;
  private readonly parameters: Map<string, Float32Array>;
  private readonly popularity: Int32Array;
  private readonly fallback: Float32Array;
  private readonly retired: RetiredItems;
  private readonly runner: HiddenStateRunner;
  private readonly ownsRunner: boolean;
  private tableMatrix: Matrix | undefined;
  private index: VectorIndex | undefined;
  private disposed = false;

  constructor(init: SasrecModelInit) {
    this.spec = init.spec;
    this.itemCount = init.itemCount;
    this.architecture = architectureOf(init.spec, init.itemCount);
    this.parameters = init.parameters;
    this.popularity = init.popularity;
    this.fallback = popularityLogits(init.popularity);
    this.dataFingerprint = init.dataFingerprint;
    this.training = init.training;
    this.externalItemIds = init.externalItemIds;
    this.catalog = init.catalog;
    this.retired = new RetiredItems(init.itemCount, init.retiredItems ?? []);
    this.ownsRunner = init.runner === undefined;
    this.runner = init.runner ?? new HiddenStateRunner(this.architecture, init.spec.inferenceBatchSize, init.spec.threads);
  }

  /** The largest `k` of `recommend`: the catalogue size. */
  get maxK(): number {
    return this.itemCount;
  }

  /** The retired item ids, ascending. */
  get retiredItems(): Int32Array {
    return this.retired.ids;
  }

  /** @inheritDoc */
  retireItems(itemIds: ArrayLike<number>): void {
    this.retired.retire(itemIds);
  }

  /** @inheritDoc */
  restoreItems(itemIds: ArrayLike<number>): void {
    this.retired.restore(itemIds);
  }

  /**
   * The item embedding table (a copy): row `j` is item `j + 1`, `itemCount x hiddenSize`. These
   * are the vectors the model scores with (logit = hidden state · row).
   */
  itemEmbeddings(): Matrix {
    return createMatrix(this.itemCount, this.architecture.hiddenSize, this.table().data.slice());
  }

  /** Parameter values by `@genrec/nn` name (copies). */
  parameterValues(): Map<string, Float32Array> {
    return new Map([...this.parameters].map(([name, value]) => [name, value.slice()]));
  }

  /** Training interactions per item (a copy), index `j` = item `j + 1`: the empty-history fallback. */
  itemPopularity(): Int32Array {
    return this.popularity.slice();
  }

  /**
   * The last hidden state of each history (`users x hiddenSize`), the vector `recommend` ranks
   * items with; an empty history gives a zero row.
   *
   * @throws GenrecError `INVALID_INPUT` for unknown item ids.
   */
  async userEmbeddings(histories: Histories): Promise<Matrix> {
    this.checkAlive();
    const batch = toHistoryBatch(histories, this.itemCount);
    const users = batchSize(batch);
    const hidden = await this.hiddenOf(batch, users);
    return createMatrix(users, this.architecture.hiddenSize, hidden);
  }

  /**
   * Routes `recommend` through a vector index over the item embeddings (an approximate one such as
   * `@genrec/ann`'s `HnswIndex` for large catalogues), or back to exact ranking with `undefined`.
   * The index must rank by inner product (`metric: 'ip'`, the model's logits) and have the
   * model's hidden size; with `addItems` the model fills it (ids `1 .. itemCount`). Exclusions,
   * retired items and filters apply as in exact ranking; the index is not saved with the model.
   *
   * @throws GenrecError `INVALID_OPTION` for another metric or dimension.
   * @example
   * ```ts
   * await model.useIndex(new HnswIndex({ dimension: 64, metric: 'ip' })); // empty: filled with the items
   * ```
   */
  async useIndex(index: VectorIndex | undefined, options: UseIndexOptions = {}): Promise<void> {
    this.checkAlive();
    checkKnownOptions(options, ['addItems'], 'useIndex');
    if (index === undefined) {
      this.index = undefined;
      return;
    }
    if (typeof index !== 'object' || index === null || typeof index.search !== 'function') {
      throw new GenrecError('INVALID_OPTION', 'useIndex takes a VectorIndex (or undefined)', { details: { field: 'index' } });
    }
    if (index.metric !== 'ip') {
      throw new GenrecError('INVALID_OPTION', `the index must rank by inner product (metric 'ip'), the model's logits; it uses '${index.metric}'`, { details: { field: 'index.metric' } });
    }
    if (index.dimension !== this.architecture.hiddenSize) {
      throw new GenrecError('INVALID_OPTION', `the index has dimension ${index.dimension}, the model's item embeddings ${this.architecture.hiddenSize}`, { details: { field: 'index.dimension' } });
    }
    const add = options.addItems ?? 'auto';
    if (add !== 'auto' && typeof add !== 'boolean') throw new GenrecError('INVALID_OPTION', `addItems must be true, false or 'auto', got ${String(add)}`, { details: { field: 'addItems' } });
    if (add === true || (add === 'auto' && index.size === 0)) {
      const ids = new Int32Array(this.itemCount);
      for (let j = 0; j < this.itemCount; j++) ids[j] = j + 1;
      await index.add(ids, this.table());
    }
    this.index = index;
  }

  /** @inheritDoc */
  async recommend(histories: Histories, options: RecommendOptions): Promise<Recommendations> {
    this.checkAlive();
    const batch = toHistoryBatch(histories, this.itemCount);
    const users = batchSize(batch);
    checkRecommendOptions(options, this.maxK, users, this.itemCount);
    checkKnownOptions(options, ['k', 'excludeHistory', 'exclude', 'filter', 'userIds'], 'recommend');
    const out = emptyRecommendations(users, options.k);
    if (users === 0) return out;
    const hidden = await this.hiddenOf(batch, users);
    const mask = new ExclusionMask(this.itemCount, this.retired.ids);
    if (this.index !== undefined) {
      await this.recommendThroughIndex(this.index, batch, hidden, mask, options, out);
      return out;
    }
    const d = this.architecture.hiddenSize;
    const block = Math.max(1, Math.floor(SCORE_BLOCK / this.itemCount));
    // Without a filter, a top-`depth` product (onnxruntime's TopK: value descending, lower index
    // first, the order of selectTopItems) replaces the scan of every score row; `depth` leaves room
    // for k + the retired items + some history, and a user whose exclusions eat into the k falls
    // back to the full scan.
    const depth = 2 * options.k + this.retired.size + SHORTLIST_SLACK;
    const shortlist = options.filter === undefined && depth * 8 <= this.itemCount;
    const run = { transposeB: true, intraOpNumThreads: this.spec.threads };
    for (let from = 0; from < users; from += block) {
      const to = Math.min(users, from + block);
      const withHistory: number[] = [];
      for (let u = from; u < to; u++) {
        if (batch.offsets[u + 1]! > batch.offsets[u]!) withHistory.push(u);
        else {
          mask.set(batch, u, options);
          selectTopItems(this.fallback, mask.marks, out, u, options.filter);
          mask.clear();
        }
      }
      let pending = withHistory;
      if (shortlist && withHistory.length > 0) {
        const top = await matMulTopK(this.queries(hidden, withHistory), this.table(), depth, run);
        pending = [];
        withHistory.forEach((u, i) => {
          mask.set(batch, u, options);
          if (takeShortlist(top.indices, top.values, i * top.k, top.k, mask.marks, out, u) < options.k) pending.push(u);
          mask.clear();
        });
      }
      if (pending.length === 0) continue;
      const scores = await matMul(this.queries(hidden, pending), this.table(), run);
      pending.forEach((u, i) => {
        mask.set(batch, u, options);
        selectTopItems(scores.data.subarray(i * this.itemCount, (i + 1) * this.itemCount), mask.marks, out, u, options.filter);
        mask.clear();
      });
    }
    return out;
  }

  private async recommendThroughIndex(index: VectorIndex, batch: HistoryBatch, hidden: Float32Array, mask: ExclusionMask, options: RecommendOptions, out: Recommendations): Promise<void> {
    const d = this.architecture.hiddenSize;
    const users = out.size;
    const k = out.k;
    const retired = this.retired.ids;
    const excludedFor = (u: number): Set<number> => {
      const set = new Set<number>(retired);
      if (options.excludeHistory !== false) for (let i = batch.offsets[u]!; i < batch.offsets[u + 1]!; i++) set.add(batch.items[i]!);
      const extra = options.exclude?.[u];
      if (extra !== undefined) for (let i = 0; i < extra.length; i++) set.add(extra[i]!);
      return set;
    };
    const write = (u: number, ids: Int32Array, scores: Float32Array, offset: number) => {
      let length = 0;
      for (let i = 0; i < k; i++) {
        const id = ids[offset + i]!;
        if (id < 1 || id > this.itemCount) continue;
        out.items[u * k + length] = id;
        out.scores[u * k + length] = scores[offset + i]!;
        length++;
      }
      out.lengths[u] = length;
    };
    const withHistory: number[] = [];
    for (let u = 0; u < users; u++) {
      if (batch.offsets[u + 1]! > batch.offsets[u]!) withHistory.push(u);
      else {
        mask.set(batch, u, options);
        selectTopItems(this.fallback, mask.marks, out, u, options.filter);
        mask.clear();
      }
    }
    if (withHistory.length === 0) return;
    const filter = options.filter;
    if (filter === undefined) {
      const queries = new Float32Array(withHistory.length * d);
      withHistory.forEach((u, i) => queries.set(hidden.subarray(u * d, (u + 1) * d), i * d));
      const result = await index.search(createMatrix(withHistory.length, d, queries), k, { exclude: withHistory.map(excludedFor) });
      withHistory.forEach((u, i) => write(u, result.ids, result.scores, i * result.k));
      return;
    }
    for (const u of withHistory) {
      const result = await index.search(createMatrix(1, d, hidden.slice(u * d, (u + 1) * d)), k, { exclude: [excludedFor(u)], filter: (id) => filter(id, u) });
      write(u, result.ids, result.scores, 0);
    }
  }

  /**
   * The logit of each candidate (see the class notes; the empty-history fallback for an empty
   * history). `candidates` holds one list per user.
   *
   * @throws GenrecError `INVALID_INPUT` for unknown ids or a candidate list count that differs from the histories'.
   */
  async score(histories: Histories, candidates: Histories): Promise<Float32Array> {
    this.checkAlive();
    const batch = toHistoryBatch(histories, this.itemCount);
    const wanted = toHistoryBatch(candidates, this.itemCount, 'candidates');
    const users = batchSize(batch);
    if (batchSize(wanted) !== users) {
      throw new GenrecError('INVALID_INPUT', `candidates must hold one list per user (${users}), got ${batchSize(wanted)}`, { details: { field: 'candidates' } });
    }
    const out = new Float32Array(wanted.items.length);
    if (users === 0) return out;
    const hidden = await this.hiddenOf(batch, users);
    const d = this.architecture.hiddenSize;
    const embedding = this.parameters.get('item_emb.weight')!;
    for (let u = 0; u < users; u++) {
      const empty = batch.offsets[u + 1] === batch.offsets[u];
      for (let i = wanted.offsets[u]!; i < wanted.offsets[u + 1]!; i++) {
        const item = wanted.items[i]!;
        if (empty) {
          out[i] = this.fallback[item - 1]!;
          continue;
        }
        let sum = 0;
        for (let c = 0; c < d; c++) sum += hidden[u * d + c]! * embedding[item * d + c]!;
        out[i] = sum;
      }
    }
    return out;
  }

  /** @inheritDoc */
  describe(): ModelDescription {
    const { seed, ...hyperParameters } = this.spec;
    let parameterCount = 0;
    for (const value of this.parameters.values()) parameterCount += value.length;
    return {
      kind: this.kind,
      package: { name: PACKAGE_NAME, version },
      hyperParameters: { ...hyperParameters, seed },
      itemCount: this.itemCount,
      dataFingerprint: this.dataFingerprint,
      parameterCount,
      epoch: this.training.epoch,
      epochsTrained: this.training.epochsTrained,
      stoppedBy: this.training.stoppedBy,
      scoreScale: this.scoreScale,
      ...(this.training.validation ? { validation: this.training.validation } : {}),
    };
  }

  /**
   * Saves the model folder atomically: `manifest.json` (kind `'sasrec'`, the spec, the training
   * summary), `weights.safetensors` (every parameter under its `@genrec/nn` name, plus
   * `popularity`: int32 training counts per item, the empty-history fallback) and `items.json`
   * (external ids and titles). The vector index of {@link SasrecModel.useIndex} is not saved.
   */
  async save(directory: string): Promise<void> {
    this.checkAlive();
    const shapes = sasrecParameterShapes(this.architecture);
    const tensors: Record<string, Tensor> = {};
    for (const [name, shape] of shapes) tensors[name] = { dtype: 'float32', shape, data: this.parameters.get(name)! };
    tensors.popularity = { dtype: 'int32', shape: [this.itemCount], data: this.popularity };
    await writeModelFolder(directory, {
      model: SASREC_KIND,
      modelFormatVersion: SASREC_FORMAT_VERSION,
      description: this.describe(),
      retiredItems: this.retired.ids,
      fields: { spec: this.spec, training: this.training },
      tensors,
      ...(this.externalItemIds ? { externalItemIds: this.externalItemIds } : {}),
      ...(this.catalog ? { catalog: this.catalog } : {}),
    });
  }

  /**
   * The scoring graph as a standalone ONNX model (weights embedded, no dropout): input `seq`
   * int64 `[batchSize, maxLength]` (each history's most recent items, left-padded with 0), output
   * `scores` float32 `[batchSize, itemCount]` (logits; column `j` = item `j + 1`).
   *
   * @throws GenrecError `INVALID_OPTION` for a bad batch size.
   */
  exportOnnx(options: ExportOnnxOptions = {}): Uint8Array {
    this.checkAlive();
    checkKnownOptions(options, ['batchSize'], 'exportOnnx');
    const rows = checkIntegerOption(options.batchSize ?? 1, 'batchSize', 1, 1_000_000);
    const graph = new Graph({ training: false });
    const { scores } = buildScoreGraph(graph, this.architecture, rows, 'zeros');
    return graph.toModel({ outputs: [scores], outputNames: ['scores'], parameters: 'initializers', parameterValues: this.parameters, name: 'genrec_sasrec_scores' }).bytes;
  }

  /** Releases the inference sessions; the model is unusable afterwards. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.index = undefined;
    if (this.ownsRunner) await this.runner.release();
  }

  /** @internal the parameter map itself (not copied). */
  get parameterMap(): ReadonlyMap<string, Float32Array> {
    return this.parameters;
  }

  /** The hidden states of `users` (rows of `hidden`), as one matrix. */
  private queries(hidden: Float32Array, users: readonly number[]): Matrix {
    const d = this.architecture.hiddenSize;
    const data = new Float32Array(users.length * d);
    users.forEach((u, i) => data.set(hidden.subarray(u * d, (u + 1) * d), i * d));
    return createMatrix(users.length, d, data);
  }

  /** The item table (`itemCount x d`, row `j` = item `j + 1`), copied once from the embedding. */
  private table(): Matrix {
    if (this.tableMatrix === undefined) {
      const d = this.architecture.hiddenSize;
      this.tableMatrix = createMatrix(this.itemCount, d, this.parameters.get('item_emb.weight')!.subarray(d));
    }
    return this.tableMatrix;
  }

  private async hiddenOf(batch: HistoryBatch, users: number): Promise<Float32Array> {
    const nonEmpty: number[] = [];
    for (let u = 0; u < users; u++) if (batch.offsets[u + 1]! > batch.offsets[u]!) nonEmpty.push(u);
    const d = this.architecture.hiddenSize;
    const computed = await this.runner.run(batch, nonEmpty, this.parameters);
    if (nonEmpty.length === users) return computed;
    const hidden = new Float32Array(users * d);
    nonEmpty.forEach((u, i) => hidden.set(computed.subarray(i * d, (i + 1) * d), u * d));
    return hidden;
  }

  private checkAlive(): void {
    if (this.disposed) throw new GenrecError('NOT_FITTED', 'this SASRec model was disposed', { details: { field: 'model' } });
  }
}

/**
 * Fills row `u` of `out` from a best-first candidate list (column `j` = item `j + 1`), skipping
 * excluded items and non-finite scores.
 *
 * @returns the number of entries written (below `k` when the exclusions ate into the list)
 */
function takeShortlist(indices: Int32Array, values: Float32Array, offset: number, depth: number, excluded: Uint8Array, out: Recommendations, u: number): number {
  const k = out.k;
  let length = 0;
  for (let i = 0; i < depth && length < k; i++) {
    const id = indices[offset + i]! + 1;
    const value = values[offset + i]!;
    if (excluded[id] !== 0 || !(value > -Infinity) || Number.isNaN(value)) continue;
    out.items[u * k + length] = id;
    out.scores[u * k + length] = value;
    length++;
  }
  for (let i = length; i < k; i++) {
    out.items[u * k + i] = 0;
    out.scores[u * k + i] = -Infinity;
  }
  out.lengths[u] = length;
  return length;
}

/** The architecture of a spec over a catalogue. */
export function architectureOf(spec: SasrecSpec, itemCount: number): SasrecArchitecture {
  return { itemCount, hiddenSize: spec.hiddenSize, blocks: spec.blocks, heads: spec.heads, maxLength: spec.maxLength, dropout: spec.dropout };
}
