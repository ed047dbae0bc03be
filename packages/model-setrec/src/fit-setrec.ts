import { GenrecError, Rng, datasetFingerprint, type FitData, type ProgressCallback, type SequenceDataset } from '@genrec/core';
import { validateSequenceDataset } from '@genrec/data';
import { fitSasrec, SasrecModel } from '@genrec/model-sasrec';
import { Trainer, optimizers } from '@genrec/nn';
import { compatibilityOf, hashFloats, openCheckpoint, writeCheckpoint, type CheckpointState } from './checkpoint.js';
import { coldReadyCf, contentVectors } from './item-inputs.js';
import { SETREC_FALLBACK_BETA, resolveEarlyStopping, resolveSetrecSpec, type FitSetrecOptions } from './options.js';
import { SetrecRunner } from './runner.js';
import { ITEM_INPUTS, architectureOf, buildTrainingGraph } from './setrec-graph.js';
import { SetrecModel, type SetrecTrainingSummary } from './setrec-model.js';
import { batchFeeds, epochBatches, rowsPerStep, stepsPerEpoch, trainingRows } from './training-rows.js';
import { selectValidationUsers, type ValidationMetric } from '@genrec/core';
import { searchBeta, validate, validationMetrics } from './validation.js';
import { SETREC_KIND } from './version.js';

/** Adam as SASRec's peer configures it. */
const ADAM = optimizers.adam({ beta1: 0.9, beta2: 0.98, epsilon: 1e-8 });

function checkFitData(data: FitData): SequenceDataset {
  if (typeof data !== 'object' || data === null || typeof data.train !== 'object' || data.train === null) {
    throw new GenrecError('INVALID_INPUT', 'fitSetrec needs { train: SequenceDataset, validation?, catalog?, itemVectors? }', { details: { field: 'data' } });
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

function checkCallbacks(options: FitSetrecOptions): void {
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
  if (options.sasrec !== undefined && !(options.sasrec instanceof SasrecModel)) {
    throw new GenrecError('INVALID_OPTION', 'sasrec must be a fitted SasrecModel of @genrec/model-sasrec', { details: { field: 'sasrec' } });
  }
  if (options.sasrecOptions !== undefined && (typeof options.sasrecOptions !== 'object' || options.sasrecOptions === null)) {
    throw new GenrecError('INVALID_OPTION', 'sasrecOptions must be an object of fitSasrec options', { details: { field: 'sasrecOptions' } });
  }
}

/** Training interactions per item, index `j` = item `j + 1`. */
function itemCounts(train: SequenceDataset): Int32Array {
  const counts = new Int32Array(train.itemCount);
  for (let i = 0; i < train.items.length; i++) counts[train.items[i]! - 1]!++;
  return counts;
}

/** The CF vectors given or pre-trained (`itemCount x d`). */
async function frozenCf(data: FitData, train: SequenceDataset, options: FitSetrecOptions, seed: number, onProgress: ProgressCallback): Promise<{ data: Float32Array; dimension: number; given: boolean }> {
  const itemCount = train.itemCount;
  if (options.cfVectors !== undefined) {
    const m = options.cfVectors;
    if (typeof m !== 'object' || m === null || !(m.data instanceof Float32Array) || m.rows !== itemCount || m.cols < 1 || m.data.length !== m.rows * m.cols) {
      throw new GenrecError('INVALID_OPTION', `cfVectors must be a float32 Matrix of ${itemCount} rows (row j = item j + 1), got ${m?.rows} x ${m?.cols}`, { details: { field: 'cfVectors' } });
    }
    for (let i = 0; i < m.data.length; i++) if (!Number.isFinite(m.data[i]!)) throw new GenrecError('INVALID_OPTION', `cfVectors holds ${m.data[i]} at item ${Math.floor(i / m.cols) + 1}`, { details: { field: 'cfVectors' } });
    return { data: m.data, dimension: m.cols, given: true };
  }
  if (options.sasrec !== undefined) {
    if (options.sasrec.itemCount !== itemCount) {
      throw new GenrecError('INVALID_OPTION', `the SASRec model has ${options.sasrec.itemCount} items, the training data ${itemCount}`, { details: { field: 'sasrec' } });
    }
    const embeddings = options.sasrec.itemEmbeddings();
    return { data: embeddings.data, dimension: embeddings.cols, given: true };
  }
  const started = performance.now();
  const sasrecOptions = { seed, ...(options.sasrecOptions ?? {}) };
  const epochs = (sasrecOptions as { epochs?: number }).epochs ?? 20;
  onProgress({ type: 'task-start', task: 'sasrec-pretraining', done: 0, total: epochs, unit: 'epochs' });
  const sasrec = await fitSasrec(
    { train, ...(data.validation ? { validation: data.validation } : {}) },
    {
      ...sasrecOptions,
      ...(options.signal ? { signal: options.signal } : {}),
      onProgress: (event) => {
        if (event.type === 'epoch-end') onProgress({ type: 'task-progress', task: 'sasrec-pretraining', done: event.epoch, total: event.epochs, unit: 'epochs', metrics: { loss: event.loss, ...(event.validation ?? {}) } });
      },
    },
  );
  try {
    const embeddings = sasrec.itemEmbeddings();
    onProgress({ type: 'task-end', task: 'sasrec-pretraining', done: sasrec.training.epochsTrained, total: epochs, unit: 'epochs', elapsedMs: performance.now() - started });
    return { data: embeddings.data, dimension: embeddings.cols, given: false };
  } finally {
    await sasrec.dispose();
  }
}

function copyParameters(values: ReadonlyMap<string, Float32Array | Float64Array>): Map<string, Float32Array> {
  return new Map([...values].map(([name, value]) => [name, Float32Array.from(value)]));
}

/**
 * Trains SETRec (Lin et al., SIGIR 2025) on `data.train`: every item is a set of n+1 tokens — a
 * CF token (the frozen CF vector through a trainable linear layer) and n semantic tokens (the SETRec
 * autoencoder over the item's content vector) — and n+1 learnable queries produce n+1 vectors in one
 * forward pass. Trained jointly: loss = mean over the n+1 queries of the full-softmax cross-entropy
 * over all items (every query has the same gold item) + α · the autoencoder's reconstruction MSE.
 *
 * **Inputs.** Content: `data.itemVectors` (one row per item), or the catalogue embedded with
 * `textEmbeddings` (`contentFields`). CF vectors: `options.cfVectors`, `options.sasrec`'s item
 * embeddings, or a SASRec pre-trained here on `data.train` with `sasrecOptions` (progress: task
 * `'sasrec-pretraining'`). Items without training interactions are cold: their CF token is the
 * projection of a zero or imputed vector (`coldCfToken`), their semantic tokens come from their
 * content like any item's, and they are left out of the training softmax (no evidence either way).
 *
 * **Epochs.** Every training sequence with 2 items or more gives one row (its last `maxLength + 1`
 * items; the next item is the target at every position, as SASRec's peer); rows are shuffled with
 * the seed, grouped by length bucket, batched `floor(batchPositions / bucket)` at a time, and the
 * batches shuffled; one Adam step per batch. With `data.validation` each epoch ends with β chosen
 * on validation (`beta: 'validation'`, from `betaGrid`, by the early-stopping metric) and a
 * full-ranking validation through the model's own `recommend` at that β; the best epoch's weights
 * and β are kept, and training stops after `patience` epochs without a strict improvement. An
 * `AbortSignal` stops at the next step (the best epoch so far, or the current weights).
 * `checkpointDirectory` gets a checkpoint after every epoch; `resumeFrom` continues one so that the
 * result equals a straight run. The same data, options, seed and thread count give the same model.
 *
 * @param data - `train` (required), `validation` (β and early stopping), `catalog` (content and titles), `itemVectors` (content).
 * @param options - see {@link SetrecOptions}, {@link SetrecCfSource} and core's `CommonFitOptions`.
 * @returns the fitted model.
 * @throws GenrecError `INVALID_OPTION` for a bad option; `INVALID_INPUT` for bad data (ids outside
 * the catalogue, no sequence of 2 items, no content); `RUNTIME_ERROR` when the loss diverges.
 * @example
 * ```ts
 * const { dataset, catalog } = generateSyntheticDataset();
 * const split = leaveOneOutSplit(dataset);
 * const model = await fitSetrec({ train: split.train, validation: split.validation, catalog }, { epochs: 5, seed: 1 });
 * ```
 */
export async function fitSetrec(data: FitData, options: FitSetrecOptions = {}): Promise<SetrecModel> {
  const spec = resolveSetrecSpec(options);
  checkCallbacks(options);
  const train = checkFitData(data);
  const itemCount = train.itemCount;
  const early = resolveEarlyStopping(options.earlyStopping, data.validation !== undefined, itemCount);
  const validationUsers = data.validation === undefined ? undefined : selectValidationUsers(data.validation, itemCount, early?.sampleUsers, spec.seed);
  const rows = trainingRows(train, spec.maxLength);
  if (rows.count === 0) throw new GenrecError('INVALID_INPUT', 'train has no sequence with at least 2 items: nothing to learn from', { details: { field: 'train' } });
  const onProgress: ProgressCallback = options.onProgress ?? (() => {});
  const signal = options.signal;
  const fingerprint = datasetFingerprint(train);
  const popularity = itemCounts(train);
  const content = contentVectors(data, itemCount, spec.contentFields, spec.contentDimension, options.onProgress);
  const contentHash = hashFloats(content.data);
  const givenCf = options.cfVectors !== undefined || options.sasrec !== undefined;
  const metrics = validationMetrics(itemCount, early);
  const selection: ValidationMetric = metrics.find((m) => m.name === (early?.name ?? 'ndcg@10'))!;
  const earlyName = early ? `${early.name}/${early.patience}` : 'none';

  // the frozen CF vectors: given, from a checkpoint, or pre-trained
  let resumed: ReturnType<typeof openCheckpoint> | undefined;
  let cf: { data: Float32Array; dimension: number };
  if (options.resumeFrom !== undefined && !givenCf) {
    // the checkpoint's own CF vectors (checked against the settings below, before anything else)
    resumed = openCheckpoint(options.resumeFrom, compatibilityOf(spec, fingerprint, earlyName, validationUsers ? validationUsers.targetOffsets.length - 1 : 0, contentHash, undefined));
    cf = resumed.cf;
  } else {
    cf = await frozenCf(data, train, options, spec.seed, onProgress);
  }
  const cfHash = givenCf ? hashFloats(cf.data) : undefined;
  const compatibility = compatibilityOf(spec, fingerprint, earlyName, validationUsers ? validationUsers.targetOffsets.length - 1 : 0, contentHash, cfHash);
  if (options.resumeFrom !== undefined && givenCf) resumed = openCheckpoint(options.resumeFrom, compatibility);
  const { vectors: cfVectors } = await coldReadyCf(cf.data, cf.dimension, content, popularity, spec.coldCfToken, spec.imputationNeighbors);
  const architecture = architectureOf(spec, itemCount, cf.dimension, content.dimension);
  // items without training interactions are left out of the training softmax (no evidence either way)
  const itemBias = new Float32Array(itemCount);
  let hasCold = false;
  for (let j = 0; j < itemCount; j++) if (popularity[j] === 0) (itemBias[j] = -1e9), (hasCold = true);
  const itemFeeds = { [ITEM_INPUTS.cf]: cfVectors, [ITEM_INPUTS.content]: content.data, [ITEM_INPUTS.bias]: itemBias };

  const trainer = await Trainer.create({
    build: (g, bucket) => buildTrainingGraph(g, architecture, rowsPerStep(bucket, spec.batchPositions), bucket, hasCold),
    buckets: spec.lengthBuckets,
    optimizer: ADAM,
    seed: spec.seed,
    intraOpNumThreads: spec.threads,
  });
  const runner = new SetrecRunner(architecture, spec.inferenceBatchSize, spec.lengthBuckets, spec.threads);
  const started = performance.now();
  let orderRng = new Rng(spec.seed);
  let epoch = 0;
  let bestEpoch = 0;
  let bestValue: number | null = null;
  let bestValidation: Record<string, number> | null = null;
  let best: Map<string, Float32Array> | undefined;
  let sinceBest = 0;
  let stoppedEarly = false;
  const fixedBeta = spec.beta === 'validation' ? (validationUsers ? undefined : SETREC_FALLBACK_BETA) : spec.beta;
  const betaSource: SetrecTrainingSummary['betaSource'] = spec.beta !== 'validation' ? 'given' : validationUsers ? 'validation' : 'fallback';
  let bestBeta = fixedBeta ?? SETREC_FALLBACK_BETA;
  let bestBetaSearch: { beta: number; value: number }[] | null = null;
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
    bestBeta = s.bestBeta;
    bestBetaSearch = s.bestBetaSearch;
    losses.push(...s.losses);
    best = resumed.best ?? (bestEpoch === epoch && early ? copyParameters(trainer.parameterValues()) : undefined);
  }
  const startEpoch = epoch;
  const steps = stepsPerEpoch(rows, spec.lengthBuckets, spec.batchPositions);
  onProgress({ type: 'fit-start', model: SETREC_KIND, epochs: spec.epochs, stepsPerEpoch: steps, startEpoch });
  let stoppedBy: SetrecTrainingSummary['stoppedBy'] = stoppedEarly ? 'early-stopping' : 'epochs';
  let aborted = false;
  const modelAt = (parameters: Map<string, Float32Array>, beta: number, summary: SetrecTrainingSummary, shared: boolean, tokens?: Float32Array): SetrecModel =>
    new SetrecModel({
      spec,
      architecture,
      parameters,
      cfVectors,
      content: content.data,
      popularity,
      beta,
      dataFingerprint: fingerprint,
      training: summary,
      ...(shared ? { runner } : {}),
      ...(tokens ? { tokens } : {}),
      ...(!shared && train.externalItemIds ? { externalItemIds: train.externalItemIds } : {}),
      ...(!shared && data.catalog ? { catalog: data.catalog } : {}),
    });
  try {
    while (epoch < spec.epochs && !stoppedEarly) {
      const batches = epochBatches(rows, spec.lengthBuckets, spec.batchPositions, orderRng);
      let total = 0;
      let count = 0;
      for (const batch of batches) {
        if (signal?.aborted) {
          aborted = true;
          break;
        }
        const { seq, labels } = batchFeeds(rows, batch, spec.batchPositions);
        const result = await trainer.step({ seq, labels, ...itemFeeds }, { learningRate: spec.learningRate, bucket: batch.length });
        if (!Number.isFinite(result.loss)) {
          throw new GenrecError('RUNTIME_ERROR', `training diverged: the loss is ${result.loss} at epoch ${epoch + 1}, step ${count + 1} (try a lower learningRate)`, { details: { field: 'learningRate' } });
        }
        total += result.loss;
        count++;
      }
      if (aborted) break;
      epoch++;
      const loss = total / count;
      losses.push(loss);
      let validation: Record<string, number> | undefined;
      let beta = fixedBeta ?? SETREC_FALLBACK_BETA;
      let betaSearch: { beta: number; value: number }[] | null = null;
      if (validationUsers) {
        // the trainer's own buffers (no copy): nothing steps while the epoch is validated
        const live = trainer.parameterValues() as Map<string, Float32Array>;
        const summary: SetrecTrainingSummary = { epoch, epochsTrained: epoch, stoppedBy: 'epochs', losses, betaSource };
        const tokens = await runner.tokenTable(live, cfVectors, content.data);
        if (fixedBeta === undefined) {
          betaSearch = await searchBeta(runner, live, tokens, validationUsers, spec.betaGrid, selection, spec.threads);
          beta = betaSearch.reduce((found, entry) => (entry.value > found.value ? entry : found)).beta;
        }
        const current = modelAt(live, beta, summary, true, tokens);
        validation = await validate(current, validationUsers, metrics);
        await current.dispose();
        if (betaSearch) validation.beta = beta;
      }
      let isBest = true;
      if (early && validation) {
        const value = validation[early.name]!;
        isBest = bestValue === null || value > bestValue;
        if (isBest) {
          bestValue = value;
          bestEpoch = epoch;
          bestValidation = validation;
          bestBeta = beta;
          bestBetaSearch = betaSearch;
          best = copyParameters(trainer.parameterValues());
          sinceBest = 0;
        } else if (++sinceBest >= early.patience) {
          stoppedEarly = true;
        }
      } else {
        bestEpoch = epoch;
        bestValidation = validation ?? null;
        bestBeta = beta;
        bestBetaSearch = betaSearch;
      }
      const elapsedMs = performance.now() - started;
      onProgress({
        type: 'epoch-end',
        epoch,
        epochs: spec.epochs,
        loss,
        ...(validation ? { validation } : {}),
        best: isBest,
        learningRate: spec.learningRate,
        elapsedMs,
        etaMs: stoppedEarly ? 0 : (elapsedMs / (epoch - startEpoch)) * (spec.epochs - epoch),
        progress: epoch / spec.epochs,
      });
      if (options.checkpointDirectory !== undefined) {
        const state: CheckpointState = {
          kind: 'genrec.setrec-checkpoint',
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
          bestBeta,
          betaSource,
          bestBetaSearch,
        };
        await writeCheckpoint(options.checkpointDirectory, trainer, state, best, { cf: cf.data, cfDimension: cf.dimension });
      }
    }
    if (aborted) stoppedBy = 'abort';
    else if (stoppedEarly) stoppedBy = 'early-stopping';
    const useBest = early !== undefined && best !== undefined;
    const parameters = useBest ? best! : copyParameters(trainer.parameterValues());
    const keptEpoch = useBest ? bestEpoch : epoch;
    const summary: SetrecTrainingSummary = {
      epoch: keptEpoch,
      epochsTrained: epoch,
      stoppedBy,
      losses,
      betaSource,
      ...(bestValidation && (useBest || !early) ? { validation: bestValidation } : {}),
      ...(bestBetaSearch && (useBest || !early) ? { betaSearch: bestBetaSearch } : {}),
    };
    const model = modelAt(parameters, bestBeta, summary, false);
    onProgress({ type: 'fit-end', epochs: epoch, bestEpoch: keptEpoch, stoppedBy, elapsedMs: performance.now() - started });
    return model;
  } finally {
    await runner.release();
    await trainer.release();
  }
}
