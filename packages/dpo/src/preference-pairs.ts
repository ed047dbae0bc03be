import {
  GenrecError,
  Rng,
  checkEnumOption,
  checkIntegerOption,
  checkKnownOptions,
  checkNumberOption,
  checkResultSize,
  type HistoryBatch,
  type ProgressCallback,
  type Recommender,
  type SequenceDataset,
} from '@genrec/core';
import type { RewardModel } from './reward-models.js';

/** Where preference pairs come from. */
export type PairSource = 'self-hard-negatives' | 'reward-model' | 'explicit-feedback';

/** Every pair source, for validation and documentation. */
export const PAIR_SOURCES: readonly PairSource[] = ['self-hard-negatives', 'reward-model', 'explicit-feedback'];

/** A training sequence with the ratings `@genrec/data`'s rating columns (and the synthetic generator) give. */
export interface RatedSequences extends SequenceDataset {
  /** Ratings parallel to `items`, when the source has them. */
  readonly ratings?: Float32Array;
}

/**
 * Preference pairs of some users: per user a history (a prefix of the user's training sequence),
 * the candidates (column 0 chosen, the others rejected) and the logged next item.
 */
export interface PreferencePairs {
  /** Users with a pair. */
  readonly size: number;
  /** Candidates per user: 1 chosen + the rejected ones. */
  readonly candidatesPerUser: number;
  /** Each user's history, compressed rows, oldest first. */
  readonly histories: HistoryBatch;
  /** `size x candidatesPerUser` item ids, row-major, column 0 chosen. */
  readonly candidates: Int32Array;
  /** The logged next item after each history (the supervised target). */
  readonly targets: Int32Array;
  /** Row of each user in the training data. */
  readonly rows: Int32Array;
  /** Where each history ends: it is the row's items `[0, cut)`. */
  readonly cuts: Int32Array;
  /** Reward (reward-model pairs) or rating (explicit feedback) of each candidate, same layout as `candidates`. */
  readonly rewards?: Float64Array;
}

/** Options of {@link buildPreferencePairs}. */
export interface PreferencePairOptions {
  /** Training rows to build pairs for (rows with fewer than 2 items are skipped). */
  rows: ArrayLike<number>;
  /** Pair source. @defaultValue 'self-hard-negatives' */
  source?: PairSource;
  /** Rejected candidates per user (≥ 2 for S-DPO). @defaultValue 1 */
  rejected?: number;
  /** N: candidates drawn from the model per user for `'reward-model'` pairs. @defaultValue 20 */
  candidates?: number;
  /** The reward model of `'reward-model'` pairs. */
  rewardModel?: RewardModel;
  /**
   * Where a user's history ends: `'random'` (uniform over the positions that leave at least one
   * item before and one after; later training items then count as false negatives when rejected)
   * or `'last'` (before the last training item).
   * @defaultValue 'random'
   */
  cut?: 'random' | 'last';
  /** Explicit feedback: ratings at or above this are "liked". @defaultValue 4 */
  highRating?: number;
  /** Explicit feedback: ratings at or below this are "disliked". @defaultValue 2 */
  lowRating?: number;
  /** Seed of the cut positions. @defaultValue 0 */
  seed?: number;
  /** Users per `recommend` call. @defaultValue 256 */
  batchSize?: number;
  /** Task events of task `'align-pairs'` (users done). */
  onProgress?: ProgressCallback;
  /** Checked before each `recommend` call; the promise rejects with its reason. */
  signal?: AbortSignal;
}

const OPTION_NAMES = ['rows', 'source', 'rejected', 'candidates', 'rewardModel', 'cut', 'highRating', 'lowRating', 'seed', 'batchSize', 'onProgress', 'signal'];

/** The resolved options of pair building. */
export interface ResolvedPairOptions {
  source: PairSource;
  rejected: number;
  candidates: number;
  rewardModel: RewardModel | undefined;
  cut: 'random' | 'last';
  highRating: number;
  lowRating: number;
}

/**
 * Checks the pair options that do not depend on the data (shared with `alignModel`).
 * @internal
 */
export function resolvePairOptions(options: Omit<PreferencePairOptions, 'rows'>, model: Recommender): ResolvedPairOptions {
  const source = checkEnumOption(options.source ?? 'self-hard-negatives', 'source', PAIR_SOURCES);
  const rejected = checkIntegerOption(options.rejected ?? 1, 'rejected', 1, 1024);
  const candidates = checkIntegerOption(options.candidates ?? 20, 'candidates', 2, 100_000);
  if (source === 'reward-model') {
    checkResultSize(candidates, 'candidates', model.maxK, `the model returns at most ${model.maxK} items`);
    if (rejected >= candidates) throw new GenrecError('INVALID_OPTION', `rejected (${rejected}) must be below candidates (${candidates})`, { details: { field: 'rejected' } });
    if (typeof options.rewardModel?.score !== 'function') throw new GenrecError('INVALID_OPTION', "source 'reward-model' needs options.rewardModel", { details: { field: 'rewardModel' } });
  }
  if (source === 'self-hard-negatives') checkResultSize(rejected + 1, 'rejected', model.maxK, `rejected + 1 candidates are asked of a model that returns at most ${model.maxK}`);
  const highRating = checkNumberOption(options.highRating ?? 4, 'highRating');
  const lowRating = checkNumberOption(options.lowRating ?? 2, 'lowRating');
  if (!(lowRating < highRating)) throw new GenrecError('INVALID_OPTION', `lowRating (${lowRating}) must be below highRating (${highRating})`, { details: { field: 'lowRating' } });
  return {
    source,
    rejected,
    candidates,
    rewardModel: options.rewardModel,
    cut: checkEnumOption(options.cut ?? 'random', 'cut', ['random', 'last'] as const),
    highRating,
    lowRating,
  };
}

/** A growing set of pairs. */
class PairCollector {
  readonly offsets: number[] = [0];
  readonly items: number[] = [];
  readonly candidates: number[] = [];
  readonly targets: number[] = [];
  readonly rows: number[] = [];
  readonly cuts: number[] = [];
  readonly rewards: number[] = [];

  constructor(private readonly train: SequenceDataset) {}

  add(row: number, cut: number, candidates: ArrayLike<number>, rewards?: ArrayLike<number>): void {
    const from = this.train.offsets[row]!;
    for (let i = from; i < from + cut; i++) this.items.push(this.train.items[i]!);
    this.offsets.push(this.items.length);
    for (let j = 0; j < candidates.length; j++) this.candidates.push(candidates[j]!);
    if (rewards) for (let j = 0; j < rewards.length; j++) this.rewards.push(rewards[j]!);
    this.targets.push(this.train.items[from + cut]!);
    this.rows.push(row);
    this.cuts.push(cut);
  }

  build(candidatesPerUser: number, withRewards: boolean): PreferencePairs {
    const pairs: PreferencePairs = {
      size: this.rows.length,
      candidatesPerUser,
      histories: { offsets: Int32Array.from(this.offsets), items: Int32Array.from(this.items) },
      candidates: Int32Array.from(this.candidates),
      targets: Int32Array.from(this.targets),
      rows: Int32Array.from(this.rows),
      cuts: Int32Array.from(this.cuts),
    };
    return withRewards ? { ...pairs, rewards: Float64Array.from(this.rewards) } : pairs;
  }
}

/** History prefixes `[0, cut)` of some rows, compressed. */
function prefixes(train: SequenceDataset, rows: ArrayLike<number>, cuts: ArrayLike<number>): HistoryBatch {
  const offsets = new Int32Array(rows.length + 1);
  for (let u = 0; u < rows.length; u++) offsets[u + 1] = offsets[u]! + cuts[u]!;
  const items = new Int32Array(offsets[rows.length]!);
  for (let u = 0; u < rows.length; u++) items.set(train.items.subarray(train.offsets[rows[u]!]!, train.offsets[rows[u]!]! + cuts[u]!), offsets[u]!);
  return { offsets, items };
}

/** Slice of a history batch (users `from .. to`). */
function sliceBatch(batch: HistoryBatch, from: number, to: number): HistoryBatch {
  const start = batch.offsets[from]!;
  return { offsets: Int32Array.from(batch.offsets.subarray(from, to + 1), (o) => o - start), items: batch.items.subarray(start, batch.offsets[to]!) };
}

/** The current model's top `k` (history excluded) for each history, `users x k` with lengths. */
async function recommendAll(
  model: Recommender,
  histories: HistoryBatch,
  k: number,
  batchSize: number,
  onProgress: ProgressCallback | undefined,
  signal: AbortSignal | undefined,
): Promise<{ items: Int32Array; lengths: Int32Array }> {
  const users = histories.offsets.length - 1;
  const items = new Int32Array(users * k);
  const lengths = new Int32Array(users);
  const startedAt = performance.now();
  onProgress?.({ type: 'task-start', task: 'align-pairs', done: 0, total: users, unit: 'users' });
  for (let from = 0; from < users; from += batchSize) {
    signal?.throwIfAborted();
    const to = Math.min(users, from + batchSize);
    const result = await model.recommend(sliceBatch(histories, from, to), { k, excludeHistory: true });
    items.set(result.items.subarray(0, (to - from) * k), from * k);
    lengths.set(result.lengths.subarray(0, to - from), from);
    onProgress?.({ type: 'task-progress', task: 'align-pairs', done: to, total: users, unit: 'users' });
  }
  onProgress?.({ type: 'task-end', task: 'align-pairs', done: users, total: users, unit: 'users', elapsedMs: performance.now() - startedAt });
  return { items, lengths };
}

/** A cut in `[1, last]` by the cut rule. */
function pickCut(rng: Rng, last: number, rule: 'random' | 'last'): number {
  return rule === 'last' ? last : 1 + rng.int(last);
}

/**
 * Builds preference pairs for some training users, from the training sequences only (never
 * validation or test data). For each row a history is cut from the user's training sequence
 * (`options.cut`), and then:
 *
 * - `'self-hard-negatives'` (SPRec): chosen = the logged next item, rejected = the model's own top
 *   `rejected` candidates (history excluded) other than it;
 * - `'reward-model'` (OneRec IPA): the model's top `candidates` (history excluded) are scored by the
 *   reward model; chosen = the highest reward (ties: the better-ranked), rejected = the `rejected`
 *   lowest (ties: the worse-ranked). A user whose rejected rewards are not all strictly below the
 *   chosen one gives no pair;
 * - `'explicit-feedback'`: chosen = the highest-rated item after the cut (rating ≥ `highRating`),
 *   rejected = the `rejected` lowest-rated items after the cut (rating ≤ `lowRating`); ties go to the
 *   earlier item. The cut is drawn among the positions that leave such items after it; users
 *   without any give no pair. Needs `train.ratings`.
 *
 * Users with fewer than 2 training items, or fewer candidates than needed, give no pair. The same
 * model, data, rows, options and seed give the same pairs.
 *
 * @param model - the current model M_t (its `recommend` gives the candidates)
 * @param train - the training sequences (with `ratings` for explicit feedback)
 * @param options - see {@link PreferencePairOptions}
 * @returns the pairs (with rewards for reward-model pairs and ratings for explicit feedback)
 * @throws GenrecError `INVALID_OPTION` for bad options, `INVALID_INPUT` for rows outside the data or
 * missing ratings; the signal's reason when aborted.
 * @example
 * ```ts
 * const pairs = await buildPreferencePairs(model, split.train, { rows: [0, 1, 2], source: 'self-hard-negatives', rejected: 1 });
 * pairs.candidates; // [chosen, rejected] per user
 * ```
 */
export async function buildPreferencePairs(model: Recommender, train: RatedSequences, options: PreferencePairOptions): Promise<PreferencePairs> {
  checkKnownOptions(options, OPTION_NAMES, 'buildPreferencePairs');
  const o = resolvePairOptions(options, model);
  const seed = checkIntegerOption(options.seed ?? 0, 'seed', Number.MIN_SAFE_INTEGER);
  const batchSize = checkIntegerOption(options.batchSize ?? 256, 'batchSize', 1, 1_000_000);
  const rows = Array.from(options.rows ?? [], (row) => {
    if (!Number.isSafeInteger(row) || row < 0 || row >= train.userCount) {
      throw new GenrecError('INVALID_INPUT', `row ${row} is outside the training data (0 .. ${train.userCount - 1})`, { details: { field: 'rows' } });
    }
    return row;
  });
  if (train.itemCount > model.itemCount) {
    throw new GenrecError('SHAPE_MISMATCH', `the training data has ${train.itemCount} items, the model ${model.itemCount}`, { details: { field: 'train' } });
  }
  const rng = new Rng(seed);
  const lengthOf = (row: number) => train.offsets[row + 1]! - train.offsets[row]!;
  const collector = new PairCollector(train);
  const perUser = 1 + o.rejected;

  if (o.source === 'explicit-feedback') {
    const ratings = train.ratings;
    if (!ratings || ratings.length !== train.items.length) {
      throw new GenrecError('INVALID_INPUT', "source 'explicit-feedback' needs ratings parallel to the training items (train.ratings)", { details: { field: 'train.ratings' } });
    }
    const candidates = new Int32Array(perUser);
    const rewards = new Float64Array(perUser);
    for (const row of rows) {
      const from = train.offsets[row]!;
      const length = lengthOf(row);
      // the largest cut that leaves a liked item and `rejected` disliked items after it
      let liked = 0;
      let disliked = 0;
      let last = 0;
      for (let p = length - 1; p >= 1; p--) {
        const rating = ratings[from + p]!;
        if (rating >= o.highRating) liked++;
        if (rating <= o.lowRating) disliked++;
        if (liked >= 1 && disliked >= o.rejected) {
          last = p;
          break;
        }
      }
      if (last === 0) continue;
      const cut = pickCut(rng, last, o.cut);
      const after = Array.from({ length: length - cut }, (_, i) => cut + i);
      const best = after.reduce((a, b) => (ratings[from + b]! > ratings[from + a]! ? b : a));
      const worst = after.filter((p) => ratings[from + p]! <= o.lowRating).sort((a, b) => ratings[from + a]! - ratings[from + b]! || a - b);
      candidates[0] = train.items[from + best]!;
      rewards[0] = ratings[from + best]!;
      for (let j = 0; j < o.rejected; j++) {
        candidates[1 + j] = train.items[from + worst[j]!]!;
        rewards[1 + j] = ratings[from + worst[j]!]!;
      }
      collector.add(row, cut, candidates, rewards);
    }
    return collector.build(perUser, true);
  }

  const kept = rows.filter((row) => lengthOf(row) >= 2);
  const cuts = kept.map((row) => pickCut(rng, lengthOf(row) - 1, o.cut));
  const histories = prefixes(train, kept, cuts);
  const k = o.source === 'reward-model' ? o.candidates : o.rejected + 1;
  const ranked = await recommendAll(model, histories, k, batchSize, options.onProgress, options.signal);
  const candidates = new Int32Array(perUser);

  if (o.source === 'self-hard-negatives') {
    kept.forEach((row, u) => {
      const next = train.items[train.offsets[row]! + cuts[u]!]!;
      candidates[0] = next;
      let filled = 1;
      for (let r = 0; r < ranked.lengths[u]! && filled < perUser; r++) {
        const item = ranked.items[u * k + r]!;
        if (item !== next) candidates[filled++] = item;
      }
      if (filled === perUser) collector.add(row, cuts[u]!, candidates);
    });
    return collector.build(perUser, false);
  }

  // reward-model pairs: score every user's full candidate list at once (exposure-aware rewards see the whole round)
  const complete = kept.map((_, u) => u).filter((u) => ranked.lengths[u] === k);
  const request = {
    histories: prefixes(train, complete.map((u) => kept[u]!), complete.map((u) => cuts[u]!)),
    candidates: new Int32Array(complete.length * k),
    candidatesPerUser: k,
    itemCount: model.itemCount,
  };
  complete.forEach((u, i) => request.candidates.set(ranked.items.subarray(u * k, (u + 1) * k), i * k));
  options.signal?.throwIfAborted();
  const scores = complete.length === 0 ? new Float64Array(0) : await o.rewardModel!.score(request);
  if (scores.length !== request.candidates.length) {
    throw new GenrecError('SHAPE_MISMATCH', `reward model ${o.rewardModel!.name} returned ${scores.length} rewards for ${request.candidates.length} candidates`, { details: { field: 'rewardModel' } });
  }
  const rewards = new Float64Array(perUser);
  const order = new Int32Array(k);
  complete.forEach((u, i) => {
    const base = i * k;
    let best = 0;
    for (let r = 1; r < k; r++) if (scores[base + r]! > scores[base + best]!) best = r;
    // the lowest rewards, ties to the worse rank
    for (let r = 0; r < k; r++) order[r] = r;
    const lowest = Array.from(order).sort((a, b) => scores[base + a]! - scores[base + b]! || b - a);
    const rejected = lowest.filter((r) => r !== best).slice(0, o.rejected);
    if (rejected.some((r) => !(scores[base + r]! < scores[base + best]!))) return;
    candidates[0] = request.candidates[base + best]!;
    rewards[0] = scores[base + best]!;
    rejected.forEach((r, j) => {
      candidates[1 + j] = request.candidates[base + r]!;
      rewards[1 + j] = scores[base + r]!;
    });
    collector.add(kept[u]!, cuts[u]!, candidates, rewards);
  });
  return collector.build(perUser, true);
}

/**
 * The share of rejected candidates the user interacts with at or after the cut in the *training*
 * sequence (false negatives: items the logs say the user did take).
 *
 * @param pairs - pairs from {@link buildPreferencePairs}
 * @param train - the same training sequences
 * @returns the share in [0, 1] (0 for no pairs)
 * @example
 * ```ts
 * falseNegativeShare(pairs, split.train); // 0.02
 * ```
 */
export function falseNegativeShare(pairs: PreferencePairs, train: SequenceDataset): number {
  let rejected = 0;
  let later = 0;
  for (let u = 0; u < pairs.size; u++) {
    const row = pairs.rows[u]!;
    const after = new Set(train.items.subarray(train.offsets[row]! + pairs.cuts[u]!, train.offsets[row + 1]!));
    for (let j = 1; j < pairs.candidatesPerUser; j++) {
      rejected++;
      if (after.has(pairs.candidates[u * pairs.candidatesPerUser + j]!)) later++;
    }
  }
  return rejected === 0 ? 0 : later / rejected;
}

/**
 * Draws a seeded share of the training rows with at least 2 items (at least one row when any is
 * eligible), leaving out `exclude`. Returned ascending.
 *
 * @param train - training sequences
 * @param share - share of the eligible rows, in (0, 1]
 * @param seed - seed of the draw
 * @param exclude - rows never drawn (e.g. held-out diagnostic users)
 * @returns the drawn rows
 * @throws GenrecError `INVALID_OPTION` for a share outside (0, 1].
 * @example
 * ```ts
 * sampleTrainingRows(split.train, 0.05, 1); // 5% of the users with 2+ training items
 * ```
 */
export function sampleTrainingRows(train: SequenceDataset, share: number, seed: number, exclude: ReadonlySet<number> = new Set()): Int32Array {
  checkNumberOption(share, 'userShare', 0, 1, { minimumExclusive: true });
  const eligible = eligibleRows(train, exclude);
  return drawRows(eligible, Math.min(eligible.length, Math.max(1, Math.round(share * eligible.length))), seed);
}

/**
 * Draws `count` seeded training rows with at least 2 items (all of them when fewer are eligible), ascending.
 * @internal
 */
export function drawTrainingRows(train: SequenceDataset, count: number, seed: number, exclude: ReadonlySet<number> = new Set()): Int32Array {
  const eligible = eligibleRows(train, exclude);
  return drawRows(eligible, Math.min(eligible.length, count), seed);
}

function eligibleRows(train: SequenceDataset, exclude: ReadonlySet<number>): number[] {
  const eligible: number[] = [];
  for (let row = 0; row < train.userCount; row++) if (train.offsets[row + 1]! - train.offsets[row]! >= 2 && !exclude.has(row)) eligible.push(row);
  return eligible;
}

/** The first `count` entries of a seeded partial Fisher-Yates shuffle, sorted. */
function drawRows(eligible: number[], count: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  for (let i = 0; i < count; i++) {
    const j = i + rng.int(eligible.length - i);
    [eligible[i], eligible[j]] = [eligible[j]!, eligible[i]!];
  }
  return Int32Array.from(eligible.slice(0, count)).sort();
}
