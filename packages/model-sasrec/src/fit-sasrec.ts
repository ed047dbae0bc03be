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
  type FitData,
  type ProgressCallback,
} from '@genrec/core';
import { paddedTrainingSequences, validateSequenceDataset } from '@genrec/data';
import { Trainer, optimizers, trainingCheckpointState, writeTrainingCheckpoint, type Graph } from '@genrec/nn';
import { CHECKPOINT_KIND, CHECKPOINT_VERSION, compatibilityOf, openCheckpoint, type CheckpointState } from './checkpoint.js';
import { HiddenStateRunner } from './hidden-states.js';
import { resolveEarlyStopping, resolveSasrecSpec, type FitSasrecOptions, type SasrecSpec } from './options.js';
import { buildBinaryCrossEntropyGraph, buildCrossEntropyGraph, buildSampledSoftmaxGraph, type ParameterSource, type SasrecArchitecture } from './sasrec-graph.js';
import { SasrecModel, architectureOf } from './sasrec-model.js';
import { BatchBuilder, positionBuckets } from './training-batches.js';
import { SASREC_KIND } from './version.js';

/**
 * Adam as the peer configures it (`torch.optim.Adam(lr, betas=(0.9, 0.98), eps=1e-8)`); also used
 * by `bench/peer-equivalence.ts` (not part of the package's entry point).
 * @internal
 */
export const ADAM = optimizers.adam({ beta1: 0.9, beta2: 0.98, epsilon: 1e-8 });

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
  checkFitCallbacks(options);
  const train = checkFitData(data, 'fitSasrec needs { train: SequenceDataset, validation?, catalog? }', validateSequenceDataset);
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
  if (resumed) {
    trainer.loadCheckpoint(resumed.trainerPath);
    orderRng = Rng.fromState(resumed.state.orderRng);
    builder.samplerState = resumed.state.samplerRng;
  }
  try {
    return await fitEpochs({
      model: SASREC_KIND,
      epochs: spec.epochs,
      stepsPerEpoch: builder.stepsPerEpoch,
      early,
      onProgress,
      started,
      resumed: resumed && { state: resumed.state, best: resumed.best, extra: undefined },
      extra: undefined,
      parameters: () => trainer.parameterValues(),
      runEpoch: async (epoch) => {
        const order = orderRng.permutation(rows.rowCount);
        let total = 0;
        let steps = 0;
        for (let from = 0; from < rows.rowCount; from += spec.batchSize) {
          if (signal?.aborted) return undefined;
          const batch = builder.build(order, from);
          const result = await trainer.step(batch.feeds, { learningRate: spec.learningRate, bucket: batch.bucket });
          checkStepLoss(result.loss, epoch, steps + 1);
          total += result.loss;
          steps++;
        }
        return { loss: total / steps, learningRate: spec.learningRate };
      },
      validate: async (epoch, losses) => {
        if (!validationUsers) return undefined;
        // the trainer's own buffers (no copy): nothing steps while the epoch is validated
        const live = trainer.parameterValues() as Map<string, Float32Array>;
        const current = new SasrecModel({ spec, itemCount, parameters: live, popularity, dataFingerprint: fingerprint, training: { epoch, epochsTrained: epoch, stoppedBy: 'epochs', losses }, runner });
        const metrics = await validateRecommender(current, validationUsers, early);
        await current.dispose();
        return { metrics };
      },
      afterEpoch: async (snapshot) => {
        if (options.checkpointDirectory === undefined) return;
        const state: CheckpointState = trainingCheckpointState({ kind: CHECKPOINT_KIND, formatVersion: CHECKPOINT_VERSION, compatibility }, snapshot, { orderRng: orderRng.getState(), samplerRng: builder.samplerState });
        await writeTrainingCheckpoint(options.checkpointDirectory, trainer, state, snapshot.best);
      },
      finish: (result) =>
        new SasrecModel({
          spec,
          itemCount,
          parameters: result.parameters,
          popularity,
          dataFingerprint: fingerprint,
          training: { epoch: result.keptEpoch, epochsTrained: result.epochsTrained, stoppedBy: result.stoppedBy, losses: result.losses, ...(result.validation ? { validation: result.validation } : {}) },
          ...(train.externalItemIds ? { externalItemIds: train.externalItemIds } : {}),
          ...(data.catalog ? { catalog: data.catalog } : {}),
        }),
    });
  } finally {
    await runner.release();
    await trainer.release();
  }
}
