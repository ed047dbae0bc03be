import {
  GenrecError,
  checkEnumOption,
  checkIntegerOption,
  checkKnownOptions,
  checkNumberOption,
  createMatrix,
  Rng,
  type EvaluationSet,
  type ProgressCallback,
  type SequenceDataset,
} from '@genrec/core';
import { validateSequenceDataset } from '@genrec/data';
import { Trainer, optimizers } from '@genrec/nn';
import { fitProductQuantizer, kMeans } from '@genrec/semantic-id';
import type { DiscreteParts } from './discrete-table.js';
import { SETREC_BETA_GRID } from './options.js';
import { CODE_INPUTS, ITEM_INPUTS, buildCodeTrainingGraph, slotCount } from './setrec-graph.js';
import { batchFeeds, epochBatches, rowsPerStep, trainingRows } from './training-rows.js';
import { SetrecModel, type SetrecTrainingSummary } from './setrec-model.js';
import { selectValidationUsers, validateRecommender, validationMetricList, type ValidationMetric } from '@genrec/core';
import { addBetaRanks, betaCandidates, chooseBeta, type BetaCandidate } from './validation.js';

/** Options of {@link discretizeSetrec}. */
export interface DiscretizeSetrecOptions {
  /**
   * Codes per semantic slot (the product quantiser's codebooks). On Toys and Sports 1,024 was
   * chosen on validation over 256 (README "Discrete codebook sizes"). @defaultValue 256
   */
  codebookSize?: number;
  /**
   * Codes of the CF slot (k-means of the CF tokens). The CF slot carries the item's identity: on
   * Toys (11,924 items) validation rises from 256 to 8,192 codes, at a larger table and slower
   * scoring (README "Discrete codebook sizes"). @defaultValue codebookSize
   */
  cfCodebookSize?: number;
  /** `'opq'` learns an orthogonal rotation of the semantic tokens first (non-parametric OPQ). @defaultValue 'opq' */
  rotation?: 'none' | 'opq';
  /** OPQ alternations. @defaultValue 5 */
  opqIterations?: number;
  /**
   * β of the discrete scores: a number in [0, 1], or `'validation'` to pick it from `betaGrid` on
   * `validation` (NDCG@10 of the code-distribution ranking). @defaultValue 'validation' with validation data, else the continuous model's β
   */
  beta?: number | 'validation';
  /** Candidate β values. @defaultValue [0, 0.1, …, 1] */
  betaGrid?: readonly number[];
  /** Validation users (never the test set) for β and the reported validation metrics. */
  validation?: EvaluationSet;
  /** Validate on at most this many validation users (a fixed seeded sample). @defaultValue all */
  sampleUsers?: number;
  /** Seed of the k-means and product quantisers. @defaultValue the model's seed */
  seed?: number;
  /** Task events of the quantisers (`'setrec-cf-codebook'`, `'product-quantizer'`…) and `'setrec-code-training'` (one step per epoch). */
  onProgress?: ProgressCallback;
  /**
   * The training sequences, for `codeEpochs` of code training: the transformer is trained further
   * with cross-entropy over each slot's codes (the gold code = the next item's code in the slot),
   * its inputs (the continuous item tokens) frozen. Needs `validation`: the best epoch by NDCG@10
   * (epoch 0 = no code training) is kept.
   */
  train?: SequenceDataset;
  /** Epochs of code training (with `train`). @defaultValue 0 */
  codeEpochs?: number;
  /** Adam's learning rate of code training. @defaultValue the model's learningRate */
  learningRate?: number;
}

/**
 * SETRec with **discrete** set identifiers (what the paper left unexplored): every item's CF token
 * is replaced by the nearest of `cfCodebookSize` k-means codewords and its n semantic tokens by a
 * product quantiser's codes (one codebook per semantic slot, optionally OPQ-rotated), so an item is
 * n+1 codes. The model's n+1 queries then give one distribution over each slot's codes
 * (`softmax_c <q_s, codeword_c>`, semantic queries rotated like the codebooks), and an item scores
 * `Σ_s w_s log p_s(code_s(item))`, computed exactly for every item by `@genrec/decoder`'s
 * `SetIdDecoder.decodeCodeDistributions`. The transformer is unchanged (no retraining); β is chosen
 * again for the discrete scores on `validation`.
 *
 * Memory: the table is `itemCount x (n+1)` int32 codes plus `(n+1) x codebookSize x d` floats,
 * instead of `itemCount x (n+1)·d` floats.
 *
 * @param model - a fitted continuous SETRec model (not modified).
 * @param options - see {@link DiscretizeSetrecOptions}.
 * @returns a new discrete `SetrecModel` (it shares nothing mutable with `model`).
 * @throws GenrecError `INVALID_OPTION` for a bad option or a codebook larger than the catalogue;
 * `UNSUPPORTED` for a model that is already discrete.
 * @example
 * ```ts
 * const discrete = await discretizeSetrec(model, { codebookSize: 256, rotation: 'opq', validation: split.validation });
 * const top = await discrete.recommend([[1, 5, 9]], { k: 10 });
 * ```
 */
export async function discretizeSetrec(model: SetrecModel, options: DiscretizeSetrecOptions = {}): Promise<SetrecModel> {
  if (!(model instanceof SetrecModel)) throw new GenrecError('INVALID_INPUT', 'discretizeSetrec takes a SetrecModel', { details: { field: 'model' } });
  checkKnownOptions(options, ['codebookSize', 'cfCodebookSize', 'rotation', 'opqIterations', 'beta', 'betaGrid', 'validation', 'sampleUsers', 'seed', 'onProgress', 'train', 'codeEpochs', 'learningRate'], 'discretizeSetrec');
  if (model.variant === 'discrete') throw new GenrecError('UNSUPPORTED', 'the model is already discrete', { details: { field: 'model' } });
  const n = model.itemCount;
  const codebookSize = checkIntegerOption(options.codebookSize ?? 256, 'codebookSize', 1, n);
  const cfCodebookSize = checkIntegerOption(options.cfCodebookSize ?? codebookSize, 'cfCodebookSize', 1, n);
  const rotation = checkEnumOption(options.rotation ?? 'opq', 'rotation', ['none', 'opq'] as const);
  const opqIterations = checkIntegerOption(options.opqIterations ?? 5, 'opqIterations', 1, 1000);
  const seed = checkIntegerOption(options.seed ?? model.spec.seed, 'seed', 0);
  const grid = (options.betaGrid ?? SETREC_BETA_GRID).map((value, i) => checkNumberOption(value, `betaGrid[${i}]`, 0, 1));
  if (grid.length === 0) throw new GenrecError('INVALID_OPTION', 'betaGrid must not be empty', { details: { field: 'betaGrid' } });
  const betaOption = options.beta ?? (options.validation ? 'validation' : model.beta);
  const fixedBeta = betaOption === 'validation' ? undefined : checkNumberOption(betaOption, 'beta', 0, 1);
  if (fixedBeta === undefined && options.validation === undefined) throw new GenrecError('INVALID_OPTION', "beta: 'validation' needs validation data", { details: { field: 'validation' } });
  const sampleUsers = options.sampleUsers === undefined ? undefined : checkIntegerOption(options.sampleUsers, 'sampleUsers', 1);
  const users = options.validation === undefined ? undefined : selectValidationUsers(options.validation, n, sampleUsers, seed);
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') throw new GenrecError('INVALID_OPTION', 'onProgress must be a function', { details: { field: 'onProgress' } });
  const codeEpochs = checkIntegerOption(options.codeEpochs ?? 0, 'codeEpochs', 0, 10_000);
  const learningRate = checkNumberOption(options.learningRate ?? model.spec.learningRate, 'learningRate', 0, 10, { minimumExclusive: true });
  if (codeEpochs > 0) {
    if (options.train === undefined) throw new GenrecError('INVALID_OPTION', 'codeEpochs needs the training sequences (train)', { details: { field: 'train' } });
    if (users === undefined) throw new GenrecError('INVALID_OPTION', 'codeEpochs needs validation data to keep the best epoch', { details: { field: 'validation' } });
    if (options.train.itemCount !== n) throw new GenrecError('INVALID_INPUT', `train has ${options.train.itemCount} items, the model ${n}`, { details: { field: 'train' } });
    validateSequenceDataset(options.train);
  }

  const a = model.architecture;
  const d = a.hiddenSize;
  const slots = slotCount(a);
  const width = slots * d;
  const tokens = await model.itemTokens();
  const cfTokens = createMatrix(n, d);
  const semanticTokens = createMatrix(n, width - d);
  for (let i = 0; i < n; i++) {
    cfTokens.data.set(tokens.data.subarray(i * width, i * width + d), i * d);
    semanticTokens.data.set(tokens.data.subarray(i * width + d, (i + 1) * width), i * (width - d));
  }
  const progress = options.onProgress ? { onProgress: options.onProgress } : {};
  const cf = await kMeans(cfTokens, { clusterCount: cfCodebookSize, seed, task: 'setrec-cf-codebook', ...progress });
  const pq = await fitProductQuantizer(semanticTokens, { subspaces: a.semanticTokens, codebookSize, rotation, opqIterations, seed: seed + 1, ...progress });
  const codes = new Int32Array(n * slots);
  for (let i = 0; i < n; i++) {
    codes[i * slots] = cf.labels[i]!;
    for (let s = 1; s < slots; s++) codes[i * slots + s] = pq.codes[i * a.semanticTokens + s - 1]!;
  }
  const parts: DiscreteParts = {
    codes,
    codebooks: [cf.centroids.data.slice(), ...pq.quantizer.codebooks.map((codebook) => codebook.data.slice())],
    codebookSizes: [cf.centroids.rows, ...pq.quantizer.codebookSizes],
    rotation: pq.quantizer.rotation?.data.slice(),
  };
  const internals = model.internals;
  const build = (parameters: Map<string, Float32Array>, beta: number, training: SetrecTrainingSummary): SetrecModel =>
    new SetrecModel({
      spec: model.spec,
      architecture: a,
      parameters,
      cfVectors: internals.cf.slice(),
      content: internals.content.slice(),
      popularity: internals.popularity.slice(),
      beta,
      dataFingerprint: model.dataFingerprint,
      training,
      discrete: parts,
      retiredItems: model.retiredItems,
      ...(model.externalItemIds ? { externalItemIds: model.externalItemIds } : {}),
      ...(model.catalog ? { catalog: model.catalog } : {}),
    });
  const { validation: _validation, betaSearch: _search, ...kept } = model.training;
  const betaSource = fixedBeta === undefined ? 'validation' : 'given';
  if (users === undefined) return build(model.parameterValues(), fixedBeta!, { ...kept, betaSource });
  const metrics = validationMetricList(n, undefined);
  /** β (searched or fixed) and the validation metrics of the discrete model with `parameters`. */
  const assess = async (parameters: Map<string, Float32Array>): Promise<{ beta: number; validation: Record<string, number>; betaSearch: { beta: number; value: number }[] | undefined }> => {
    let beta = fixedBeta;
    let betaSearch: { beta: number; value: number }[] | undefined;
    if (beta === undefined) {
      const probe = build(parameters, 0.5, { ...kept, betaSource });
      let choice: ReturnType<typeof chooseBeta>;
      try {
        choice = chooseBeta(await searchDiscreteBeta(probe, parts, users, grid, metrics), users.targetOffsets.length - 1);
      } finally {
        await probe.dispose();
      }
      beta = choice.beta;
      betaSearch = choice.search;
      // the search excludes histories only: with retired items the model must measure the validation
      if (choice.validation && model.retiredItems.length === 0) return { beta, validation: choice.validation, betaSearch };
    }
    const probe = build(parameters, beta, { ...kept, betaSource });
    try {
      return { beta, validation: { ...(await validateRecommender(probe, users, undefined)), beta }, betaSearch };
    } finally {
      await probe.dispose();
    }
  };
  let best = { parameters: model.parameterValues(), epoch: 0, ...(await assess(model.parameterValues())) };
  const losses: number[] = [];
  if (codeEpochs > 0) {
    await trainOnCodes(model, parts, tokens.data, options.train!, codeEpochs, learningRate, seed, options.onProgress, async (parameters, epoch, loss) => {
      losses.push(loss);
      const result = await assess(parameters);
      if (result.validation['ndcg@10']! > best.validation['ndcg@10']!) best = { parameters, epoch, ...result };
    });
  }
  return build(best.parameters, best.beta, {
    ...kept,
    betaSource,
    validation: best.validation,
    ...(best.betaSearch ? { betaSearch: best.betaSearch } : {}),
    ...(codeEpochs > 0 ? { codeTraining: { epochs: codeEpochs, keptEpoch: best.epoch, losses } } : {}),
  });
}

/**
 * Code training: `epochs` passes of the model's training rows with cross-entropy over each slot's
 * codes, the token table frozen; after every epoch `onEpoch` gets the merged parameters (a copy).
 */
async function trainOnCodes(
  model: SetrecModel,
  parts: DiscreteParts,
  tokens: Float32Array,
  train: SequenceDataset,
  epochs: number,
  learningRate: number,
  seed: number,
  onProgress: ProgressCallback | undefined,
  onEpoch: (parameters: Map<string, Float32Array>, epoch: number, loss: number) => Promise<void>,
): Promise<void> {
  const a = model.architecture;
  const spec = model.spec;
  const slots = slotCount(a);
  const rows = trainingRows(train, spec.maxLength);
  const rotated = parts.rotation !== undefined;
  const trainer = await Trainer.create({
    build: (g, bucket) => buildCodeTrainingGraph(g, a, rowsPerStep(bucket, spec.batchPositions), bucket, parts.codebookSizes, rotated),
    buckets: spec.lengthBuckets,
    optimizer: optimizers.adam({ beta1: 0.9, beta2: 0.98, epsilon: 1e-8 }),
    seed,
    intraOpNumThreads: spec.threads,
  });
  try {
    const start = model.parameterMap;
    for (const name of trainer.parameterNames) trainer.setParameter(name, start.get(name)!);
    const fixed: Record<string, Float32Array> = { [ITEM_INPUTS.tokens]: tokens };
    parts.codebooks.forEach((codebook, s) => (fixed[CODE_INPUTS.codebook(s)] = codebook));
    if (parts.rotation) fixed[CODE_INPUTS.rotation] = parts.rotation;
    const rng = new Rng(BigInt.asUintN(64, BigInt(seed) * 0x9e3779b97f4a7c15n + 0xc0def00dn));
    const started = performance.now();
    onProgress?.({ type: 'task-start', task: 'setrec-code-training', done: 0, total: epochs, unit: 'epochs' });
    for (let epoch = 1; epoch <= epochs; epoch++) {
      let total = 0;
      let count = 0;
      for (const batch of epochBatches(rows, spec.lengthBuckets, spec.batchPositions, rng)) {
        const { seq, labels } = batchFeeds(rows, batch, spec.batchPositions);
        const positions = labels.length;
        const codeLabels = new BigInt64Array(slots * positions).fill(-100n);
        for (let p = 0; p < positions; p++) {
          const label = labels[p]!;
          if (label < 0n) continue;
          const item = Number(label);
          for (let s = 0; s < slots; s++) codeLabels[s * positions + p] = BigInt(parts.codes[item * slots + s]!);
        }
        const result = await trainer.step({ seq, [CODE_INPUTS.labels]: codeLabels, ...fixed }, { learningRate, bucket: batch.length });
        if (!Number.isFinite(result.loss)) throw new GenrecError('RUNTIME_ERROR', `code training diverged: the loss is ${result.loss} at epoch ${epoch} (try a lower learningRate)`, { details: { field: 'learningRate' } });
        total += result.loss;
        count++;
      }
      const parameters = model.parameterValues();
      for (const [name, value] of trainer.parameterValues()) parameters.set(name, Float32Array.from(value));
      onProgress?.({ type: 'task-progress', task: 'setrec-code-training', done: epoch, total: epochs, unit: 'epochs', metrics: { loss: total / count } });
      await onEpoch(parameters, epoch, total / count);
    }
    onProgress?.({ type: 'task-end', task: 'setrec-code-training', done: epochs, total: epochs, unit: 'epochs', elapsedMs: performance.now() - started });
  } finally {
    await trainer.release();
  }
}

/** The validation metrics of every β for the discrete ranking `(1 − β) log p_0(code_0) + β Σ_{s≥1} log p_s(code_s)`. */
async function searchDiscreteBeta(
  probe: SetrecModel,
  parts: DiscreteParts,
  users: ReturnType<typeof selectValidationUsers>,
  grid: readonly number[],
  metrics: readonly ValidationMetric[],
): Promise<BetaCandidate[]> {
  const n = probe.itemCount;
  const slots = parts.codebooks.length;
  const d = probe.architecture.hiddenSize;
  const width = slots * d;
  const batch = users.histories;
  const count = users.targetOffsets.length - 1;
  const withHistory: number[] = [];
  for (let u = 0; u < count; u++) if (batch.offsets[u + 1]! > batch.offsets[u]!) withHistory.push(u);
  const sums = new Float64Array(grid.length * metrics.length);
  const stamp = new Int32Array(n + 1).fill(-1);
  const cfScores = new Float64Array(n);
  const semanticScores = new Float64Array(n);
  const logp = parts.codebooks.map((_, s) => new Float64Array(parts.codebookSizes[s]!));
  const block = 1024;
  for (let from = 0; from < withHistory.length; from += block) {
    const part = withHistory.slice(from, from + block);
    const offsets = new Int32Array(part.length + 1);
    part.forEach((u, i) => (offsets[i + 1] = offsets[i]! + batch.offsets[u + 1]! - batch.offsets[u]!));
    const items = new Int32Array(offsets[part.length]!);
    part.forEach((u, i) => items.set(batch.items.subarray(batch.offsets[u]!, batch.offsets[u + 1]!), offsets[i]!));
    const queries = (await probe.userQueries({ offsets, items })).data;
    part.forEach((u, r) => {
      for (let s = 0; s < slots; s++) {
        const size = parts.codebookSizes[s]!;
        const codebook = parts.codebooks[s]!;
        const out = logp[s]!;
        let max = Number.NEGATIVE_INFINITY;
        for (let c = 0; c < size; c++) {
          let sum = 0;
          for (let e = 0; e < d; e++) sum += queries[r * width + s * d + e]! * codebook[c * d + e]!;
          out[c] = sum;
          if (sum > max) max = sum;
        }
        let total = 0;
        for (let c = 0; c < size; c++) total += Math.exp(out[c]! - max);
        const normalizer = max + Math.log(total);
        for (let c = 0; c < size; c++) out[c] = out[c]! - normalizer;
      }
      for (let j = 0; j < n; j++) {
        cfScores[j] = logp[0]![parts.codes[j * slots]!]!;
        let sum = 0;
        for (let s = 1; s < slots; s++) sum += logp[s]![parts.codes[j * slots + s]!]!;
        semanticScores[j] = sum;
      }
      for (let i = batch.offsets[u]!; i < batch.offsets[u + 1]!; i++) stamp[batch.items[i]!] = u;
      const targets = Array.from(users.targetItems.subarray(users.targetOffsets[u]!, users.targetOffsets[u + 1]!));
      addBetaRanks(cfScores, semanticScores, 0, n, stamp, u, targets, grid, metrics, sums);
    });
  }
  return betaCandidates(grid, metrics, metrics[0]!, sums, withHistory.length);
}
