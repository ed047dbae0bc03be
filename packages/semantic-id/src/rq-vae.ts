import { assertFinite, createMatrix, GenrecError, Rng, type Matrix, type ProgressCallback, type Seed } from '@genrec/core';
import { nn, ops, optimizers, Trainer, type Graph, type SymbolicTensor } from '@genrec/nn';
import { assignNearest } from './kmeans.js';
import { squaredRowNorms } from './kernels.js';
import { fitResidualKMeans, ResidualQuantizer } from './residual-quantizer.js';

/** Options of {@link fitRqVae}. */
export interface RqVaeOptions {
  /** Encoder widths before the latent (the decoder mirrors them). @defaultValue [512, 256, 128] */
  hidden?: readonly number[];
  /** Latent dimension (TIGER: 32). @defaultValue 32 */
  latentDimension?: number;
  /** Quantiser levels. @defaultValue 3 */
  levels?: number;
  /** Codes per level. @defaultValue 256 */
  codebookSize?: number;
  /** Passes over the items. @defaultValue 20 */
  epochs?: number;
  /** Items per step. @defaultValue 256 */
  batchSize?: number;
  /** Adam learning rate. @defaultValue 1e-3 */
  learningRate?: number;
  /** Weight β of the commitment loss `||r - sg(q)||²`. @defaultValue 0.25 */
  commitment?: number;
  /** After every epoch, codes no item used move onto random residuals of the last batch. @defaultValue true */
  restartDeadCodes?: boolean;
  /** Seed. @defaultValue 0 */
  seed?: Seed;
  /** Progress per epoch (task `'rq-vae'`, metrics `loss`, `reconstruction`). */
  onProgress?: ProgressCallback;
}

/** What {@link fitRqVae} returns. */
export interface RqVaeFit {
  /** Codes of every item, `items x levels`. */
  codes: Int32Array;
  /** The latent-space residual quantiser (its codebooks are the trained ones). */
  quantizer: ResidualQuantizer;
  /** Latent vectors of the items, `items x latentDimension`. */
  latent: Matrix;
  /** Mean reconstruction MSE per epoch. */
  reconstructionErrors: number[];
  /** Mean total loss per epoch. */
  epochLosses: number[];
  /** Distinct codes used / codebook size, per level, after training. */
  utilisationPerLevel: number[];
  /** Codes restarted over training, per level. */
  restartedCodes: number[];
}

const SCOPE = 'rqvae';

function encoder(x: SymbolicTensor, hidden: readonly number[], latent: number): SymbolicTensor {
  let h = x;
  hidden.forEach((width, layer) => (h = ops.relu(nn.linear(h, `${SCOPE}.encoder${layer}`, width))));
  return nn.linear(h, `${SCOPE}.encoder${hidden.length}`, latent);
}

function decoder(z: SymbolicTensor, hidden: readonly number[], output: number): SymbolicTensor {
  let h = z;
  [...hidden].reverse().forEach((width, layer) => (h = ops.relu(nn.linear(h, `${SCOPE}.decoder${layer}`, width))));
  return nn.linear(h, `${SCOPE}.decoder${hidden.length}`, output);
}

function meanSquare(x: SymbolicTensor): SymbolicTensor {
  return ops.reduceMean(ops.mul(x, x));
}

/**
 * RQ-VAE (TIGER's tokenizer) trained with `@genrec/nn`: an MLP encoder to a latent, residual vector
 * quantisation with `levels` codebooks, a mirrored decoder, the straight-through estimator
 * (`z + sg(ẑ - z)`), loss = reconstruction MSE + Σ_l (`||sg(r_l) - q_l||²` + β `||r_l - sg(q_l)||²`).
 * Codebooks start from residual k-means on the initial latents; codes that no item used in an
 * epoch restart on random residuals. Nearest codes are found outside the graph (matrix products)
 * and fed as inputs.
 *
 * @throws GenrecError `INVALID_INPUT` for non-finite vectors or fewer items than codes.
 * @example
 * ```ts
 * const fit = await fitRqVae(textVectors, { levels: 3, codebookSize: 256, latentDimension: 32 });
 * const ids = SemanticIds.fromCodes(fit.quantizer, itemIds, fit.codes);
 * ```
 */
export async function fitRqVae(vectors: Matrix, options: RqVaeOptions = {}): Promise<RqVaeFit> {
  const n = vectors.rows;
  const d = vectors.cols;
  const hidden = options.hidden ?? [512, 256, 128];
  const latentSize = options.latentDimension ?? 32;
  const levels = options.levels ?? 3;
  const codebookSize = options.codebookSize ?? 256;
  const batchSize = Math.min(options.batchSize ?? 256, n);
  const beta = options.commitment ?? 0.25;
  assertFinite(vectors, 'RQ-VAE input');
  if (n < codebookSize) throw new GenrecError('INVALID_INPUT', `an RQ-VAE with ${codebookSize} codes per level needs at least ${codebookSize} items, got ${n}`);
  const seed = options.seed ?? 0;
  const trainer = await Trainer.create({
    seed,
    optimizer: optimizers.adam(),
    build: (graph: Graph) => {
      const x = graph.input('x', 'float32', [batchSize, d]);
      const z = encoder(x, hidden, latentSize);
      let residual = z;
      let reconstructionOfZ: SymbolicTensor | undefined;
      let quantisationLoss: SymbolicTensor | undefined;
      for (let level = 0; level < levels; level++) {
        const codebook = graph.parameter(`${SCOPE}.codebook${level}`, [codebookSize, latentSize]);
        const q = ops.gather(codebook, graph.input(`codes${level}`, 'int32', [batchSize]));
        const term = ops.add(meanSquare(ops.sub(ops.stopGradient(residual), q)), ops.mul(meanSquare(ops.sub(residual, ops.stopGradient(q))), beta));
        quantisationLoss = quantisationLoss ? ops.add(quantisationLoss, term) : term;
        reconstructionOfZ = reconstructionOfZ ? ops.add(reconstructionOfZ, q) : q;
        residual = ops.sub(residual, ops.stopGradient(q));
      }
      const straightThrough = ops.add(z, ops.stopGradient(ops.sub(reconstructionOfZ!, z)));
      const reconstruction = meanSquare(ops.sub(decoder(straightThrough, hidden, d), x));
      return { loss: ops.add(reconstruction, quantisationLoss!), outputs: { reconstruction } };
    },
  });
  const rng = new Rng(seed);
  try {
    const encode = await trainer.compileInference((graph: Graph) => ({ z: encoder(graph.input('x', 'float32', [batchSize, d]), hidden, latentSize) }));
    const latentsOf = async (): Promise<Matrix> => {
      const out = createMatrix(n, latentSize);
      const batch = new Float32Array(batchSize * d);
      for (let start = 0; start < n; start += batchSize) {
        const count = Math.min(batchSize, n - start);
        batch.fill(0);
        batch.set(vectors.data.subarray(start * d, (start + count) * d));
        const z = (await encode.run({ x: batch })).z as Float32Array;
        out.data.set(z.subarray(0, count * latentSize), start * latentSize);
      }
      return out;
    };
    const codebookOf = (level: number): Matrix => createMatrix(codebookSize, latentSize, (trainer.parameter(`${SCOPE}.codebook${level}`) as Float32Array).slice());
    // k-means initialisation of the codebooks on the initial latents.
    const initial = await fitResidualKMeans(await latentsOf(), { levels, codebookSize, seed: rng.nextUint32(), maxIterations: 10 });
    initial.quantizer.codebooks.forEach((codebook, level) => trainer.setParameter(`${SCOPE}.codebook${level}`, codebook.data.slice()));

    const epochs = options.epochs ?? 20;
    const batch = new Float32Array(batchSize * d);
    const latentBatch = createMatrix(batchSize, latentSize);
    const codeFeeds = Array.from({ length: levels }, () => new Int32Array(batchSize));
    const rows = Int32Array.from({ length: batchSize }, (_, i) => i);
    const scratch = [new Float64Array(batchSize), new Float64Array(batchSize)] as const;
    const reconstructionErrors: number[] = [];
    const epochLosses: number[] = [];
    const restartedCodes = new Array<number>(levels).fill(0);
    const started = performance.now();
    options.onProgress?.({ type: 'task-start', task: 'rq-vae', done: 0, total: epochs, unit: 'epochs' });
    for (let epoch = 0; epoch < epochs; epoch++) {
      const order = rng.permutation(n);
      const usage = Array.from({ length: levels }, () => new Int32Array(codebookSize));
      const lastResiduals: Matrix[] = [];
      let lossSum = 0;
      let reconstructionSum = 0;
      let steps = 0;
      for (let start = 0; start + batchSize <= n; start += batchSize) {
        for (let r = 0; r < batchSize; r++) batch.set(vectors.data.subarray(order[start + r]! * d, order[start + r]! * d + d), r * d);
        latentBatch.data.set((await encode.run({ x: batch })).z as Float32Array);
        lastResiduals.length = 0;
        for (let level = 0; level < levels; level++) {
          lastResiduals.push(createMatrix(batchSize, latentSize, latentBatch.data.slice()));
          const codebook = codebookOf(level);
          const labels = codeFeeds[level]!;
          labels.fill(-1);
          await assignNearest(latentBatch, squaredRowNorms(latentBatch), rows, batchSize, codebook, labels, scratch[0], scratch[1], 'auto');
          for (let r = 0; r < batchSize; r++) {
            usage[level]![labels[r]!]!++;
            for (let t = 0; t < latentSize; t++) latentBatch.data[r * latentSize + t] = latentBatch.data[r * latentSize + t]! - codebook.data[labels[r]! * latentSize + t]!;
          }
        }
        const feeds: Record<string, Float32Array | Int32Array> = { x: batch };
        codeFeeds.forEach((codes, level) => (feeds[`codes${level}`] = codes));
        const result = await trainer.step(feeds, { learningRate: options.learningRate ?? 1e-3 });
        lossSum += result.loss;
        reconstructionSum += (result.outputs.reconstruction as Float32Array)[0]!;
        steps++;
      }
      if (options.restartDeadCodes ?? true) {
        for (let level = 0; level < levels; level++) {
          const codebook = codebookOf(level);
          let restarted = 0;
          for (let code = 0; code < codebookSize; code++) {
            if (usage[level]![code]! > 0) continue;
            const source = lastResiduals[level]!;
            const row = rng.int(source.rows);
            codebook.data.set(source.data.subarray(row * latentSize, (row + 1) * latentSize), code * latentSize);
            restarted++;
          }
          if (restarted > 0) trainer.setParameter(`${SCOPE}.codebook${level}`, codebook.data);
          restartedCodes[level] = restartedCodes[level]! + restarted;
        }
      }
      epochLosses.push(lossSum / steps);
      reconstructionErrors.push(reconstructionSum / steps);
      options.onProgress?.({ type: 'task-progress', task: 'rq-vae', done: epoch + 1, total: epochs, unit: 'epochs', metrics: { loss: lossSum / steps, reconstruction: reconstructionSum / steps } });
    }
    options.onProgress?.({ type: 'task-end', task: 'rq-vae', done: epochs, total: epochs, unit: 'epochs', elapsedMs: performance.now() - started });
    const latent = await latentsOf();
    await encode.release();
    const quantizer = new ResidualQuantizer(Array.from({ length: levels }, (_, level) => codebookOf(level)));
    const codes = await quantizer.encode(latent);
    const utilisationPerLevel = Array.from({ length: levels }, (_, level) => {
      const used = new Set<number>();
      for (let i = 0; i < n; i++) used.add(codes[i * levels + level]!);
      return used.size / codebookSize;
    });
    return { codes, quantizer, latent, reconstructionErrors, epochLosses, utilisationPerLevel, restartedCodes };
  } finally {
    await trainer.release();
  }
}
