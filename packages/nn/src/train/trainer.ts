import { GenrecError, Rng, readSafetensors, removeStaleTemporaryFiles, writeSafetensors, type Seed, type Tensor } from '@genrec/core';
import { CHECKPOINT_FORMAT_VERSION, CHECKPOINT_KIND, planCheckpointLoad } from './checkpoint.js';
import { Graph, type SymbolicTensor } from '../graph/graph.js';
import { gradients } from '../graph/autodiff.js';
import type { AnyTypedArray } from '../onnx/proto.js';
import { CompiledGraph } from '../runtime/compiled-graph.js';
import type { SessionOptions } from '../runtime/session.js';
import { appendOptimizer, type OptimizerConfig } from './optimizers.js';
import { fillDropoutMask } from './dropout-mask.js';

/** What a training graph builder returns: the scalar loss and optional extra outputs. */
export interface TrainGraphSpec {
  readonly loss: SymbolicTensor;
  readonly outputs?: Readonly<Record<string, SymbolicTensor>>;
}

/**
 * Builds the forward graph for one shape bucket (e.g. the number of scored rows, rounded up). Every
 * bucket must declare the same parameters (names, shapes, dtypes).
 */
export type TrainGraphBuilder = (graph: Graph, bucket: number) => TrainGraphSpec;

/** Builds a forward-only graph for one bucket; returns the outputs by name. */
export type InferenceGraphBuilder = (graph: Graph, bucket: number) => Readonly<Record<string, SymbolicTensor>>;

/** Options of {@link Trainer.create}. */
export interface TrainerOptions extends SessionOptions {
  /** The forward graph with its loss, per bucket. */
  build: TrainGraphBuilder;
  /** The optimizer. */
  optimizer: OptimizerConfig;
  /**
   * Shape buckets (each compiled lazily into its own session on first use).
   * @defaultValue [0]
   */
  buckets?: readonly number[];
  /** Global gradient-norm clipping; none when omitted. */
  clipNorm?: number;
  /**
   * Seed of the parameter initialisers and of the dropout mask stream.
   * @defaultValue 0
   */
  seed?: Seed;
  /**
   * Which parameters are trained (the others are fed unchanged).
   * @defaultValue every parameter
   */
  trainable?: (name: string) => boolean;
  /**
   * How updated parameters and optimizer state come back from onnxruntime: `'onnxruntime'` lets it
   * allocate the output buffers each step (which become the next step's inputs);
   * `'preallocated'` ping-pongs between two preallocated sets (onnxruntime writes the outputs into
   * the set fed the step before; a buffer returned by {@link Trainer.parameter} is then overwritten
   * two steps later — copy it to keep it). Both allocate the same per step: onnxruntime-node 1.30
   * copies every output into a fresh ArrayBuffer even when it is given a preallocated one (measured,
   * README "Memory").
   * @defaultValue 'preallocated'
   */
  outputBuffers?: 'onnxruntime' | 'preallocated';
}

/** Options of one {@link Trainer.step}. */
export interface StepOptions {
  /** The learning rate for this step (schedules live in TypeScript). */
  learningRate: number;
  /** The bucket whose graph to run. @defaultValue the first bucket */
  bucket?: number;
}

/** The outcome of one step. */
export interface StepResult {
  /** The loss before the update. */
  loss: number;
  /** The global gradient norm before clipping. */
  gradientNorm: number;
  /** The extra outputs declared by the builder. */
  outputs: Record<string, AnyTypedArray>;
}

interface BucketSession {
  compiled: CompiledGraph;
  graph: Graph;
  extraNames: string[];
  masks: { name: string; rate: number; buffer: Float32Array | Float64Array }[];
  dataInputs: string[];
}

/**
 * Owns the parameters and optimizer state of a model across training steps. Each step runs one
 * onnxruntime session holding forward, backward and optimizer update: parameters and state are
 * graph inputs, their updated values graph outputs that become next step's inputs (onnxruntime
 * allocates the outputs; see README "How buffers move").
 *
 * @example
 * ```ts
 * const trainer = await Trainer.create({ build: (g) => ({ loss: myLoss(g) }), optimizer: optimizers.adam() });
 * const { loss } = await trainer.step({ x, y }, { learningRate: 1e-3 });
 * ```
 */
export class Trainer {
  private readonly sessions = new Map<number, Promise<BucketSession>>();
  private readonly values = new Map<string, Float32Array | Float64Array>();
  private readonly shapes = new Map<string, { shape: readonly number[]; dtype: 'float32' | 'float64' }>();
  private readonly stateValues = new Map<string, Float32Array | Float64Array>();
  private readonly spares = new Map<string, Float32Array | Float64Array>();
  private rng: Rng;
  private steps = 0;

  private constructor(private readonly options: TrainerOptions) {
    // the dropout stream is independent of the initialiser stream (which the graph draws from the same seed)
    this.rng = new Rng(BigInt.asUintN(64, BigInt(options.seed ?? 0) ^ 0x9e3779b97f4a7c15n));
  }

  /** Creates a trainer and compiles its first bucket (which fixes the parameters' initial values). */
  static async create(options: TrainerOptions): Promise<Trainer> {
    const buckets = options.buckets ?? [0];
    if (buckets.length === 0) throw new GenrecError('INVALID_OPTION', 'buckets must not be empty', { details: { field: 'buckets' } });
    const trainer = new Trainer(options);
    await trainer.session(buckets[0]!);
    return trainer;
  }

  /** Steps taken so far. */
  get stepCount(): number {
    return this.steps;
  }

  /** Names of all parameters, in declaration order. */
  get parameterNames(): string[] {
    return [...this.values.keys()];
  }

  /**
   * The current values of a parameter (do not modify; with `outputBuffers: 'preallocated'` the
   * buffer is reused two steps later, so copy what you keep).
   */
  parameter(name: string): Float32Array | Float64Array {
    const v = this.values.get(name);
    if (!v) throw new GenrecError('UNKNOWN_ID', `unknown parameter "${name}"`, { details: { field: name } });
    return v;
  }

  /** All current parameter values by name. */
  parameterValues(): Map<string, Float32Array | Float64Array> {
    return new Map(this.values);
  }

  /** Replaces a parameter's values (copied). */
  setParameter(name: string, data: Float32Array | Float64Array): void {
    const current = this.parameter(name);
    if (data.length !== current.length) throw new GenrecError('SHAPE_MISMATCH', `parameter "${name}" needs ${current.length} values, got ${data.length}`);
    const copy = current instanceof Float64Array ? new Float64Array(current.length) : new Float32Array(current.length);
    copy.set(data);
    this.values.set(name, copy);
  }

  /** The smallest bucket that holds `size` (throws when none does). */
  bucketFor(size: number): number {
    const buckets = [...(this.options.buckets ?? [0])].sort((a, b) => a - b);
    const found = buckets.find((b) => b >= size);
    if (found === undefined) throw new GenrecError('INVALID_INPUT', `no bucket holds ${size} (largest is ${buckets[buckets.length - 1]})`);
    return found;
  }

  /** Compiles the session of `bucket` now (otherwise it is compiled on its first step). */
  async prepare(bucket: number): Promise<void> {
    await this.session(bucket);
  }

  private session(bucket: number): Promise<BucketSession> {
    let pending = this.sessions.get(bucket);
    if (!pending) {
      if (!(this.options.buckets ?? [0]).includes(bucket)) throw new GenrecError('INVALID_INPUT', `bucket ${bucket} is not one of [${(this.options.buckets ?? [0]).join(', ')}]`);
      pending = this.compile(bucket);
      this.sessions.set(bucket, pending);
    }
    return pending;
  }

  private async compile(bucket: number): Promise<BucketSession> {
    const graph = new Graph({ seed: this.options.seed ?? 0, training: true });
    const spec = this.options.build(graph, bucket);
    if (spec.loss.size !== 1 || !spec.loss.isFloat) throw new GenrecError('SHAPE_MISMATCH', `the loss must be a float scalar, got ${spec.loss.describe()}`);
    const first = this.values.size === 0;
    for (const p of graph.parameters) {
      const dtype = p.tensor.dtype as 'float32' | 'float64';
      if (first) {
        this.values.set(p.tensor.name, p.initial);
        this.shapes.set(p.tensor.name, { shape: p.tensor.shape, dtype });
      } else {
        const known = this.shapes.get(p.tensor.name);
        if (!known || known.dtype !== dtype || known.shape.join(',') !== p.tensor.shape.join(',')) {
          throw new GenrecError('SHAPE_MISMATCH', `bucket ${bucket} declares parameter ${p.tensor.describe()}, which differs from the first bucket's`);
        }
      }
    }
    if (!first && graph.parameters.length !== this.shapes.size) throw new GenrecError('SHAPE_MISMATCH', `bucket ${bucket} declares ${graph.parameters.length} parameters, the first bucket ${this.shapes.size}`);
    const trainable = graph.parameters.map((p) => p.tensor).filter((t) => this.options.trainable?.(t.name) ?? true);
    const grads = gradients(spec.loss, trainable);
    const update = appendOptimizer(graph, trainable, grads, this.options.optimizer, this.options.clipNorm === undefined ? {} : { clipNorm: this.options.clipNorm });
    if (first) for (const s of update.state) this.stateValues.set(s.name, s.input.dtype === 'float64' ? new Float64Array(s.input.size) : new Float32Array(s.input.size));
    const extraNames = Object.keys(spec.outputs ?? {});
    const outputs = [spec.loss, update.gradientNorm, ...update.newParameters, ...update.state.map((s) => s.next), ...extraNames.map((n) => spec.outputs![n]!)];
    const outputNames = ['loss', 'gradient_norm', ...trainable.map((t) => `updated.${t.name}`), ...update.state.map((s) => `updated.${s.name}`), ...extraNames.map((n) => `output.${n}`)];
    const frozen = graph.parameters.map((p) => p.tensor).filter((t) => !trainable.includes(t));
    const compiled = await CompiledGraph.create(graph, {
      outputs,
      outputNames,
      parameters: 'inputs',
      extraInputs: [...frozen, ...update.state.map((s) => s.input)],
      ...(this.options.intraOpNumThreads === undefined ? {} : { intraOpNumThreads: this.options.intraOpNumThreads }),
      ...(this.options.profilePrefix === undefined ? {} : { profilePrefix: `${this.options.profilePrefix}-${bucket}` }),
    });
    const masks = graph.dropouts.map((d) => ({ name: d.mask.name, rate: d.rate, buffer: d.mask.dtype === 'float64' ? new Float64Array(d.mask.size) : new Float32Array(d.mask.size) }));
    const special = new Set([...this.values.keys(), ...this.stateValues.keys(), 'lr', 'step', ...masks.map((m) => m.name)]);
    const dataInputs = compiled.inputs.map((i) => i.name).filter((n) => !special.has(n));
    return { compiled, graph, extraNames, masks, dataInputs };
  }

  /**
   * Runs one training step (forward, backward, optimizer update) on `feeds` (the graph's data
   * inputs by name) and keeps the updated parameters and state.
   */
  async step(feeds: Readonly<Record<string, AnyTypedArray>>, options: StepOptions): Promise<StepResult> {
    const bucket = await this.session(options.bucket ?? (this.options.buckets ?? [0])[0]!);
    const all: Record<string, AnyTypedArray> = {};
    for (const name of bucket.dataInputs) {
      const data = feeds[name];
      if (data === undefined) throw new GenrecError('INVALID_INPUT', `missing feed for input "${name}"`, { details: { field: name } });
      all[name] = data;
    }
    for (const mask of bucket.masks) {
      this.rng = fillDropoutMask(this.rng, mask.buffer, mask.rate);
      all[mask.name] = mask.buffer;
    }
    for (const [name, value] of this.values) all[name] = value;
    for (const [name, value] of this.stateValues) all[name] = value;
    const float64 = bucket.compiled.inputs.find((i) => i.name === 'lr')?.dtype === 'float64';
    all.lr = float64 ? Float64Array.of(options.learningRate) : Float32Array.of(options.learningRate);
    all.step = float64 ? Float64Array.of(this.steps + 1) : Float32Array.of(this.steps + 1);
    const used: Record<string, AnyTypedArray> = {};
    for (const info of bucket.compiled.inputs) used[info.name] = all[info.name]!;
    let spare: Record<string, AnyTypedArray> | undefined;
    if ((this.options.outputBuffers ?? 'preallocated') === 'preallocated') {
      spare = {};
      for (const [name, value] of [...this.values, ...this.stateValues]) {
        let other = this.spares.get(name);
        if (!other || other === value) {
          other = value instanceof Float64Array ? new Float64Array(value.length) : new Float32Array(value.length);
          this.spares.set(name, other);
        }
        spare[`updated.${name}`] = other;
      }
    }
    const out = await bucket.compiled.run(used, spare);
    if (spare) {
      // the fed buffers become the spares of the next step
      for (const [name, value] of [...this.values, ...this.stateValues]) this.spares.set(name, value);
    }
    for (const name of this.values.keys()) {
      const next = out[`updated.${name}`];
      if (next) this.values.set(name, next as Float32Array | Float64Array);
    }
    for (const name of this.stateValues.keys()) {
      const next = out[`updated.${name}`];
      if (next) this.stateValues.set(name, next as Float32Array | Float64Array);
    }
    this.steps++;
    const outputs: Record<string, AnyTypedArray> = {};
    for (const n of bucket.extraNames) outputs[n] = out[`output.${n}`]!;
    return { loss: Number(out.loss![0]), gradientNorm: Number(out.gradient_norm![0]), outputs };
  }

  /**
   * Compiles a forward-only model for `bucket` that reads the trainer's current parameters at every
   * run (parameters are fed as inputs, so no recompilation is needed as training proceeds).
   */
  async compileInference(build: InferenceGraphBuilder, bucket = 0, options: SessionOptions = {}): Promise<InferenceModel> {
    const graph = new Graph({ seed: this.options.seed ?? 0, training: false });
    const outputs = build(graph, bucket);
    const names = Object.keys(outputs);
    const compiled = await CompiledGraph.create(graph, {
      outputs: names.map((n) => outputs[n]!),
      outputNames: names,
      parameters: 'inputs',
      ...(options.intraOpNumThreads === undefined ? (this.options.intraOpNumThreads === undefined ? {} : { intraOpNumThreads: this.options.intraOpNumThreads }) : { intraOpNumThreads: options.intraOpNumThreads }),
    });
    return new InferenceModel(compiled, graph, names, names.map((n) => outputs[n]!), () => this.values);
  }

  /** The optimizer state by slot name (`optimizer.m.<param>`…). */
  optimizerState(): Map<string, Float32Array | Float64Array> {
    return new Map(this.stateValues);
  }

  /**
   * Writes parameters (and, unless `includeOptimizer` is false, the optimizer state, the step
   * counter and the dropout generator state) as a safetensors file, atomically: a temporary file
   * next to `path`, fsynced and renamed over it, so `path` always holds a complete checkpoint (the
   * old or the new one). Temporary files left by killed saves of the same path are removed.
   *
   * Metadata: `kind` ({@link CHECKPOINT_KIND}), `formatVersion` ("1"), `step`, `optimizer` (its
   * kind, or `"none"` without state), `rng` (the dropout generator's state as JSON).
   *
   * @param path - the checkpoint file
   * @param options - `includeOptimizer` @defaultValue true
   * @throws GenrecError `IO_ERROR` when writing fails.
   * @example
   * ```ts
   * trainer.saveCheckpoint('run/model.safetensors');
   * ```
   */
  saveCheckpoint(path: string, options: { includeOptimizer?: boolean } = {}): void {
    const tensors = new Map<string, Tensor>();
    for (const [name, value] of this.values) tensors.set(name, { dtype: value instanceof Float64Array ? 'float64' : 'float32', shape: this.shapes.get(name)!.shape, data: value });
    const include = options.includeOptimizer ?? true;
    if (include) {
      for (const [name, value] of this.stateValues) {
        const param = name.replace(/^optimizer\.[a-z]+\./, '');
        tensors.set(name, { dtype: value instanceof Float64Array ? 'float64' : 'float32', shape: this.shapes.get(param)!.shape, data: value });
      }
    }
    removeStaleTemporaryFiles(path); // writeFileAtomic does it too; explicit here because a checkpoint's leftovers are large
    writeSafetensors(path, tensors, {
      kind: CHECKPOINT_KIND,
      formatVersion: CHECKPOINT_FORMAT_VERSION,
      step: String(this.steps),
      optimizer: include ? this.options.optimizer.kind : 'none',
      rng: JSON.stringify(this.rng.getState()),
    });
  }

  /**
   * Loads a checkpoint written by {@link Trainer.saveCheckpoint}, or any safetensors file whose
   * tensor names match the parameters (plain weights: other tensors are ignored). Everything is
   * checked before anything is replaced, so a failed load leaves the trainer as it was: the file's
   * layout (see `decodeSafetensors`), `kind` and `formatVersion`, every tensor's name, shape and
   * dtype, finite values, `step` (a non-negative integer), the generator state and the optimizer
   * state. The optimizer state, step counter and generator are restored when the checkpoint holds
   * this trainer's optimizer kind and state for every parameter it trains; otherwise (another
   * optimizer or `trainable` set, saved without state) only the parameters are loaded.
   * Temporary files left next to `path` by killed saves are removed.
   *
   * @param path - the checkpoint file
   * @throws GenrecError `NOT_FOUND` / `IO_ERROR` for the file, `PARSE_ERROR` / `CORRUPT_ARTIFACT`
   * for a malformed or mismatched file (missing, extra or misshapen tensors, bad metadata),
   * `FORMAT_VERSION` for another kind or format version, `INVALID_INPUT` for NaN or ±Infinity.
   * @example
   * ```ts
   * const trainer = await Trainer.create({ build, optimizer: optimizers.adamw(), seed: 1 });
   * trainer.loadCheckpoint('run/model.safetensors');
   * ```
   */
  loadCheckpoint(path: string): void {
    removeStaleTemporaryFiles(path);
    const content = readSafetensors(path, { requireFinite: true });
    const state = new Map<string, 'float32' | 'float64'>();
    for (const [name, value] of this.stateValues) state.set(name, value instanceof Float64Array ? 'float64' : 'float32');
    const plan = planCheckpointLoad(content, { parameters: this.shapes, state, optimizerKind: this.options.optimizer.kind }, path);
    // checked: now replace, all at once
    for (const [name, value] of plan.parameters) this.values.set(name, value);
    if (plan.resume) {
      for (const [name, value] of plan.resume.state) this.stateValues.set(name, value);
      this.steps = plan.resume.step;
      this.rng = plan.resume.rng;
    }
  }

  /** Releases every compiled session. */
  async release(): Promise<void> {
    for (const pending of this.sessions.values()) {
      const bucket = await pending;
      if (this.options.profilePrefix !== undefined) bucket.compiled.session.endProfiling();
      await bucket.compiled.release();
    }
    this.sessions.clear();
  }
}

/** A forward-only model bound to a source of parameter values. */
export class InferenceModel {
  /** @internal */
  constructor(
    private readonly compiled: CompiledGraph,
    /** The inference graph. */
    readonly graph: Graph,
    /** Output names. */
    readonly outputNames: readonly string[],
    private readonly outputTensors: readonly SymbolicTensor[],
    private readonly parameters: () => ReadonlyMap<string, Float32Array | Float64Array>,
  ) {}

  /** Runs the model on the data inputs; parameters come from the trainer. */
  async run(feeds: Readonly<Record<string, AnyTypedArray>>): Promise<Record<string, AnyTypedArray>> {
    const values = this.parameters();
    const used: Record<string, AnyTypedArray> = {};
    for (const info of this.compiled.inputs) {
      const v = values.get(info.name) ?? feeds[info.name];
      if (v === undefined) throw new GenrecError('INVALID_INPUT', `missing feed for input "${info.name}"`, { details: { field: info.name } });
      used[info.name] = v;
    }
    return this.compiled.run(used);
  }

  /**
   * Serialises the forward graph as a standalone ONNX model with the current parameter values as
   * initialisers (loadable by any onnxruntime).
   */
  exportOnnx(): Uint8Array {
    return this.graph.toModel({ outputs: this.outputTensors, outputNames: this.outputNames, parameters: 'initializers', parameterValues: this.parameters() }).bytes;
  }

  /** Releases the session. */
  async release(): Promise<void> {
    await this.compiled.release();
  }
}

/**
 * Compiles a training step: the same as {@link Trainer.create} (forward, backward and optimizer
 * update in one onnxruntime session per bucket; the returned trainer owns parameters and state).
 */
export function compileTrainStep(options: TrainerOptions): Promise<Trainer> {
  return Trainer.create(options);
}
