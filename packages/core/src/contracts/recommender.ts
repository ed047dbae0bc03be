import type { Matrix } from '../matrix.js';
import type { ProgressCallback } from '../progress.js';
import type { EvaluationSet, ItemCatalog, SequenceDataset } from './dataset.js';

/**
 * Item ids in every genrec API are `@genrec/data`'s: dense integers `1 .. itemCount`, with 0
 * reserved for padding. A score matrix over the catalogue has `itemCount` columns, column `j`
 * holding item `j + 1`.
 */

/**
 * The histories of a batch of users in compressed-row form: user `u`'s items are
 * `items[offsets[u] .. offsets[u + 1])`, oldest first, ids `1 .. itemCount`. An
 * `EvaluationSet`'s `historyOffsets` / `historyItems` have exactly this form.
 */
export interface HistoryBatch {
  /** Offsets into `items`, length `users + 1`, non-decreasing, starting at 0. */
  readonly offsets: Int32Array;
  /** Item ids, concatenated. */
  readonly items: Int32Array;
}

/** Histories given either in compressed-row form or as one array of item ids per user. */
export type Histories = HistoryBatch | readonly ArrayLike<number>[];

/** Options of {@link Recommender.recommend}. */
export interface RecommendOptions {
  /**
   * How many items per user, `1 .. maxK`. Above the model's {@link Recommender.maxK} it is an
   * `INVALID_OPTION` error, never silently clamped.
   */
  k: number;
  /**
   * Exclude each user's whole history (every item in the history given, not only the part the
   * model reads). @defaultValue true
   */
  excludeHistory?: boolean;
  /** Further items to exclude, one list per user (`undefined` entries exclude nothing more). */
  exclude?: readonly (ArrayLike<number> | undefined)[];
  /**
   * A business rule: return false to drop `itemId` for the user at position `user` of the batch.
   * Called only for items the model would otherwise return; it must not throw (an exception is
   * passed to the caller as it is).
   */
  filter?: (itemId: number, user: number) => boolean;
  /**
   * Dense user ids of the batch, for models that use user tokens; others ignore them. A model
   * that needs them documents it.
   */
  userIds?: Int32Array;
}

/**
 * Ranked recommendations of a batch: `size` rows of `k` entries, row-major. A row is shorter
 * than `k` only when fewer than `k` items remain after exclusions and filters; its tail holds item
 * 0 with score `-Infinity`, and `lengths` says how many entries are real.
 */
export interface Recommendations {
  /** Number of users (rows). */
  readonly size: number;
  /** Entries per row. */
  readonly k: number;
  /** Item ids, `size x k`, best first; 0 pads a short row. */
  readonly items: Int32Array;
  /** Scores on the model's {@link Recommender.scoreScale}, `size x k`, non-increasing per row. */
  readonly scores: Float32Array;
  /** Real entries per row (`k` unless the row is short). */
  readonly lengths: Int32Array;
}

/** What a score means; each model documents its own. */
export type ScoreScale =
  /** log π(item | history): a log-probability under the model's full softmax (≤ 0). */
  | 'log-probability'
  /** An unnormalised logit (e.g. a dot product); higher is better, differences are meaningful. */
  | 'logit'
  /** A non-negative count or weight (popularity, co-occurrence). */
  | 'count';

/** A fitted model's self-description, for reports and run folders. */
export interface ModelDescription {
  /** The model kind, e.g. `'sasrec'`, `'popularity'`, `'tiger'`. */
  kind: string;
  /** npm package that implements it and its version. */
  package: { name: string; version: string };
  /** Every hyper-parameter, resolved (defaults filled in). */
  hyperParameters: Record<string, unknown>;
  /** Catalogue size (ids `1 .. itemCount`). */
  itemCount: number;
  /** Fingerprint of the training data (see `datasetFingerprint`). */
  dataFingerprint: string;
  /** Trainable parameter count, when the model has parameters. */
  parameterCount?: number;
  /** The epoch whose weights the model holds, when trained by epochs. */
  epoch?: number;
  /** Anything else the model wants to report (validation metrics of the kept epoch…). */
  [field: string]: unknown;
}

/**
 * The contract every genrec recommender implements (`@genrec/model-*` packages). A model is
 * fitted by its package's `fit(data, options)` function, and afterwards answers ranked
 * recommendations and candidate scores for any histories of catalogue items.
 *
 * Item ids are `@genrec/data`'s dense ids `1 .. itemCount` (0 = padding). An empty history is
 * valid: each model documents its fallback (usually popularity). Unknown item ids (outside
 * `1 .. itemCount`) are an `INVALID_INPUT` error naming the user and position.
 */
export interface Recommender {
  /** The model kind, e.g. `'sasrec'`; equals the `model` field of its saved manifest. */
  readonly kind: string;
  /** Catalogue size: item ids are `1 .. itemCount`. */
  readonly itemCount: number;
  /** The largest `k` that `recommend` accepts. */
  readonly maxK: number;
  /** What `recommend`'s and `score`'s numbers mean. */
  readonly scoreScale: ScoreScale;
  /**
   * Top-`k` items per user, excluding (by default) each user's history, the items of
   * `options.exclude`, retired items, and those `options.filter` rejects.
   *
   * @throws GenrecError `INVALID_OPTION` for `k` outside `1 .. maxK`, `INVALID_INPUT` for unknown item ids.
   */
  recommend(histories: Histories, options: RecommendOptions): Promise<Recommendations>;
  /**
   * Scores given candidates for each user: `candidates` has one list per user (same batch order as
   * `histories`); the result holds one score per candidate, concatenated in the same order.
   * Scores are on {@link Recommender.scoreScale}. Retired items are scored like any other.
   */
  score(histories: Histories, candidates: Histories): Promise<Float32Array>;
  /**
   * Removes items from every later result without retraining (an item sold out, withdrawn).
   * Saved with the model. Retiring an already retired id is a no-op.
   */
  retireItems(itemIds: ArrayLike<number>): void;
  /** Makes retired items recommendable again. */
  restoreItems(itemIds: ArrayLike<number>): void;
  /** The retired item ids, ascending. */
  readonly retiredItems: Int32Array;
  /** Kind, version, hyper-parameters, catalogue size and data fingerprint. */
  describe(): ModelDescription;
  /**
   * Saves the model as a folder (manifest, weights, id map, catalogue), atomically; load it with
   * the package's `load` or `loadRecommender`.
   */
  save(directory: string): Promise<void>;
  /** Releases native sessions and worker threads; the model is unusable afterwards. */
  dispose(): Promise<void>;
}

/** What `fit` trains on. */
export interface FitData {
  /** Training sequences (item ids `1 .. itemCount`). */
  train: SequenceDataset;
  /** Validation users, for early stopping and model selection (never the test set). */
  validation?: EvaluationSet;
  /** Item metadata (titles), stored in the model folder for services. */
  catalog?: ItemCatalog;
  /** Per-item vectors, row `j` = item `j + 1` (`itemCount` rows), for models that use content. */
  itemVectors?: Matrix;
}

/** Early stopping on a validation metric. */
export interface EarlyStoppingOptions {
  /** Metric name, `ndcg@K`, `recall@K` or `hitrate@K`. @defaultValue `'ndcg@10'` */
  metric?: string;
  /** Epochs without improvement before stopping. @defaultValue 3 */
  patience?: number;
  /** Validate on at most this many validation users (a fixed seeded sample). @defaultValue all */
  sampleUsers?: number;
}

/** Options every `fit` accepts (model packages add their hyper-parameters). */
export interface CommonFitOptions {
  /** Seed of every random choice; the same data, options and seed give the same model. @defaultValue 0 */
  seed?: number;
  /** Training events (`fit-start`, `epoch-end`, `fit-end`) and task events. */
  onProgress?: ProgressCallback;
  /**
   * Stops training cleanly at the next step: `fit` resolves with the best model so far (the
   * current weights when no epoch has finished).
   */
  signal?: AbortSignal;
  /**
   * Early stopping on `data.validation` (when given): keeps the best epoch's weights. `false`
   * trains every epoch and keeps the last. @defaultValue `{ metric: 'ndcg@10', patience: 3 }`
   */
  earlyStopping?: EarlyStoppingOptions | false;
  /** A folder where a checkpoint is written after every epoch (atomically). */
  checkpointDirectory?: string;
  /** Resume from the checkpoint in this folder (written by an earlier run with the same options). */
  resumeFrom?: string;
}

/** The manifest fields every saved model folder carries (`manifest.json`). */
export interface RecommenderManifest {
  /** Always `'genrec.recommender'`. */
  kind: 'genrec.recommender';
  /** Format version of the model folder layout (`RECOMMENDER_FOLDER_VERSION`). */
  formatVersion: number;
  /** The model kind (`'sasrec'`…), used by `loadRecommender` to pick a loader. */
  model: string;
  /** Format version of that model's own content. */
  modelFormatVersion: number;
  /** The model's description at save time. */
  description: ModelDescription;
  /** Retired item ids. */
  retiredItems: number[];
  /** Model-specific fields. */
  [field: string]: unknown;
}

/** Loads one kind of model from an opened model folder (see `loadRecommender`). */
export type RecommenderLoader = (directory: string) => Promise<Recommender>;
