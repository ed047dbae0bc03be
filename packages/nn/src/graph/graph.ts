import { GenrecError, Rng, type Seed } from '@genrec/core';
import type { AnyTypedArray, Attribute, DType, NodeInit, TensorProtoInit, ValueInfoInit } from '../onnx/proto.js';
import { encodeModel } from '../onnx/proto.js';

/** A static shape: one non-negative integer per axis (`[]` is a scalar). */
export type Shape = readonly number[];

/** How a symbolic tensor came to be. */
export type TensorKind = 'input' | 'parameter' | 'constant' | 'op';

/**
 * Builds the gradient of an op: given the gradients of its outputs (undefined = zero) and which
 * inputs need one, returns a gradient per input (undefined = zero / not needed).
 */
export type VjpFunction = (outputGrads: readonly (SymbolicTensor | undefined)[], needs: readonly boolean[]) => readonly (SymbolicTensor | undefined)[];

/** One node of the graph: an ONNX operator with its inputs, outputs and gradient rule. */
export interface OpNode {
  readonly id: number;
  readonly opType: string;
  readonly domain: string;
  readonly inputs: readonly SymbolicTensor[];
  readonly outputs: readonly SymbolicTensor[];
  readonly attributes: Readonly<Record<string, Attribute>>;
  /** Tensors the gradient rule differentiates with respect to (defaults to `inputs`). */
  readonly gradInputs: readonly SymbolicTensor[];
  /** The gradient rule; absent = no gradient flows through this node. */
  readonly vjp: VjpFunction | undefined;
}

/** A symbolic tensor of a {@link Graph}: a dtype, a static shape and where it comes from. */
export class SymbolicTensor {
  /** @internal */
  constructor(
    /** The graph it belongs to. */
    readonly graph: Graph,
    /** Unique id inside the graph (creation order). */
    readonly id: number,
    /** Its ONNX value name. */
    readonly name: string,
    /** Element type. */
    readonly dtype: DType,
    /** Static shape. */
    readonly shape: Shape,
    /** Input, parameter, constant or op output. */
    readonly kind: TensorKind,
    /** The node producing it (op outputs only). */
    readonly producer: OpNode | undefined,
  ) {}

  /** Number of axes. */
  get rank(): number {
    return this.shape.length;
  }

  /** Number of elements. */
  get size(): number {
    let s = 1;
    for (const d of this.shape) s *= d;
    return s;
  }

  /** True for float32 and float64 tensors (the only ones that carry gradients). */
  get isFloat(): boolean {
    return this.dtype === 'float32' || this.dtype === 'float64';
  }

  /** `name[d0, d1…] dtype`, used in error messages. */
  describe(): string {
    return `${this.name}[${this.shape.join(', ')}] ${this.dtype}`;
  }
}

/** How a parameter's initial value is drawn. */
export type Initializer =
  | { readonly kind: 'zeros' }
  | { readonly kind: 'ones' }
  | { readonly kind: 'constant'; readonly value: number }
  | { readonly kind: 'normal'; readonly std: number; readonly mean?: number }
  | { readonly kind: 'uniform'; readonly low: number; readonly high: number }
  /** Glorot/Xavier uniform with fan-in = shape[-2] (or 1), fan-out = shape[-1]. */
  | { readonly kind: 'xavier'; readonly gain?: number }
  | { readonly kind: 'data'; readonly data: Float32Array | Float64Array };

/** Initialiser helpers. */
export const init = {
  /** All zeros. */
  zeros: (): Initializer => ({ kind: 'zeros' }),
  /** All ones. */
  ones: (): Initializer => ({ kind: 'ones' }),
  /** One value everywhere. */
  constant: (value: number): Initializer => ({ kind: 'constant', value }),
  /** Normal(mean, std). */
  normal: (std: number, mean = 0): Initializer => ({ kind: 'normal', std, mean }),
  /** Uniform(low, high). */
  uniform: (low: number, high: number): Initializer => ({ kind: 'uniform', low, high }),
  /** Glorot/Xavier uniform. */
  xavier: (gain = 1): Initializer => ({ kind: 'xavier', gain }),
  /** Given values (copied). */
  fromData: (data: Float32Array | Float64Array): Initializer => ({ kind: 'data', data }),
};

/** A trainable parameter: its symbolic tensor and initial value. */
export interface Parameter {
  readonly tensor: SymbolicTensor;
  readonly initial: Float32Array | Float64Array;
  /** Present for a row-sparse parameter (see `rowSparseParameter`): the graph reads only its touched rows. */
  readonly sparse?: RowSparseInfo;
}

/**
 * The graph side of a row-sparse parameter `[rowCount, ...rest]`: the graph never reads the full
 * tensor, only `rows` (`[maxRows, ...rest]`, the rows a step touches, fed by the trainer), through
 * local index inputs that stand for the caller's index inputs.
 */
export interface RowSparseInfo {
  /** The touched rows, `[maxRows, ...rest]` (a graph input the trainer fills; named `<parameter>:rows`). */
  readonly rows: SymbolicTensor;
  /** Rows of `rows`: at most this many distinct rows per step. */
  readonly maxRows: number;
  /**
   * Each index input that looks rows up (`source`, global row ids fed by the caller) and the input
   * the graph reads instead (`local`, named `<source>:<parameter>`: positions in `rows`).
   */
  readonly lookups: readonly { readonly source: SymbolicTensor; readonly local: SymbolicTensor }[];
}

/** A dropout site: the mask input the runtime fills each step, and its rate. */
export interface DropoutSite {
  readonly mask: SymbolicTensor;
  readonly rate: number;
}

/** Options of a {@link Graph}. */
export interface GraphOptions {
  /**
   * Seed of the parameter initialisers (drawn in creation order).
   * @defaultValue 0
   */
  seed?: Seed;
  /**
   * Training graphs apply dropout (through mask inputs); inference graphs skip it.
   * @defaultValue true
   */
  training?: boolean;
}

/** Options of {@link Graph.toModel}. */
export interface ToModelOptions {
  /** Graph outputs. */
  outputs: readonly SymbolicTensor[];
  /** Names to give the outputs (defaults to their value names). */
  outputNames?: readonly string[];
  /**
   * `'inputs'`: parameters are graph inputs (training: fed and returned each step);
   * `'initializers'`: parameters are stored in the model (standalone export).
   * @defaultValue 'initializers'
   */
  parameters?: 'inputs' | 'initializers';
  /** Current parameter values by name (for `'initializers'`; defaults to the initial values). */
  parameterValues?: ReadonlyMap<string, Float32Array | Float64Array>;
  /** Extra graph inputs to declare even if no output uses them. */
  extraInputs?: readonly SymbolicTensor[];
  /** Model name. */
  name?: string;
}

/** What {@link Graph.toModel} serialises (nodes, inputs, outputs and initialisers). @internal */
export interface ModelParts {
  readonly nodes: readonly NodeInit[];
  readonly inputs: readonly ValueInfoInit[];
  readonly outputs: readonly ValueInfoInit[];
  readonly initializers: readonly TensorProtoInit[];
  readonly name: string;
}

/** The result of {@link Graph.toModel}: ONNX bytes and the names of its inputs and outputs in order. */
export interface BuiltModel {
  readonly bytes: Uint8Array;
  readonly inputs: readonly ValueInfoInit[];
  readonly outputs: readonly ValueInfoInit[];
}

const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_.:/-]*$/;

/**
 * A graph under construction: symbolic tensors with static shapes, the nodes that produce them, and
 * the parameters, inputs and constants they start from. Ops are free functions in `ops` that take
 * tensors of one graph; shape and dtype errors are raised while building.
 *
 * @example
 * ```ts
 * const g = new Graph({ seed: 1 });
 * const x = g.input('x', 'float32', [4, 3]);
 * const w = g.parameter('w', [3, 2], init.xavier());
 * const y = ops.matMul(x, w);
 * ```
 */
export class Graph {
  /** Whether dropout is applied. */
  readonly training: boolean;
  private readonly rng: Rng;
  private nextId = 0;
  private readonly names = new Set<string>();
  /** @internal */ readonly nodes: OpNode[] = [];
  /** @internal */ readonly inputList: SymbolicTensor[] = [];
  /** @internal */ readonly parameterList: Parameter[] = [];
  /** @internal */ readonly constants = new Map<number, TensorProtoInit>();
  /** @internal */ readonly dropoutSites: DropoutSite[] = [];
  private gradDepth = 0;
  private readonly scopes: string[] = [];

  constructor(options: GraphOptions = {}) {
    this.rng = new Rng(options.seed ?? 0);
    this.training = options.training ?? true;
  }

  /** Inputs declared so far (data inputs and dropout masks). */
  get inputs(): readonly SymbolicTensor[] {
    return this.inputList;
  }

  /** Parameters declared so far. */
  get parameters(): readonly Parameter[] {
    return this.parameterList;
  }

  /** Dropout sites (their masks are inputs the trainer fills). */
  get dropouts(): readonly DropoutSite[] {
    return this.dropoutSites;
  }

  private claimName(name: string): string {
    if (!NAME_PATTERN.test(name)) throw new GenrecError('INVALID_INPUT', `invalid tensor name "${name}"`, { details: { field: 'name' } });
    if (this.names.has(name)) throw new GenrecError('DUPLICATE_ID', `the graph already has a tensor named "${name}"`, { details: { field: 'name' } });
    this.names.add(name);
    return name;
  }

  private checkShape(shape: Shape, what: string): void {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new GenrecError('SHAPE_MISMATCH', `${what}: invalid shape [${shape.join(', ')}]`);
    }
  }

  /** Prefixes names of parameters created inside `body` with `prefix.` (nested scopes join with dots). */
  scope<T>(prefix: string, body: () => T): T {
    this.scopes.push(prefix);
    try {
      return body();
    } finally {
      this.scopes.pop();
    }
  }

  /** The current scope prefix applied to `name`. */
  scoped(name: string): string {
    return this.scopes.length === 0 ? name : `${this.scopes.join('.')}.${name}`;
  }

  /**
   * Declares a graph input (fed at run time).
   * @throws GenrecError `DUPLICATE_ID` for a name already used.
   */
  input(name: string, dtype: DType, shape: Shape): SymbolicTensor {
    this.checkShape(shape, `input ${name}`);
    const t = new SymbolicTensor(this, this.nextId++, this.claimName(name), dtype, [...shape], 'input', undefined);
    this.inputList.push(t);
    return t;
  }

  /**
   * Declares a trainable float parameter with an initial value (drawn now from the graph's seeded
   * generator). The name is prefixed by the current {@link Graph.scope}.
   */
  parameter(name: string, shape: Shape, initializer: Initializer = init.xavier(), dtype: 'float32' | 'float64' = 'float32'): SymbolicTensor {
    const full = this.scoped(name);
    this.checkShape(shape, `parameter ${full}`);
    const t = new SymbolicTensor(this, this.nextId++, this.claimName(full), dtype, [...shape], 'parameter', undefined);
    const size = t.size;
    const initial = dtype === 'float64' ? new Float64Array(size) : new Float32Array(size);
    switch (initializer.kind) {
      case 'zeros':
        break;
      case 'ones':
        initial.fill(1);
        break;
      case 'constant':
        initial.fill(initializer.value);
        break;
      case 'normal':
        for (let i = 0; i < size; i++) initial[i] = this.rng.normal(initializer.mean ?? 0, initializer.std);
        break;
      case 'uniform':
        for (let i = 0; i < size; i++) initial[i] = this.rng.uniformIn(initializer.low, initializer.high);
        break;
      case 'xavier': {
        const fanOut = shape.length === 0 ? 1 : shape[shape.length - 1]!;
        const fanIn = shape.length < 2 ? 1 : shape[shape.length - 2]!;
        const bound = (initializer.gain ?? 1) * Math.sqrt(6 / Math.max(1, fanIn + fanOut));
        for (let i = 0; i < size; i++) initial[i] = this.rng.uniformIn(-bound, bound);
        break;
      }
      case 'data':
        if (initializer.data.length !== size) {
          throw new GenrecError('SHAPE_MISMATCH', `parameter ${full} of shape [${shape.join(', ')}] needs ${size} values, got ${initializer.data.length}`);
        }
        initial.set(initializer.data);
        break;
    }
    this.parameterList.push({ tensor: t, initial });
    return t;
  }

  /** A constant tensor stored in the model (no gradient). */
  constant(data: AnyTypedArray, shape: Shape, dtype: DType): SymbolicTensor {
    this.checkShape(shape, 'constant');
    const id = this.nextId++;
    const t = new SymbolicTensor(this, id, `const_${id}`, dtype, [...shape], 'constant', undefined);
    if (t.size !== data.length) throw new GenrecError('SHAPE_MISMATCH', `constant of shape [${shape.join(', ')}] needs ${t.size} values, got ${data.length}`);
    this.constants.set(id, { name: t.name, dtype, shape: [...shape], data });
    return t;
  }

  /** A scalar constant of a float or int dtype. */
  scalar(value: number, dtype: DType = 'float32'): SymbolicTensor {
    return this.constant(typedArrayOf(dtype, [value]), [], dtype);
  }

  /** A 1-D int64 constant (axes, shapes). */
  int64s(values: readonly number[]): SymbolicTensor {
    return this.constant(BigInt64Array.from(values, (v) => BigInt(v)), [values.length], 'int64');
  }

  /**
   * Declares a row-sparse parameter (the full value lives with the trainer; the graph reads the
   * `maxRows` rows a step touches). Use `rowSparseParameter` / `nn.embedding({ sparseRows })`.
   * @internal
   */
  declareRowSparse(name: string, shape: Shape, initializer: Initializer, dtype: 'float32' | 'float64', maxRows: number): { tensor: SymbolicTensor; rows: SymbolicTensor } {
    if (shape.length < 1) throw new GenrecError('SHAPE_MISMATCH', `row-sparse parameter ${this.scoped(name)} needs rank >= 1, got []`);
    if (!Number.isSafeInteger(maxRows) || maxRows < 1) {
      throw new GenrecError('INVALID_OPTION', `maxRows of row-sparse parameter ${this.scoped(name)} must be a positive integer, got ${maxRows}`, { details: { field: 'maxRows' } });
    }
    const tensor = this.parameter(name, shape, initializer, dtype);
    const rows = new SymbolicTensor(this, this.nextId++, this.claimName(`${tensor.name}:rows`), dtype, [Math.min(maxRows, shape[0]!), ...shape.slice(1)], 'parameter', undefined);
    const index = this.parameterList.length - 1;
    this.parameterList[index] = { ...this.parameterList[index]!, sparse: { rows, maxRows: rows.shape[0]!, lookups: [] } };
    return { tensor, rows };
  }

  /**
   * The local index input that stands for `source` in lookups of row-sparse parameter `name`
   * (created on first use).
   * @internal
   */
  rowSparseLookup(name: string, source: SymbolicTensor): SymbolicTensor {
    const parameter = this.parameterList.find((p) => p.tensor.name === name);
    const info = parameter?.sparse;
    if (!info) throw new GenrecError('INVALID_INPUT', `"${name}" is not a row-sparse parameter of this graph`);
    if (source.graph !== this || source.kind !== 'input' || (source.dtype !== 'int64' && source.dtype !== 'int32')) {
      throw new GenrecError('INVALID_INPUT', `rows of row-sparse parameter ${name} are looked up by int64/int32 graph inputs (the trainer maps them to rows each step), got ${source.describe()} (${source.kind})`, {
        details: { field: source.name },
      });
    }
    if (info.lookups.some((l) => l.local.id === source.id)) throw new GenrecError('INVALID_INPUT', `${source.name} is already a local index of ${name}`);
    const found = info.lookups.find((l) => l.source.id === source.id);
    if (found) return found.local;
    const local = this.input(`${source.name}:${name}`, source.dtype, source.shape);
    (info.lookups as { source: SymbolicTensor; local: SymbolicTensor }[]).push({ source, local });
    return local;
  }

  /** Registers a dropout mask input of `shape` for rate `rate` (filled by the runtime). */
  dropoutMask(shape: Shape, rate: number, dtype: DType = 'float32'): SymbolicTensor {
    const mask = this.input(`dropout_mask_${this.dropoutSites.length}`, dtype, shape);
    this.dropoutSites.push({ mask, rate });
    return mask;
  }

  /** Runs `body` with gradient recording off: nodes created inside carry no gradient rule. */
  noGrad<T>(body: () => T): T {
    this.gradDepth++;
    try {
      return body();
    } finally {
      this.gradDepth--;
    }
  }

  /**
   * Adds a node (used by the ops). Outputs get fresh value names.
   * @internal
   */
  addNode(spec: {
    opType: string;
    inputs: readonly SymbolicTensor[];
    outputs: readonly { dtype: DType; shape: Shape }[];
    attributes?: Readonly<Record<string, Attribute>>;
    vjp?: VjpFunction;
    gradInputs?: readonly SymbolicTensor[];
    domain?: string;
  }): [SymbolicTensor, ...SymbolicTensor[]] {
    for (const t of spec.inputs) {
      if (t.graph !== this) throw new GenrecError('INVALID_INPUT', `${spec.opType}: input ${t.name} belongs to another graph`);
    }
    const id = this.nextId++;
    const outputs: SymbolicTensor[] = [];
    const node: OpNode = {
      id,
      opType: spec.opType,
      domain: spec.domain ?? '',
      inputs: spec.inputs,
      outputs,
      attributes: spec.attributes ?? {},
      gradInputs: spec.gradInputs ?? spec.inputs,
      vjp: this.gradDepth > 0 ? undefined : spec.vjp,
    };
    spec.outputs.forEach((o, k) => {
      outputs.push(new SymbolicTensor(this, this.nextId++, `${spec.opType.toLowerCase()}_${id}${spec.outputs.length > 1 ? `_${k}` : ''}`, o.dtype, [...o.shape], 'op', node));
    });
    this.nodes.push(node);
    return outputs as [SymbolicTensor, ...SymbolicTensor[]];
  }

  /**
   * Serialises the part of the graph that `outputs` depend on as an ONNX model.
   *
   * @throws GenrecError `INVALID_INPUT` when an output depends on a dropout mask of a graph exported for inference.
   */
  toModel(options: ToModelOptions): BuiltModel {
    const parts = this.toModelParts(options);
    return { bytes: encodeModel(parts), inputs: parts.inputs, outputs: parts.outputs };
  }

  /**
   * What {@link Graph.toModel} serialises, before encoding.
   * @internal
   */
  toModelParts(options: ToModelOptions): ModelParts {
    const needed = new Set<number>();
    const stack: SymbolicTensor[] = [...options.outputs];
    const usedNodes = new Set<OpNode>();
    while (stack.length > 0) {
      const t = stack.pop()!;
      if (needed.has(t.id)) continue;
      needed.add(t.id);
      if (t.producer && !usedNodes.has(t.producer)) {
        usedNodes.add(t.producer);
        for (const i of t.producer.inputs) stack.push(i);
      }
    }
    const asInputs = (options.parameters ?? 'initializers') === 'inputs';
    const inputs: ValueInfoInit[] = [];
    const initializers: TensorProtoInit[] = [];
    const declared = new Set<number>();
    for (const t of this.inputList) {
      if (needed.has(t.id) || options.extraInputs?.includes(t)) {
        inputs.push({ name: t.name, dtype: t.dtype, shape: t.shape });
        declared.add(t.id);
      }
    }
    for (const t of options.extraInputs ?? []) {
      if (!declared.has(t.id) && t.kind === 'parameter') {
        inputs.push({ name: t.name, dtype: t.dtype, shape: t.shape });
        declared.add(t.id);
      }
    }
    for (const p of this.parameterList) {
      if (p.sparse) {
        if (needed.has(p.tensor.id)) {
          throw new GenrecError('INVALID_INPUT', `row-sparse parameter ${p.tensor.name} can only be read through its gather (the graph holds only the rows a step touches)`, { details: { field: p.tensor.name } });
        }
        if (needed.has(p.sparse.rows.id) && !declared.has(p.sparse.rows.id)) {
          if (!asInputs) throw new GenrecError('INVALID_INPUT', `row-sparse parameter ${p.tensor.name} cannot be stored in a model (parameters: 'initializers'); build the graph with a dense parameter to export it`, { details: { field: p.tensor.name } });
          inputs.push({ name: p.sparse.rows.name, dtype: p.sparse.rows.dtype, shape: p.sparse.rows.shape });
          declared.add(p.sparse.rows.id);
        }
        continue;
      }
      if (!needed.has(p.tensor.id) || declared.has(p.tensor.id)) continue;
      if (asInputs) inputs.push({ name: p.tensor.name, dtype: p.tensor.dtype, shape: p.tensor.shape });
      else {
        const value = options.parameterValues?.get(p.tensor.name) ?? p.initial;
        initializers.push({ name: p.tensor.name, dtype: p.tensor.dtype, shape: p.tensor.shape, data: value });
      }
    }
    for (const [id, c] of this.constants) if (needed.has(id)) initializers.push(c);
    const nodes: NodeInit[] = [];
    for (const n of this.nodes) {
      if (!usedNodes.has(n)) continue;
      nodes.push({ opType: n.opType, domain: n.domain, inputs: n.inputs.map((t) => t.name), outputs: n.outputs.map((t) => t.name), attributes: n.attributes, name: `n${n.id}` });
    }
    // graph outputs may need renaming (and an output may also be an input): add Identity nodes
    const outputs: ValueInfoInit[] = [];
    const seen = new Set<string>();
    options.outputs.forEach((t, k) => {
      const wanted = options.outputNames?.[k] ?? t.name;
      if (wanted !== t.name || t.kind !== 'op' || seen.has(wanted)) {
        const name = seen.has(wanted) ? `${wanted}_${k}` : wanted;
        nodes.push({ opType: 'Identity', inputs: [t.name], outputs: [name], name: `out_${k}` });
        outputs.push({ name, dtype: t.dtype, shape: t.shape });
        seen.add(name);
      } else {
        outputs.push({ name: t.name, dtype: t.dtype, shape: t.shape });
        seen.add(t.name);
      }
    });
    return { name: options.name ?? 'genrec', nodes, inputs, outputs, initializers };
  }
}

/** A typed array of `dtype` holding `values`. */
export function typedArrayOf(dtype: DType, values: readonly number[]): AnyTypedArray {
  switch (dtype) {
    case 'float32':
      return Float32Array.from(values);
    case 'float64':
      return Float64Array.from(values);
    case 'int64':
      return BigInt64Array.from(values, (v) => BigInt(v));
    case 'int32':
      return Int32Array.from(values);
    case 'bool':
      return Uint8Array.from(values, (v) => (v ? 1 : 0));
  }
}

/** A zero-filled typed array of `dtype`. */
export function allocateTyped(dtype: DType, size: number): AnyTypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(size);
    case 'float64':
      return new Float64Array(size);
    case 'int64':
      return new BigInt64Array(size);
    case 'int32':
      return new Int32Array(size);
    case 'bool':
      return new Uint8Array(size);
  }
}
