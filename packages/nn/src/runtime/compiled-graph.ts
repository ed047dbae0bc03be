import type * as ort from 'onnxruntime-node';
import { GenrecError } from '@genrec/core';
import type { Graph, ModelParts, SymbolicTensor } from '../graph/graph.js';
import { encodeModel, type AnyTypedArray, type ValueInfoInit } from '../onnx/proto.js';
import { createSession, ortTensor, runSession, type SessionOptions } from './session.js';

/** Options of {@link compileGraph}. */
export interface CompileGraphOptions extends SessionOptions {
  /** The tensors to compute. */
  outputs: readonly SymbolicTensor[];
  /** Names of the outputs in the result (defaults to the tensors' names). */
  outputNames?: readonly string[];
  /**
   * Where parameters live: in the model (`'initializers'`) or fed per run (`'inputs'`).
   * @defaultValue 'initializers'
   */
  parameters?: 'inputs' | 'initializers';
  /** Parameter values to store (for `'initializers'`; defaults to their initial values). */
  parameterValues?: ReadonlyMap<string, Float32Array | Float64Array>;
  /** Inputs to declare even when no output depends on them. */
  extraInputs?: readonly SymbolicTensor[];
}

/** A graph compiled into one onnxruntime session with static shapes. */
export class CompiledGraph {
  private constructor(
    /** The onnxruntime session. */
    readonly session: ort.InferenceSession,
    /** Declared inputs, in model order. */
    readonly inputs: readonly ValueInfoInit[],
    /** Declared outputs, in model order. */
    readonly outputs: readonly ValueInfoInit[],
    /** The ONNX model bytes. */
    readonly model: Uint8Array,
  ) {}

  /** Serialises the needed part of `graph` and loads it into onnxruntime. */
  static async create(graph: Graph, options: CompileGraphOptions): Promise<CompiledGraph> {
    const built = graph.toModel({
      outputs: options.outputs,
      ...(options.outputNames ? { outputNames: options.outputNames } : {}),
      parameters: options.parameters ?? 'initializers',
      ...(options.parameterValues ? { parameterValues: options.parameterValues } : {}),
      ...(options.extraInputs ? { extraInputs: options.extraInputs } : {}),
    });
    const session = await createSession(built.bytes, options);
    return new CompiledGraph(session, built.inputs, built.outputs, built.bytes);
  }

  /**
   * Loads model parts (e.g. a graph's `toModelParts` with symbolic input and output dimensions)
   * into onnxruntime.
   * @internal
   */
  static async fromParts(parts: ModelParts, options: SessionOptions): Promise<CompiledGraph> {
    const bytes = encodeModel(parts);
    const session = await createSession(bytes, options);
    return new CompiledGraph(session, parts.inputs, parts.outputs, bytes);
  }

  /**
   * Runs the model. Every declared input must be fed with a typed array of its dtype and size.
   * Symbolic dimensions (strings in an input's shape) take their value from `dimensions`, or from
   * the first input that has one unknown symbolic dimension (its length divided by its other
   * dimensions); every other input with that symbol must agree.
   * @returns outputs by name (fresh buffers allocated by onnxruntime).
   * @throws GenrecError `INVALID_INPUT` for a missing feed, `SHAPE_MISMATCH`/`DTYPE_MISMATCH` for a bad one.
   */
  async run(
    feeds: Readonly<Record<string, AnyTypedArray>>,
    preallocated?: Readonly<Record<string, AnyTypedArray>>,
    dimensions?: Readonly<Record<string, number>>,
  ): Promise<Record<string, AnyTypedArray>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    const known: Record<string, number> = { ...dimensions };
    for (const info of this.inputs) {
      const data = feeds[info.name];
      if (data === undefined) throw new GenrecError('INVALID_INPUT', `missing feed for input "${info.name}"`, { details: { field: info.name } });
      const shape = resolveFeedShape(info, data, known);
      checkFeed(info, data, shape);
      ortFeeds[info.name] = ortTensor(info.dtype, data, shape);
    }
    let fetches: Record<string, ort.Tensor | null> | undefined;
    if (preallocated) {
      fetches = {};
      for (const info of this.outputs) {
        const buffer = preallocated[info.name];
        const shape = info.shape.every((d) => typeof d === 'number' || known[d] !== undefined) ? info.shape.map((d) => (typeof d === 'number' ? d : known[d]!)) : undefined;
        if (buffer && shape) checkFeed(info, buffer, shape);
        fetches[info.name] = buffer && shape ? ortTensor(info.dtype, buffer, shape) : null;
      }
    }
    const result = await runSession(this.session, ortFeeds, 'CompiledGraph.run', fetches);
    const out: Record<string, AnyTypedArray> = {};
    for (const info of this.outputs) out[info.name] = result[info.name]!.data as AnyTypedArray;
    return out;
  }

  /** Releases the onnxruntime session. */
  async release(): Promise<void> {
    await this.session.release();
  }
}

const ARRAY_OF: Record<string, new (n: number) => AnyTypedArray> = {
  float32: Float32Array,
  float64: Float64Array,
  int64: BigInt64Array,
  int32: Int32Array,
  bool: Uint8Array,
};

/**
 * The concrete shape of a feed: symbolic dimensions from `known`, or (one unknown per input) from
 * the data's length; newly inferred values are added to `known`.
 */
function resolveFeedShape(info: ValueInfoInit, data: AnyTypedArray, known: Record<string, number>): number[] {
  let staticSize = 1;
  let unknown: string | undefined;
  for (const d of info.shape) {
    if (typeof d === 'number') staticSize *= d;
    else if (known[d] !== undefined) staticSize *= known[d]!;
    else if (unknown === undefined || unknown === d) {
      if (unknown === d) {
        throw new GenrecError('SHAPE_MISMATCH', `input "${info.name}" of shape [${info.shape.join(', ')}] repeats the unknown dimension ${d}; give its value`, { details: { field: info.name } });
      }
      unknown = d;
    } else {
      throw new GenrecError('SHAPE_MISMATCH', `input "${info.name}" of shape [${info.shape.join(', ')}] has two unknown dimensions (${unknown}, ${d}); give their values`, { details: { field: info.name } });
    }
  }
  if (unknown !== undefined) {
    const value = staticSize === 0 ? 0 : data.length / staticSize;
    if (!Number.isInteger(value)) {
      throw new GenrecError('SHAPE_MISMATCH', `input "${info.name}" of shape [${info.shape.join(', ')}] needs a multiple of ${staticSize} values, got ${data.length}`, { details: { field: info.name } });
    }
    known[unknown] = value;
  }
  return info.shape.map((d) => (typeof d === 'number' ? d : known[d]!));
}

/** Checks that a feed has the dtype and element count of an input (of `shape`, default the declared static shape). */
export function checkFeed(info: ValueInfoInit, data: AnyTypedArray, shape: readonly number[] = info.shape as number[]): void {
  let size = 1;
  for (const d of shape) size *= d;
  if (!(data instanceof ARRAY_OF[info.dtype]!)) {
    throw new GenrecError('DTYPE_MISMATCH', `input "${info.name}" needs a ${info.dtype} array, got ${Object.prototype.toString.call(data)}`, { details: { field: info.name } });
  }
  if (data.length !== size) {
    throw new GenrecError('SHAPE_MISMATCH', `input "${info.name}" of shape [${shape.join(', ')}] needs ${size} values, got ${data.length}`, { details: { field: info.name } });
  }
}

/** Compiles a graph for the given outputs (see {@link CompiledGraph.create}). */
export function compileGraph(graph: Graph, options: CompileGraphOptions): Promise<CompiledGraph> {
  return CompiledGraph.create(graph, options);
}
