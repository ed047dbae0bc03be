import { GenrecError, type StepModel, type StepModelInput, type StepSession } from '@genrec/core';
import { toInt64 } from '../int64.js';
import { buildCausalPrefillGraph, buildCausalStepGraph } from './causal-graphs.js';
import { causalTransformerWeightShapes, resolveCausalTransformerSpec, type CausalTransformerSpec, type ResolvedCausalTransformerSpec } from './causal-spec.js';
import type { FeedValue } from './graph-runner.js';
import { packContexts, splitByContextLength } from './packing.js';
import { checkRunnerPoolOptions, RunnerPool } from './runner-pool.js';
import { checkWeights, graphWeights, type TransformerWeights } from './spec.js';
import { StepTracker } from './step-tracker.js';

/** Options of {@link CausalTransformerStepModel.create}. */
export interface CausalTransformerStepModelOptions {
  /** The architecture. */
  spec: CausalTransformerSpec;
  /**
   * The weights in `@genrec/nn`'s layout (`Trainer.parameterValues()` of `nn.causalTransformer` as
   * is; names in {@link causalTransformerWeightShapes}). Copied at creation.
   */
  weights: TransformerWeights;
  /**
   * Worker threads, each with its own onnxruntime sessions (0: sessions in the calling thread).
   * @defaultValue the number of cores (`os.availableParallelism()`)
   */
  workers?: number;
  /** onnxruntime intra-op threads per worker. @defaultValue 1 */
  intraOpNumThreads?: number;
  /** Let onnxruntime's threads spin while waiting for work. @defaultValue true */
  allowSpinning?: boolean;
  /**
   * Users per sub-batch in {@link CausalTransformerStepModel.splitBatch} (as
   * `TransformerStepModel`'s). `Infinity` keeps every batch whole.
   * @defaultValue 8
   */
  subBatchUsers?: number;
}

const PREFILL = 'prefill';

/**
 * A {@link StepModel} for a decoder-only (causal) Transformer (`nn.causalTransformer` of
 * `@genrec/nn`, {@link CausalTransformerSpec}) run on onnxruntime graphs genrec builds from the
 * weights. `encode` takes each user's history as a token sequence (e.g. the concatenated code
 * tokens of the past items, left-padded with `padToken`) and runs it once (the prefill); the
 * session then decodes the next item's tokens one position per step:
 *
 * - step 0 returns the logits after each user's last context token; **its tokens are not read**
 *   (the decoders pass their start token; a model trained with a separator before each item gets
 *   it by ending the context with the separator);
 * - step `t >= 1` feeds each row's token `t` at the position after the context (`'column'`:
 *   `length + t - 1`; `'sequence'`: `realTokens + t - 1`) and attends to the user's cached
 *   context keys and values and to the row's own earlier tokens.
 *
 * As `TransformerStepModel`: padding is skipped (the context's real tokens are packed), the
 * context cache stays per user in the worker that computed it (the W hypotheses of a user are its
 * query rows, never copied per beam), earlier generated keys are gathered per hypothesis inside the
 * graph through the chain of parents, and batches are cut into length-sorted sub-batches run
 * concurrently on worker threads. A step costs one position per hypothesis.
 *
 * @example
 * ```ts
 * const model = await CausalTransformerStepModel.create({ spec, weights: trainer.parameterValues(), workers: 2 });
 * const result = await beamSearch(model, { tokens: histories, batchSize: 64, length: 80 }, { trie, beamWidth: 20, resultCount: 10 });
 * await model.dispose();
 * ```
 */
export class CausalTransformerStepModel implements StepModel {
  /** Width of the logits. */
  readonly vocabularySize: number;
  /** The architecture with defaults filled in. */
  readonly spec: ResolvedCausalTransformerSpec;
  readonly #pool: RunnerPool;
  readonly #subBatchUsers: number;
  #nextSession = 0;

  private constructor(spec: ResolvedCausalTransformerSpec, pool: RunnerPool, subBatchUsers: number) {
    this.spec = spec;
    this.vocabularySize = spec.vocabularySize;
    this.#pool = pool;
    this.#subBatchUsers = subBatchUsers;
  }

  /**
   * Checks the spec, weights and options, starts the runners and loads the prefill graph (step
   * graphs are built and loaded on first use). The weights are copied (projections transposed to
   * the graphs' `[in, out]` once).
   *
   * @param options - spec, weights, workers and threads
   * @returns the model (call `dispose()` when done)
   * @throws GenrecError `INVALID_OPTION` for a bad spec or option; `INVALID_INPUT` /
   *   `SHAPE_MISMATCH` / `DTYPE_MISMATCH` for bad weights (as `checkCausalTransformerWeights`);
   *   `RUNTIME_ERROR` when onnxruntime cannot load a graph.
   */
  static async create(options: CausalTransformerStepModelOptions): Promise<CausalTransformerStepModel> {
    const spec = resolveCausalTransformerSpec(options.spec);
    const shapes = causalTransformerWeightShapes(spec);
    checkWeights(shapes, options.weights);
    checkRunnerPoolOptions(options);
    const subBatchUsers = options.subBatchUsers ?? 8;
    if (!(subBatchUsers >= 1)) throw new GenrecError('INVALID_OPTION', `subBatchUsers must be >= 1, got ${subBatchUsers}`, { details: { field: 'subBatchUsers' } });
    const weights = graphWeights(shapes, options.weights);
    const build = (name: string): Uint8Array => (name === PREFILL ? buildCausalPrefillGraph(spec, weights) : buildCausalStepGraph(spec, weights, Number(name.slice(5))));
    const pool = await RunnerPool.create(options, build, [PREFILL]);
    return new CausalTransformerStepModel(spec, pool, subBatchUsers);
  }

  /**
   * Cuts a batch into sub-batches of users with similar context length (longest first), at least
   * one per runner and about `subBatchUsers` users each (see `TransformerStepModel.splitBatch`).
   *
   * @param input - the batch
   * @returns user indices per sub-batch, each ascending
   */
  splitBatch(input: StepModelInput): readonly Int32Array[] {
    return splitByContextLength(input.tokens, input.batchSize, input.length, this.spec.padToken, this.#pool.size, this.#subBatchUsers);
  }

  /**
   * Packs the batch's contexts (padding dropped) and runs the prefill on the least busy runner.
   *
   * @param input - the contexts, `batchSize x length`
   * @returns the session (its step 0 returns the prefill's logits)
   * @throws GenrecError `SHAPE_MISMATCH` for a wrong token count or a context whose positions do not
   *   fit `maxLength`; `INVALID_INPUT` for a token outside the vocabulary or a context with no token
   *   but padding; `RUNTIME_ERROR` when onnxruntime fails.
   */
  async encode(input: StepModelInput): Promise<StepSession> {
    if (this.#pool.disposed) throw new GenrecError('INVALID_INPUT', 'encode() on a disposed model');
    const { batchSize, length, tokens } = input;
    if (!Number.isInteger(batchSize) || batchSize <= 0 || !Number.isInteger(length) || length <= 0 || tokens.length !== batchSize * length) {
      throw new GenrecError('SHAPE_MISMATCH', `context input has ${tokens.length} tokens, expected batchSize x length = ${batchSize} x ${length}`, { details: { field: 'inputs' } });
    }
    const spec = this.spec;
    if (spec.positions === 'column' && length > spec.maxLength) {
      throw new GenrecError('SHAPE_MISMATCH', `context length ${length} exceeds the model's maxLength ${spec.maxLength} (positions are columns)`, { details: { field: 'inputs' } });
    }
    const packed = packContexts(spec, tokens, length, spec.positions);
    if (packed.slots > spec.maxLength) {
      throw new GenrecError('SHAPE_MISMATCH', `a context has ${packed.slots} tokens, more than the model's maxLength ${spec.maxLength}`, { details: { field: 'inputs' } });
    }
    const slots = packed.slots;
    const causal = new Float32Array(slots * slots);
    for (let i = 0; i < slots; i++) for (let j = i + 1; j < slots; j++) causal[i * slots + j] = Number.NEGATIVE_INFINITY;
    const lastIndex = new BigInt64Array(batchSize);
    let end = 0;
    for (let b = 0; b < batchSize; b++) {
      end += packed.counts[b]!;
      lastIndex[b] = BigInt(end - 1);
    }
    const feeds: Record<string, FeedValue> = {
      ...packed.feeds,
      causal_bias: { dtype: 'float32', data: causal, dims: [slots, slots] },
      last_index: { dtype: 'int64', data: lastIndex, dims: [batchSize] },
    };
    const id = this.#nextSession++;
    const history: Record<string, string> = {};
    for (let i = 0; i < spec.layers; i++) {
      history[`key_${i}`] = `${id}.history_key_${i}`;
      history[`value_${i}`] = `${id}.history_value_${i}`;
    }
    const work = packed.tokenCount + batchSize;
    const index = this.#pool.assign(work);
    let logits: Float32Array;
    try {
      logits = (await this.#pool.run(index, PREFILL, feeds, ['logits'], history)).logits!;
    } catch (error) {
      this.#pool.endSession(index, Object.values(history), work);
      throw error;
    }
    // the first generated position: after the context's last column, or after its last real token
    const firstPosition = new Int32Array(batchSize);
    for (let b = 0; b < batchSize; b++) firstPosition[b] = spec.positions === 'column' ? length : packed.counts[b]!;
    let furthest = 0;
    for (const value of firstPosition) furthest = Math.max(furthest, value);
    return new CausalSession(this.#pool, spec, { runner: index, id, batchSize, keyBias: packed.keyBias, history, work, logits, firstPosition, maxSteps: spec.maxLength - furthest + 1 });
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

interface CausalSessionState {
  runner: number;
  id: number;
  batchSize: number;
  keyBias: FeedValue;
  /** Graph input name (`history_key_i`…) -> key of the prefill output kept in the runner. */
  history: Record<string, string>;
  work: number;
  /** The prefill's logits, `batchSize x vocabularySize`. */
  logits: Float32Array;
  /** Position of each user's first generated token (step 1). */
  firstPosition: Int32Array;
  /** Steps whose positions fit `maxLength`. */
  maxSteps: number;
}

/** A session on one runner: the context cache and the generated keys and values stay there. */
class CausalSession implements StepSession {
  readonly batchSize: number;
  readonly #pool: RunnerPool;
  readonly #spec: ResolvedCausalTransformerSpec;
  readonly #state: CausalSessionState;
  readonly #historyFeeds: Record<string, string>;
  readonly #tracker: StepTracker;
  readonly #kept: string[];
  #running = false;

  constructor(pool: RunnerPool, spec: ResolvedCausalTransformerSpec, state: CausalSessionState) {
    this.#pool = pool;
    this.#spec = spec;
    this.#state = state;
    this.batchSize = state.batchSize;
    this.#historyFeeds = {};
    for (let i = 0; i < spec.layers; i++) {
      this.#historyFeeds[`history_key_${i}`] = state.history[`key_${i}`]!;
      this.#historyFeeds[`history_value_${i}`] = state.history[`value_${i}`]!;
    }
    this.#tracker = new StepTracker(state.batchSize, spec.vocabularySize, Math.max(1, state.maxSteps));
    this.#kept = Object.values(state.history);
  }

  async step(tokens: Int32Array, parents: Int32Array | null, beamsPerUser: number, final = false): Promise<Float32Array> {
    const tracker = this.#tracker;
    if (this.#running) throw new GenrecError('INVALID_INPUT', 'step() while another step of this session is running (await each step)');
    const rows = tracker.advance(tokens, parents, beamsPerUser);
    const { step, ancestors } = tracker;
    const V = this.#spec.vocabularySize;
    if (step === 0) {
      // the prefill's logits, one copy per beam
      const logits = new Float32Array(rows * V);
      const source = this.#state.logits;
      for (let row = 0; row < rows; row++) logits.set(source.subarray(Math.floor(row / beamsPerUser) * V, (Math.floor(row / beamsPerUser) + 1) * V), row * V);
      tracker.done(beamsPerUser);
      if (final) this.dispose();
      return logits;
    }
    const layers = this.#spec.layers;
    const positions = new Int32Array(rows);
    for (let row = 0; row < rows; row++) positions[row] = this.#state.firstPosition[Math.floor(row / beamsPerUser)]! + step - 1;
    const id = this.#state.id;
    const feeds: Record<string, FeedValue> = {
      tokens: { dtype: 'int64', data: toInt64(tokens), dims: [rows] },
      positions: { dtype: 'int64', data: toInt64(positions), dims: [rows] },
      key_bias: this.#state.keyBias,
      ...this.#historyFeeds,
    };
    for (let j = 1; j < step; j++) {
      feeds[`ancestors_${j}`] = { dtype: 'int64', data: toInt64(ancestors[j]!), dims: [rows] };
      for (let i = 0; i < layers; i++) {
        feeds[`past_key_${j}_${i}`] = `${id}.${j}.key_${i}`;
        feeds[`past_value_${j}_${i}`] = `${id}.${j}.value_${i}`;
      }
    }
    const keep: Record<string, string> = {};
    if (!final) {
      for (let i = 0; i < layers; i++) {
        keep[`key_${i}`] = `${id}.${step}.key_${i}`;
        keep[`value_${i}`] = `${id}.${step}.value_${i}`;
      }
    }
    let logits: Float32Array;
    this.#running = true;
    try {
      logits = (await this.#pool.run(this.#state.runner, `step_${step}`, feeds, ['logits'], keep)).logits!;
    } catch (error) {
      this.#running = false;
      this.dispose();
      throw error;
    }
    this.#running = false;
    if (tracker.closed) this.#pool.release(this.#state.runner, Object.values(keep));
    else this.#kept.push(...Object.values(keep));
    tracker.done(beamsPerUser);
    if (final) this.dispose();
    return logits;
  }

  dispose(): void {
    if (this.#tracker.closed) return;
    this.#tracker.closed = true;
    this.#pool.endSession(this.#state.runner, this.#kept, this.#state.work);
    this.#kept.length = 0;
  }
}
