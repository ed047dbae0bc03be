import { GenrecError, checkBooleanOption, checkIntegerOption, checkKnownOptions, checkNumberOption, type ProgressCallback, type Recommender } from '@genrec/core';
import { resolvePreferenceLoss, type PreferenceLossOptions, type ResolvedPreferenceLoss } from './losses.js';
import { resolvePairOptions, type PreferencePairOptions, type ResolvedPairOptions } from './preference-pairs.js';

/**
 * Options of {@link alignModel}: the pair source, the loss, the rounds and the diagnostics. Every
 * option has a default; bad values are `INVALID_OPTION` errors naming the option.
 */
export interface AlignOptions extends Omit<PreferencePairOptions, 'rows' | 'seed' | 'batchSize' | 'onProgress' | 'signal' | 'rejected'>, PreferenceLossOptions {
  /** Rejected candidates per user. @defaultValue 3 for `loss: 'sdpo'`, 1 otherwise */
  rejected?: number;
  /** λ: weight of the model's own supervised loss in each preference step (`preference + λ · supervised`). @defaultValue 0.1 */
  supervisedWeight?: number;
  /** Rounds: round t builds pairs with M_t and trains M_{t+1} against the reference M_t. @defaultValue 1 */
  rounds?: number;
  /** Share of the training users (with 2+ training items, diagnostic users left out) sampled for pairs in each round. @defaultValue 0.05 */
  userShare?: number;
  /** Preference steps per round. @defaultValue one pass over the round's pairs: ceil(pairs / batchSize) */
  steps?: number;
  /** Purely supervised steps per round after the preference steps, on batches of the same users (their logged next items). @defaultValue 0 */
  supervisedSteps?: number;
  /** Users (pairs) per training step. @defaultValue 64 */
  batchSize?: number;
  /**
   * Train the policy without dropout (TRL's `disable_dropout`): the policy's log-probabilities are
   * then those of the dropout-free reference graph at step 0 (margins exactly 0), and dropout noise
   * cannot masquerade as a preference (it lowers confident items' log-probabilities). `false` keeps
   * the model's own dropout in the training graph.
   * @defaultValue true
   */
  disableDropout?: boolean;
  /** Adam's learning rate (constant). @defaultValue 5e-4 */
  learningRate?: number;
  /** Global gradient-norm clipping (0 = none). @defaultValue 1 */
  clipNorm?: number;
  /**
   * Training users held out of pair sampling for the diagnostics: their training sequence but the
   * last item is the history (KL to the reference, recommendations), the last item the target
   * (held-out NDCG/Recall). 0 turns KL and held-out diagnostics off.
   * @defaultValue 256
   */
  diagnosticUsers?: number;
  /**
   * Held-out users (a seeded subset of `diagnosticUsers`) on which KL to the reference is measured
   * (the mean over them). Item-level models (SASRec, SETRec): KL over the item softmax, log π of
   * every catalogue item per user. Token-level models (hooks with `buildTokenLogits` and
   * `tokenMask`, such as TIGER's): KL at token level over the constrained next-token
   * distributions — the user's held-out target (its last training item) is teacher-forced and the
   * user's KL is Σ_l KL(π_l ‖ π_ref,l) over the target's `tokensPerItem` positions, π_l the
   * softmax of position `l`'s logits restricted to the tokens the model's constrained decoding
   * allows after the target's first `l` tokens (renormalised over them; positions where none is
   * allowed are skipped). That costs one teacher-forced row per user and parameter set, so the
   * default 64 users is cheap. 0 = off.
   * @defaultValue 64
   */
  klUsers?: number;
  /** K of the recommendation diagnostics (NDCG@K, Recall@K, coverage@K, popularity@K, Gini@K). @defaultValue 10 */
  diagnosticK?: number;
  /** Users per `recommend` call and per reference/KL graph run. @defaultValue 256 */
  inferenceBatchSize?: number;
  /** onnxruntime threads per operator (0 = one per physical core). @defaultValue 0 */
  threads?: number;
  /** Seed of user sampling, cuts, batch order and dropout. @defaultValue 0 */
  seed?: number;
  /** Task events: `align` (one `task-progress` per step, with its loss and rewards in `metrics`) and `align-pairs` (candidate generation). */
  onProgress?: ProgressCallback;
  /** Stops at the next step (or between `recommend` batches): the result holds the model trained so far, `stoppedBy: 'abort'`. */
  signal?: AbortSignal;
}

/** The resolved options (JSON-safe: the reward model appears by name). */
export interface ResolvedAlignOptions extends Omit<ResolvedPairOptions, 'rewardModel'>, ResolvedPreferenceLoss {
  rewardModel: string | null;
  supervisedWeight: number;
  rounds: number;
  userShare: number;
  steps: number | null;
  supervisedSteps: number;
  batchSize: number;
  disableDropout: boolean;
  learningRate: number;
  clipNorm: number;
  diagnosticUsers: number;
  klUsers: number;
  diagnosticK: number;
  inferenceBatchSize: number;
  threads: number;
  seed: number;
}

const OPTION_NAMES = [
  'source',
  'rejected',
  'candidates',
  'rewardModel',
  'cut',
  'highRating',
  'lowRating',
  'loss',
  'beta',
  'labelSmoothing',
  'supervisedWeight',
  'rounds',
  'userShare',
  'steps',
  'supervisedSteps',
  'batchSize',
  'disableDropout',
  'learningRate',
  'clipNorm',
  'diagnosticUsers',
  'klUsers',
  'diagnosticK',
  'inferenceBatchSize',
  'threads',
  'seed',
  'onProgress',
  'signal',
];

/**
 * Checks every option of {@link alignModel} against the model, before anything is allocated.
 *
 * @param options - the options
 * @param model - the model to align (bounds `candidates`, `rejected` and `diagnosticK` by its `maxK`)
 * @returns the resolved options and the live reward model
 * @throws GenrecError `INVALID_OPTION` naming the first bad option.
 * @internal
 */
export function resolveAlignOptions(options: AlignOptions, model: Recommender): { resolved: ResolvedAlignOptions; pairs: ResolvedPairOptions } {
  checkKnownOptions(options, OPTION_NAMES, 'alignModel');
  const loss = resolvePreferenceLoss(options);
  const pairs = resolvePairOptions({ ...options, rejected: options.rejected ?? (loss.loss === 'sdpo' ? 3 : 1) }, model);
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') throw new GenrecError('INVALID_OPTION', 'onProgress must be a function', { details: { field: 'onProgress' } });
  if (options.signal !== undefined && (typeof options.signal !== 'object' || options.signal === null || typeof options.signal.aborted !== 'boolean')) {
    throw new GenrecError('INVALID_OPTION', 'signal must be an AbortSignal', { details: { field: 'signal' } });
  }
  const diagnosticK = checkIntegerOption(options.diagnosticK ?? 10, 'diagnosticK', 1, model.maxK);
  const resolved: ResolvedAlignOptions = {
    ...pairs,
    rewardModel: pairs.rewardModel?.name ?? null,
    ...loss,
    supervisedWeight: checkNumberOption(options.supervisedWeight ?? 0.1, 'supervisedWeight', 0, 1e6),
    rounds: checkIntegerOption(options.rounds ?? 1, 'rounds', 1, 10_000),
    userShare: checkNumberOption(options.userShare ?? 0.05, 'userShare', 0, 1, { minimumExclusive: true }),
    steps: options.steps === undefined ? null : checkIntegerOption(options.steps, 'steps', 0, 10_000_000),
    supervisedSteps: checkIntegerOption(options.supervisedSteps ?? 0, 'supervisedSteps', 0, 10_000_000),
    batchSize: checkIntegerOption(options.batchSize ?? 64, 'batchSize', 1, 65_536),
    disableDropout: checkBooleanOption(options.disableDropout ?? true, 'disableDropout'),
    learningRate: checkNumberOption(options.learningRate ?? 5e-4, 'learningRate', 0, 10, { minimumExclusive: true }),
    clipNorm: checkNumberOption(options.clipNorm ?? 1, 'clipNorm', 0),
    diagnosticUsers: checkIntegerOption(options.diagnosticUsers ?? 256, 'diagnosticUsers', 0, 10_000_000),
    klUsers: checkIntegerOption(options.klUsers ?? 64, 'klUsers', 0, 10_000_000),
    diagnosticK,
    inferenceBatchSize: checkIntegerOption(options.inferenceBatchSize ?? 256, 'inferenceBatchSize', 1, 1_000_000),
    threads: checkIntegerOption(options.threads ?? 0, 'threads', 0, 1024),
    seed: checkIntegerOption(options.seed ?? 0, 'seed', Number.MIN_SAFE_INTEGER),
  };
  return { resolved, pairs };
}
