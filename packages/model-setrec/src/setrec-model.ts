import {
  ExclusionMask,
  GenrecError,
  RetiredItems,
  batchSize,
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
  type SetIdTable,
  type Tensor,
  type VectorIndex,
} from '@genrec/core';
import { SetIdDecoder } from '@genrec/decoder';
import { matMul } from '@genrec/nn';
import { SetIds } from '@genrec/semantic-id';
import { DiscreteSetTable, type DiscreteParts } from './discrete-table.js';
import type { SetrecSpec } from './options.js';
import { SetrecRunner } from './runner.js';
import { setrecParameterShapes, slotCount, type SetrecArchitecture } from './setrec-graph.js';
import { PACKAGE_NAME, SETREC_FORMAT_VERSION, SETREC_KIND, version } from './version.js';

/** How a model's weights were trained (stored with it, reported by `describe`). */
export interface SetrecTrainingSummary {
  /** The epoch whose weights the model holds (0 = untrained, e.g. aborted before the first epoch ended). */
  epoch: number;
  /** Epochs trained in all (including resumed ones). */
  epochsTrained: number;
  /** Why training stopped. */
  stoppedBy: 'epochs' | 'early-stopping' | 'abort';
  /** Validation metrics of the kept epoch (at its β), when validated. */
  validation?: Record<string, number>;
  /** Validation metric of each β of the grid at the kept epoch, when β was chosen on validation. */
  betaSearch?: { beta: number; value: number }[];
  /** Mean training loss of each epoch. */
  losses: number[];
  /** Where β came from: `'validation'` (chosen on the validation data), `'given'` or `'fallback'` (no validation data). */
  betaSource: 'validation' | 'given' | 'fallback';
  /** Discrete variant: code training (`discretizeSetrec`'s `codeEpochs`): epochs run, the kept one (0 = none), mean losses. */
  codeTraining?: { epochs: number; keptEpoch: number; losses: number[] };
}

/** Everything a {@link SetrecModel} is made of. */
export interface SetrecModelInit {
  spec: SetrecSpec;
  architecture: SetrecArchitecture;
  /** Parameter values by graph name (not copied: the model owns them). */
  parameters: Map<string, Float32Array>;
  /** Frozen CF vectors as used (`itemCount x cfDimension`, cold items' rows imputed or zero). */
  cfVectors: Float32Array;
  /** Item content vectors (`itemCount x contentDimension`). */
  content: Float32Array;
  /** Training interactions per item, index `j` = item `j + 1`. */
  popularity: Int32Array;
  /** The score weight β (`w = [1 − β, β, …, β]`). */
  beta: number;
  dataFingerprint: string;
  training: SetrecTrainingSummary;
  /** Discrete set ids (codes and codebooks); absent for the continuous variant. */
  discrete?: DiscreteParts;
  retiredItems?: ArrayLike<number>;
  externalItemIds?: readonly string[];
  catalog?: ItemCatalog;
  /** A runner to share (not released by this model's `dispose`); a new owned one when omitted. */
  runner?: SetrecRunner;
  /** The token table already computed for these parameters (`itemCount x (n+1)·d`), not copied. */
  tokens?: Float32Array;
}

/** Options of {@link SetrecModel.useIndex}. */
export interface SetrecUseIndexOptions {
  /** Add the weighted set table's rows (ids `1 .. itemCount`) to the index first; `'auto'` when it is empty. @defaultValue 'auto' */
  addItems?: boolean | 'auto';
}

/** The slot weights `[1 − β, β, …, β]` of `slots` slots. */
export function slotWeightsOf(beta: number, slots: number): Float32Array {
  const weights = new Float32Array(slots).fill(beta);
  weights[0] = 1 - beta;
  return weights;
}

/** Users per block of the exact ranking when no block size is implied (bounds `users x itemCount` floats). */
const SCORE_BLOCK = 1 << 23;

/**
 * A fitted SETRec model (made by `fitSetrec`, `discretizeSetrec`, `loadSetrec` or a preference
 * model's `withParameters`); it implements core's `Recommender`.
 *
 * Every item is a set of n+1 tokens (slot 0 the CF token, slots 1..n semantic). For a history the
 * model generates n+1 query vectors in one forward pass; slot `s` scores item `i` by
 * `<q_s, v_s(i)>`. **Scores** (`scoreScale: 'logit'`) are the weighted per-slot log-softmax
 * `Σ_s w_s · log softmax_s(i)` with `w = [1 − β, β, …, β]`, each slot's softmax over the whole
 * catalogue (the preference hook's form): a log-probability per slot, not normalised over items as
 * a whole. The ranking equals that of `Σ_s w_s <q_s, v_s(i)>`, which differs by a per-user
 * constant. The discrete variant scores `Σ_s w_s log p_s(code_s(i))`, each slot's softmax over its
 * codes. **Empty histories** get add-one smoothed training popularity, `log((count + 1) / (total + itemCount))`.
 *
 * @example
 * ```ts
 * const model = await fitSetrec({ train: split.train, validation: split.validation, catalog }, { seed: 1 });
 * const top = await model.recommend([[1, 5, 9]], { k: 10 });
 * ```
 */
export class SetrecModel implements Recommender {
  /** Always `'setrec'`. */
  readonly kind = SETREC_KIND;
  /** Weighted per-slot log-probabilities (unnormalised over the catalogue as a whole). */
  readonly scoreScale: ScoreScale = 'logit';
  /** Catalogue size (ids `1 .. itemCount`). */
  readonly itemCount: number;
  /** The resolved hyper-parameters. */
  readonly spec: SetrecSpec;
  /** The shapes of the model. */
  readonly architecture: SetrecArchitecture;
  /** How it was trained. */
  readonly training: SetrecTrainingSummary;
  /** Fingerprint of the training data. */
  readonly dataFingerprint: string;
  /** The score weight β. */
  readonly beta: number;
  /** `'continuous'` (token vectors) or `'discrete'` (PQ/OPQ codes per slot). */
  readonly variant: 'continuous' | 'discrete';
  /** External item ids (index = item id), when the training data had them. */
  readonly externalItemIds: readonly string[] | undefined;
  /** The item catalogue, when given at fit time (titles only after loading). */
  readonly catalog: ItemCatalog | undefined;
  private readonly parameters: Map<string, Float32Array>;
  private readonly cf: Float32Array;
  private readonly content: Float32Array;
  private readonly popularity: Int32Array;
  private readonly fallback: Float32Array;
  private readonly weights: Float32Array;
  private readonly retired: RetiredItems;
  private readonly runner: SetrecRunner;
  private readonly ownsRunner: boolean;
  private readonly discrete: DiscreteParts | undefined;
  private discreteTable: DiscreteSetTable | undefined;
  private tokens: Promise<Float32Array> | undefined;
  private index: VectorIndex | undefined;
  private disposed = false;

  constructor(init: SetrecModelInit) {
    this.spec = init.spec;
    this.architecture = init.architecture;
    this.itemCount = init.architecture.itemCount;
    this.parameters = init.parameters;
    this.cf = init.cfVectors;
    this.content = init.content;
    this.popularity = init.popularity;
    this.fallback = popularityLogits(init.popularity);
    this.beta = init.beta;
    this.weights = slotWeightsOf(init.beta, slotCount(init.architecture));
    this.dataFingerprint = init.dataFingerprint;
    this.training = init.training;
    this.discrete = init.discrete;
    this.variant = init.discrete ? 'discrete' : 'continuous';
    this.externalItemIds = init.externalItemIds;
    this.catalog = init.catalog;
    this.retired = new RetiredItems(this.itemCount, init.retiredItems ?? []);
    this.ownsRunner = init.runner === undefined;
    this.runner = init.runner ?? new SetrecRunner(init.architecture, init.spec.inferenceBatchSize, init.spec.lengthBuckets, init.spec.threads);
    if (init.tokens !== undefined) this.tokens = Promise.resolve(init.tokens);
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

  /** The slot weights `[1 − β, β, …, β]` (a copy). */
  slotWeights(): Float32Array {
    return this.weights.slice();
  }

  /** Parameter values by graph name (copies). */
  parameterValues(): Map<string, Float32Array> {
    return new Map([...this.parameters].map(([name, value]) => [name, value.slice()]));
  }

  /** The frozen CF vectors as the model uses them (a copy; `itemCount x cfDimension`, cold items imputed or zero). */
  cfVectors(): Matrix {
    return createMatrix(this.itemCount, this.architecture.cfDimension, this.cf.slice());
  }

  /** The item content vectors (a copy; `itemCount x contentDimension`). */
  contentVectors(): Matrix {
    return createMatrix(this.itemCount, this.architecture.contentDimension, this.content.slice());
  }

  /** Training interactions per item (a copy), index `j` = item `j + 1`: the empty-history fallback. */
  itemPopularity(): Int32Array {
    return this.popularity.slice();
  }

  /**
   * Every item's n+1 token vectors, unweighted (`itemCount x (n+1)·d`, row `j` = item `j + 1`, CF
   * first): slot `s` of item `i` is `row[s·d .. (s+1)·d)`. The discrete variant's tokens are its
   * codewords (semantic ones in the OPQ-rotated space).
   */
  async itemTokens(): Promise<Matrix> {
    this.checkAlive();
    const width = slotCount(this.architecture) * this.architecture.hiddenSize;
    if (this.discrete) {
      const table = this.discreteSetTable();
      const out = createMatrix(this.itemCount, width);
      for (let s = 0; s < table.slotCount; s++) {
        const vectors = table.slotVectors(s);
        const d = this.architecture.hiddenSize;
        for (let i = 0; i < this.itemCount; i++) out.data.set(vectors.data.subarray(i * d, (i + 1) * d), i * width + s * d);
      }
      return out;
    }
    return createMatrix(this.itemCount, width, (await this.tokenTable()).slice());
  }

  /**
   * The set table the model grounds on, a core `SetIdTable` (`@genrec/decoder`'s `SetIdDecoder`
   * decodes it): for the continuous variant `@genrec/semantic-id`'s `SetIds.continuous` over the
   * token vectors with the slot weights; for the discrete variant the codes and codebooks.
   */
  async setIdTable(): Promise<SetIdTable> {
    this.checkAlive();
    if (this.discrete) return this.discreteSetTable();
    const tokens = await this.itemTokens();
    const d = this.architecture.hiddenSize;
    const slots = slotCount(this.architecture);
    const perSlot = Array.from({ length: slots }, (_, s) => {
      const m = createMatrix(this.itemCount, d);
      for (let i = 0; i < this.itemCount; i++) m.data.set(tokens.data.subarray(i * slots * d + s * d, i * slots * d + (s + 1) * d), i * d);
      return m;
    });
    return SetIds.continuous(Int32Array.from({ length: this.itemCount }, (_, j) => j + 1), perSlot, this.weights);
  }

  private discreteSetTable(): DiscreteSetTable {
    this.discreteTable ??= new DiscreteSetTable(this.discrete!, this.weights, this.itemCount, this.architecture.hiddenSize);
    return this.discreteTable;
  }

  /** Row `i` = `w_0 v_0(i) ‖ … ‖ w_n v_n(i)`: `Σ_s w_s <q_s, v_s(i)>` = `<q, row i>` for the concatenated queries `q`. */
  async flattenedTable(): Promise<Matrix> {
    this.checkAlive();
    if (this.discrete) return this.discreteSetTable().flatten();
    const d = this.architecture.hiddenSize;
    const slots = slotCount(this.architecture);
    const tokens = await this.tokenTable();
    const out = createMatrix(this.itemCount, slots * d);
    for (let i = 0; i < out.data.length; i++) out.data[i] = tokens[i]! * this.weights[Math.floor((i % (slots * d)) / d)]!;
    return out;
  }

  /**
   * The n+1 query vectors of each history (`users x (n+1)·d`, unweighted, slot 0 first); the
   * discrete variant's semantic queries are rotated like its codebooks. An empty history gives a
   * zero row.
   *
   * @throws GenrecError `INVALID_INPUT` for unknown item ids.
   */
  async userQueries(histories: Histories): Promise<Matrix> {
    this.checkAlive();
    const batch = toHistoryBatch(histories, this.itemCount);
    const users = batchSize(batch);
    const width = slotCount(this.architecture) * this.architecture.hiddenSize;
    const out = createMatrix(users, width);
    const withHistory = usersWithHistory(batch, users);
    await this.runner.run(batch, withHistory, this.parameters, await this.tokenTable(), undefined, (block) => {
      const queries = this.discrete ? this.rotateQueries(block.queries, block.positions.length) : block.queries;
      block.positions.forEach((p, i) => out.data.set(queries.subarray(i * width, (i + 1) * width), withHistory[p]! * width));
    });
    return out;
  }

  /**
   * Routes `recommend` through a vector index over the flattened weighted set table (e.g.
   * `@genrec/ann`'s `HnswIndex`), or back to exact ranking with `undefined`. The index must rank by
   * inner product (`metric: 'ip'`) with dimension `(n+1)·d`. Through an index, scores are the
   * weighted inner products `Σ_s w_s <q_s, v_s(i)>`: the log-softmax form of `score()` plus a
   * per-user constant (computing that constant would need the full product the index avoids).
   * The index is not saved with the model.
   *
   * @throws GenrecError `INVALID_OPTION` for another metric or dimension.
   * @example
   * ```ts
   * await model.useIndex(new HnswIndex({ dimension: 160, metric: 'ip' }));
   * ```
   */
  async useIndex(index: VectorIndex | undefined, options: SetrecUseIndexOptions = {}): Promise<void> {
    this.checkAlive();
    checkKnownOptions(options, ['addItems'], 'useIndex');
    if (index === undefined) {
      this.index = undefined;
      return;
    }
    if (typeof index !== 'object' || index === null || typeof index.search !== 'function') {
      throw new GenrecError('INVALID_OPTION', 'useIndex takes a VectorIndex (or undefined)', { details: { field: 'index' } });
    }
    const width = slotCount(this.architecture) * this.architecture.hiddenSize;
    if (index.metric !== 'ip') throw new GenrecError('INVALID_OPTION', `the index must rank by inner product (metric 'ip'), it uses '${index.metric}'`, { details: { field: 'index.metric' } });
    if (index.dimension !== width) throw new GenrecError('INVALID_OPTION', `the index has dimension ${index.dimension}, the flattened set table ${width}`, { details: { field: 'index.dimension' } });
    const add = options.addItems ?? 'auto';
    if (add !== 'auto' && typeof add !== 'boolean') throw new GenrecError('INVALID_OPTION', `addItems must be true, false or 'auto', got ${String(add)}`, { details: { field: 'addItems' } });
    if (add === true || (add === 'auto' && index.size === 0)) {
      const ids = Int32Array.from({ length: this.itemCount }, (_, j) => j + 1);
      await index.add(ids, await this.flattenedTable());
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
    const mask = new ExclusionMask(this.itemCount, this.retired.ids);
    const withHistory: number[] = [];
    for (let u = 0; u < users; u++) {
      if (batch.offsets[u + 1]! > batch.offsets[u]!) withHistory.push(u);
      else {
        mask.set(batch, u, options);
        selectTopItems(this.fallback, mask.marks, out, u, options.filter);
        mask.clear();
      }
    }
    if (withHistory.length === 0) return out;
    if (this.index !== undefined) await this.recommendThroughIndex(this.index, batch, withHistory, options, out);
    else if (this.discrete) await this.recommendDiscrete(batch, withHistory, options, out);
    else {
      const tokens = await this.tokenTable();
      // blocks keep users x itemCount scores bounded
      const block = Math.max(1, Math.floor(SCORE_BLOCK / this.itemCount));
      for (let from = 0; from < withHistory.length; from += block) {
        const part = withHistory.slice(from, from + block);
        await this.runner.run(batch, part, this.parameters, tokens, this.weights, (scored) => {
          scored.positions.forEach((p, i) => {
            const u = part[p]!;
            mask.set(batch, u, options);
            selectTopItems(scored.scores!.subarray(i * this.itemCount, (i + 1) * this.itemCount), mask.marks, out, u, options.filter);
            mask.clear();
          });
        });
      }
    }
    return out;
  }

  private excludedFor(batch: HistoryBatch, u: number, options: RecommendOptions): Set<number> {
    const set = new Set<number>(this.retired.ids);
    if (options.excludeHistory !== false) for (let i = batch.offsets[u]!; i < batch.offsets[u + 1]!; i++) set.add(batch.items[i]!);
    const extra = options.exclude?.[u];
    if (extra !== undefined) for (let i = 0; i < extra.length; i++) set.add(extra[i]!);
    return set;
  }

  private writeRow(out: Recommendations, u: number, ids: Int32Array, scores: Float32Array, offset: number, width: number, filter: ((id: number, u: number) => boolean) | undefined): void {
    const k = out.k;
    let length = 0;
    for (let i = 0; i < width && length < k; i++) {
      const id = ids[offset + i]!;
      if (id < 1 || id > this.itemCount) continue;
      if (filter !== undefined && !filter(id, u)) continue;
      out.items[u * k + length] = id;
      out.scores[u * k + length] = scores[offset + i]!;
      length++;
    }
    for (let i = length; i < k; i++) {
      out.items[u * k + i] = 0;
      out.scores[u * k + i] = Number.NEGATIVE_INFINITY;
    }
    out.lengths[u] = length;
  }

  private async recommendThroughIndex(index: VectorIndex, batch: HistoryBatch, withHistory: number[], options: RecommendOptions, out: Recommendations): Promise<void> {
    const queries = await this.userQueries({ offsets: subsetOffsets(batch, withHistory), items: subsetItems(batch, withHistory) });
    const width = queries.cols;
    const filter = options.filter;
    if (filter === undefined) {
      const result = await index.search(queries, out.k, { exclude: withHistory.map((u) => this.excludedFor(batch, u, options)) });
      withHistory.forEach((u, i) => this.writeRow(out, u, result.ids, result.scores, i * result.k, result.k, undefined));
      return;
    }
    for (let i = 0; i < withHistory.length; i++) {
      const u = withHistory[i]!;
      const result = await index.search(createMatrix(1, width, queries.data.slice(i * width, (i + 1) * width)), out.k, { exclude: [this.excludedFor(batch, u, options)], filter: (id) => filter(id, u) });
      this.writeRow(out, u, result.ids, result.scores, 0, result.k, undefined);
    }
  }

  /**
   * Per-slot code logits of rotated queries: one `users x codebookSizes[s]` matrix per slot, each a
   * product `queries_s x codebook_sᵀ` on onnxruntime (`@genrec/nn`'s `matMul`).
   */
  private async codeLogits(queries: Float32Array, users: number): Promise<Matrix[]> {
    const parts = this.discrete!;
    const d = this.architecture.hiddenSize;
    const slots = slotCount(this.architecture);
    const width = slots * d;
    const threads = this.spec.threads > 0 ? { intraOpNumThreads: this.spec.threads } : {};
    const slotQueries = createMatrix(users, d);
    const logits: Matrix[] = [];
    for (let s = 0; s < slots; s++) {
      for (let u = 0; u < users; u++) slotQueries.data.set(queries.subarray(u * width + s * d, u * width + (s + 1) * d), u * d);
      const codebook = createMatrix(parts.codebookSizes[s]!, d, parts.codebooks[s]!);
      logits.push(await matMul(slotQueries, codebook, { transposeB: true, ...threads }));
    }
    return logits;
  }

  private async recommendDiscrete(batch: HistoryBatch, withHistory: number[], options: RecommendOptions, out: Recommendations): Promise<void> {
    const decoder = new SetIdDecoder(this.discreteSetTable());
    const queries = await this.userQueries({ offsets: subsetOffsets(batch, withHistory), items: subsetItems(batch, withHistory) });
    const logits = await this.codeLogits(queries.data, withHistory.length);
    // a filter may reject any item: rank the whole catalogue then
    const k = options.filter === undefined ? out.k : this.itemCount;
    const result = decoder.decodeCodeDistributions(logits, { k, exclude: withHistory.map((u) => this.excludedFor(batch, u, options)) });
    withHistory.forEach((u, i) => this.writeRow(out, u, result.ids, result.scores, i * result.k, result.k, options.filter));
  }

  /**
   * The score of each candidate (see the class notes; the empty-history fallback for an empty
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
    const withHistory = usersWithHistory(batch, users);
    for (let u = 0; u < users; u++) {
      if (batch.offsets[u + 1]! > batch.offsets[u]!) continue;
      for (let i = wanted.offsets[u]!; i < wanted.offsets[u + 1]!; i++) out[i] = this.fallback[wanted.items[i]! - 1]!;
    }
    if (withHistory.length === 0) return out;
    if (this.discrete) {
      const queries = await this.userQueries({ offsets: subsetOffsets(batch, withHistory), items: subsetItems(batch, withHistory) });
      const logits = await this.codeLogits(queries.data, withHistory.length);
      const slots = logits.length;
      const codes = this.discrete.codes;
      withHistory.forEach((u, row) => {
        const logp = logits.map((m) => logSoftmaxRow(m.data.subarray(row * m.cols, (row + 1) * m.cols)));
        for (let i = wanted.offsets[u]!; i < wanted.offsets[u + 1]!; i++) {
          const item = wanted.items[i]! - 1;
          let sum = 0;
          for (let s = 0; s < slots; s++) if (this.weights[s] !== 0) sum += this.weights[s]! * logp[s]![codes[item * slots + s]!]!;
          out[i] = sum;
        }
      });
      return out;
    }
    await this.runner.run(batch, withHistory, this.parameters, await this.tokenTable(), this.weights, (scored) => {
      scored.positions.forEach((p, i) => {
        const u = withHistory[p]!;
        const row = scored.scores!.subarray(i * this.itemCount, (i + 1) * this.itemCount);
        for (let c = wanted.offsets[u]!; c < wanted.offsets[u + 1]!; c++) out[c] = row[wanted.items[c]! - 1]!;
      });
    });
    return out;
  }

  /** @inheritDoc */
  describe(): ModelDescription {
    const { seed, ...hyperParameters } = this.spec;
    let parameterCount = 0;
    for (const value of this.parameters.values()) parameterCount += value.length;
    let coldItems = 0;
    for (let j = 0; j < this.itemCount; j++) if (this.popularity[j] === 0) coldItems++;
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
      variant: this.variant,
      beta: this.beta,
      betaSource: this.training.betaSource,
      coldItems,
      cfDimension: this.architecture.cfDimension,
      contentDimension: this.architecture.contentDimension,
      ...(this.discrete ? { codebookSizes: [...this.discrete.codebookSizes], rotation: this.discrete.rotation !== undefined } : {}),
      ...(this.training.validation ? { validation: this.training.validation } : {}),
    };
  }

  /**
   * Saves the model folder atomically: `manifest.json` (kind `'setrec'`, the spec, β, the training
   * summary, the variant), `weights.safetensors` (every parameter under its graph name; `item.cf`,
   * the frozen CF vectors as used; `item.content`; `popularity`; for the discrete variant
   * `discrete.codes` and `discrete.codebook.<s>`, and `discrete.rotation` with OPQ) and
   * `items.json`. A vector index of {@link SetrecModel.useIndex} is not saved.
   */
  async save(directory: string): Promise<void> {
    this.checkAlive();
    const a = this.architecture;
    const tensors: Record<string, Tensor> = {};
    for (const [name, shape] of setrecParameterShapes(a)) tensors[name] = { dtype: 'float32', shape, data: this.parameters.get(name)! };
    tensors['item.cf'] = { dtype: 'float32', shape: [this.itemCount, a.cfDimension], data: this.cf };
    tensors['item.content'] = { dtype: 'float32', shape: [this.itemCount, a.contentDimension], data: this.content };
    tensors.popularity = { dtype: 'int32', shape: [this.itemCount], data: this.popularity };
    if (this.discrete) {
      const slots = slotCount(a);
      tensors['discrete.codes'] = { dtype: 'int32', shape: [this.itemCount, slots], data: this.discrete.codes };
      this.discrete.codebooks.forEach((codebook, s) => (tensors[`discrete.codebook.${s}`] = { dtype: 'float32', shape: [this.discrete!.codebookSizes[s]!, a.hiddenSize], data: codebook }));
      if (this.discrete.rotation) tensors['discrete.rotation'] = { dtype: 'float32', shape: [a.semanticTokens * a.hiddenSize, a.semanticTokens * a.hiddenSize], data: this.discrete.rotation };
    }
    await writeModelFolder(directory, {
      model: SETREC_KIND,
      modelFormatVersion: SETREC_FORMAT_VERSION,
      description: this.describe(),
      retiredItems: this.retired.ids,
      fields: { spec: this.spec, beta: this.beta, variant: this.variant, training: this.training, cfDimension: a.cfDimension, contentDimension: a.contentDimension },
      tensors,
      ...(this.externalItemIds ? { externalItemIds: this.externalItemIds } : {}),
      ...(this.catalog ? { catalog: this.catalog } : {}),
    });
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

  /** @internal the frozen inputs and parts, not copied (for the preference hook and `discretizeSetrec`). */
  get internals(): { cf: Float32Array; content: Float32Array; popularity: Int32Array; runner: SetrecRunner; discrete: DiscreteParts | undefined } {
    return { cf: this.cf, content: this.content, popularity: this.popularity, runner: this.runner, discrete: this.discrete };
  }

  /** The continuous token table (computed once). */
  private tokenTable(): Promise<Float32Array> {
    this.tokens ??= this.runner.tokenTable(this.parameters, this.cf, this.content);
    return this.tokens;
  }

  /** Discrete variant: the semantic part of each query times the OPQ rotation. */
  private rotateQueries(queries: Float32Array, users: number): Float32Array {
    const rotation = this.discrete?.rotation;
    if (!rotation) return queries;
    const d = this.architecture.hiddenSize;
    const width = slotCount(this.architecture) * d;
    const semantic = width - d;
    const out = queries.slice();
    for (let u = 0; u < users; u++) {
      for (let c = 0; c < semantic; c++) {
        let sum = 0;
        for (let r = 0; r < semantic; r++) sum += queries[u * width + d + r]! * rotation[r * semantic + c]!;
        out[u * width + d + c] = sum;
      }
    }
    return out;
  }

  private checkAlive(): void {
    if (this.disposed) throw new GenrecError('NOT_FITTED', 'this SETRec model was disposed', { details: { field: 'model' } });
  }
}

/** Users `0 .. users - 1` of `batch` whose history is not empty. */
export function usersWithHistory(batch: HistoryBatch, users: number): number[] {
  const out: number[] = [];
  for (let u = 0; u < users; u++) if (batch.offsets[u + 1]! > batch.offsets[u]!) out.push(u);
  return out;
}

function subsetOffsets(batch: HistoryBatch, users: readonly number[]): Int32Array {
  const offsets = new Int32Array(users.length + 1);
  users.forEach((u, i) => (offsets[i + 1] = offsets[i]! + batch.offsets[u + 1]! - batch.offsets[u]!));
  return offsets;
}

function subsetItems(batch: HistoryBatch, users: readonly number[]): Int32Array {
  const parts = users.map((u) => batch.items.subarray(batch.offsets[u]!, batch.offsets[u + 1]!));
  const out = new Int32Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function logSoftmaxRow(row: Float32Array): Float64Array {
  let max = Number.NEGATIVE_INFINITY;
  for (const value of row) if (value > max) max = value;
  let sum = 0;
  for (const value of row) sum += Math.exp(value - max);
  const normalizer = max + Math.log(sum);
  const out = new Float64Array(row.length);
  for (let i = 0; i < row.length; i++) out[i] = row[i]! - normalizer;
  return out;
}
