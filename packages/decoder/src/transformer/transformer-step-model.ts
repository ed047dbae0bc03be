import { availableParallelism } from 'node:os';
import { GenrecError, type StepModel, type StepModelInput, type StepSession } from '@genrec/core';
import { toInt64 } from '../int64.js';
import { LocalGraphRunner, WorkerGraphRunner, type FeedValue, type GraphRunner } from './graph-runner.js';
import { buildDecoderStepGraph, buildEncoderGraph } from './graphs.js';
import { checkTransformerWeights, resolveTransformerSpec, type ResolvedTransformerSpec, type TransformerSpec, type TransformerWeights } from './spec.js';

/** Options of {@link TransformerStepModel.create}. */
export interface TransformerStepModelOptions {
  /** The architecture. */
  spec: TransformerSpec;
  /** The weights, by the names of {@link TransformerWeights}. */
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
  readonly #weights: TransformerWeights;
  readonly #runners: GraphRunner[];
  readonly #graphs = new Map<string, Uint8Array>();
  readonly #loaded: Array<Map<string, Promise<void>>>;
  /** Estimated work of the sessions open on each runner (context tokens). */
  readonly #load: Float64Array;
  readonly #subBatchUsers: number;
  #nextSession = 0;
  #disposed = false;

  private constructor(spec: ResolvedTransformerSpec, weights: TransformerWeights, runners: GraphRunner[], subBatchUsers: number) {
    this.spec = spec;
    this.vocabularySize = spec.vocabularySize;
    this.#weights = weights;
    this.#runners = runners;
    this.#loaded = runners.map(() => new Map());
    this.#load = new Float64Array(runners.length);
    this.#subBatchUsers = subBatchUsers;
  }

  /**
   * Checks the spec and weights, starts the runners and loads the encoder graph (decoder position
   * graphs are built and loaded on first use).
   *
   * @throws GenrecError `INVALID_OPTION` for a bad spec or option; as {@link checkTransformerWeights}
   *   for the weights; `RUNTIME_ERROR` when onnxruntime cannot load a graph.
   */
  static async create(options: TransformerStepModelOptions): Promise<TransformerStepModel> {
    const spec = resolveTransformerSpec(options.spec);
    checkTransformerWeights(spec, options.weights);
    const cores = availableParallelism();
    const workers = options.workers ?? cores;
    if (!Number.isInteger(workers) || workers < 0) throw new GenrecError('INVALID_OPTION', `workers must be a non-negative integer, got ${workers}`, { details: { field: 'workers' } });
    const threads = options.intraOpNumThreads ?? 1;
    if (!Number.isInteger(threads) || threads < 1) throw new GenrecError('INVALID_OPTION', `intraOpNumThreads must be a positive integer, got ${threads}`, { details: { field: 'intraOpNumThreads' } });
    const subBatchUsers = options.subBatchUsers ?? 8;
    if (!(subBatchUsers >= 1)) throw new GenrecError('INVALID_OPTION', `subBatchUsers must be >= 1, got ${subBatchUsers}`, { details: { field: 'subBatchUsers' } });
    const runnerOptions = { intraOpNumThreads: threads, allowSpinning: options.allowSpinning ?? true };
    const runners: GraphRunner[] = workers === 0 ? [new LocalGraphRunner(runnerOptions)] : Array.from({ length: workers }, () => new WorkerGraphRunner(runnerOptions));
    const model = new TransformerStepModel(spec, options.weights, runners, subBatchUsers);
    try {
      await Promise.all(runners.map((_, index) => model.#ensure(index, ENCODER)));
    } catch (error) {
      await Promise.allSettled(runners.map((runner) => runner.close()));
      throw error;
    }
    return model;
  }

  /** Loads graph `name` into runner `index` once. */
  #ensure(index: number, name: string): Promise<void> {
    if (this.#disposed) return Promise.reject(new GenrecError('INVALID_INPUT', 'the model was disposed'));
    const loaded = this.#loaded[index]!;
    let pending = loaded.get(name);
    if (pending === undefined) {
      let bytes = this.#graphs.get(name);
      if (bytes === undefined) {
        bytes = name === ENCODER ? buildEncoderGraph(this.spec, this.#weights) : buildDecoderStepGraph(this.spec, this.#weights, Number(name.slice(5)));
        this.#graphs.set(name, bytes);
      }
      pending = this.#runners[index]!.load(name, bytes);
      pending.catch(() => loaded.delete(name));
      loaded.set(name, pending);
    }
    return pending;
  }

  /** @internal Runs decoder position `step` on runner `index` (loading its graph on first use). */
  async runStep(index: number, step: number, feeds: Record<string, FeedValue>, keep: Record<string, string>): Promise<Float32Array> {
    await this.#ensure(index, `step_${step}`); // rejects once the model is disposed
    return (await this.#runners[index]!.run({ graph: `step_${step}`, feeds, fetch: ['logits'], keep })).logits!;
  }



  /** @internal Drops kept values of a finished session and its share of the runner's load. */
  endSession(index: number, keys: readonly string[], work: number): void {
    this.releaseKept(index, keys);
    this.#load[index]! -= work;
  }

  /** @internal Drops kept values in runner `index`. */
  releaseKept(index: number, keys: readonly string[]): void {
    if (keys.length > 0 && !this.#disposed) this.#runners[index]!.release(keys);
  }

  /**
   * Cuts a batch into sub-batches of users with similar context length (longest first), at least
   * one per runner and about `subBatchUsers` users each, so that `beamSearch` runs them
   * concurrently: the runners work in parallel, while one sub-batch's search step runs in
   * JavaScript the runner serves another, and shorter contexts are not padded to the longest.
   */
  splitBatch(input: StepModelInput): readonly Int32Array[] {
    const { batchSize, length, tokens } = input;
    const groups = Math.min(batchSize, Math.max(this.#runners.length, Math.ceil(batchSize / this.#subBatchUsers)));
    if (groups <= 1 || tokens.length !== batchSize * length) return [Int32Array.from({ length: batchSize }, (_, user) => user)];
    const lengths = new Int32Array(batchSize);
    for (let user = 0; user < batchSize; user++) {
      let count = 0;
      for (let c = 0; c < length; c++) if (tokens[user * length + c] !== this.spec.padToken) count++;
      lengths[user] = count;
    }
    const order = Array.from({ length: batchSize }, (_, user) => user).sort((a, b) => lengths[b]! - lengths[a]! || a - b);
    return Array.from({ length: groups }, (_, g) =>
      Int32Array.from(order.slice(Math.round((g * batchSize) / groups), Math.round(((g + 1) * batchSize) / groups))).sort(),
    );
  }

  /**
   * Packs the batch's contexts (padding dropped) and runs the encoder on the least busy runner.
   *
   * @throws GenrecError `SHAPE_MISMATCH` for a wrong token count or a context longer than
   *   `maxSourceLength`; `INVALID_INPUT` for a token outside the vocabulary or a context with no
   *   token but padding; `RUNTIME_ERROR` when onnxruntime fails.
   */
  async encode(input: StepModelInput): Promise<StepSession> {
    if (this.#disposed) throw new GenrecError('INVALID_INPUT', 'encode() on a disposed model');
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
    const index = this.#leastLoaded();
    this.#load[index]! += work;
    try {
      await this.#ensure(index, ENCODER);
      await this.#runners[index]!.run({ graph: ENCODER, feeds: packed.feeds, fetch: [], keep: cross });
    } catch (error) {
      this.endSession(index, Object.values(cross), work);
      throw error;
    }
    return new TransformerSession(this, index, id, batchSize, packed.keyBias, cross, work);
  }

  #leastLoaded(): number {
    let index = 0;
    for (let r = 1; r < this.#runners.length; r++) if (this.#load[r]! < this.#load[index]!) index = r;
    return index;
  }

  /** Stops the workers and releases every session. */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await Promise.all(this.#runners.map((runner) => runner.close()));
  }
}

/** The encoder feeds of a batch: its real tokens packed, and the index maps of the slot layout. */
function packContexts(spec: ResolvedTransformerSpec, tokens: Int32Array, length: number): { feeds: Record<string, FeedValue>; keyBias: FeedValue; tokenCount: number } {
  const users = tokens.length / length;
  const H = spec.heads;
  const pad = spec.padToken;
  const counts = new Int32Array(users);
  let total = 0;
  let slots = 0;
  for (let b = 0; b < users; b++) {
    const row = b * length;
    let count = 0;
    for (let c = 0; c < length; c++) {
      const token = tokens[row + c]!;
      if (!Number.isInteger(token) || token < 0 || token >= spec.vocabularySize) {
        throw new GenrecError('INVALID_INPUT', `token ${token} of user ${b} (position ${c}) is outside the vocabulary 0..${spec.vocabularySize - 1}`, { details: { field: 'inputs' } });
      }
      if (token !== pad) count++;
    }
    if (count === 0) throw new GenrecError('INVALID_INPUT', `user ${b} has no context token (only padding)`, { details: { field: 'inputs' } });
    counts[b] = count;
    total += count;
    if (count > slots) slots = count;
  }
  // int64 tensors written through their low 32-bit words (every value here is in 0 .. 2^31)
  const packedTokens = new Int32Array(2 * total);
  const positions = new Int32Array(2 * total);
  const attentionIndex = new Int32Array(2 * users * H * slots);
  const outputIndex = new Int32Array(2 * total * H);
  const keyBias = new Float32Array(users * slots);
  let n = 0;
  for (let b = 0; b < users; b++) {
    const row = b * length;
    const start = n;
    let slot = 0;
    for (let c = 0; c < length; c++) {
      const token = tokens[row + c]!;
      if (token === pad) continue;
      packedTokens[2 * n] = token;
      positions[2 * n] = c;
      for (let h = 0; h < H; h++) {
        attentionIndex[2 * ((b * H + h) * slots + slot)] = n * H + h;
        outputIndex[2 * (n * H + h)] = (b * H + h) * slots + slot;
      }
      n++;
      slot++;
    }
    // empty slots: any real row of the same user (masked as keys, their outputs unused)
    for (; slot < slots; slot++) {
      keyBias[b * slots + slot] = Number.NEGATIVE_INFINITY;
      for (let h = 0; h < H; h++) attentionIndex[2 * ((b * H + h) * slots + slot)] = start * H + h;
    }
  }
  const int64 = (words: Int32Array): BigInt64Array => new BigInt64Array(words.buffer);
  const bias: FeedValue = { dtype: 'float32', data: keyBias, dims: [users, slots] };
  return {
    feeds: {
      tokens: { dtype: 'int64', data: int64(packedTokens), dims: [total] },
      positions: { dtype: 'int64', data: int64(positions), dims: [total] },
      attention_index: { dtype: 'int64', data: int64(attentionIndex), dims: [users, H, slots] },
      output_index: { dtype: 'int64', data: int64(outputIndex), dims: [total, H] },
      key_bias: bias,
    },
    keyBias: bias,
    tokenCount: total,
  };
}

/** Step order, input checks and the ancestor rows of every earlier position. */
class StepTracker {
  /** Per earlier position j: the row of step j each current row descends from. */
  readonly ancestors: Int32Array[] = [];
  step = 0;
  beams = 0;
  closed = false;

  constructor(
    readonly batchSize: number,
    readonly spec: ResolvedTransformerSpec,
  ) {}

  /** Checks one step's input and moves the ancestors to the new rows. Returns the row count. */
  advance(tokens: Int32Array, parents: Int32Array | null, beamsPerUser: number): number {
    if (this.closed) throw new GenrecError('INVALID_INPUT', 'step() on a disposed session or after a final step');
    if (!Number.isInteger(beamsPerUser) || beamsPerUser <= 0) throw new GenrecError('INVALID_INPUT', `beamsPerUser must be a positive integer, got ${beamsPerUser}`);
    const rows = this.batchSize * beamsPerUser;
    if (tokens.length !== rows) throw new GenrecError('SHAPE_MISMATCH', `step got ${tokens.length} tokens, expected batchSize x beamsPerUser = ${rows}`);
    const { spec, step } = this;
    if (step >= spec.maxTargetLength) throw new GenrecError('INVALID_INPUT', `step ${step} is beyond the model's maxTargetLength ${spec.maxTargetLength}`);
    for (let row = 0; row < rows; row++) {
      const token = tokens[row]!;
      if (!Number.isInteger(token) || token < 0 || token >= spec.vocabularySize) throw new GenrecError('INVALID_INPUT', `token ${token} of row ${row} is outside the vocabulary`);
    }
    if (parents === null) {
      if (step > 0) throw new GenrecError('INVALID_INPUT', 'parents are required after the first step of a session');
      return rows;
    }
    if (step === 0) throw new GenrecError('INVALID_INPUT', 'parents given at the first step of a session (pass null)');
    if (parents.length !== rows) throw new GenrecError('SHAPE_MISMATCH', `step got ${parents.length} parents, expected ${rows}`);
    for (let row = 0; row < rows; row++) {
      const parent = parents[row]!;
      if (!Number.isInteger(parent) || Math.floor(parent / this.beams) !== Math.floor(row / beamsPerUser)) {
        throw new GenrecError('INVALID_INPUT', `parent ${parent} of row ${row} is not a row of the same user at the previous step`);
      }
    }
    const ancestors = this.ancestors;
    for (let j = 0; j < ancestors.length; j++) {
      const previous = ancestors[j]!;
      const next = new Int32Array(rows);
      for (let row = 0; row < rows; row++) next[row] = previous[parents[row]!]!;
      ancestors[j] = next;
    }
    ancestors.push(parents.slice());
    return rows;
  }

  /** Marks the step done. */
  done(beamsPerUser: number): void {
    this.step++;
    this.beams = beamsPerUser;
  }
}

/** A session on one runner: earlier positions' keys and values stay in that runner. */
class TransformerSession implements StepSession {
  readonly batchSize: number;
  readonly #model: TransformerStepModel;
  readonly #runner: number;
  readonly #id: number;
  readonly #keyBias: FeedValue;
  readonly #cross: Readonly<Record<string, string>>;
  readonly #work: number;
  readonly #tracker: StepTracker;
  readonly #kept: string[];
  #running = false;

  constructor(model: TransformerStepModel, runner: number, id: number, batchSize: number, keyBias: FeedValue, cross: Record<string, string>, work: number) {
    this.#model = model;
    this.#runner = runner;
    this.#id = id;
    this.batchSize = batchSize;
    this.#keyBias = keyBias;
    this.#cross = cross;
    this.#work = work;
    this.#tracker = new StepTracker(batchSize, model.spec);
    this.#kept = Object.values(cross);
  }

  async step(tokens: Int32Array, parents: Int32Array | null, beamsPerUser: number, final = false): Promise<Float32Array> {
    const tracker = this.#tracker;
    if (this.#running) throw new GenrecError('INVALID_INPUT', 'step() while another step of this session is running (await each step)');
    const rows = tracker.advance(tokens, parents, beamsPerUser);
    const { step, ancestors } = tracker;
    const layers = this.#model.spec.decoderLayers;
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
      logits = await this.#model.runStep(this.#runner, step, feeds, keep);
    } catch (error) {
      this.#running = false;
      this.dispose();
      throw error;
    }
    this.#running = false;
    // the run stored this position's keys and values: free them with the session (at once if it
    // was disposed while the run was in flight)
    if (tracker.closed) this.#model.releaseKept(this.#runner, Object.values(keep));
    else this.#kept.push(...Object.values(keep));
    tracker.done(beamsPerUser);
    if (final) this.dispose();
    return logits;
  }

  dispose(): void {
    if (this.#tracker.closed) return;
    this.#tracker.closed = true;
    this.#model.endSession(this.#runner, this.#kept, this.#work);
    this.#kept.length = 0;
  }
}
