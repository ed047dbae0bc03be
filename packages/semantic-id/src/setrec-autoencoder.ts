import { createMatrix, GenrecError, Rng, type Matrix, type ProgressCallback, type Seed } from '@genrec/core';
import { nn, ops, optimizers, Trainer, type SymbolicTensor } from '@genrec/nn';

/** Options of {@link setRecAutoencoder}. */
export interface SetRecAutoencoderOptions {
  /** Semantic tokens n: the latent is split into n vectors. @defaultValue 4 */
  semanticSlots?: number;
  /** Encoder widths; the last one is the latent size (must divide by n). The decoder mirrors them. @defaultValue [512, 256, 128] */
  hidden?: readonly number[];
  /** Parameter-name scope. @defaultValue 'setrec_autoencoder' */
  name?: string;
}

/** The tensors {@link setRecAutoencoder} adds to a graph. */
export interface SetRecAutoencoderGraph {
  /** `[batch, latent]`. */
  latent: SymbolicTensor;
  /** `[batch, n, latent / n]`: the n semantic tokens of each item. */
  tokens: SymbolicTensor;
  /** `[batch, input dimension]`. */
  reconstruction: SymbolicTensor;
  /** Scalar mean squared reconstruction error (SETRec trains `CE + alpha * this`, alpha 0.7). */
  reconstructionLoss: SymbolicTensor;
}

/**
 * SETRec's semantic tokenizer as an `@genrec/nn` module: an MLP encoder (ReLU between layers,
 * widths 512/256/128 by default) maps an item's text embedding to a latent split into n token
 * vectors; a mirrored decoder reconstructs the embedding, and the mean squared error is returned
 * so a model package can train it jointly with the recommender.
 *
 * @throws GenrecError `INVALID_OPTION` when the latent size is not a multiple of n.
 * @example
 * ```ts
 * const x = graph.input('text', 'float32', [batch, 768]);
 * const { tokens, reconstructionLoss } = setRecAutoencoder(x, { semanticSlots: 4 });
 * ```
 */
export function setRecAutoencoder(x: SymbolicTensor, options: SetRecAutoencoderOptions = {}): SetRecAutoencoderGraph {
  const hidden = options.hidden ?? [512, 256, 128];
  const slots = options.semanticSlots ?? 4;
  const latentSize = hidden[hidden.length - 1];
  if (latentSize === undefined || !Number.isInteger(slots) || slots < 1 || latentSize % slots !== 0) {
    throw new GenrecError('INVALID_OPTION', `the latent size ${String(latentSize)} must be a multiple of semanticSlots ${slots}`, { details: { field: 'hidden' } });
  }
  const inputSize = x.shape[x.rank - 1]!;
  const batch = x.shape[0]!;
  const name = options.name ?? 'setrec_autoencoder';
  let h = x;
  hidden.forEach((width, layer) => {
    h = nn.linear(h, `${name}.encoder${layer}`, width);
    if (layer < hidden.length - 1) h = ops.relu(h);
  });
  const latent = h;
  const widths = [...hidden.slice(0, -1)].reverse();
  widths.forEach((width, layer) => {
    h = ops.relu(nn.linear(h, `${name}.decoder${layer}`, width));
  });
  const reconstruction = nn.linear(h, `${name}.decoder${widths.length}`, inputSize);
  const difference = ops.sub(reconstruction, x);
  return {
    latent,
    tokens: ops.reshape(latent, [batch, slots, latentSize / slots]),
    reconstruction,
    reconstructionLoss: ops.reduceMean(ops.mul(difference, difference)),
  };
}

/** Options of {@link trainSetRecAutoencoder}. */
export interface TrainSetRecAutoencoderOptions extends SetRecAutoencoderOptions {
  /** Passes over the items. @defaultValue 20 */
  epochs?: number;
  /** Items per step. @defaultValue 256 */
  batchSize?: number;
  /** Adam learning rate. @defaultValue 1e-3 */
  learningRate?: number;
  /** Seed of the initialisation and the shuffling. @defaultValue 0 */
  seed?: Seed;
  /** `epoch-end` progress (task `'setrec-autoencoder'`, metric `loss`). */
  onProgress?: ProgressCallback;
}

/**
 * Trains the SETRec autoencoder alone (reconstruction only) on item text embeddings and returns
 * the n semantic token vectors of every item, ready for `SetIds.continuous` (with a CF slot in
 * front). Each epoch visits the items in a new random order; a last partial batch is dropped.
 *
 * @throws GenrecError `INVALID_INPUT` when there are fewer items than one batch.
 * @example
 * ```ts
 * const { tokens } = await trainSetRecAutoencoder(textVectors, { semanticSlots: 4, epochs: 20 });
 * const table = SetIds.continuous(itemIds, [cfVectors, ...tokens]);
 * ```
 */
export async function trainSetRecAutoencoder(
  vectors: Matrix,
  options: TrainSetRecAutoencoderOptions = {},
): Promise<{ tokens: Matrix[]; epochLosses: number[] }> {
  const batchSize = Math.min(options.batchSize ?? 256, vectors.rows);
  if (vectors.rows === 0 || batchSize < 1) throw new GenrecError('INVALID_INPUT', 'the autoencoder needs at least one item');
  const d = vectors.cols;
  const slots = options.semanticSlots ?? 4;
  const hidden = options.hidden ?? [512, 256, 128];
  const moduleOptions: SetRecAutoencoderOptions = { semanticSlots: slots, hidden, ...(options.name ? { name: options.name } : {}) };
  const trainer = await Trainer.create({
    build: (graph) => ({ loss: setRecAutoencoder(graph.input('x', 'float32', [batchSize, d]), moduleOptions).reconstructionLoss }),
    optimizer: optimizers.adam(),
    seed: options.seed ?? 0,
  });
  const rng = new Rng(options.seed ?? 0);
  const batch = new Float32Array(batchSize * d);
  const epochLosses: number[] = [];
  const epochs = options.epochs ?? 20;
  try {
    options.onProgress?.({ type: 'task-start', task: 'setrec-autoencoder', done: 0, total: epochs, unit: 'epochs' });
    const started = performance.now();
    for (let epoch = 0; epoch < epochs; epoch++) {
      const order = rng.permutation(vectors.rows);
      let sum = 0;
      let steps = 0;
      for (let start = 0; start + batchSize <= vectors.rows; start += batchSize) {
        for (let r = 0; r < batchSize; r++) batch.set(vectors.data.subarray(order[start + r]! * d, order[start + r]! * d + d), r * d);
        const { loss } = await trainer.step({ x: batch }, { learningRate: options.learningRate ?? 1e-3 });
        sum += loss;
        steps++;
      }
      epochLosses.push(sum / steps);
      options.onProgress?.({ type: 'task-progress', task: 'setrec-autoencoder', done: epoch + 1, total: epochs, unit: 'epochs', metrics: { loss: sum / steps } });
    }
    options.onProgress?.({ type: 'task-end', task: 'setrec-autoencoder', done: epochs, total: epochs, unit: 'epochs', elapsedMs: performance.now() - started });
    const inference = await trainer.compileInference((graph) => ({ latent: setRecAutoencoder(graph.input('x', 'float32', [batchSize, d]), moduleOptions).latent }));
    const latentSize = hidden[hidden.length - 1]!;
    const width = latentSize / slots;
    const tokens = Array.from({ length: slots }, () => createMatrix(vectors.rows, width));
    for (let start = 0; start < vectors.rows; start += batchSize) {
      const count = Math.min(batchSize, vectors.rows - start);
      batch.fill(0);
      batch.set(vectors.data.subarray(start * d, (start + count) * d));
      const latent = (await inference.run({ x: batch })).latent as Float32Array;
      for (let r = 0; r < count; r++) {
        for (let s = 0; s < slots; s++) tokens[s]!.data.set(latent.subarray(r * latentSize + s * width, r * latentSize + (s + 1) * width), (start + r) * width);
      }
    }
    await inference.release();
    return { tokens, epochLosses };
  } finally {
    await trainer.release();
  }
}
