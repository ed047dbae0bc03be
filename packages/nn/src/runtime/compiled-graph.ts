import type * as ort from 'onnxruntime-node';
import { GenrecError } from '@genrec/core';
import type { Graph, SymbolicTensor } from '../graph/graph.js';
import type { AnyTypedArray, ValueInfoInit } from '../onnx/proto.js';
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
   * Runs the model. Every declared input must be fed with a typed array of its dtype and size.
   * @returns outputs by name (fresh buffers allocated by onnxruntime).
   * @throws GenrecError `INVALID_INPUT` for a missing feed, `SHAPE_MISMATCH`/`DTYPE_MISMATCH` for a bad one.
   */
  async run(feeds: Readonly<Record<string, AnyTypedArray>>, preallocated?: Readonly<Record<string, AnyTypedArray>>): Promise<Record<string, AnyTypedArray>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const info of this.inputs) {
      const data = feeds[info.name];
      if (data === undefined) throw new GenrecError('INVALID_INPUT', `missing feed for input "${info.name}"`, { details: { field: info.name } });
      const shape = info.shape as number[];
      checkFeed(info, data);
      ortFeeds[info.name] = ortTensor(info.dtype, data, shape);
    }
    let fetches: Record<string, ort.Tensor | null> | undefined;
    if (preallocated) {
      fetches = {};
      for (const info of this.outputs) {
        const buffer = preallocated[info.name];
        if (buffer) checkFeed(info, buffer);
        fetches[info.name] = buffer ? ortTensor(info.dtype, buffer, info.shape as number[]) : null;
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

/** Checks that a feed has the dtype and element count of an input. */
export function checkFeed(info: ValueInfoInit, data: AnyTypedArray): void {
  let size = 1;
  for (const d of info.shape) size *= d as number;
  if (!(data instanceof ARRAY_OF[info.dtype]!)) {
    throw new GenrecError('DTYPE_MISMATCH', `input "${info.name}" needs a ${info.dtype} array, got ${Object.prototype.toString.call(data)}`, { details: { field: info.name } });
  }
  if (data.length !== size) {
    throw new GenrecError('SHAPE_MISMATCH', `input "${info.name}" of shape [${info.shape.join(', ')}] needs ${size} values, got ${data.length}`, { details: { field: info.name } });
  }
}

/** Compiles a graph for the given outputs (see {@link CompiledGraph.create}). */
export function compileGraph(graph: Graph, options: CompileGraphOptions): Promise<CompiledGraph> {
  return CompiledGraph.create(graph, options);
}
