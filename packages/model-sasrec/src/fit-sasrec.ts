import { GenrecError, Rng, datasetFingerprint, type FitData, type ProgressCallback, type SequenceDataset } from '@genrec/core';
import { paddedTrainingSequences, validateSequenceDataset } from '@genrec/data';
import { Trainer, optimizers, type Graph } from '@genrec/nn';
import { compatibilityOf, openCheckpoint, writeCheckpoint, type CheckpointState } from './checkpoint.js';
import { HiddenStateRunner } from './hidden-states.js';
import { resolveEarlyStopping, resolveSasrecSpec, type FitSasrecOptions, type SasrecSpec } from './options.js';
import { itemCounts } from './popularity.js';
import { buildBinaryCrossEntropyGraph, buildCrossEntropyGraph, buildSampledSoftmaxGraph, type ParameterSource, type SasrecArchitecture } from './sasrec-graph.js';
import { SasrecModel, architectureOf, type SasrecTrainingSummary } from './sasrec-model.js';
import { BatchBuilder, positionBuckets } from './training-batches.js';
import { SASREC_KIND } from './version.js';
import { selectValidationUsers, validateRecommender as validate } from '@genrec/core';

/**
 * Adam as the peer configures it (`torch.optim.Adam(lr, betas=(0.9, 0.98), eps=1e-8)`); also used
 * by `bench/peer-equivalence.ts` (not part of the package's entry point).
 * @internal
 */
export const ADAM = optimizers.adam({ beta1: 0.9, beta2: 0.98, epsilon: 1e-8 });

function checkFitData(data: FitData): SequenceDataset {
  if (typeof data !== 'object' || data === null || typeof data.train !== 'object' || data.train === null) {
    throw new GenrecError('INVALID_INPUT', 'fitSasrec needs { train: SequenceDataset, validation?, catalog? }', { details: { field: 'data' } });
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

function checkCallbacks(options: FitSasrecOptions): void {
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

/**
 * The most distinct items one training step can look up (the row-sparse embedding's `maxRows`):
 * the history window (`batchSize x maxLength` ids, padding 0 included), one target per row beyond
 * it (targets are the next items of the history, the last one new), the shared samples
 * (sampled softmax) or one negative per scored position (BCE), and item 1 that padding rows point
 * at; never more than the catalogue.
 *
 * @param spec - batch size, history length, loss and negatives.
 * @param itemCount - the catalogue size.
 * @returns the slice rows of the row-sparse item embedding.
 * @example
 * ```ts
 * sparseEmbeddingRows({ batchSize: 256, maxLength: 50, loss: 'sampled-softmax', negatives: 256 }, 1_000_000); // 13,313
 * ```
 */
export function sparseEmbeddingRows(spec: Pick<SasrecSpec, 'batchSize' | 'maxLength' | 'loss' | 'negatives'>, itemCount: number): number {
  const history = spec.batchSize * spec.maxLength;
  const drawn = spec.loss === 'bce' ? history : spec.negatives;
  return Math.min(itemCount + 1, history + spec.batchSize + drawn + 1);
}

/**
 * The training graph builder of the spec's loss, for one bucket of scored positions (used by
 * `fitSasrec` and `bench/scale.ts`; not part of the package's entry point).
 * @internal
 */
export function trainGraphBuilder(a: SasrecArchitecture, spec: SasrecSpec): (g: Graph, bucket: number) => { loss: ReturnType<typeof buildCrossEntropyGraph>['loss'] } {
  let drawn = false;
  const sparseRows = spec.sparseEmbeddings ? sparseEmbeddingRows(spec, a.itemCount) : undefined;
  return (g, bucket) => {
    // the first bucket's graph fixes the initial values; later buckets skip drawing them
    const source: ParameterSource = drawn ? 'zeros' : 'random';
    drawn = true;
    if (spec.loss === 'bce') return buildBinaryCrossEntropyGraph(g, a, spec.batchSize, bucket, source, sparseRows);
    if (spec.loss === 'sampled-softmax') return buildSampledSoftmaxGraph(g, a, spec.batchSize, bucket, spec.negatives, source, sparseRows);
    return buildCrossEntropyGraph(g, a, spec.batchSize, bucket, source);
  };
}

function copyParameters(values: ReadonlyMap<string, Float32Array | Float64Array>): Map<string, Float32Array> {
  return new Map([...values].map(([name, value]) => [name, Float32Array.from(value)]));
}

/**
 * Trains SASRec on `data.train` (item ids `1 .. itemCount`).
 *
 * One epoch is the `sasrec_ce` peer's: one training row per sequence with at least 2 items (its
 * last `maxLength + 1` items, next item at every position), rows in a seeded random order, chunks
 * of `batchSize` (the last one partial), one Adam step per chunk (lr constant, betas 0.9/0.98).
 *
 * With `data.validation`, each epoch ends with a full-ranking validation through the model's own
 * `recommend` (history excluded): `ndcg@10`, `recall@10` and the early-stopping metric (default
 * `ndcg@10`, patience 3) are reported in `epoch-end`; the best epoch's weights are kept. An
 * `AbortSignal` stops at the next step and returns the best model so far (without validation: the
 * weights at that step). `checkpointDirectory` gets a checkpoint after every epoch (parameters,
 * Adam state, random streams, best-so-far); `resumeFrom` continues one so that the result equals a
 * straight run (the epoch budget may grow). The same data, options, seed and thread count give the
 * same model.
 *
 * @param data - `train` (required), `validation` (for early stopping), `catalog` (titles, stored with the model).
 * @param options - hyper-parameters ({@link SasrecOptions}, defaults = the peer's) and fitting options.
 * @returns the fitted model.
 * @throws GenrecError `INVALID_OPTION` for a bad option, `INVALID_INPUT` for bad data (ids outside
 * the catalogue, no sequence with 2 items), `RUNTIME_ERROR` when the loss diverges.
 * @example
 * ```ts
 * const split = leaveOneOutSplit(generateSyntheticDataset().dataset);
 * const model = await fitSasrec({ train: split.train, validation: split.validation }, { epochs: 5, seed: 1 });
 * ```
 */
export async function fitSasrec(data: FitData, options: FitSasrecOptions = {}): Promise<SasrecModel> {
  const spec = resolveSasrecSpec(options);
  checkCallbacks(options);
  const train = checkFitData(data);
  const itemCount = train.itemCount;
  const early = resolveEarlyStopping(options.earlyStopping, data.validation !== undefined, itemCount);
  const validationUsers = data.validation === undefined ? undefined : selectValidationUsers(data.validation, itemCount, early?.sampleUsers, spec.seed);
  const rows = paddedTrainingSequences(train, { maxLength: spec.maxLength });
  if (rows.rowCount === 0) throw new GenrecError('INVALID_INPUT', 'train has no sequence with at least 2 items: nothing to learn from', { details: { field: 'train' } });
  const onProgress: ProgressCallback = options.onProgress ?? (() => {});
  const signal = options.signal;
  const fingerprint = datasetFingerprint(train);
  const compatibility = compatibilityOf(spec, fingerprint, early ? `${early.name}/${early.patience}` : 'none', validationUsers ? validationUsers.targetOffsets.length - 1 : 0);
  const resumed = options.resumeFrom === undefined ? undefined : openCheckpoint(options.resumeFrom, compatibility);

  const popularity = itemCounts(train);
  const architecture = architectureOf(spec, itemCount);
  const buckets = positionBuckets(spec.batchSize, spec.maxLength, spec.positionBucket);
  let sampleWeights: Float64Array | undefined;
  if (spec.loss === 'sampled-softmax') {
    sampleWeights = new Float64Array(itemCount + 1);
    for (let j = 0; j < itemCount; j++) sampleWeights[j + 1] = popularity[j]! + 1;
  }
  const builder = new BatchBuilder({ rows, train, itemCount, batchSize: spec.batchSize, loss: spec.loss, negatives: spec.negatives, buckets, seed: spec.seed, ...(sampleWeights ? { sampleWeights } : {}) });
  // one symbolic session serves every bucket of scored positions: one onnxruntime arena (README "Memory")
  const trainer = await Trainer.create({ build: trainGraphBuilder(architecture, spec), buckets, bucketShapes: 'symbolic', optimizer: ADAM, seed: spec.seed, intraOpNumThreads: spec.threads });
  const runner = new HiddenStateRunner(architecture, spec.inferenceBatchSize, spec.threads);
  const started = performance.now();
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
    builder.samplerState = s.samplerRng;
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
  const stepsPerEpoch = builder.stepsPerEpoch;
  onProgress({ type: 'fit-start', model: SASREC_KIND, epochs: spec.epochs, stepsPerEpoch, startEpoch });
  let stoppedBy: SasrecTrainingSummary['stoppedBy'] = stoppedEarly ? 'early-stopping' : 'epochs';
  let aborted = false;
  try {
    while (epoch < spec.epochs && !stoppedEarly) {
      const order = orderRng.permutation(rows.rowCount);
      let total = 0;
      let steps = 0;
      for (let from = 0; from < rows.rowCount; from += spec.batchSize) {
        if (signal?.aborted) {
          aborted = true;
          break;
        }
        const batch = builder.build(order, from);
        const result = await trainer.step(batch.feeds, { learningRate: spec.learningRate, bucket: batch.bucket });
        if (!Number.isFinite(result.loss)) {
          throw new GenrecError('RUNTIME_ERROR', `training diverged: the loss is ${result.loss} at epoch ${epoch + 1}, step ${steps + 1} (try a lower learningRate)`, { details: { field: 'learningRate' } });
        }
        total += result.loss;
        steps++;
      }
      if (aborted) break;
      epoch++;
      const loss = total / steps;
      losses.push(loss);
      let validation: Record<string, number> | undefined;
      let isBest = true;
      if (validationUsers) {
        // the trainer's own buffers (no copy): nothing steps while the epoch is validated
        const live = trainer.parameterValues() as Map<string, Float32Array>;
        const current = new SasrecModel({ spec, itemCount, parameters: live, popularity, dataFingerprint: fingerprint, training: { epoch, epochsTrained: epoch, stoppedBy: 'epochs', losses }, runner });
        validation = await validate(current, validationUsers, early);
        await current.dispose();
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
        learningRate: spec.learningRate,
        elapsedMs,
        etaMs: stoppedEarly ? 0 : (elapsedMs / doneThisRun) * (spec.epochs - epoch),
        progress: epoch / spec.epochs,
      });
      if (options.checkpointDirectory !== undefined) {
        const state: CheckpointState = {
          kind: 'genrec.sasrec-checkpoint',
          formatVersion: 1,
          epoch,
          compatibility,
          orderRng: orderRng.getState(),
          samplerRng: builder.samplerState,
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
    const model = new SasrecModel({
      spec,
      itemCount,
      parameters,
      popularity,
      dataFingerprint: fingerprint,
      training: { epoch: keptEpoch, epochsTrained: epoch, stoppedBy, losses, ...(useBest && bestValidation ? { validation: bestValidation } : !early && bestValidation ? { validation: bestValidation } : {}) },
      ...(train.externalItemIds ? { externalItemIds: train.externalItemIds } : {}),
      ...(data.catalog ? { catalog: data.catalog } : {}),
    });
    onProgress({ type: 'fit-end', epochs: epoch, bestEpoch: keptEpoch, stoppedBy, elapsedMs: performance.now() - started });
    return model;
  } finally {
    await runner.release();
    await trainer.release();
  }
}
