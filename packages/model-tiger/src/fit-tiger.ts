import { createHash } from 'node:crypto';
import { GenrecError, Rng, datasetFingerprint, type FitData, type ProgressCallback, type SequenceDataset } from '@genrec/core';
import { validateSequenceDataset } from '@genrec/data';
import { Trainer, optimizers } from '@genrec/nn';
import { compatibilityOf, openCheckpoint, writeCheckpoint, type CheckpointState } from './checkpoint.js';
import { trainGraphBuilder } from './graphs.js';
import { fitItemCodes } from './item-codes.js';
import { buildItemVectors } from './item-vectors.js';
import { learningRateAt, resolveEarlyStopping, resolveTigerSpec, type FitTigerOptions } from './options.js';
import { TrainingExamples } from './sequences.js';
import { TigerModel, type TigerTrainingSummary } from './tiger-model.js';
import { selectValidationUsers, validateRecommender as validate } from '@genrec/core';
import { TIGER_KIND } from './version.js';

function checkFitData(data: FitData): SequenceDataset {
  if (typeof data !== 'object' || data === null || typeof data.train !== 'object' || data.train === null) {
    throw new GenrecError('INVALID_INPUT', 'fitTiger needs { train: SequenceDataset, validation?, catalog?, itemVectors? }', { details: { field: 'data' } });
  }
  const train = data.train;
  if (!Number.isSafeInteger(train.itemCount) || train.itemCount < 1) {
    throw new GenrecError('INVALID_INPUT', `train.itemCount must be a positive integer, got ${String(train.itemCount)}`, { details: { field: 'train.itemCount' } });
  }
  try {
    validateSequenceDataset(train);
  } catch (error) {
    if (GenrecError.isInstance(error)) throw new GenrecError(error.code, `train: ${error.message}`, { cause: error, details: { field: 'train' } });
    throw error;
  }
  if (data.catalog !== undefined && (typeof data.catalog !== 'object' || data.catalog === null || !Array.isArray(data.catalog.records))) {
    throw new GenrecError('INVALID_INPUT', 'catalog must be an ItemCatalog ({ itemCount, records })', { details: { field: 'catalog' } });
  }
  return train;
}

function checkCallbacks(options: FitTigerOptions): void {
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
    throw new GenrecError('INVALID_OPTION', 'onProgress must be a function', { details: { field: 'onProgress' } });
  }
  const signal = options.signal as unknown;
  if (signal !== undefined && (typeof signal !== 'object' || signal === null || typeof (signal as AbortSignal).aborted !== 'boolean')) {
    throw new GenrecError('INVALID_OPTION', 'signal must be an AbortSignal', { details: { field: 'signal' } });
  }
  for (const field of ['checkpointDirectory', 'resumeFrom'] as const) {
    const value = options[field] as unknown;
    if (value !== undefined && (typeof value !== 'string' || value.length === 0)) {
      throw new GenrecError('INVALID_OPTION', `${field} must be a folder path, got ${typeof value}`, { details: { field } });
    }
  }
}

function copyParameters(values: ReadonlyMap<string, Float32Array | Float64Array>): Map<string, Float32Array> {
  return new Map([...values].map(([name, value]) => [name, Float32Array.from(value)]));
}

/**
 * Trains a TIGER-style generative recommender on `data.train` (item ids `1 .. itemCount`).
 *
 * The pipeline: item vectors (`itemVectors`: text TF-IDF + SVD of `data.catalog`, collaborative
 * PPMI-SVD, a SASRec's item embeddings, `data.itemVectors`, or a concatenation) → semantic ids
 * (residual k-means, balanced residual k-means or an RQ-VAE, `levels x codebookSize` codes plus a
 * collision code with spare codes for later items) → a Transformer over the items' code tokens
 * (`architecture`: decoder-only, every next-item target of a sequence in one pass; or TIGER's
 * encoder-decoder, one target per example), trained with teacher forcing on the token
 * cross-entropy (AdamW, warm-up then constant / inverse-sqrt / cosine decay, label smoothing,
 * gradient clipping) → a {@link TigerModel} that recommends by trie-constrained beam search.
 *
 * With `data.validation`, every epoch ends with a validation through the model's own `recommend`
 * (real constrained beam search, history excluded) on all validation users or a fixed seeded sample
 * (`earlyStopping.sampleUsers`): `ndcg@10`, `recall@10` and the early-stopping metric (default
 * `ndcg@10`, patience 3) in `epoch-end`; the best epoch's weights are kept. An `AbortSignal` stops at
 * the next step (the best model so far, or the current weights). `checkpointDirectory` gets a
 * checkpoint after every epoch; `resumeFrom` continues one so that the result equals a straight
 * run. The same data, options, seed and thread count give the same model.
 *
 * @param data - `train` (required), `validation`, `catalog` (for text vectors and titles), `itemVectors` (for `'given'`)
 * @param options - hyper-parameters ({@link TigerOptions}) and fitting options
 * @returns the fitted model
 * @throws GenrecError `INVALID_OPTION` for a bad option, `INVALID_INPUT` for bad data (ids outside
 * the catalogue, no sequence with 2 items, a vector source without its input), `RUNTIME_ERROR`
 * when the loss diverges.
 * @example
 * ```ts
 * const split = leaveOneOutSplit(generateSyntheticDataset().dataset);
 * const model = await fitTiger({ train: split.train, validation: split.validation }, { epochs: 5, seed: 1 });
 * ```
 */
export async function fitTiger(data: FitData, options: FitTigerOptions = {}): Promise<TigerModel> {
  const hasItemVectors = typeof data === 'object' && data !== null && data.itemVectors !== undefined;
  const hasCatalog = typeof data === 'object' && data !== null && data.catalog !== undefined;
  const spec = resolveTigerSpec(options, { hasItemVectors, hasCatalog });
  checkCallbacks(options);
  const train = checkFitData(data);
  const itemCount = train.itemCount;
  const early = resolveEarlyStopping(options.earlyStopping, data.validation !== undefined, itemCount);
  const validationUsers = data.validation === undefined ? undefined : selectValidationUsers(data.validation, itemCount, early?.sampleUsers, spec.seed);
  const onProgress: ProgressCallback = options.onProgress ?? (() => {});
  const signal = options.signal;
  const fingerprint = datasetFingerprint(train);
  const started = performance.now();

  // 1. item vectors and semantic ids
  const popularity = new Int32Array(itemCount);
  for (let i = 0; i < train.items.length; i++) popularity[train.items[i]! - 1]!++;
  const indexed = new Uint8Array(itemCount + 1);
  for (let id = 1; id <= itemCount; id++) indexed[id] = spec.indexItems === 'all' || popularity[id - 1]! > 0 ? 1 : 0;
  const vectors = await buildItemVectors(data, spec, options.onProgress, signal);
  const { table: codes, report: codeReport } = await fitItemCodes(vectors.vectors, indexed, spec, options.onProgress, popularity);
  const codesFingerprint = createHash('sha256').update(new Uint8Array(codes.codes.buffer, codes.codes.byteOffset, codes.codes.byteLength)).digest('hex').slice(0, 16);
  const shape = { vocabularySize: codes.modelVocabularySize, tokensPerItem: codes.tokensPerItem, contextWidth: codes.contextWidth };

  // 2. examples and trainer
  const examples = new TrainingExamples(train, codes, { architecture: spec.architecture, maxHistory: spec.maxHistory, batchSize: spec.batchSize });
  if (examples.size === 0) throw new GenrecError('INVALID_INPUT', 'train has no sequence with at least 2 indexed items: nothing to learn from', { details: { field: 'train' } });
  const compatibility = compatibilityOf(spec, fingerprint, codesFingerprint, early ? `${early.name}/${early.patience}` : 'none', validationUsers ? validationUsers.targetOffsets.length - 1 : 0);
  const resumed = options.resumeFrom === undefined ? undefined : openCheckpoint(options.resumeFrom, compatibility);
  const trainer = await Trainer.create({
    build: trainGraphBuilder(spec, shape),
    buckets: examples.buckets,
    optimizer: optimizers.adamw({ beta1: 0.9, beta2: 0.98, epsilon: 1e-8, weightDecay: spec.weightDecay }),
    seed: spec.seed,
    intraOpNumThreads: spec.threads,
    ...(spec.clipNorm > 0 ? { clipNorm: spec.clipNorm } : {}),
  });
  const stepsPerEpoch = examples.stepsPerEpoch;
  const totalSteps = stepsPerEpoch * spec.epochs;
  const modelAt = (parameters: Map<string, Float32Array>, training: TigerTrainingSummary): TigerModel =>
    new TigerModel({
      spec,
      itemCount,
      parameters,
      codes,
      popularity,
      itemVectors: vectors.vectors,
      dataFingerprint: fingerprint,
      training,
      ...(train.externalItemIds ? { externalItemIds: train.externalItemIds } : {}),
      ...(data.catalog ? { catalog: data.catalog } : {}),
    });

  let orderRng = new Rng(spec.seed);
  let epoch = 0;
  let bestEpoch = 0;
  let bestValue: number | null = null;
  let bestValidation: Record<string, number> | null = null;
  let best: Map<string, Float32Array> | undefined;
  let sinceBest = 0;
  let stoppedEarly = false;
  const losses: number[] = [];
  if (resumed) {
    trainer.loadCheckpoint(resumed.trainerPath);
    const s = resumed.state;
    orderRng = Rng.fromState(s.orderRng);
    epoch = s.epoch;
    bestEpoch = s.bestEpoch;
    bestValue = s.bestValue;
    bestValidation = s.bestValidation;
    sinceBest = s.sinceBest;
    stoppedEarly = s.stoppedEarly;
    losses.push(...s.losses);
    best = resumed.best ?? (bestEpoch === epoch && early ? copyParameters(trainer.parameterValues()) : undefined);
  }
  const startEpoch = epoch;
  const trainingStarted = performance.now();
  onProgress({ type: 'fit-start', model: TIGER_KIND, epochs: spec.epochs, stepsPerEpoch, startEpoch });
  let stoppedBy: TigerTrainingSummary['stoppedBy'] = stoppedEarly ? 'early-stopping' : 'epochs';
  let aborted = false;
  let learningRate = learningRateAt(spec, Math.max(1, trainer.stepCount), totalSteps);
  const summary = (keptEpoch: number, validation: Record<string, number> | null): TigerTrainingSummary => ({
    epoch: keptEpoch,
    epochsTrained: epoch,
    stoppedBy,
    losses: [...losses],
    ...(validation ? { validation } : {}),
    itemVectors: vectors.report,
    codes: codeReport,
    trainingMs: performance.now() - trainingStarted,
  });
  try {
    while (epoch < spec.epochs && !stoppedEarly) {
      const plan = examples.plan(orderRng);
      let total = 0;
      let weight = 0;
      for (const planned of plan) {
        if (signal?.aborted) {
          aborted = true;
          break;
        }
        const batch = examples.build(planned);
        learningRate = learningRateAt(spec, trainer.stepCount + 1, totalSteps);
        const result = await trainer.step(batch.feeds, { learningRate, bucket: batch.bucket });
        if (!Number.isFinite(result.loss)) {
          throw new GenrecError('RUNTIME_ERROR', `training diverged: the loss is ${result.loss} at epoch ${epoch + 1}, step ${trainer.stepCount} (try a lower learningRate)`, { details: { field: 'learningRate' } });
        }
        total += result.loss * batch.examples;
        weight += batch.examples;
      }
      if (aborted) break;
      epoch++;
      const loss = total / Math.max(1, weight);
      losses.push(loss);
      let validation: Record<string, number> | undefined;
      let isBest = true;
      if (validationUsers) {
        const current = modelAt(copyParameters(trainer.parameterValues()), summary(epoch, null));
        try {
          validation = await validate(current, validationUsers, early);
        } finally {
          await current.dispose();
        }
      }
      if (early && validation) {
        const value = validation[early.name]!;
        isBest = bestValue === null || value > bestValue;
        if (isBest) {
          bestValue = value;
          bestEpoch = epoch;
          bestValidation = validation;
          best = copyParameters(trainer.parameterValues());
          sinceBest = 0;
        } else if (++sinceBest >= early.patience) {
          stoppedEarly = true;
        }
      } else {
        bestEpoch = epoch;
        bestValidation = validation ?? null;
      }
      const elapsedMs = performance.now() - started;
      const doneThisRun = epoch - startEpoch;
      onProgress({
        type: 'epoch-end',
        epoch,
        epochs: spec.epochs,
        loss,
        ...(validation ? { validation } : {}),
        best: isBest,
        learningRate,
        elapsedMs,
        etaMs: stoppedEarly ? 0 : ((performance.now() - trainingStarted) / doneThisRun) * (spec.epochs - epoch),
        progress: epoch / spec.epochs,
      });
      if (options.checkpointDirectory !== undefined) {
        const state: CheckpointState = {
          kind: 'genrec.tiger-checkpoint',
          formatVersion: 1,
          epoch,
          compatibility,
          orderRng: orderRng.getState(),
          bestEpoch,
          bestValue,
          bestValidation,
          sinceBest,
          stoppedEarly,
          losses,
          hasBestWeights: early !== undefined && best !== undefined && bestEpoch !== epoch,
        };
        await writeCheckpoint(options.checkpointDirectory, trainer, state, best);
      }
    }
    if (aborted) stoppedBy = 'abort';
    else if (stoppedEarly) stoppedBy = 'early-stopping';
    const useBest = early !== undefined && best !== undefined;
    const parameters = useBest ? best! : copyParameters(trainer.parameterValues());
    const keptEpoch = useBest ? bestEpoch : epoch;
    const model = modelAt(parameters, summary(keptEpoch, useBest ? bestValidation : !early ? bestValidation : null));
    onProgress({ type: 'fit-end', epochs: epoch, bestEpoch: keptEpoch, stoppedBy, elapsedMs: performance.now() - started });
    return model;
  } finally {
    await trainer.release();
  }
}
