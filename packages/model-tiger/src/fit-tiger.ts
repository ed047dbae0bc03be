import { createHash } from 'node:crypto';
import {
  GenrecError,
  Rng,
  checkFitCallbacks,
  checkFitData,
  checkStepLoss,
  copyParameters,
  datasetFingerprint,
  fitEpochs,
  selectValidationUsers,
  validateRecommender,
  type FitData,
  type ProgressCallback,
} from '@genrec/core';
import { validateSequenceDataset } from '@genrec/data';
import { Trainer, learningRateAt, optimizers, trainingCheckpointState, writeTrainingCheckpoint } from '@genrec/nn';
import { defaultTextFields } from '@genrec/semantic-id';
import { CHECKPOINT_KIND, CHECKPOINT_VERSION, compatibilityOf, openCheckpoint, type CheckpointState } from './checkpoint.js';
import { trainGraphBuilder } from './graphs.js';
import { fitItemCodes } from './item-codes.js';
import { buildItemVectors } from './item-vectors.js';
import { resolveEarlyStopping, resolveTigerSpec, type FitTigerOptions } from './options.js';
import { TrainingExamples } from './sequences.js';
import { TigerModel, type TigerTrainingSummary } from './tiger-model.js';
import { TIGER_KIND } from './version.js';

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
  const resolved = resolveTigerSpec(options, { hasItemVectors, hasCatalog });
  checkFitCallbacks(options);
  const train = checkFitData(data, 'fitTiger needs { train: SequenceDataset, validation?, catalog?, itemVectors? }', validateSequenceDataset);
  // unnamed text fields of the 'text' source: the titles, or the attribute ids of a catalogue without titles (Sports)
  const spec = options.textFields === undefined && resolved.itemVectors.includes('text') ? { ...resolved, textFields: defaultTextFields(data.catalog, resolved.textFields) } : resolved;
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
  if (resumed) {
    trainer.loadCheckpoint(resumed.trainerPath);
    orderRng = Rng.fromState(resumed.state.orderRng);
  }
  const trainingStarted = performance.now();
  const summary = (keptEpoch: number, epochsTrained: number, stoppedBy: TigerTrainingSummary['stoppedBy'], losses: readonly number[], validation: Record<string, number> | undefined): TigerTrainingSummary => ({
    epoch: keptEpoch,
    epochsTrained,
    stoppedBy,
    losses: [...losses],
    ...(validation ? { validation } : {}),
    itemVectors: vectors.report,
    codes: codeReport,
    trainingMs: performance.now() - trainingStarted,
  });
  try {
    return await fitEpochs({
      model: TIGER_KIND,
      epochs: spec.epochs,
      stepsPerEpoch,
      early,
      onProgress,
      started,
      resumed: resumed && { state: resumed.state, best: resumed.best, extra: undefined },
      extra: undefined,
      parameters: () => trainer.parameterValues(),
      runEpoch: async (epoch) => {
        const plan = examples.plan(orderRng);
        let total = 0;
        let weight = 0;
        let learningRate = learningRateAt(spec, Math.max(1, trainer.stepCount), totalSteps);
        for (const planned of plan) {
          if (signal?.aborted) return undefined;
          const batch = examples.build(planned);
          learningRate = learningRateAt(spec, trainer.stepCount + 1, totalSteps);
          const result = await trainer.step(batch.feeds, { learningRate, bucket: batch.bucket });
          checkStepLoss(result.loss, epoch, trainer.stepCount);
          total += result.loss * batch.examples;
          weight += batch.examples;
        }
        return { loss: total / Math.max(1, weight), learningRate };
      },
      validate: async (epoch, losses) => {
        if (!validationUsers) return undefined;
        const current = modelAt(copyParameters(trainer.parameterValues()), summary(epoch, epoch, 'epochs', losses, undefined));
        try {
          return { metrics: await validateRecommender(current, validationUsers, early) };
        } finally {
          await current.dispose();
        }
      },
      afterEpoch: async (snapshot) => {
        if (options.checkpointDirectory === undefined) return;
        const state: CheckpointState = trainingCheckpointState({ kind: CHECKPOINT_KIND, formatVersion: CHECKPOINT_VERSION, compatibility }, snapshot, { orderRng: orderRng.getState() });
        await writeTrainingCheckpoint(options.checkpointDirectory, trainer, state, snapshot.best);
      },
      finish: (result) => modelAt(result.parameters, summary(result.keptEpoch, result.epochsTrained, result.stoppedBy, result.losses, result.validation)),
    });
  } finally {
    await trainer.release();
  }
}
