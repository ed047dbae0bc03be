import { GenrecError, Rng, checkEnumOption, readSafetensors, removeStaleTemporaryFiles, writeSafetensors, type Seed, type Tensor } from '@genrec/core';
import { CHECKPOINT_FORMAT_VERSION, CHECKPOINT_KIND, planCheckpointLoad } from './checkpoint.js';
import { Graph, type ModelParts, type SymbolicTensor } from '../graph/graph.js';
import { gradients } from '../graph/autodiff.js';
import type { AnyTypedArray } from '../onnx/proto.js';
import { CompiledGraph } from '../runtime/compiled-graph.js';
import type { SessionOptions } from '../runtime/session.js';
import { appendOptimizer, type OptimizerConfig, type StateSlot } from './optimizers.js';
import { fillDropoutMask } from './dropout-mask.js';
import { RowSparseRows } from './row-sparse-rows.js';
import { planSymbolicBuckets } from './symbolic-buckets.js';

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
   * Shape buckets: the sizes a step may use (`step({ bucket })`). How they become sessions is
   * {@link TrainerOptions.bucketShapes}.
   * @defaultValue [0]
   */
  buckets?: readonly number[];
  /**
   * `'symbolic'`: one onnxruntime session for every bucket, with the bucket-sized axes of its inputs
   * and outputs symbolic (one arena instead of one per bucket: see README "Memory"). The graph is
   * built for two buckets and compared; it qualifies when the two differ only in input/output axes
   * that are a fixed multiple of the bucket (no node, attribute or constant may depend on it —
   * nn's ops write shape-independent Reshape/Expand/Slice targets for this); otherwise
   * `Trainer.create` throws `INVALID_OPTION` naming the first difference. `'static'`: one session
   * per bucket used, compiled on first use. `'auto'`: symbolic when the graph qualifies, static
   * otherwise ({@link Trainer.bucketShapes} says which, {@link Trainer.staticReason} why).
   * @defaultValue 'auto'
   */
  bucketShapes?: 'auto' | 'static' | 'symbolic';
  /** Global gradient-norm clipping; none when omitted. */
  clipNorm?: number;
  /**
   * Whether the training graphs apply dropout: their `Graph` is built with `training: dropout`, so
   * builders that switch dropout on `graph.training` (the model packages' do) train without it
   * when `false` — e.g. preference alignment's policy, which must score like its frozen reference.
   * @defaultValue true
   */
  dropout?: boolean;
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
   * two steps later — copy it to keep it). onnxruntime-node 1.30 copies every output into a fresh
   * ArrayBuffer even when it is given a preallocated one (measured, README "Memory"), so both
   * allocate the same per step and `'preallocated'` only holds a second set of every parameter and
   * optimizer state. Row-sparse parameters are updated in place in either mode.
   * @defaultValue 'onnxruntime'
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

/** The lookups and state feeds of one row-sparse parameter in one session. */
interface SparsePlan {
  name: string;
  rowsName: string;
  lookups: { source: string; local: string }[];
  /** [full state name (checkpoints), the graph's slice input] */
  states: [string, string][];
  trainable: boolean;
}

/** One built training graph (forward, gradients, optimizer update), before compiling. */
interface TrainingBuild {
  parts: ModelParts;
  extraNames: string[];
  masks: { name: string; rate: number; float64: boolean }[];
  sparse: SparsePlan[];
  /** Names of graph inputs the trainer fills itself. */
  special: Set<string>;
}

interface BucketSession {
  compiled: CompiledGraph;
  extraNames: string[];
  masks: { name: string; rate: number; float64: boolean; shape: readonly (number | string)[] }[];
  /** Inputs the caller feeds directly. */
  dataInputs: string[];
  sparse: SparsePlan[];
  /** Symbolic dimension → multiple of the bucket (symbolic sessions only). */
  symbols: ReadonlyMap<string, number> | undefined;
}

/**
 * Owns the parameters and optimizer state of a model across training steps. Each step runs one
 * onnxruntime session holding forward, backward and optimizer update: parameters and state are
 * graph inputs, their updated values graph outputs that become next step's inputs (onnxruntime
 * allocates the outputs; see README "How buffers move"). Row-sparse parameters
 * (`rowSparseParameter`, `nn.embedding({ sparseRows })`) are fed as the slice of rows a step
 * touches, and the updated rows are written back in place.
 *
 * @example
 * ```ts
 * const trainer = await Trainer.create({ build: (g) => ({ loss: myLoss(g) }), optimizer: optimizers.adam() });
 * const { loss } = await trainer.step({ x, y }, { learningRate: 1e-3 });
 * ```
 */
export class Trainer {
  private readonly sessions = new Map<number, Promise<BucketSession>>();
  private symbolicSession: Promise<BucketSession> | undefined;
  private readonly values = new Map<string, Float32Array | Float64Array>();
  private readonly shapes = new Map<string, { shape: readonly number[]; dtype: 'float32' | 'float64' }>();
  private readonly stateValues = new Map<string, Float32Array | Float64Array>();
  private readonly spares = new Map<string, Float32Array | Float64Array>();
  private readonly sparseRows = new Map<string, RowSparseRows>();
  /** Full state names of row-sparse parameters (updated in place, never fed whole). */
  private readonly sparseState = new Set<string>();
  private readonly maskBuffers = new Map<string, Float32Array | Float64Array>();
  private readonly bucketList: readonly number[];
  private sortedBuckets: number[] | undefined;
  private rng: Rng;
  private steps = 0;
  private reason: string | undefined;

  private constructor(private readonly options: TrainerOptions) {
    // the dropout stream is independent of the initialiser stream (which the graph draws from the same seed)
    this.rng = new Rng(BigInt.asUintN(64, BigInt(options.seed ?? 0) ^ 0x9e3779b97f4a7c15n));
    this.bucketList = options.buckets ?? [0];
  }

  /**
   * Creates a trainer and compiles its first bucket (which fixes the parameters' initial values), or
   * its one symbolic session (see {@link TrainerOptions.bucketShapes}).
   * @throws GenrecError `INVALID_OPTION` for empty buckets, a bad `bucketShapes`, or `'symbolic'` for a graph that depends on the bucket.
   */
  static async create(options: TrainerOptions): Promise<Trainer> {
    const buckets = options.buckets ?? [0];
    if (buckets.length === 0) throw new GenrecError('INVALID_OPTION', 'buckets must not be empty', { details: { field: 'buckets' } });
    for (const b of buckets) {
      if (!Number.isSafeInteger(b) || b < 0) throw new GenrecError('INVALID_OPTION', `buckets must be non-negative integers, got ${b}`, { details: { field: 'buckets' } });
    }
    const mode = checkEnumOption(options.bucketShapes ?? 'auto', 'bucketShapes', ['auto', 'static', 'symbolic'] as const);
    checkEnumOption(options.outputBuffers ?? 'onnxruntime', 'outputBuffers', ['onnxruntime', 'preallocated'] as const);
    const trainer = new Trainer(options);
    await trainer.initialise(mode);
    return trainer;
  }

  private async initialise(mode: 'auto' | 'static' | 'symbolic'): Promise<void> {
    const first = this.bucketList[0]!;
    // the first bucket's graph fixes the parameters' initial values
    const a = this.buildTraining(first, true);
    const distinct = new Set(this.bucketList).size;
    // two traces above 1 (a size of 0 or 1 cannot tell a bucket axis from a broadcast one): the
    // first bucket (or the smallest above 1) and the largest other one
    const traceable = [...new Set(this.bucketList)].filter((b) => b > 1).sort((x, y) => x - y);
    const traceA = first > 1 ? first : traceable[0];
    const traceB = traceable.filter((b) => b !== traceA).pop();
    if (mode !== 'static' && traceA !== undefined && traceB !== undefined) {
      const builtA = traceA === first ? a : this.buildTraining(traceA, false);
      const b = this.buildTraining(traceB, false);
      const plan = planSymbolicBuckets(builtA.parts, traceA, b.parts, traceB);
      if ('parts' in plan) {
        this.symbolicSession = this.compileSession(builtA, plan.parts, plan.symbols, 'symbolic');
        await this.symbolicSession;
        return;
      }
      if (mode === 'symbolic') throw new GenrecError('INVALID_OPTION', `bucketShapes 'symbolic' needs a graph that depends on the bucket only through input/output sizes: ${plan.reason}`, { details: { field: 'bucketShapes' } });
      this.reason = plan.reason;
    } else if (distinct > 1) {
      if (mode === 'symbolic') throw new GenrecError('INVALID_OPTION', `bucketShapes 'symbolic' needs two buckets above 1 (got [${this.bucketList.join(', ')}])`, { details: { field: 'bucketShapes' } });
      this.reason = mode === 'static' ? "bucketShapes: 'static'" : 'fewer than two buckets above 1 to trace';
    }
    const pending = this.compileSession(a, a.parts, undefined, String(first));
    this.sessions.set(first, pending);
    await pending;
  }

  /** `'symbolic'` when one session serves every bucket, `'static'` when each bucket has its own. */
  get bucketShapes(): 'symbolic' | 'static' {
    return this.symbolicSession ? 'symbolic' : 'static';
  }

  /** Why the buckets are static (undefined when symbolic or when there is one bucket). */
  get staticReason(): string | undefined {
    return this.reason;
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
   * buffer is reused two steps later, and a row-sparse parameter's buffer is updated in place at
   * every step, so copy what you keep).
   */
  parameter(name: string): Float32Array | Float64Array {
    const v = this.values.get(name);
    if (!v) throw new GenrecError('UNKNOWN_ID', `unknown parameter "${name}"`, { details: { field: name } });
    return v;
  }

  /** All current parameter values by name (the live buffers: see {@link Trainer.parameter}). */
  parameterValues(): Map<string, Float32Array | Float64Array> {
    return new Map(this.values);
  }

  /** Names of the row-sparse parameters. */
  get rowSparseParameters(): string[] {
    return [...this.sparseRows.keys()];
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
    this.sortedBuckets ??= [...this.bucketList].sort((a, b) => a - b);
    const buckets = this.sortedBuckets;
    let low = 0;
    let high = buckets.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (buckets[middle]! >= size) high = middle;
      else low = middle + 1;
    }
    if (low === buckets.length) throw new GenrecError('INVALID_INPUT', `no bucket holds ${size} (largest is ${buckets[buckets.length - 1]})`);
    return buckets[low]!;
  }

  /** Compiles the session of `bucket` now (otherwise it is compiled on its first step; nothing to do for symbolic buckets). */
  async prepare(bucket: number): Promise<void> {
    await this.session(bucket);
  }

  private session(bucket: number): Promise<BucketSession> {
    if (!this.bucketList.includes(bucket)) throw new GenrecError('INVALID_INPUT', `bucket ${bucket} is not one of [${this.bucketList.join(', ')}]`);
    if (this.symbolicSession) return this.symbolicSession;
    let pending = this.sessions.get(bucket);
    if (!pending) {
      const built = this.buildTraining(bucket, false);
      pending = this.compileSession(built, built.parts, undefined, String(bucket));
      this.sessions.set(bucket, pending);
    }
    return pending;
  }

  /**
   * Builds the training graph of one bucket: forward pass, gradients and optimizer update. The
   * first build fixes the parameters' initial values (taken over without a copy); later builds
   * must declare the same parameters, and their initial values are dropped with the graph.
   */
  private buildTraining(bucket: number, first: boolean): TrainingBuild {
    const graph = new Graph({ seed: this.options.seed ?? 0, training: this.options.dropout ?? true });
    const spec = this.options.build(graph, bucket);
    if (spec.loss.size !== 1 || !spec.loss.isFloat) throw new GenrecError('SHAPE_MISMATCH', `the loss must be a float scalar, got ${spec.loss.describe()}`);
    for (const p of graph.parameters) {
      const dtype = p.tensor.dtype as 'float32' | 'float64';
      if (first) {
        this.values.set(p.tensor.name, p.initial);
        this.shapes.set(p.tensor.name, { shape: p.tensor.shape, dtype });
        if (p.sparse) {
          const width = p.tensor.size / p.tensor.shape[0]!;
          this.sparseRows.set(p.tensor.name, new RowSparseRows(p.tensor.name, p.sparse.rows.name, p.tensor.shape[0]!, width, p.sparse.maxRows));
        }
      } else {
        const known = this.shapes.get(p.tensor.name);
        if (!known || known.dtype !== dtype || known.shape.join(',') !== p.tensor.shape.join(',')) {
          throw new GenrecError('SHAPE_MISMATCH', `bucket ${bucket} declares parameter ${p.tensor.describe()}, which differs from the first bucket's`);
        }
        const rows = this.sparseRows.get(p.tensor.name);
        if ((rows === undefined) !== (p.sparse === undefined) || (rows && rows.maxRows !== p.sparse!.maxRows)) {
          throw new GenrecError('SHAPE_MISMATCH', `bucket ${bucket} declares parameter ${p.tensor.name} ${p.sparse ? `row-sparse with maxRows ${p.sparse.maxRows}` : 'dense'}, unlike the first bucket`);
        }
      }
    }
    if (!first && graph.parameters.length !== this.shapes.size) throw new GenrecError('SHAPE_MISMATCH', `bucket ${bucket} declares ${graph.parameters.length} parameters, the first bucket ${this.shapes.size}`);
    const isTrainable = (name: string) => this.options.trainable?.(name) ?? true;
    const trained = graph.parameters.filter((p) => isTrainable(p.tensor.name));
    // a row-sparse parameter is differentiated and updated through its slice of touched rows
    const wrt = trained.map((p) => p.sparse?.rows ?? p.tensor);
    const grads = gradients(spec.loss, wrt);
    const update = appendOptimizer(graph, wrt, grads, this.options.optimizer, this.options.clipNorm === undefined ? {} : { clipNorm: this.options.clipNorm });
    const owner = new Map<number, string>();
    for (const p of graph.parameters) if (p.sparse) owner.set(p.sparse.rows.id, p.tensor.name);
    const fullStateName = (slot: StateSlot) => {
      const name = owner.get(slot.parameter.id);
      return name === undefined ? slot.name : `optimizer.${slot.slot}.${name}`;
    };
    if (first) {
      for (const slot of update.state) {
        const name = fullStateName(slot);
        const param = owner.get(slot.parameter.id);
        const size = param === undefined ? slot.input.size : this.values.get(param)!.length;
        this.stateValues.set(name, slot.input.dtype === 'float64' ? new Float64Array(size) : new Float32Array(size));
        if (param !== undefined) this.sparseState.add(name);
      }
    }
    const extraNames = Object.keys(spec.outputs ?? {});
    const outputs = [spec.loss, update.gradientNorm, ...update.newParameters, ...update.state.map((s) => s.next), ...extraNames.map((n) => spec.outputs![n]!)];
    const outputNames = ['loss', 'gradient_norm', ...wrt.map((t) => `updated.${t.name}`), ...update.state.map((s) => `updated.${s.name}`), ...extraNames.map((n) => `output.${n}`)];
    const frozen = graph.parameters.filter((p) => !p.sparse && !isTrainable(p.tensor.name)).map((p) => p.tensor);
    const parts = graph.toModelParts({ outputs, outputNames, parameters: 'inputs', extraInputs: [...frozen, ...update.state.map((s) => s.input)] });
    const masks = graph.dropouts.map((d) => ({ name: d.mask.name, rate: d.rate, float64: d.mask.dtype === 'float64' }));
    const sparse: SparsePlan[] = graph.parameters
      .filter((p) => p.sparse !== undefined)
      .map((p) => ({
        name: p.tensor.name,
        rowsName: p.sparse!.rows.name,
        lookups: p.sparse!.lookups.map((l) => ({ source: l.source.name, local: l.local.name })),
        states: update.state.filter((s) => s.parameter === p.sparse!.rows).map((s): [string, string] => [fullStateName(s), s.input.name]),
        trainable: isTrainable(p.tensor.name),
      }));
    const special = new Set<string>(['lr', 'step', ...this.values.keys(), ...update.state.map((s) => s.input.name), ...masks.map((m) => m.name)]);
    for (const plan of sparse) {
      special.add(plan.rowsName);
      for (const l of plan.lookups) special.add(l.local);
    }
    return { parts, extraNames, masks, sparse, special };
  }

  private async compileSession(built: TrainingBuild, parts: ModelParts, symbols: ReadonlyMap<string, number> | undefined, label: string): Promise<BucketSession> {
    const compiled = await CompiledGraph.fromParts(parts, {
      ...(this.options.intraOpNumThreads === undefined ? {} : { intraOpNumThreads: this.options.intraOpNumThreads }),
      ...(this.options.memoryPattern === undefined ? {} : { memoryPattern: this.options.memoryPattern }),
      ...(this.options.profilePrefix === undefined ? {} : { profilePrefix: `${this.options.profilePrefix}-${label}` }),
    });
    const shapes = new Map(parts.inputs.map((i) => [i.name, i.shape]));
    const masks = built.masks.map((m) => ({ ...m, shape: shapes.get(m.name) ?? [] }));
    const dataInputs = compiled.inputs.map((i) => i.name).filter((n) => !built.special.has(n));
    return { compiled, extraNames: built.extraNames, masks, dataInputs, sparse: built.sparse, symbols };
  }

  private maskBuffer(name: string, size: number, float64: boolean): Float32Array | Float64Array {
    const key = `${name}:${size}`;
    let buffer = this.maskBuffers.get(key);
    if (!buffer) {
      buffer = float64 ? new Float64Array(size) : new Float32Array(size);
      this.maskBuffers.set(key, buffer);
    }
    return buffer;
  }

  /**
   * Runs one training step (forward, backward, optimizer update) on `feeds` (the graph's data
   * inputs by name, including the index inputs of row-sparse lookups) and keeps the updated
   * parameters and state.
   * @throws GenrecError `INVALID_INPUT` for a missing feed, a bucket not in the list, a row-sparse
   * index out of range or more distinct rows than `maxRows`; `SHAPE_MISMATCH`/`DTYPE_MISMATCH` for a
   * feed of the wrong size or type (in a symbolic session, for the given bucket).
   */
  async step(feeds: Readonly<Record<string, AnyTypedArray>>, options: StepOptions): Promise<StepResult> {
    const bucketSize = options.bucket ?? this.bucketList[0]!;
    const bucket = await this.session(bucketSize);
    const dimensions: Record<string, number> = {};
    if (bucket.symbols) for (const [name, factor] of bucket.symbols) dimensions[name] = factor * bucketSize;
    const all: Record<string, AnyTypedArray> = {};
    for (const name of bucket.dataInputs) {
      const data = feeds[name];
      if (data === undefined) throw new GenrecError('INVALID_INPUT', `missing feed for input "${name}"`, { details: { field: name } });
      all[name] = data;
    }
    for (const mask of bucket.masks) {
      let size = 1;
      for (const d of mask.shape) size *= typeof d === 'number' ? d : dimensions[d]!;
      const buffer = this.maskBuffer(mask.name, size, mask.float64);
      this.rng = fillDropoutMask(this.rng, buffer, mask.rate);
      all[mask.name] = buffer;
    }
    for (const [name, value] of this.values) if (!this.sparseRows.has(name)) all[name] = value;
    for (const [name, value] of this.stateValues) if (!this.sparseState.has(name)) all[name] = value;
    const float64 = bucket.compiled.inputs.find((i) => i.name === 'lr')?.dtype === 'float64';
    all.lr = float64 ? Float64Array.of(options.learningRate) : Float32Array.of(options.learningRate);
    all.step = float64 ? Float64Array.of(this.steps + 1) : Float32Array.of(this.steps + 1);
    const tables = bucket.sparse.map((plan) => ({ plan, rows: this.sparseRows.get(plan.name)! }));
    try {
      // row-sparse parameters: map the caller's row ids to slice positions, gather the touched rows
      for (const { plan, rows } of tables) {
        for (const lookup of plan.lookups) {
          const ids = feeds[lookup.source];
          if (ids === undefined) throw new GenrecError('INVALID_INPUT', `missing feed for input "${lookup.source}"`, { details: { field: lookup.source } });
          if (!(ids instanceof BigInt64Array || ids instanceof Int32Array)) {
            throw new GenrecError('DTYPE_MISMATCH', `input "${lookup.source}" needs an int64 or int32 array, got ${Object.prototype.toString.call(ids)}`, { details: { field: lookup.source } });
          }
          all[lookup.local] = rows.mapIndices(lookup.source, ids);
        }
        all[plan.rowsName] = rows.gather(plan.rowsName, this.values.get(plan.name)!);
        for (const [full, feed] of plan.states) all[feed] = rows.gather(feed, this.stateValues.get(full)!);
      }
      const used: Record<string, AnyTypedArray> = {};
      for (const info of bucket.compiled.inputs) used[info.name] = all[info.name]!;
      const dense = (name: string) => !this.sparseRows.has(name) && !this.sparseState.has(name);
      let spare: Record<string, AnyTypedArray> | undefined;
      if (this.options.outputBuffers === 'preallocated') {
        spare = {};
        for (const [name, value] of [...this.values, ...this.stateValues]) {
          if (!dense(name)) continue;
          let other = this.spares.get(name);
          if (!other || other === value) {
            other = value instanceof Float64Array ? new Float64Array(value.length) : new Float32Array(value.length);
            this.spares.set(name, other);
          }
          spare[`updated.${name}`] = other;
        }
      }
      const out = await bucket.compiled.run(used, spare, dimensions);
      if (spare) {
        // the fed buffers become the spares of the next step
        for (const [name, value] of [...this.values, ...this.stateValues]) if (dense(name)) this.spares.set(name, value);
      }
      for (const name of this.values.keys()) {
        const next = out[`updated.${name}`];
        if (next && dense(name)) this.values.set(name, next as Float32Array | Float64Array);
      }
      for (const name of this.stateValues.keys()) {
        const next = out[`updated.${name}`];
        if (next && dense(name)) this.stateValues.set(name, next as Float32Array | Float64Array);
      }
      for (const { plan, rows } of tables) {
        if (!plan.trainable) continue;
        rows.scatter(out[`updated.${plan.rowsName}`] as Float32Array | Float64Array, this.values.get(plan.name)!);
        for (const [full, feed] of plan.states) rows.scatter(out[`updated.${feed}`] as Float32Array | Float64Array, this.stateValues.get(full)!);
      }
      this.steps++;
      const outputs: Record<string, AnyTypedArray> = {};
      for (const n of bucket.extraNames) outputs[n] = out[`output.${n}`]!;
      return { loss: Number(out.loss![0]), gradientNorm: Number(out.gradient_norm![0]), outputs };
    } finally {
      for (const { rows } of tables) rows.reset();
    }
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
    const all = [...this.sessions.values(), ...(this.symbolicSession ? [this.symbolicSession] : [])];
    this.sessions.clear();
    this.symbolicSession = undefined;
    for (const pending of all) {
      const bucket = await pending;
      if (this.options.profilePrefix !== undefined) bucket.compiled.session.endProfiling();
      await bucket.compiled.release();
    }
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
