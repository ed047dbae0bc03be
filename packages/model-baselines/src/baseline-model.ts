import {
  ExclusionMask,
  GenrecError,
  RetiredItems,
  batchSize,
  checkRecommendOptions,
  createTensor,
  emptyRecommendations,
  selectTopItems,
  toHistoryBatch,
  writeModelFolder,
  type Histories,
  type ModelDescription,
  type RecommendOptions,
  type Recommendations,
  type Recommender,
  type ScoreScale,
  type Tensor,
} from '@genrec/core';
import type { ItemMetadata } from './item-metadata.js';
import { PACKAGE_NAME, version } from './version.js';

/** Version of the baselines' own model-folder content (manifest fields and tensors). */
export const BASELINE_FORMAT_VERSION = 1;

/** What every baseline holds besides its own structures. */
export interface BaselineState {
  /** Catalogue size: ids `1 .. itemCount`. */
  itemCount: number;
  /** Training count of each item: index `j` holds item `j + 1`. */
  popularity: Int32Array;
  /** Resolved hyper-parameters (JSON values), including `seed`. */
  hyperParameters: Record<string, unknown>;
  /** `datasetFingerprint` of the training data. */
  dataFingerprint: string;
  /** Training interactions counted. */
  trainingInteractions: number;
  /** False when `fit` was aborted before the counting pass ended. */
  complete: boolean;
  /** External ids and titles, saved with the model. */
  items: ItemMetadata;
  /** Retired item ids. */
  retired?: ArrayLike<number>;
}

/**
 * The part of the `Recommender` contract every baseline shares: input checks, exclusion of
 * history / `exclude` / retired / filtered items, top-k selection, candidate scoring, retirement,
 * `describe` and `save`. A baseline supplies a dense score row for a history and a scorer for
 * single candidates that computes bit-identical values (so `score` agrees with `recommend`).
 */
export abstract class BaselineRecommender implements Recommender {
  /** The model kind (also the `model` field of the saved manifest). */
  abstract readonly kind: string;
  /** What the scores mean. */
  abstract readonly scoreScale: ScoreScale;
  /** Catalogue size: ids `1 .. itemCount`. */
  readonly itemCount: number;
  /** `k` may be as large as the catalogue. */
  readonly maxK: number;
  /** Training count of each item (index `j` = item `j + 1`). */
  protected readonly popularity: Int32Array;
  private readonly state: BaselineState;
  private readonly retired: RetiredItems;
  private disposed = false;

  protected constructor(state: BaselineState) {
    this.state = state;
    this.itemCount = state.itemCount;
    this.maxK = state.itemCount;
    this.popularity = state.popularity;
    this.retired = new RetiredItems(state.itemCount, state.retired ?? []);
  }

  /** Writes the score of every item for one history into `row` (index `j` = item `j + 1`). */
  protected abstract scoreRow(history: Int32Array, row: Float64Array): void;

  /** A scorer of single candidates for one history, bit-identical to {@link scoreRow}. */
  protected abstract candidateScorer(history: Int32Array): (itemId: number) => number;

  /** The model's own tensors for `weights.safetensors` (popularity is added by `save`). */
  protected abstract tensors(): Record<string, Tensor>;

  /**
   * Ranks one user into row `u` of `out`. The default scores the whole catalogue and keeps the
   * best `k` (ties to the lower id); models that fill a short list differently override it.
   */
  protected rankUser(history: Int32Array, row: Float64Array, excluded: Uint8Array, out: Recommendations, u: number, filter?: (itemId: number, user: number) => boolean): void {
    this.scoreRow(history, row);
    selectTopItems(row, excluded, out, u, filter);
  }

  /**
   * Top-`k` items per user (see `Recommender.recommend`).
   *
   * @throws GenrecError `INVALID_INPUT` for ids outside `1 .. itemCount`, `INVALID_OPTION` for `k` outside `1 .. maxK`.
   */
  async recommend(histories: Histories, options: RecommendOptions): Promise<Recommendations> {
    this.checkUsable();
    const batch = toHistoryBatch(histories, this.itemCount);
    const users = batchSize(batch);
    checkRecommendOptions(options, this.maxK, users, this.itemCount);
    const out = emptyRecommendations(users, options.k);
    const mask = new ExclusionMask(this.itemCount, this.retired.ids);
    const row = new Float64Array(this.itemCount);
    for (let u = 0; u < users; u++) {
      mask.set(batch, u, options);
      this.rankUser(batch.items.subarray(batch.offsets[u]!, batch.offsets[u + 1]!), row, mask.marks, out, u, options.filter);
      mask.clear();
    }
    return out;
  }

  /**
   * Scores each user's candidates (see `Recommender.score`); retired items are scored like any other.
   *
   * @throws GenrecError `INVALID_INPUT` for unknown ids, `SHAPE_MISMATCH` when the two batches differ in size.
   */
  async score(histories: Histories, candidates: Histories): Promise<Float32Array> {
    this.checkUsable();
    const batch = toHistoryBatch(histories, this.itemCount);
    const wanted = toHistoryBatch(candidates, this.itemCount, 'candidates');
    const users = batchSize(batch);
    if (batchSize(wanted) !== users) {
      throw new GenrecError('SHAPE_MISMATCH', `candidates holds ${batchSize(wanted)} lists for ${users} histories`, { details: { field: 'candidates' } });
    }
    const out = new Float32Array(wanted.items.length);
    for (let u = 0; u < users; u++) {
      const scorer = this.candidateScorer(batch.items.subarray(batch.offsets[u]!, batch.offsets[u + 1]!));
      for (let i = wanted.offsets[u]!; i < wanted.offsets[u + 1]!; i++) out[i] = scorer(wanted.items[i]!);
    }
    return out;
  }

  /** Retires items (see `Recommender.retireItems`). @throws GenrecError `INVALID_INPUT` for unknown ids (nothing changes). */
  retireItems(itemIds: ArrayLike<number>): void {
    this.checkUsable();
    this.retired.retire(itemIds);
  }

  /** Restores retired items. @throws GenrecError `INVALID_INPUT` for unknown ids (nothing changes). */
  restoreItems(itemIds: ArrayLike<number>): void {
    this.checkUsable();
    this.retired.restore(itemIds);
  }

  /** The retired item ids, ascending. */
  get retiredItems(): Int32Array {
    return this.retired.ids;
  }

  /**
   * Kind, package, hyper-parameters, catalogue size, data fingerprint; `epoch` is 1 for a
   * completed counting pass and 0 for an aborted one; `trainingInteractions` counts what was read.
   */
  describe(): ModelDescription {
    const { hyperParameters, dataFingerprint, trainingInteractions, complete } = this.state;
    return {
      kind: this.kind,
      package: { name: PACKAGE_NAME, version },
      hyperParameters: { ...hyperParameters },
      itemCount: this.itemCount,
      dataFingerprint,
      epoch: complete ? 1 : 0,
      trainingInteractions,
    };
  }

  /**
   * Saves the model folder atomically: manifest, `weights.safetensors` (popularity and the model's
   * sparse structures as int32 / float32 tensors) and `items.json`.
   *
   * @throws GenrecError `INVALID_INPUT` for an empty path, `IO_ERROR` when writing fails.
   */
  async save(directory: string): Promise<void> {
    this.checkUsable();
    if (typeof directory !== 'string' || directory.length === 0) {
      throw new GenrecError('INVALID_INPUT', 'save needs a folder path', { details: { field: 'directory' } });
    }
    await writeModelFolder(directory, {
      model: this.kind,
      modelFormatVersion: BASELINE_FORMAT_VERSION,
      description: this.describe(),
      retiredItems: this.retired.ids,
      tensors: { popularity: createTensor(this.popularity, [this.itemCount]), ...this.tensors() },
      ...this.state.items,
    });
  }

  /** Marks the model disposed (baselines hold only typed arrays). */
  async dispose(): Promise<void> {
    this.disposed = true;
  }

  private checkUsable(): void {
    if (this.disposed) throw new GenrecError('NOT_FITTED', `this ${this.kind} model was disposed`);
  }
}
