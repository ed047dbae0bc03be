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
  selectTopItems,
  toHistoryBatch,
  writeModelFolder,
  type HistoryBatch,
  type Histories,
  type ItemCatalog,
  type Matrix,
  type ModelDescription,
  type RecommendOptions,
  type Recommendations,
  type Recommender,
  type ScoreScale,
  type StepModel,
  type Tensor,
} from '@genrec/core';
import { CausalTransformerStepModel, TransformerStepModel, beamSearch, type LogitsProcessor, type PrefixTrie } from '@genrec/decoder';
import { ItemCodeTable, type CodeFitReport } from './item-codes.js';
import type { ItemVectorReport } from './item-vectors.js';
import { causalConfig, encoderDecoderConfig, tigerParameterShapes, type TigerShape } from './graphs.js';
import type { TigerSpec } from './options.js';
import { buildContexts } from './sequences.js';
import { scoreCandidates } from './step-scoring.js';
import { PACKAGE_NAME, TIGER_FORMAT_VERSION, TIGER_KIND, version } from './version.js';

/** How a model's weights were trained (stored with it, reported by `describe`). */
export interface TigerTrainingSummary {
  /** The epoch whose weights the model holds (0 = untrained). */
  epoch: number;
  /** Epochs trained in all (including resumed ones). */
  epochsTrained: number;
  /** Why training stopped. */
  stoppedBy: 'epochs' | 'early-stopping' | 'abort';
  /** Validation metrics of the kept epoch, when validated. */
  validation?: Record<string, number>;
  /** Mean training loss of each epoch. */
  losses: number[];
  /** What building the item vectors took. */
  itemVectors?: ItemVectorReport[];
  /** What fitting the semantic ids measured. */
  codes?: CodeFitReport;
  /** Wall time of the training loop (validation included), ms. */
  trainingMs?: number;
}

/** Everything a {@link TigerModel} is made of. */
export interface TigerModelInit {
  spec: TigerSpec;
  itemCount: number;
  /** Parameter values by `@genrec/nn` name (not copied: the model owns them). */
  parameters: Map<string, Float32Array>;
  /** The items' semantic ids (owned by the model: `addItems` extends it). */
  codes: ItemCodeTable;
  /** Training interactions per item, index `j` = item `j + 1` (the empty-history fallback). */
  popularity: Int32Array;
  /** The item vectors the codes were fitted on (row `j` = item `j + 1`), for `addItems` without vectors. */
  itemVectors?: Matrix;
  dataFingerprint: string;
  training: TigerTrainingSummary;
  retiredItems?: ArrayLike<number>;
  /** Items given a semantic id after training (`addItems`). */
  addedItems?: ArrayLike<number>;
  externalItemIds?: readonly string[];
  catalog?: ItemCatalog;
}

/** Options of {@link TigerModel.unconstrainedInvalidRate}. */
export interface InvalidRateOptions {
  /** Results per user. @defaultValue 10 */
  k?: number;
  /** Beam width. @defaultValue the model's `beamWidth` (at least k) */
  beamWidth?: number;
}

/** What {@link TigerModel.unconstrainedInvalidRate} measured. */
export interface InvalidRateReport {
  /** Users decoded (those with a context). */
  users: number;
  /** Share of the returned top-k token sequences that name no catalogue item. */
  invalidRate: number;
  /** Share of users with at least one invalid sequence in their top k. */
  usersWithInvalid: number;
}

/** Logits one search step may hold (`users x beams x vocabulary`), 256 MiB of float32. */
const STEP_LOGITS = 2 ** 26;
/** Candidate rows per scoring call. */
const SCORE_ROWS = 8192;

/**
 * A fitted TIGER-style generative recommender (made by `fitTiger` or `loadTiger`). It implements
 * core's `Recommender`.
 *
 * `recommend` encodes each user's last `maxHistory` items as their semantic-id tokens and
 * beam-searches the next item's tokens, constrained by the prefix trie of the catalogue's ids, with
 * the user's excluded items (the whole history unless `excludeHistory: false`, `exclude`) pruned at
 * every level (`@genrec/decoder`'s `ExclusionPruner`) and retired items removed from the trie: every
 * returned id exists, and a user gets `k` items whenever that many are left. The beam is
 * `max(beamWidth, k)`.
 *
 * **Scores** are log π(item | history) = the sum of the item's token log-probabilities under the
 * full-vocabulary softmax (≤ 0). They do not sum to 1 over the catalogue (some probability goes to
 * token sequences that are no item), so `scoreScale` is `'logit'` — unless the `renormalize` option
 * normalises each token over the tokens the trie allows (then they do, and `scoreScale` is
 * `'log-probability'`). **Empty histories** (no item
 * with a semantic id) get add-one smoothed training popularity, scored
 * `log((count + 1) / (total + itemCount))`. Items without a semantic id score `-Infinity` and are
 * never recommended.
 *
 * @example
 * ```ts
 * const model = await fitTiger({ train: split.train, validation: split.validation, catalog });
 * const top = await model.recommend([[1, 5, 9]], { k: 10 });
 * await model.save('runs/tiger');
 * ```
 */
export class TigerModel implements Recommender {
  /** Always `'tiger'`. */
  readonly kind = TIGER_KIND;
  /**
   * Scores are sums of token log-probabilities: `'logit'` (not normalised over the catalogue), or
   * `'log-probability'` with the `renormalize` option (normalised over the recommendable items).
   */
  readonly scoreScale: ScoreScale;
  /** Catalogue size (ids `1 .. itemCount`). */
  readonly itemCount: number;
  /** The resolved hyper-parameters. */
  readonly spec: TigerSpec;
  /** How it was trained. */
  readonly training: TigerTrainingSummary;
  /** Fingerprint of the training data. */
  readonly dataFingerprint: string;
  /** External item ids (index = item id), when the training data had them. */
  readonly externalItemIds: readonly string[] | undefined;
  /** The item catalogue, when given at fit time (titles only after loading). */
  readonly catalog: ItemCatalog | undefined;
  /** The items' semantic ids. */
  readonly codes: ItemCodeTable;
  private readonly parameters: Map<string, Float32Array>;
  private readonly popularity: Int32Array;
  private readonly retired: RetiredItems;
  private itemVectorMatrix: Matrix | undefined;
  private fallbackScores: Float32Array;
  private trie: PrefixTrie;
  private stepModel: Promise<StepModel & { dispose(): Promise<void> }> | undefined;
  private disposed = false;
  private readonly added: Set<number>;
  private newItemProcessor: LogitsProcessor | undefined | null = null;

  constructor(init: TigerModelInit) {
    this.spec = init.spec;
    this.scoreScale = init.spec.renormalize ? 'log-probability' : 'logit';
    this.itemCount = init.itemCount;
    this.parameters = init.parameters;
    this.codes = init.codes;
    this.popularity = init.popularity;
    this.itemVectorMatrix = init.itemVectors;
    this.dataFingerprint = init.dataFingerprint;
    this.training = init.training;
    this.externalItemIds = init.externalItemIds;
    this.catalog = init.catalog;
    this.retired = new RetiredItems(init.itemCount, init.retiredItems ?? []);
    this.added = new Set(Array.from(init.addedItems ?? []));
    this.trie = init.codes.buildTrie((id) => this.retired.has(id));
    this.fallbackScores = this.computeFallback();
  }

  /** The shape facts of the graphs (vocabulary, tokens per item). */
  get shape(): TigerShape {
    return { vocabularySize: this.codes.modelVocabularySize, tokensPerItem: this.codes.tokensPerItem, contextWidth: this.codes.contextWidth };
  }

  /** The largest `k` of `recommend`: the catalogue size. */
  get maxK(): number {
    return this.itemCount;
  }

  /** The retired item ids, ascending. */
  get retiredItems(): Int32Array {
    return this.retired.ids;
  }

  /** Items that can be recommended now (with a semantic id, not retired). */
  get recommendableItems(): number {
    return this.trie.itemCount;
  }

  /** @inheritDoc */
  retireItems(itemIds: ArrayLike<number>): void {
    this.retired.retire(itemIds);
    for (let i = 0; i < itemIds.length; i++) if (this.trie.has(itemIds[i]!)) this.trie.remove(itemIds[i]!);
  }

  /** @inheritDoc */
  restoreItems(itemIds: ArrayLike<number>): void {
    this.retired.restore(itemIds);
    const width = this.codes.tokensPerItem;
    for (let i = 0; i < itemIds.length; i++) {
      const id = itemIds[i]!;
      if (this.codes.has(id) && !this.trie.has(id)) this.trie.insert(id, this.codes.codes.subarray(id * width, (id + 1) * width));
    }
  }

  /** Parameter values by `@genrec/nn` name (copies). */
  parameterValues(): Map<string, Float32Array> {
    return new Map([...this.parameters].map(([name, value]) => [name, value.slice()]));
  }

  /**
   * A model of the same spec, semantic ids, fallback, retired and added items that holds other
   * parameter values (e.g. weights trained elsewhere — PyTorch, a preference-alignment run — in the
   * same `@genrec/nn` names and `[out, in]` layout); parameters not given keep this model's values.
   *
   * @param values - parameter values by name (float32 or float64, the parameter's size)
   * @returns the new model (this one is unchanged)
   * @throws GenrecError `INVALID_INPUT` for an unknown name; `SHAPE_MISMATCH` for a wrong size;
   * `INVALID_INPUT` for a non-finite value.
   * @example
   * ```ts
   * const trained = model.withParameters(readSafetensors('pytorch.safetensors')); // a Map of name -> Float32Array
   * ```
   */
  withParameters(values: ReadonlyMap<string, Float32Array | Float64Array>): TigerModel {
    this.checkAlive();
    const shapes = new Map(tigerParameterShapes(this.spec, this.shape).map(({ name, shape }) => [name, shape.reduce((a, b) => a * b, 1)]));
    const parameters = this.parameterValues();
    for (const [name, value] of values) {
      const size = shapes.get(name);
      if (size === undefined) throw new GenrecError('INVALID_INPUT', `withParameters: "${name}" is not a parameter of this model`, { details: { field: name } });
      if (!(value instanceof Float32Array || value instanceof Float64Array) || value.length !== size) {
        throw new GenrecError('SHAPE_MISMATCH', `withParameters: "${name}" needs ${size} float values, got ${(value as { length?: number } | undefined)?.length}`, { details: { field: name } });
      }
      for (let i = 0; i < value.length; i++) if (!Number.isFinite(value[i]!)) throw new GenrecError('INVALID_INPUT', `withParameters: "${name}" holds ${value[i]} at ${i}`, { details: { field: name } });
      parameters.set(name, Float32Array.from(value));
    }
    const codes = this.codes;
    return new TigerModel({
      spec: this.spec,
      itemCount: this.itemCount,
      parameters,
      codes: new ItemCodeTable(this.itemCount, codes.quantizerLevels, codes.levelSizes, codes.codes.slice(), codes.quantizer, codes.itemTokens, codes.lastLevel),
      popularity: this.popularity.slice(),
      ...(this.itemVectorMatrix ? { itemVectors: createMatrix(this.itemVectorMatrix.rows, this.itemVectorMatrix.cols, this.itemVectorMatrix.data.slice()) } : {}),
      dataFingerprint: this.dataFingerprint,
      training: this.training,
      retiredItems: this.retired.ids,
      addedItems: this.addedItems,
      ...(this.externalItemIds ? { externalItemIds: this.externalItemIds } : {}),
      ...(this.catalog ? { catalog: this.catalog } : {}),
    });
  }

  /** Training interactions per item (a copy), index `j` = item `j + 1`. */
  itemPopularity(): Int32Array {
    return this.popularity.slice();
  }

  /** The item vectors the semantic ids were fitted on (a copy; row `j` = item `j + 1`), when kept. */
  itemVectors(): Matrix | undefined {
    const m = this.itemVectorMatrix;
    return m === undefined ? undefined : createMatrix(m.rows, m.cols, m.data.slice());
  }

  /**
   * The semantic id of each item (`itemIds.length x tokensPerItem` codes: the quantiser levels
   * then the collision code), -1 rows for items without one.
   *
   * @throws GenrecError `INVALID_INPUT` for ids outside the catalogue.
   */
  semanticIds(itemIds: ArrayLike<number>): Int32Array {
    const width = this.codes.tokensPerItem;
    const out = new Int32Array(itemIds.length * width).fill(-1);
    for (let i = 0; i < itemIds.length; i++) {
      const id = itemIds[i]!;
      if (!Number.isInteger(id) || id < 1 || id > this.itemCount) throw new GenrecError('INVALID_INPUT', `semanticIds: position ${i} holds item id ${String(id)}, outside the catalogue 1..${this.itemCount}`, { details: { field: 'itemIds', position: i } });
      if (this.codes.has(id)) out.set(this.codes.codes.subarray(id * width, (id + 1) * width), i * width);
    }
    return out;
  }

  /**
   * Makes items without a semantic id recommendable without retraining (new items): their vectors
   * (in the space the ids were fitted in: the fitted item vectors' columns) are encoded with the
   * fitted quantiser, a collision code is taken from the spare ones, and the items enter the trie.
   * The model has never seen their tokens in training; it ranks them by what their codes share
   * with trained items.
   *
   * @param itemIds - items `1 .. itemCount` without a semantic id
   * @param vectors - one row per item; omitted: the rows of the fitted item vectors (`itemVectors()`)
   * @returns the codes given, `itemIds.length x tokensPerItem`
   * @throws GenrecError `INVALID_INPUT` (unknown or already indexed ids, a full collision group),
   * `SHAPE_MISMATCH` (vectors), `UNSUPPORTED` (RQ-VAE codes, or no vectors kept and none given).
   * @example
   * ```ts
   * await model.addItems(split.coldItems); // vectors from the fitted text embeddings
   * ```
   */
  async addItems(itemIds: ArrayLike<number>, vectors?: Matrix): Promise<Int32Array> {
    this.checkAlive();
    let rows = vectors;
    if (rows === undefined) {
      const kept = this.itemVectorMatrix;
      if (kept === undefined) throw new GenrecError('UNSUPPORTED', 'addItems needs vectors: this model kept no item vectors', { details: { field: 'vectors' } });
      for (let i = 0; i < itemIds.length; i++) {
        const id = itemIds[i]!;
        if (!Number.isInteger(id) || id < 1 || id > this.itemCount) throw new GenrecError('INVALID_INPUT', `addItems: position ${i} holds item id ${String(id)}, outside the catalogue 1..${this.itemCount}`, { details: { field: 'itemIds', position: i } });
      }
      rows = createMatrix(itemIds.length, kept.cols);
      for (let i = 0; i < itemIds.length; i++) rows.data.set(kept.data.subarray((itemIds[i]! - 1) * kept.cols, itemIds[i]! * kept.cols), i * kept.cols);
    }
    const added = await this.codes.add(itemIds, rows);
    const width = this.codes.tokensPerItem;
    for (let i = 0; i < itemIds.length; i++) {
      const id = itemIds[i]!;
      if (!this.retired.has(id)) this.trie.insert(id, added.subarray(i * width, (i + 1) * width));
      if (vectors !== undefined && this.itemVectorMatrix !== undefined && vectors.cols === this.itemVectorMatrix.cols) {
        this.itemVectorMatrix.data.set(vectors.data.subarray(i * vectors.cols, (i + 1) * vectors.cols), (id - 1) * vectors.cols);
      }
    }
    for (let i = 0; i < itemIds.length; i++) this.added.add(itemIds[i]!);
    this.newItemProcessor = null;
    this.fallbackScores = this.computeFallback();
    return added;
  }

  /** Items given a semantic id after training (`addItems`), ascending. */
  get addedItems(): Int32Array {
    return Int32Array.from(this.added).sort();
  }

  /**
   * The logits processor of items added after training: the model never saw their collision
   * tokens, so at the collision level an added item takes the log of its trained siblings' mean
   * probability (siblings: items sharing every quantiser code) when that is higher than its own
   * logit — a new item is as likely as an average item of its code prefix, and new items are
   * retrieved by their quantiser codes, as TIGER proposes for cold-start. Undefined without added
   * items.
   */
  private newItems(): LogitsProcessor | undefined {
    if (this.newItemProcessor !== null) return this.newItemProcessor;
    if (this.added.size === 0) return (this.newItemProcessor = undefined);
    const codes = this.codes;
    const q = codes.quantizerLevels;
    const width = codes.tokensPerItem;
    const collisionOffset = codes.layout.levelOffsets[q]!;
    const groups = new Map<string, { trained: number[]; added: number[] }>();
    const keyOf = (tokens: ArrayLike<number>, offset: number): string => {
      let key = '';
      for (let l = 0; l < q; l++) key += `${tokens[offset + l]},`;
      return key;
    };
    const tokens = new Int32Array(width);
    for (let id = 1; id <= this.itemCount; id++) {
      if (!codes.has(id)) continue;
      codes.writeTokens(id, tokens, 0);
      const key = keyOf(tokens, 0);
      let group = groups.get(key);
      if (group === undefined) groups.set(key, (group = { trained: [], added: [] }));
      (this.added.has(id) ? group.added : group.trained).push(collisionOffset + codes.codes[id * width + q]!);
    }
    for (const [key, group] of groups) if (group.added.length === 0 || group.trained.length === 0) groups.delete(key);
    this.newItemProcessor = (logits, context) => {
      if (context.step !== q) return;
      const v = context.vocabularySize;
      for (let row = 0; row < context.rows; row++) {
        const group = groups.get(keyOf(context.generated, row * context.generatedStride));
        if (group === undefined) continue;
        // log of the trained siblings' mean probability (up to the softmax normaliser)
        let max = Number.NEGATIVE_INFINITY;
        for (const token of group.trained) max = Math.max(max, logits[row * v + token]!);
        let sum = 0;
        for (const token of group.trained) sum += Math.exp(logits[row * v + token]! - max);
        const mean = max + Math.log(sum / group.trained.length);
        for (const token of group.added) if (logits[row * v + token]! < mean) logits[row * v + token] = mean;
      }
    };
    return this.newItemProcessor;
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
    const chunk = this.spec.inferenceBatchSize;
    for (let from = 0; from < users; from += chunk) {
      const candidates = Array.from({ length: Math.min(chunk, users - from) }, (_, i) => from + i);
      const contexts = buildContexts(batch, candidates, this.codes, this.spec.maxHistory, this.spec.architecture);
      const decoded = new Set(contexts.users);
      for (const u of candidates) {
        if (decoded.has(u)) continue;
        mask.set(batch, u, options);
        selectTopItems(this.fallbackScores, mask.marks, out, u, options.filter);
        mask.clear();
      }
      if (contexts.users.length > 0 && this.trie.itemCount > 0) await this.decodeInto(batch, contexts, options, out);
    }
    return out;
  }

  /** Beam-searches the users of `contexts` and writes their rows of `out`. */
  private async decodeInto(batch: HistoryBatch, contexts: { tokens: Int32Array; length: number; users: number[] }, options: RecommendOptions, out: Recommendations): Promise<void> {
    const k = options.k;
    const trie = this.trie;
    const model = await this.getStepModel();
    const excluded = contexts.users.map((u) => {
      const set = new Set<number>();
      if (options.excludeHistory !== false) for (let i = batch.offsets[u]!; i < batch.offsets[u + 1]!; i++) set.add(batch.items[i]!);
      const extra = options.exclude?.[u];
      if (extra !== undefined) for (let i = 0; i < extra.length; i++) set.add(extra[i]!);
      return set;
    });
    const available = excluded.map((set) => {
      let inTrie = 0;
      for (const id of set) if (trie.has(id)) inTrie++;
      return trie.itemCount - inTrie;
    });
    const filter = options.filter;
    let want = Math.min(trie.itemCount, filter === undefined ? k : 2 * k + 8);
    let pending = contexts.users.map((_, row) => row);
    const v = model.vocabularySize;
    const processor = this.newItems();
    while (pending.length > 0) {
      const beam = Math.max(this.spec.beamWidth, want);
      const perCall = Math.max(1, Math.floor(STEP_LOGITS / (beam * v)));
      const next: number[] = [];
      for (let start = 0; start < pending.length; start += perCall) {
        const rows = pending.slice(start, start + perCall);
        const tokens = new Int32Array(rows.length * contexts.length);
        rows.forEach((row, i) => tokens.set(contexts.tokens.subarray(row * contexts.length, (row + 1) * contexts.length), i * contexts.length));
        const result = await beamSearch(model, { tokens, batchSize: rows.length, length: contexts.length }, {
          trie,
          beamWidth: beam,
          resultCount: want,
          renormalize: this.spec.renormalize,
          exclude: rows.map((row) => excluded[row]!),
          ...(processor ? { logitsProcessors: [processor] } : {}),
        });
        rows.forEach((row, i) => {
          const u = contexts.users[row]!;
          let length = 0;
          for (let r = 0; r < result.counts[i]! && length < k; r++) {
            const id = result.itemIds[i * want + r]!;
            if (filter !== undefined && !filter(id, u)) continue;
            out.items[u * k + length] = id;
            out.scores[u * k + length] = result.logProbs[i * want + r]!;
            length++;
          }
          for (let r = length; r < k; r++) {
            out.items[u * k + r] = 0;
            out.scores[u * k + r] = Number.NEGATIVE_INFINITY;
          }
          out.lengths[u] = length;
          // a filter rejected too many: search deeper, while more items are left
          if (length < k && result.counts[i] === want && want < available[row]!) next.push(row);
        });
      }
      pending = next;
      want = Math.min(trie.itemCount, want * 2);
    }
  }

  /**
   * The score of each candidate: log π(candidate | history), the sum of its tokens'
   * log-probabilities (teacher forcing, full-vocabulary softmax; with the `renormalize` option, the
   * softmax over the tokens the trie allows after each prefix, so for a user with a history the
   * scores of the recommendable items sum to 1 in probability and — unlike core's contract —
   * retired items score `-Infinity`); the empty-history fallback (the whole catalogue's) for a
   * history without any item with a semantic id; `-Infinity` for candidates without a
   * semantic id.
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
    const out = new Float32Array(wanted.items.length).fill(Number.NEGATIVE_INFINITY);
    if (users === 0) return out;
    const all = Array.from({ length: users }, (_, u) => u);
    const withContext = new Set(buildContexts(batch, all, this.codes, this.spec.maxHistory, this.spec.architecture).users);
    const width = this.codes.tokensPerItem;
    // jobs: at most SCORE_ROWS indexed candidates of one user each
    const jobs: { user: number; positions: number[] }[] = [];
    for (let u = 0; u < users; u++) {
      let positions: number[] = [];
      for (let i = wanted.offsets[u]!; i < wanted.offsets[u + 1]!; i++) {
        const item = wanted.items[i]!;
        if (!withContext.has(u)) {
          out[i] = this.fallbackScores[item - 1]!;
          continue;
        }
        if (!this.codes.has(item) || (this.spec.renormalize && !this.trie.has(item))) continue;
        positions.push(i);
        if (positions.length === SCORE_ROWS) {
          jobs.push({ user: u, positions });
          positions = [];
        }
      }
      if (positions.length > 0) jobs.push({ user: u, positions });
    }
    if (jobs.length === 0) return out;
    const model = await this.getStepModel();
    let group: typeof jobs = [];
    let widest = 0;
    const flush = async (): Promise<void> => {
      if (group.length === 0) return;
      const contexts = buildContexts(batch, group.map((job) => job.user), this.codes, this.spec.maxHistory, this.spec.architecture);
      const lists = group.map((job) => {
        const tokens = new Int32Array(job.positions.length * width);
        job.positions.forEach((position, c) => this.codes.writeTokens(wanted.items[position]!, tokens, c * width));
        return tokens;
      });
      const start = this.codes.layout.specialTokens.bos ?? 1;
      const scores = await scoreCandidates(model, { tokens: contexts.tokens, length: contexts.length, batchSize: group.length }, lists, width, start, this.newItems(), this.spec.renormalize ? this.trie : undefined);
      group.forEach((job, g) => job.positions.forEach((position, c) => (out[position] = scores[g]![c]!)));
      group = [];
      widest = 0;
    };
    for (const job of jobs) {
      const size = Math.max(widest, job.positions.length);
      if ((group.length + 1) * size > SCORE_ROWS || group.length >= this.spec.inferenceBatchSize) await flush();
      group.push(job);
      widest = Math.max(widest, job.positions.length);
    }
    await flush();
    return out;
  }

  /**
   * Decodes without the trie constraint (full vocabulary at every step, as TIGER does) and counts
   * the top-k token sequences that name no catalogue item (the failure the constraint prevents).
   *
   * @param histories - the users
   * @param options - `k` and `beamWidth`
   * @returns the invalid share of returned sequences and of users
   */
  async unconstrainedInvalidRate(histories: Histories, options: InvalidRateOptions = {}): Promise<InvalidRateReport> {
    this.checkAlive();
    checkKnownOptions(options, ['k', 'beamWidth'], 'unconstrainedInvalidRate');
    const k = checkIntegerOption(options.k ?? 10, 'k', 1, 65_536);
    const beam = checkIntegerOption(options.beamWidth ?? Math.max(this.spec.beamWidth, k), 'beamWidth', k, 65_536);
    const batch = toHistoryBatch(histories, this.itemCount);
    const users = batchSize(batch);
    const model = await this.getStepModel();
    let decoded = 0;
    let invalid = 0;
    let usersWithInvalid = 0;
    const chunk = Math.max(1, Math.min(this.spec.inferenceBatchSize, Math.floor(STEP_LOGITS / (beam * model.vocabularySize))));
    for (let from = 0; from < users; from += chunk) {
      const candidates = Array.from({ length: Math.min(chunk, users - from) }, (_, i) => from + i);
      const contexts = buildContexts(batch, candidates, this.codes, this.spec.maxHistory, this.spec.architecture);
      if (contexts.users.length === 0) continue;
      const result = await beamSearch(model, { tokens: contexts.tokens, batchSize: contexts.users.length, length: contexts.length }, {
        trie: this.trie,
        constrain: false,
        beamWidth: beam,
        resultCount: k,
      });
      for (let i = 0; i < contexts.users.length; i++) {
        let bad = 0;
        for (let r = 0; r < k; r++) if (result.itemIds[i * k + r]! < 0) bad++;
        invalid += bad;
        if (bad > 0) usersWithInvalid++;
        decoded++;
      }
    }
    return { users: decoded, invalidRate: decoded === 0 ? 0 : invalid / (decoded * k), usersWithInvalid: decoded === 0 ? 0 : usersWithInvalid / decoded };
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
      semanticIds: {
        levelSizes: [...this.codes.levelSizes],
        itemTokens: this.codes.itemTokens,
        vocabularySize: this.codes.modelVocabularySize,
        indexedItems: this.codes.indexedCount,
        addedItems: this.added.size,
      },
      ...(this.training.validation ? { validation: this.training.validation } : {}),
    };
  }

  /**
   * Saves the model folder atomically: `manifest.json` (kind `'tiger'`, the spec, the training
   * summary, the semantic-id layout), `weights.safetensors` (every parameter under its
   * `@genrec/nn` name in PyTorch's `[out, in]` layout, plus `semantic_ids.codes` int32
   * `[itemCount + 1, tokensPerItem]` (-1 rows: no id), `semantic_ids.codebook.{l}` float32 (the
   * quantiser), `item_vectors` float32 `[itemCount, dim]` when kept, and `popularity` int32
   * `[itemCount]`) and `items.json`.
   */
  async save(directory: string): Promise<void> {
    this.checkAlive();
    const tensors: Record<string, Tensor> = {};
    for (const { name, shape } of tigerParameterShapes(this.spec, this.shape)) tensors[name] = { dtype: 'float32', shape, data: this.parameters.get(name)! };
    tensors['semantic_ids.codes'] = { dtype: 'int32', shape: [this.itemCount + 1, this.codes.tokensPerItem], data: this.codes.codes };
    this.codes.quantizer?.codebooks.forEach((codebook, level) => {
      tensors[`semantic_ids.codebook.${level}`] = { dtype: 'float32', shape: [codebook.rows, codebook.cols], data: codebook.data };
    });
    if (this.itemVectorMatrix) tensors.item_vectors = { dtype: 'float32', shape: [this.itemVectorMatrix.rows, this.itemVectorMatrix.cols], data: this.itemVectorMatrix.data };
    tensors.popularity = { dtype: 'int32', shape: [this.itemCount], data: this.popularity };
    await writeModelFolder(directory, {
      model: TIGER_KIND,
      modelFormatVersion: TIGER_FORMAT_VERSION,
      description: this.describe(),
      retiredItems: this.retired.ids,
      fields: {
        spec: this.spec,
        training: this.training,
        semanticIds: { quantizerLevels: this.codes.quantizerLevels, levelSizes: [...this.codes.levelSizes], itemTokens: this.codes.itemTokens, hasQuantizer: this.codes.quantizer !== undefined },
        addedItems: Array.from(this.addedItems),
      },
      tensors,
      ...(this.externalItemIds ? { externalItemIds: this.externalItemIds } : {}),
      ...(this.catalog ? { catalog: this.catalog } : {}),
    });
  }

  /** Releases the decoding step model (its worker threads); the model is unusable afterwards. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const model = this.stepModel;
    this.stepModel = undefined;
    if (model) await (await model).dispose();
  }

  /** @internal the parameter map itself (not copied). */
  get parameterMap(): ReadonlyMap<string, Float32Array> {
    return this.parameters;
  }

  /** The decoding step model, created on first use from the parameters. */
  private getStepModel(): Promise<StepModel & { dispose(): Promise<void> }> {
    this.stepModel ??=
      this.spec.architecture === 'decoder-only'
        ? CausalTransformerStepModel.create({ spec: causalConfig(this.spec, this.shape), weights: this.parameters, workers: this.spec.workers })
        : TransformerStepModel.create({ spec: encoderDecoderConfig(this.spec, this.shape), weights: this.parameters, workers: this.spec.workers });
    return this.stepModel;
  }

  /** Popularity log-probabilities for the fallback; `-Infinity` for items without a semantic id. */
  private computeFallback(): Float32Array {
    const counts = this.popularity;
    let total = 0;
    for (let j = 0; j < counts.length; j++) total += counts[j]!;
    const denominator = Math.log(total + counts.length);
    const out = new Float32Array(counts.length);
    for (let j = 0; j < counts.length; j++) out[j] = this.codes.has(j + 1) ? Math.log(counts[j]! + 1) - denominator : Number.NEGATIVE_INFINITY;
    return out;
  }

  private checkAlive(): void {
    if (this.disposed) throw new GenrecError('NOT_FITTED', 'this TIGER model was disposed', { details: { field: 'model' } });
  }
}
