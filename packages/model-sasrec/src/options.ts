import {
  GenrecError,
  checkBooleanOption,
  checkEnumOption,
  checkIntegerOption,
  checkKnownOptions,
  checkNumberOption,
  type CommonFitOptions,
} from '@genrec/core';

/** The training losses of {@link SasrecOptions.loss}. */
export type SasrecLoss = 'ce' | 'bce' | 'sampled-softmax';

/** The losses, for validation and documentation. */
export const SASREC_LOSSES: readonly SasrecLoss[] = ['ce', 'bce', 'sampled-softmax'];

/**
 * SASRec's hyper-parameters. Defaults are the `sasrec_ce` peer's settings (`../shared/peers`,
 * README section 1: d = 64, L = 50, 2 blocks, 1 head, dropout 0.2, Adam lr 1e-3 with betas
 * (0.9, 0.98), batch 256, 20 epochs, full-softmax cross-entropy).
 */
export interface SasrecOptions {
  /** Width `d` of item embeddings and hidden states. @defaultValue 64 */
  hiddenSize?: number;
  /** Self-attention blocks. @defaultValue 2 */
  blocks?: number;
  /** Attention heads (must divide `hiddenSize`). @defaultValue 1 */
  heads?: number;
  /** Longest history the model reads (the most recent items; longer ones are cut). @defaultValue 50 */
  maxLength?: number;
  /** Dropout rate on embeddings, attention weights and the feed-forward layers. @defaultValue 0.2 */
  dropout?: number;
  /** Epoch budget (early stopping may stop sooner). @defaultValue 20 */
  epochs?: number;
  /** Training rows per step. @defaultValue 256 */
  batchSize?: number;
  /** Adam's learning rate (constant). @defaultValue 0.001 */
  learningRate?: number;
  /**
   * The training loss: `'ce'` full-softmax cross-entropy over every item (the peer's), `'bce'`
   * binary cross-entropy with one sampled negative per position (the original paper), or
   * `'sampled-softmax'` softmax over the target and `negatives` shared sampled items with log-Q
   * correction (for large catalogues). @defaultValue 'ce'
   */
  loss?: SasrecLoss;
  /** Sampled items per step for `loss: 'sampled-softmax'` (ignored by the others). @defaultValue 256 */
  negatives?: number;
  /**
   * Scored positions of a batch are padded up to a multiple of this (one compiled training session
   * per multiple used: fewer, larger steps of padding cost less memory). @defaultValue 256
   */
  positionBucket?: number;
  /**
   * Row-sparse item embedding during training (`@genrec/nn`'s `rowSparseParameter`): a step feeds,
   * differentiates and updates only the rows of the items it touches (history, targets, sampled
   * items), with **lazy Adam** — an item's embedding and moments change only at steps that touch
   * it, where dense Adam keeps moving every row by its momentum. Step time and activation memory
   * then no longer grow with the catalogue. For `'sampled-softmax'` and `'bce'` only (full softmax
   * scores every item, so every row has a gradient).
   * @defaultValue true for 'sampled-softmax', false otherwise
   */
  sparseEmbeddings?: boolean;
  /** Users per inference run of `recommend`/`score`/validation. @defaultValue 256 */
  inferenceBatchSize?: number;
  /** onnxruntime threads per operator (0 = one per physical core). @defaultValue 0 */
  threads?: number;
}

/** Options of {@link fitSasrec}: the hyper-parameters plus the fitting options every model takes. */
export type FitSasrecOptions = SasrecOptions & CommonFitOptions;

/** The resolved hyper-parameters (every default filled in), as stored in the model folder. */
export interface SasrecSpec {
  hiddenSize: number;
  blocks: number;
  heads: number;
  maxLength: number;
  dropout: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  loss: SasrecLoss;
  negatives: number;
  positionBucket: number;
  sparseEmbeddings: boolean;
  inferenceBatchSize: number;
  threads: number;
  seed: number;
}

/** Defaults of {@link SasrecOptions} (the peer's settings; `sparseEmbeddings` follows the loss). */
export const SASREC_DEFAULTS: Readonly<Omit<SasrecSpec, 'seed' | 'sparseEmbeddings'>> = {
  hiddenSize: 64,
  blocks: 2,
  heads: 1,
  maxLength: 50,
  dropout: 0.2,
  epochs: 20,
  batchSize: 256,
  learningRate: 1e-3,
  loss: 'ce',
  negatives: 256,
  positionBucket: 256,
  inferenceBatchSize: 256,
  threads: 0,
};

const HYPER_PARAMETERS = [...Object.keys(SASREC_DEFAULTS), 'sparseEmbeddings'];
const COMMON = ['seed', 'onProgress', 'signal', 'earlyStopping', 'checkpointDirectory', 'resumeFrom'];

/**
 * Checks every option and fills in the defaults, before anything is allocated.
 *
 * @param options - the options given to `fitSasrec` (fitting options such as `onProgress` are accepted and ignored here).
 * @returns the hyper-parameters with every default filled in.
 * @throws GenrecError `INVALID_OPTION` naming the option (unknown names, NaN, out-of-range values,
 * an unknown loss, heads that do not divide the hidden size).
 * @example
 * ```ts
 * resolveSasrecSpec({ hiddenSize: 32 }).blocks; // 2
 * resolveSasrecSpec({ dropout: NaN }); // throws INVALID_OPTION (field 'dropout')
 * ```
 */
export function resolveSasrecSpec(options: FitSasrecOptions = {}): SasrecSpec {
  checkKnownOptions(options, [...HYPER_PARAMETERS, ...COMMON], 'fitSasrec');
  const o = options as SasrecOptions & { seed?: number };
  const d = SASREC_DEFAULTS;
  const hiddenSize = checkIntegerOption(o.hiddenSize ?? d.hiddenSize, 'hiddenSize', 1, 8192);
  const heads = checkIntegerOption(o.heads ?? d.heads, 'heads', 1, hiddenSize);
  if (hiddenSize % heads !== 0) {
    throw new GenrecError('INVALID_OPTION', `heads (${heads}) must divide hiddenSize (${hiddenSize})`, { details: { field: 'heads' } });
  }
  const loss = checkEnumOption(o.loss ?? d.loss, 'loss', SASREC_LOSSES);
  const sparseEmbeddings = checkBooleanOption(o.sparseEmbeddings ?? loss === 'sampled-softmax', 'sparseEmbeddings');
  if (sparseEmbeddings && loss === 'ce') {
    throw new GenrecError('INVALID_OPTION', "sparseEmbeddings needs loss 'sampled-softmax' or 'bce' (full softmax scores every item, so every embedding row has a gradient)", { details: { field: 'sparseEmbeddings' } });
  }
  return {
    hiddenSize,
    blocks: checkIntegerOption(o.blocks ?? d.blocks, 'blocks', 1, 64),
    heads,
    maxLength: checkIntegerOption(o.maxLength ?? d.maxLength, 'maxLength', 1, 4096),
    dropout: checkNumberOption(o.dropout ?? d.dropout, 'dropout', 0, 1, { maximumExclusive: true }),
    epochs: checkIntegerOption(o.epochs ?? d.epochs, 'epochs', 1, 1_000_000),
    batchSize: checkIntegerOption(o.batchSize ?? d.batchSize, 'batchSize', 1, 1_000_000),
    learningRate: checkNumberOption(o.learningRate ?? d.learningRate, 'learningRate', 0, 10, { minimumExclusive: true }),
    loss,
    negatives: checkIntegerOption(o.negatives ?? d.negatives, 'negatives', 1, 1_000_000),
    positionBucket: checkIntegerOption(o.positionBucket ?? d.positionBucket, 'positionBucket', 1, 1_000_000),
    sparseEmbeddings,
    inferenceBatchSize: checkIntegerOption(o.inferenceBatchSize ?? d.inferenceBatchSize, 'inferenceBatchSize', 1, 65_536),
    threads: checkIntegerOption(o.threads ?? d.threads, 'threads', 0, 1024),
    seed: checkIntegerOption(o.seed ?? 0, 'seed', 0),
  };
}

// early stopping is resolved by core's recommend kit (the same rule for every trained model)
export { resolveEarlyStopping, type ResolvedEarlyStopping } from '@genrec/core';
