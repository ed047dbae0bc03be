import { GenrecError, Rng, type EvaluationSet, type Recommender } from '@genrec/core';
import { Trainer, optimizers, type Graph, type PreferenceModel } from '@genrec/nn';
import { resolveAlignOptions, type AlignOptions, type ResolvedAlignOptions } from './align-options.js';
import { LogProbScorer, selectHistories, selectRows } from './log-prob-scorer.js';
import { buildPreferenceLoss, mixSupervisedLoss } from './losses.js';
import { KlMeter, heldOutTrainingSet, recommendationDiagnostics, type RecommendationDiagnostics } from './model-diagnostics.js';
import { preferenceDiagnostics, type PreferenceDiagnostics } from './pair-diagnostics.js';
import { buildPreferencePairs, drawTrainingRows, falseNegativeShare, sampleTrainingRows, type PreferencePairs, type RatedSequences } from './preference-pairs.js';
import { itemPopularity } from './reward-models.js';

/** What {@link alignModel} learns from: the training part of a split, and optionally its validation users. */
export interface AlignmentData {
  /** Training sequences (with `ratings` for explicit feedback). Pairs, rewards, popularity and held-out diagnostics come only from here. */
  train: RatedSequences;
  /** Validation users: evaluated before and after every round (never used to build pairs). Never pass the test set. */
  validation?: EvaluationSet;
}

/** Names of the graph inputs the alignment graph adds to the model's own. */
export const ALIGNMENT_INPUTS = {
  reference: 'alignment.reference',
  preferenceWeight: 'alignment.preference_weight',
  supervisedWeight: 'alignment.supervised_weight',
} as const;

/** One training step of {@link alignModel}. */
export interface AlignmentStep extends PreferenceDiagnostics {
  /** 1-based round. */
  round: number;
  /** 1-based step within the round. */
  step: number;
  /** `'preference'`: preference + λ · supervised loss; `'supervised'`: the supervised loss alone. */
  kind: 'preference' | 'supervised';
  /** The training loss of the step (before its update). */
  loss: number;
  /** The preference loss of the batch. */
  'loss/preference': number;
  /** The model's supervised loss of the batch. */
  'loss/supervised': number;
  /** Global gradient norm before clipping. */
  gradientNorm: number;
}

/** Diagnostics of one model (before alignment, or after a round). */
export interface ModelDiagnostics {
  /**
   * KL(π ‖ π_ref) on `klUsers` held-out users (nats), against the round's reference (the model
   * before the round), averaged over users; `null` when off. For token-level models (hooks with
   * `buildTokenLogits` and `tokenMask`, such as TIGER's) it is defined at token level over the
   * constrained next-token distributions: each user's held-out target (the last training item) is
   * teacher-forced, and the user's KL is Σ_l KL(π_l ‖ π_ref,l) over the target's positions, π_l the
   * softmax of position `l`'s logits restricted to the tokens constrained decoding allows after the
   * target's first `l` tokens (renormalised over them; positions with none are skipped). For
   * item-level models it is over the item softmax (every catalogue item, renormalised).
   */
  kl: number | null;
  /** Recommendation diagnostics on the held-out training users; `null` without them. */
  heldOut: RecommendationDiagnostics | null;
  /** The same on `data.validation`; `null` without it. */
  validation: RecommendationDiagnostics | null;
}

/** One round of {@link alignModel}. */
export interface AlignmentRound {
  /** 1-based round. */
  round: number;
  /** Users sampled for pairs. */
  users: number;
  /** Users that gave a pair. */
  pairs: number;
  /** Preference steps run. */
  steps: number;
  /** Supervised steps run. */
  supervisedSteps: number;
  /** Share of rejected items the user interacts with later in the training sequence. */
  falseNegativeShare: number;
  /** Mean reward (reward-model pairs) or rating (explicit feedback) of the chosen items; `null` for self-hard negatives or no pairs. */
  chosenReward: number | null;
  /** The same for the rejected items. */
  rejectedReward: number | null;
  /** Means of the round's preference-step diagnostics (NaN without steps). */
  training: PreferenceDiagnostics;
  /** The model after the round, against the round's reference. */
  after: ModelDiagnostics;
  /** Wall time of pair building, training and diagnostics, ms. */
  timings: { pairsMs: number; referenceMs: number; trainMs: number; diagnosticsMs: number };
}

/** The result of {@link alignModel}. */
export interface AlignmentResult {
  /** The aligned model, of the same kind (from the preference hook's `withParameters`); save and load it as usual. */
  model: Recommender;
  /** The un-aligned model's diagnostics (KL 0). */
  before: ModelDiagnostics;
  /** One entry per round run. */
  rounds: AlignmentRound[];
  /** Every step, in order. */
  steps: AlignmentStep[];
  /** Why it stopped. */
  stoppedBy: 'rounds' | 'abort';
  /** The options used, defaults filled in. */
  options: ResolvedAlignOptions;
  /** Wall time, ms. */
  elapsedMs: number;
}

type Values = Map<string, Float32Array>;

function copyValues(values: ReadonlyMap<string, Float32Array | Float64Array>): Values {
  return new Map([...values].map(([name, value]) => [name, value instanceof Float32Array ? value.slice() : Float32Array.from(value)]));
}

function meanDiagnostics(steps: readonly AlignmentStep[]): PreferenceDiagnostics {
  const keys = ['rewards/chosen', 'rewards/rejected', 'rewards/accuracies', 'rewards/margins', 'logps/chosen', 'logps/rejected'] as const;
  const out = {} as PreferenceDiagnostics;
  for (const key of keys) out[key] = steps.reduce((sum, s) => sum + s[key], 0) / steps.length;
  return out;
}

function meanRewards(pairs: PreferencePairs): { chosen: number | null; rejected: number | null } {
  if (!pairs.rewards || pairs.size === 0) return { chosen: null, rejected: null };
  let chosen = 0;
  let rejected = 0;
  const n = pairs.candidatesPerUser;
  for (let u = 0; u < pairs.size; u++) {
    chosen += pairs.rewards[u * n]!;
    for (let j = 1; j < n; j++) rejected += pairs.rewards[u * n + j]!;
  }
  return { chosen: chosen / pairs.size, rejected: rejected / (pairs.size * (n - 1)) };
}

function checkInputs(model: Recommender, hook: PreferenceModel, data: AlignmentData, source: string): void {
  if (typeof model?.recommend !== 'function') throw new GenrecError('INVALID_INPUT', 'alignModel: model must be a fitted Recommender', { details: { field: 'model' } });
  if (typeof hook?.buildLogProb !== 'function' || typeof hook.withParameters !== 'function') {
    throw new GenrecError('INVALID_INPUT', "alignModel: preferenceModel must be a model's preference hook (e.g. sasrecPreferenceModel(model))", { details: { field: 'preferenceModel' } });
  }
  if (hook.kind !== model.kind || hook.itemCount !== model.itemCount) {
    throw new GenrecError('INVALID_INPUT', `alignModel: the preference hook (${hook.kind}, ${hook.itemCount} items) is not the model's (${model.kind}, ${model.itemCount} items)`, {
      details: { field: 'preferenceModel' },
    });
  }
  const train = data?.train;
  if (!train || !(train.offsets instanceof Int32Array) || !(train.items instanceof Int32Array) || train.offsets.length !== train.userCount + 1) {
    throw new GenrecError('INVALID_INPUT', 'alignModel: data.train must be a SequenceDataset (the training part of a split)', { details: { field: 'data.train' } });
  }
  if (train.itemCount > model.itemCount) {
    throw new GenrecError('SHAPE_MISMATCH', `alignModel: data.train has ${train.itemCount} items, the model ${model.itemCount}`, { details: { field: 'data.train' } });
  }
  if (source === 'explicit-feedback' && !(train.ratings instanceof Float32Array && train.ratings.length === train.items.length)) {
    throw new GenrecError('INVALID_INPUT', "alignModel: source 'explicit-feedback' needs ratings parallel to the training items (data.train.ratings)", { details: { field: 'data.train.ratings' } });
  }
}

/**
 * Aligns a fitted model with preference pairs, in rounds (OneRec's iterative preference
 * alignment): round t samples `userShare` of the training users, builds pairs with the current model
 * M_t (`source`), precomputes the frozen reference log-probabilities of M_t with the dropout-free
 * graph, and trains M_{t+1} from M_t's weights with `@genrec/nn`'s `Trainer`: `steps` preference
 * steps (loss = preference loss + λ · the model's supervised loss of the same users' logged next
 * items), then `supervisedSteps` supervised-only steps on the same users. Adam's state carries over
 * between rounds; dropout is off in the policy graph unless `disableDropout: false`. Everything is
 * built from `data.train`; `data.validation` is only evaluated. Step diagnostics are computed from
 * each step's policy log-probabilities before its update.
 *
 * Works with any model through its preference hook (`sasrecPreferenceModel(model)`,
 * `tigerPreferenceModel(model)`…); the result is a fitted model of the same kind, via the hook's
 * `withParameters`.
 *
 * @param model - the fitted model M_0
 * @param preferenceModel - its preference hook
 * @param data - the training part (and optionally validation users)
 * @param options - see {@link AlignOptions}
 * @returns the aligned model with per-step and per-round diagnostics
 * @throws GenrecError `INVALID_OPTION` for bad options (checked before any work), `INVALID_INPUT`
 * when the hook is not the model's or the data is not a training set.
 * @example
 * ```ts
 * const { model: aligned, rounds } = await alignModel(model, sasrecPreferenceModel(model), { train: split.train, validation: split.validation }, { rounds: 2, loss: 'dpo', beta: 0.1 });
 * console.log(rounds.map((r) => r.after.validation?.['ndcg@10']));
 * ```
 */
export async function alignModel(model: Recommender, preferenceModel: PreferenceModel, data: AlignmentData, options: AlignOptions = {}): Promise<AlignmentResult> {
  const startedAt = performance.now();
  const { resolved: o, pairs: pairOptions } = resolveAlignOptions(options, model);
  checkInputs(model, preferenceModel, data, o.source);
  const hook = preferenceModel;
  const train = data.train;
  const signal = options.signal;
  const onProgress = options.onProgress;
  const candidatesPerUser = 1 + pairOptions.rejected;
  const batch = o.batchSize;
  const seeds = new Rng(o.seed);
  const popularity = itemPopularity({ ...train, itemCount: model.itemCount });

  // held-out diagnostic users: training rows never sampled for pairs
  const diagnosticRows = o.diagnosticUsers > 0 ? drawTrainingRows(train, o.diagnosticUsers, seeds.nextUint32()) : new Int32Array(0);
  const heldOut = diagnosticRows.length > 0 ? heldOutTrainingSet(train, diagnosticRows) : undefined;
  const excluded = new Set(diagnosticRows);
  const batchOrder = new Rng(seeds.nextUint32());
  // a stream of its own, so that klUsers changes no pair, batch or step
  const klOrder = new Rng(BigInt.asUintN(64, BigInt(o.seed)) ^ 0x6b6c5f75736572n).permutation(diagnosticRows.length);

  const trainer = await Trainer.create({
    // the hooks apply dropout when graph.training is true: `dropout: false` builds them without
    dropout: !o.disableDropout,
    build: (g: Graph) => {
      const policy = hook.buildLogProb(g, { users: batch, candidates: candidatesPerUser });
      const reference = g.input(ALIGNMENT_INPUTS.reference, 'float32', [batch, candidatesPerUser]);
      const preference = buildPreferenceLoss(policy, reference, o);
      const supervised = hook.buildSupervisedLoss(g, { users: batch });
      const preferenceWeight = g.input(ALIGNMENT_INPUTS.preferenceWeight, 'float32', []);
      const supervisedWeight = g.input(ALIGNMENT_INPUTS.supervisedWeight, 'float32', []);
      return { loss: mixSupervisedLoss(preference, supervised, supervisedWeight, preferenceWeight), outputs: { policy, preference, supervised } };
    },
    optimizer: optimizers.adam(),
    seed: seeds.nextUint32(),
    ...(o.clipNorm > 0 ? { clipNorm: o.clipNorm } : {}),
    intraOpNumThreads: o.threads,
  });
  const owned: Recommender[] = [];
  let referenceScorer: LogProbScorer | undefined;
  let klMeter: KlMeter | undefined;
  try {
    for (const [name, value] of hook.parameterValues()) trainer.setParameter(name, value);
    referenceScorer = await LogProbScorer.create(hook, { users: Math.min(batch, o.inferenceBatchSize), candidates: candidatesPerUser }, o.threads);
    if (heldOut && o.klUsers > 0) {
      const chosen = Array.from(klOrder.subarray(0, Math.min(o.klUsers, heldOut.size))).sort((a, b) => a - b);
      klMeter = await KlMeter.create(hook, selectHistories({ offsets: heldOut.historyOffsets, items: heldOut.historyItems }, chosen), selectRows(heldOut.targetItems, 1, chosen), o.threads);
    }

    const diagnose = async (current: Recommender, kl: number | null): Promise<ModelDiagnostics> => ({
      kl,
      heldOut: heldOut ? await recommendationDiagnostics(current, heldOut, o.diagnosticK, popularity, o.inferenceBatchSize) : null,
      validation: data.validation ? await recommendationDiagnostics(current, data.validation, o.diagnosticK, popularity, o.inferenceBatchSize) : null,
    });
    const before = await diagnose(model, klMeter ? 0 : null);

    const steps: AlignmentStep[] = [];
    const rounds: AlignmentRound[] = [];
    let stoppedBy: 'rounds' | 'abort' = 'rounds';
    let current = model;
    let referenceValues: Values = copyValues(trainer.parameterValues());
    let trainedSinceCurrent = false;
    let stepsDone = 0;
    onProgress?.({ type: 'task-start', task: 'align', done: 0, unit: 'steps', message: `${o.rounds} round(s), ${o.source} pairs, ${o.loss} loss` });

    for (let round = 1; round <= o.rounds && stoppedBy === 'rounds'; round++) {
      const roundSeed = seeds.nextUint32();
      if (signal?.aborted) {
        stoppedBy = 'abort';
        break;
      }
      const pairsStart = performance.now();
      let pairs: PreferencePairs;
      let sampledUsers = 0;
      try {
        const rows = sampleTrainingRows(train, o.userShare, roundSeed, excluded);
        sampledUsers = rows.length;
        const { rewardModel, ...rest } = pairOptions;
        pairs = await buildPreferencePairs(current, train, {
          ...rest,
          ...(rewardModel ? { rewardModel } : {}),
          rows,
          seed: roundSeed,
          batchSize: o.inferenceBatchSize,
          ...(onProgress ? { onProgress } : {}),
          ...(signal ? { signal } : {}),
        });
      } catch (error) {
        if (signal?.aborted) {
          stoppedBy = 'abort';
          break;
        }
        throw error;
      }
      const pairsMs = performance.now() - pairsStart;
      const referenceStart = performance.now();
      const reference = pairs.size > 0 ? await referenceScorer.run(referenceValues, pairs.histories, pairs.candidates) : new Float32Array(0);
      const referenceMs = performance.now() - referenceStart;

      const trainStart = performance.now();
      const preferenceSteps = pairs.size === 0 ? 0 : (o.steps ?? Math.ceil(pairs.size / batch));
      const supervisedSteps = pairs.size === 0 ? 0 : o.supervisedSteps;
      const roundSteps: AlignmentStep[] = [];
      let order = batchOrder.permutation(pairs.size);
      let cursor = 0;
      const nextBatch = (): Int32Array => {
        const indices = new Int32Array(batch);
        for (let i = 0; i < batch; i++) {
          if (cursor === order.length) {
            order = batchOrder.permutation(pairs.size);
            cursor = 0;
          }
          indices[i] = order[cursor++]!;
        }
        return indices;
      };
      const shape = { users: batch, candidates: candidatesPerUser };
      for (let step = 1; step <= preferenceSteps + supervisedSteps; step++) {
        if (signal?.aborted) {
          stoppedBy = 'abort';
          break;
        }
        const kind = step <= preferenceSteps ? 'preference' : 'supervised';
        const indices = nextBatch();
        const histories = selectHistories(pairs.histories, indices);
        const referenceBatch = selectRows(reference, candidatesPerUser, indices);
        const feeds = {
          ...hook.logProbFeeds(histories, selectRows(pairs.candidates, candidatesPerUser, indices), shape),
          ...hook.supervisedFeeds(histories, selectRows(pairs.targets, 1, indices), { users: batch }),
          [ALIGNMENT_INPUTS.reference]: referenceBatch,
          [ALIGNMENT_INPUTS.preferenceWeight]: Float32Array.of(kind === 'preference' ? 1 : 0),
          [ALIGNMENT_INPUTS.supervisedWeight]: Float32Array.of(kind === 'preference' ? o.supervisedWeight : 1),
        };
        const result = await trainer.step(feeds, { learningRate: o.learningRate });
        trainedSinceCurrent = true;
        const record: AlignmentStep = {
          round,
          step,
          kind,
          loss: result.loss,
          'loss/preference': Number(result.outputs.preference![0]),
          'loss/supervised': Number(result.outputs.supervised![0]),
          gradientNorm: result.gradientNorm,
          ...preferenceDiagnostics(result.outputs.policy as Float32Array, referenceBatch, candidatesPerUser, o.beta),
        };
        roundSteps.push(record);
        steps.push(record);
        stepsDone++;
        onProgress?.({
          type: 'task-progress',
          task: 'align',
          done: stepsDone,
          unit: 'steps',
          metrics: { round, loss: record.loss, 'rewards/margins': record['rewards/margins'], 'rewards/accuracies': record['rewards/accuracies'] },
        });
      }
      const trainMs = performance.now() - trainStart;
      if (stoppedBy === 'abort') break;

      const diagnosticsStart = performance.now();
      const values = copyValues(trainer.parameterValues());
      const next = await hook.withParameters(values);
      owned.push(next);
      current = next;
      trainedSinceCurrent = false;
      const kl = klMeter ? await klMeter.measure(values, referenceValues) : null;
      const after = await diagnose(next, kl);
      const rewards = meanRewards(pairs);
      const preferenceRecords = roundSteps.filter((s) => s.kind === 'preference');
      rounds.push({
        round,
        users: sampledUsers,
        pairs: pairs.size,
        steps: preferenceRecords.length,
        supervisedSteps: roundSteps.length - preferenceRecords.length,
        falseNegativeShare: falseNegativeShare(pairs, train),
        chosenReward: rewards.chosen,
        rejectedReward: rewards.rejected,
        training: meanDiagnostics(preferenceRecords),
        after,
        timings: { pairsMs, referenceMs, trainMs, diagnosticsMs: performance.now() - diagnosticsStart },
      });
      referenceValues = values;
    }

    // the model trained so far (an abort mid-round keeps the steps it took)
    let aligned = current;
    if (trainedSinceCurrent || current === model) {
      aligned = await hook.withParameters(copyValues(trainer.parameterValues()));
      owned.push(aligned);
    }
    onProgress?.({ type: 'task-end', task: 'align', done: stepsDone, unit: 'steps', elapsedMs: performance.now() - startedAt });
    await Promise.all(owned.filter((m) => m !== aligned).map((m) => m.dispose()));
    owned.length = 0;
    return { model: aligned, before, rounds, steps, stoppedBy, options: o, elapsedMs: performance.now() - startedAt };
  } finally {
    await Promise.all(owned.map((m) => m.dispose()));
    await referenceScorer?.release();
    await klMeter?.release();
    await trainer.release();
  }
}
