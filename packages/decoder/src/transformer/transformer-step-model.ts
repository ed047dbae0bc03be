import { GenrecError, type StepModel, type StepModelInput, type StepSession } from '@genrec/core';
import { toInt64 } from '../int64.js';
import type { FeedValue } from './graph-runner.js';
import { buildDecoderStepGraph, buildEncoderGraph } from './graphs.js';
import { packContexts, splitByContextLength } from './packing.js';
import { checkRunnerPoolOptions, RunnerPool } from './runner-pool.js';
import { checkWeights, graphWeights, resolveTransformerSpec, transformerWeightShapes, type ResolvedTransformerSpec, type TransformerSpec, type TransformerWeights } from './spec.js';
import { StepTracker } from './step-tracker.js';

/** Options of {@link TransformerStepModel.create}. */
export interface TransformerStepModelOptions {
  /** The architecture. */
  spec: TransformerSpec;
  /**
   * The weights, by the names of {@link TransformerWeights} (`@genrec/nn`'s layout:
   * `Trainer.parameterValues()` of `nn.encoderDecoderTransformer` as is). Copied at creation.
   */
  weights: TransformerWeights;
  /**
   * Worker threads, each with its own onnxruntime sessions; a batch's users are split into this
   * many contiguous parts run concurrently (fewer when the batch has fewer users). 0 runs the
   * sessions in the calling thread.
   * @defaultValue the number of cores (`os.availableParallelism()`)
   */
  workers?: number;
  /**
   * onnxruntime intra-op threads per worker (or of the in-thread sessions). More than 1 rarely
   * helps these small operators and, with spinning threads on a busy machine, can be much slower
   * (measured 2-3x slower at batch 1 on the 2-core VM).
   * @defaultValue 1
   */
  intraOpNumThreads?: number;
  /** Let onnxruntime's threads spin while waiting for work. @defaultValue true */
  allowSpinning?: boolean;
  /**
   * Users per sub-batch in {@link TransformerStepModel.splitBatch}: a batch is cut into
   * `max(runners, ceil(batchSize / subBatchUsers))` groups of similar context length (at most one
   * per user). `Infinity` keeps every batch whole (one sub-batch per runner).
   * @defaultValue 8
   */
  subBatchUsers?: number;
}

const ENCODER = 'encoder';

/**
 * A {@link StepModel} that builds its own onnxruntime graphs for an encoder-decoder Transformer
 * (TIGER's architecture, {@link TransformerSpec}) from weights, instead of running an exported
 * file. Same arithmetic as the plain model, less work:
 *
 * - the encoder computes only the real tokens of each context (padding is skipped, positions are
 *   passed explicitly), and attention reads them through index gathers;
 * - each decoder position has its own graph; earlier positions' keys and values stay in
 *   onnxruntime tensors where they were produced and are gathered per hypothesis inside the graph
 *   (through the chain of parents), so no cache is reordered or copied in JavaScript;
 * - cross-attention keys are per user (never copied per beam); self-attention over the few
 *   positions is elementwise; the first layer's input projections are tables over the vocabulary;
 * - with `workers`, a batch's users are split over worker threads (one onnxruntime thread each).
 *
 * @example
 * ```ts
 * const model = await TransformerStepModel.create({ spec, weights, workers: 2 });
 * const result = await beamSearch(model, { tokens, batchSize: 64, length: 80 }, { trie, beamWidth: 20, resultCount: 10 });
 * await model.dispose();
 * ```
 */
export class TransformerStepModel implements StepModel {
  /** Width of the logits. */
  readonly vocabularySize: number;
  /** The architecture with defaults filled in. */
  readonly spec: ResolvedTransformerSpec;
  readonly #pool: RunnerPool;
  readonly #subBatchUsers: number;
  #nextSession = 0;

  private constructor(spec: ResolvedTransformerSpec, pool: RunnerPool, subBatchUsers: number) {
    this.spec = spec;
    this.vocabularySize = spec.vocabularySize;
    this.#pool = pool;
    this.#subBatchUsers = subBatchUsers;
  }

  /**
   * Checks the spec and weights, starts the runners and loads the encoder graph (decoder position
   * graphs are built and loaded on first use). The weights are copied (projections transposed to
   * the graphs' `[in, out]` once).
   *
   * @param options - spec, weights, workers and threads
   * @returns the model (call `dispose()` when done)
   * @throws GenrecError `INVALID_OPTION` for a bad spec or option; as `checkTransformerWeights`
   *   for the weights; `RUNTIME_ERROR` when onnxruntime cannot load a graph.
   */
  static async create(options: TransformerStepModelOptions): Promise<TransformerStepModel> {
    const spec = resolveTransformerSpec(options.spec);
    const shapes = transformerWeightShapes(spec);
    checkWeights(shapes, options.weights);
    checkRunnerPoolOptions(options);
    const subBatchUsers = options.subBatchUsers ?? 8;
    if (!(subBatchUsers >= 1)) throw new GenrecError('INVALID_OPTION', `subBatchUsers must be >= 1, got ${subBatchUsers}`, { details: { field: 'subBatchUsers' } });
    const weights = graphWeights(shapes, options.weights);
    const build = (name: string): Uint8Array => (name === ENCODER ? buildEncoderGraph(spec, weights) : buildDecoderStepGraph(spec, weights, Number(name.slice(5))));
    const pool = await RunnerPool.create(options, build, [ENCODER]);
    return new TransformerStepModel(spec, pool, subBatchUsers);
  }

  /**
   * Cuts a batch into sub-batches of users with similar context length (longest first), at least
   * one per runner and about `subBatchUsers` users each, so that `beamSearch` runs them
   * concurrently: the runners work in parallel, while one sub-batch's search step runs in
   * JavaScript the runner serves another, and shorter contexts are not padded to the longest.
   */
  splitBatch(input: StepModelInput): readonly Int32Array[] {
    return splitByContextLength(input.tokens, input.batchSize, input.length, this.spec.padToken, this.#pool.size, this.#subBatchUsers);
  }

  /**
   * Packs the batch's contexts (padding dropped) and runs the encoder on the least busy runner.
   *
   * @throws GenrecError `SHAPE_MISMATCH` for a wrong token count or a context longer than
   *   `maxSourceLength`; `INVALID_INPUT` for a token outside the vocabulary or a context with no
   *   token but padding; `RUNTIME_ERROR` when onnxruntime fails.
   */
  async encode(input: StepModelInput): Promise<StepSession> {
    if (this.#pool.disposed) throw new GenrecError('INVALID_INPUT', 'encode() on a disposed model');
    const { batchSize, length, tokens } = input;
    if (!Number.isInteger(batchSize) || batchSize <= 0 || !Number.isInteger(length) || length <= 0 || tokens.length !== batchSize * length) {
      throw new GenrecError('SHAPE_MISMATCH', `encoder input has ${tokens.length} tokens, expected batchSize x length = ${batchSize} x ${length}`, { details: { field: 'inputs' } });
    }
    if (length > this.spec.maxSourceLength) {
      throw new GenrecError('SHAPE_MISMATCH', `encoder input length ${length} exceeds the model's maxSourceLength ${this.spec.maxSourceLength}`, { details: { field: 'inputs' } });
    }
    const packed = packContexts(this.spec, tokens, length);
    const id = this.#nextSession++;
    const cross: Record<string, string> = {};
    for (let i = 0; i < this.spec.decoderLayers; i++) {
      cross[`cross_key_${i}`] = `${id}.cross_key_${i}`;
      cross[`cross_value_${i}`] = `${id}.cross_value_${i}`;
    }
    const work = packed.tokenCount + batchSize;
    const index = this.#pool.assign(work);
    try {
      await this.#pool.run(index, ENCODER, packed.feeds, [], cross);
    } catch (error) {
      this.#pool.endSession(index, Object.values(cross), work);
      throw error;
    }
    return new TransformerSession(this.#pool, this.spec, index, id, batchSize, packed.keyBias, cross, work);
  }

  /**
   * Stops the workers and releases every session.
   *
   * @returns when the runners have stopped
   */
  async dispose(): Promise<void> {
    await this.#pool.dispose();
  }
}

/** A session on one runner: earlier positions' keys and values stay in that runner. */
class TransformerSession implements StepSession {
  readonly batchSize: number;
  readonly #pool: RunnerPool;
  readonly #layers: number;
  readonly #runner: number;
  readonly #id: number;
  readonly #keyBias: FeedValue;
  readonly #cross: Readonly<Record<string, string>>;
  readonly #work: number;
  readonly #tracker: StepTracker;
  readonly #kept: string[];
  #running = false;

  constructor(pool: RunnerPool, spec: ResolvedTransformerSpec, runner: number, id: number, batchSize: number, keyBias: FeedValue, cross: Record<string, string>, work: number) {
    this.#pool = pool;
    this.#layers = spec.decoderLayers;
    this.#runner = runner;
    this.#id = id;
    this.batchSize = batchSize;
    this.#keyBias = keyBias;
    this.#cross = cross;
    this.#work = work;
    this.#tracker = new StepTracker(batchSize, spec.vocabularySize, spec.maxTargetLength);
    this.#kept = Object.values(cross);
  }

  async step(tokens: Int32Array, parents: Int32Array | null, beamsPerUser: number, final = false): Promise<Float32Array> {
    const tracker = this.#tracker;
    if (this.#running) throw new GenrecError('INVALID_INPUT', 'step() while another step of this session is running (await each step)');
    const rows = tracker.advance(tokens, parents, beamsPerUser);
    const { step, ancestors } = tracker;
    const layers = this.#layers;
    const feeds: Record<string, FeedValue> = { tokens: { dtype: 'int64', data: toInt64(tokens), dims: [rows] }, key_bias: this.#keyBias, ...this.#cross };
    for (let j = 0; j < step; j++) {
      feeds[`ancestors_${j}`] = { dtype: 'int64', data: toInt64(ancestors[j]!), dims: [rows] };
      for (let i = 0; i < layers; i++) {
        feeds[`past_key_${j}_${i}`] = `${this.#id}.${j}.key_${i}`;
        feeds[`past_value_${j}_${i}`] = `${this.#id}.${j}.value_${i}`;
      }
    }
    const keep: Record<string, string> = {};
    if (!final) {
      for (let i = 0; i < layers; i++) {
        keep[`key_${i}`] = `${this.#id}.${step}.key_${i}`;
        keep[`value_${i}`] = `${this.#id}.${step}.value_${i}`;
      }
    }
    let logits: Float32Array;
    this.#running = true;
    try {
      logits = (await this.#pool.run(this.#runner, `step_${step}`, feeds, ['logits'], keep)).logits!;
    } catch (error) {
      this.#running = false;
      this.dispose();
      throw error;
    }
    this.#running = false;
    // the run stored this position's keys and values: free them with the session (at once if it
    // was disposed while the run was in flight)
    if (tracker.closed) this.#pool.release(this.#runner, Object.values(keep));
    else this.#kept.push(...Object.values(keep));
    tracker.done(beamsPerUser);
    if (final) this.dispose();
    return logits;
  }

  dispose(): void {
    if (this.#tracker.closed) return;
    this.#tracker.closed = true;
    this.#pool.endSession(this.#runner, this.#kept, this.#work);
    this.#kept.length = 0;
  }
}
