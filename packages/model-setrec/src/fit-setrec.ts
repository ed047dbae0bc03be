import {
  GenrecError,
  Rng,
  checkFitCallbacks,
  checkFitData,
  checkStepLoss,
  datasetFingerprint,
  fitEpochs,
  itemCounts,
  selectValidationUsers,
  validateRecommender,
  validationMetricList,
  type FitData,
  type ProgressCallback,
  type SequenceDataset,
  type ValidationMetric,
} from '@genrec/core';
import { validateSequenceDataset } from '@genrec/data';
import { fitSasrec, SasrecModel } from '@genrec/model-sasrec';
import { Trainer, learningRateAt, optimizers, trainingCheckpointState, writeTrainingCheckpoint } from '@genrec/nn';
import { defaultTextFields } from '@genrec/semantic-id';
import { CHECKPOINT_KIND, CHECKPOINT_VERSION, compatibilityOf, hashFloats, openCheckpoint, writeFrozenInputs, type CheckpointState } from './checkpoint.js';
import { coldReadyCf, contentVectors } from './item-inputs.js';
import { SETREC_FALLBACK_BETA, resolveEarlyStopping, resolveSetrecSpec, type FitSetrecOptions } from './options.js';
import { SetrecRunner } from './runner.js';
import { ITEM_INPUTS, architectureOf, buildTrainingGraph } from './setrec-graph.js';
import { SetrecModel, type SetrecTrainingSummary } from './setrec-model.js';
import { batchFeeds, epochBatches, rowsPerStep, stepsPerEpoch, trainingRows } from './training-rows.js';
import { chooseBeta, searchBeta } from './validation.js';
import { SETREC_KIND } from './version.js';

/** Adam as SASRec's peer configures it. */
const ADAM = optimizers.adam({ beta1: 0.9, beta2: 0.98, epsilon: 1e-8 });

function checkCallbacks(options: FitSetrecOptions): void {
  checkFitCallbacks(options);
  if (options.sasrec !== undefined && !(options.sasrec instanceof SasrecModel)) {
    throw new GenrecError('INVALID_OPTION', 'sasrec must be a fitted SasrecModel of @genrec/model-sasrec', { details: { field: 'sasrec' } });
  }
  if (options.sasrecOptions !== undefined && (typeof options.sasrecOptions !== 'object' || options.sasrecOptions === null)) {
    throw new GenrecError('INVALID_OPTION', 'sasrecOptions must be an object of fitSasrec options', { details: { field: 'sasrecOptions' } });
  }
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
 * on validation (`beta: 'validation'`, from `betaGrid`, by the early-stopping metric) by an exact
 * full ranking of every validation user for every β, whose metrics at the chosen β are the epoch's
 * validation (a given β, or a validation user without history, is measured through the model's own
 * `recommend` instead, where such users get the fallback); the best epoch's weights
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
  const resolved = resolveSetrecSpec(options);
  checkCallbacks(options);
  const train = checkFitData(data, 'fitSetrec needs { train: SequenceDataset, validation?, catalog?, itemVectors? }', validateSequenceDataset);
  // no contentFields given and a catalogue without titles/categories but with attribute ids (Sports): embed those
  const spec = options.contentFields === undefined ? { ...resolved, contentFields: defaultTextFields(data.catalog, resolved.contentFields) } : resolved;
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
  const metrics = validationMetricList(itemCount, early);
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
  const epochSteps = stepsPerEpoch(rows, spec.lengthBuckets, spec.batchPositions);
  const totalSteps = epochSteps * spec.epochs;
  const started = performance.now();
  let orderRng = new Rng(spec.seed);
  const fixedBeta = spec.beta === 'validation' ? (validationUsers ? undefined : SETREC_FALLBACK_BETA) : spec.beta;
  const betaSource: SetrecTrainingSummary['betaSource'] = spec.beta !== 'validation' ? 'given' : validationUsers ? 'validation' : 'fallback';
  /** β (and its search) of the best epoch: kept with its weights by the shared loop. */
  type KeptBeta = { beta: number; search: { beta: number; value: number }[] | null };
  if (resumed) {
    trainer.loadCheckpoint(resumed.trainerPath);
    orderRng = Rng.fromState(resumed.state.orderRng);
  }
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
    return await fitEpochs<KeptBeta, SetrecModel>({
      model: SETREC_KIND,
      epochs: spec.epochs,
      stepsPerEpoch: epochSteps,
      early,
      onProgress,
      started,
      resumed: resumed && { state: resumed.state, best: resumed.best, extra: { beta: resumed.state.bestBeta, search: resumed.state.bestBetaSearch } },
      extra: { beta: fixedBeta ?? SETREC_FALLBACK_BETA, search: null },
      parameters: () => trainer.parameterValues(),
      runEpoch: async (epoch) => {
        const batches = epochBatches(rows, spec.lengthBuckets, spec.batchPositions, orderRng);
        let learningRate = learningRateAt(spec, Math.max(1, trainer.stepCount), totalSteps);
        let total = 0;
        let count = 0;
        for (const batch of batches) {
          if (signal?.aborted) return undefined;
          const { seq, labels } = batchFeeds(rows, batch, spec.batchPositions);
          learningRate = learningRateAt(spec, trainer.stepCount + 1, totalSteps);
          const result = await trainer.step({ seq, labels, ...itemFeeds }, { learningRate, bucket: batch.length });
          checkStepLoss(result.loss, epoch, count + 1);
          total += result.loss;
          count++;
        }
        return { loss: total / count, learningRate };
      },
      validate: async (epoch, losses) => {
        if (!validationUsers) return undefined;
        let beta = fixedBeta ?? SETREC_FALLBACK_BETA;
        let betaSearch: { beta: number; value: number }[] | null = null;
        // the trainer's own buffers (no copy): nothing steps while the epoch is validated
        const live = trainer.parameterValues() as Map<string, Float32Array>;
        const tokens = await runner.tokenTable(live, cfVectors, content.data);
        if (fixedBeta === undefined) {
          const choice = chooseBeta(await searchBeta(runner, live, tokens, validationUsers, spec.betaGrid, metrics, selection, spec.threads), validationUsers.targetOffsets.length - 1);
          beta = choice.beta;
          betaSearch = choice.search;
          // the search ranked every user as the model would: no second ranking through the model
          if (choice.validation) return { metrics: choice.validation, extra: { beta, search: betaSearch } };
        }
        const summary: SetrecTrainingSummary = { epoch, epochsTrained: epoch, stoppedBy: 'epochs', losses, betaSource };
        const current = modelAt(live, beta, summary, true, tokens);
        const measured = await validateRecommender(current, validationUsers, early);
        await current.dispose();
        if (betaSearch) measured.beta = beta;
        return { metrics: measured, extra: { beta, search: betaSearch } };
      },
      afterEpoch: async (snapshot) => {
        if (options.checkpointDirectory === undefined) return;
        const state: CheckpointState = trainingCheckpointState({ kind: CHECKPOINT_KIND, formatVersion: CHECKPOINT_VERSION, compatibility }, snapshot, { orderRng: orderRng.getState() }, {
          bestBeta: snapshot.extra.beta,
          betaSource,
          bestBetaSearch: snapshot.extra.search,
        });
        await writeTrainingCheckpoint(options.checkpointDirectory, trainer, state, snapshot.best, (folder) => writeFrozenInputs(folder, { cf: cf.data, cfDimension: cf.dimension }));
      },
      finish: (result) => {
        const summary: SetrecTrainingSummary = {
          epoch: result.keptEpoch,
          epochsTrained: result.epochsTrained,
          stoppedBy: result.stoppedBy,
          losses: result.losses,
          betaSource,
          ...(result.validation ? { validation: result.validation } : {}),
          ...(result.validation && result.extra.search ? { betaSearch: result.extra.search } : {}),
        };
        return modelAt(result.parameters, result.extra.beta, summary, false);
      },
    });
  } finally {
    await runner.release();
    await trainer.release();
  }
}
