import { GenrecError, MAX_STORED_DIMENSION, MAX_STORED_RANK, readBytes, shapeSize, typedArrayFromBytes, type Tensor, type TensorDType } from '@genrec/core';
import { onnx } from './proto.js';

/** One node of a read ONNX graph (operator, value names; attributes are not decoded). */
export interface OnnxNodeInfo {
  readonly opType: string;
  readonly domain: string;
  readonly name: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

/** What {@link readOnnxModel} returns. */
export interface OnnxModelContents {
  /**
   * Every stored tensor by value name: the graph's initialisers, the values of its `Constant`
   * nodes (attribute `value`) and the outputs of `Identity` nodes over those (how PyTorch's
   * exporter aliases deduplicated weights), in float32, float64, int32, int64 or uint8 (bool).
   */
  readonly tensors: ReadonlyMap<string, Tensor>;
  /** The graph's nodes in file order (for ONNX files: a topological order). */
  readonly nodes: readonly OnnxNodeInfo[];
  /** Graph input names (initialisers excluded). */
  readonly inputs: readonly string[];
  /** Graph output names. */
  readonly outputs: readonly string[];
  /** Names of stored tensors left out because their element type is none of the above (e.g. float16). */
  readonly unsupported: readonly string[];
}

/** ONNX `TensorProto.DataType` -> genrec dtype (bool is read as uint8). */
const DTYPE_OF_CODE: Readonly<Record<number, TensorDType>> = { 1: 'float32', 2: 'uint8', 6: 'int32', 7: 'int64', 9: 'uint8', 11: 'float64' };

interface LongLike {
  low: number;
  high: number;
}

function toNumber(value: number | LongLike): number {
  return typeof value === 'number' ? value : value.high * 4294967296 + (value.low >>> 0);
}

function toBigInt(value: number | LongLike): bigint {
  return typeof value === 'number' ? BigInt(value) : (BigInt(value.high) << 32n) | BigInt(value.low >>> 0);
}

type TensorProto = import("onnx-proto").onnx.ITensorProto;

function decodeTensor(proto: TensorProto, where: string): Tensor | undefined {
  const dtype = DTYPE_OF_CODE[proto.dataType ?? 0];
  if (dtype === undefined) return undefined;
  if (proto.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    throw new GenrecError('UNSUPPORTED', `tensor "${proto.name}" is stored in an external data file, which is not supported`, { details: { file: where } });
  }
  const dims = proto.dims ?? [];
  const corrupt = (message: string): never => {
    throw new GenrecError('CORRUPT_ARTIFACT', `tensor "${proto.name}" ${message}`, { details: { file: where, field: proto.name ?? '' } });
  };
  if (dims.length > MAX_STORED_RANK) corrupt(`has ${dims.length} dimensions, more than ${MAX_STORED_RANK}`);
  const shape = dims.map((d) => toNumber(d as number | LongLike));
  const badDimension = shape.find((d) => !Number.isSafeInteger(d) || d < 0 || d > MAX_STORED_DIMENSION);
  if (badDimension !== undefined) corrupt(`has dimension ${badDimension}; dimensions are integers in [0, ${MAX_STORED_DIMENSION}]`);
  const size = shapeSize(shape);
  let data: Tensor['data'];
  if (proto.rawData && proto.rawData.length > 0) {
    // protobufjs hands out a Buffer view into the file (unaligned, and Buffer#slice does not copy): copy it
    data = typedArrayFromBytes(dtype, Uint8Array.prototype.slice.call(proto.rawData));
  } else {
    switch (dtype) {
      case 'float32':
        data = Float32Array.from(proto.floatData ?? []);
        break;
      case 'float64':
        data = Float64Array.from(proto.doubleData ?? []);
        break;
      case 'int64':
        data = BigInt64Array.from((proto.int64Data ?? []) as Array<number | LongLike>, toBigInt);
        break;
      case 'int32':
        data = Int32Array.from(proto.int32Data ?? []);
        break;
      case 'uint8': {
        // uint8 and bool values are stored in int32_data: refuse what would wrap
        const values = proto.int32Data ?? [];
        const limit = proto.dataType === onnx.TensorProto.DataType.BOOL ? 1 : 255;
        if (values.some((value) => value < 0 || value > limit)) corrupt(`holds a value outside [0, ${limit}] for its element type`);
        data = Uint8Array.from(values);
        break;
      }
    }
  }
  if (data.length !== size) corrupt(`of shape [${shape.join(', ')}] holds ${data.length} values, expected ${size}`);
  return { dtype, shape, data };
}

/**
 * Reads an ONNX model's stored tensors (initialisers and `Constant` values) and the outline of its
 * graph, e.g. to take a trained model's weights into a genrec graph.
 *
 * The file is parsed in JavaScript (protobufjs); it is never handed to onnxruntime, so a corrupt
 * or crafted file cannot reach native code through this reader. Checked before a tensor is built:
 * dimensions are integers in `[0, 2^31 - 1]` (at most 64), the data length matches the shape
 * (raw bytes a whole number of elements), uint8/bool values stored as int32 stay in range, and no
 * stored tensor name is defined twice.
 *
 * @param source - a `.onnx` path or its bytes.
 * @returns the stored tensors and the graph's outline
 * @throws GenrecError `NOT_FOUND` / `IO_ERROR` for the file, `PARSE_ERROR` when it is not an ONNX
 *   model (protobuf decoding fails or there is no graph), `CORRUPT_ARTIFACT` when a tensor's shape
 *   or data is inconsistent or a name is defined twice, `UNSUPPORTED` for external data files.
 * @example
 * ```ts
 * const { tensors } = readOnnxModel('encoder.onnx');
 * const embedding = tensors.get('p.tok_emb'); // { dtype: 'float32', shape: [787, 128], data }
 * ```
 */
export function readOnnxModel(source: string | Uint8Array): OnnxModelContents {
  const where = typeof source === 'string' ? source : '<bytes>';
  const bytes = typeof source === 'string' ? readBytes(source) : source;
  let model: InstanceType<typeof onnx.ModelProto>;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new GenrecError('PARSE_ERROR', `not an ONNX model: ${(error as Error).message}`, { cause: error, details: { file: where } });
  }
  const graph = model.graph;
  if (!graph) throw new GenrecError('PARSE_ERROR', 'the ONNX model has no graph', { details: { file: where } });
  const tensors = new Map<string, Tensor>();
  const unsupported: string[] = [];
  const stored = new Set<string>();
  const keep = (name: string, proto: TensorProto): void => {
    // ONNX graphs are in static single assignment form: a value name is defined once
    if (stored.has(name)) throw new GenrecError('CORRUPT_ARTIFACT', `the model defines the stored tensor "${name}" twice`, { details: { file: where, field: name } });
    stored.add(name);
    const tensor = decodeTensor(proto, where);
    if (tensor) tensors.set(name, tensor);
    else unsupported.push(name);
  };
  for (const initializer of graph.initializer ?? []) keep(initializer.name ?? '', initializer);
  const nodes: OnnxNodeInfo[] = [];
  for (const node of graph.node ?? []) {
    const info: OnnxNodeInfo = { opType: node.opType ?? '', domain: node.domain ?? '', name: node.name ?? '', inputs: [...(node.input ?? [])], outputs: [...(node.output ?? [])] };
    nodes.push(info);
    if (info.opType === 'Constant' && info.domain === '') {
      const value = (node.attribute ?? []).find((attribute) => attribute.name === 'value');
      if (value?.t && info.outputs[0] !== undefined) keep(info.outputs[0], value.t);
    } else if (info.opType === 'Identity' && info.domain === '' && info.inputs[0] !== undefined && info.outputs[0] !== undefined) {
      // exporters alias deduplicated initialisers through Identity nodes
      const aliased = tensors.get(info.inputs[0]);
      const isStored = aliased !== undefined || unsupported.includes(info.inputs[0]);
      if (isStored && stored.has(info.outputs[0])) {
        throw new GenrecError('CORRUPT_ARTIFACT', `the model defines the stored tensor "${info.outputs[0]}" twice`, { details: { file: where, field: info.outputs[0] } });
      }
      if (isStored) stored.add(info.outputs[0]);
      if (aliased) tensors.set(info.outputs[0], aliased);
      else if (isStored) unsupported.push(info.outputs[0]);
    }
  }
  const initializerNames = new Set((graph.initializer ?? []).map((initializer) => initializer.name));
  return {
    tensors,
    nodes,
    inputs: (graph.input ?? []).map((input) => input.name ?? '').filter((name) => !initializerNames.has(name)),
    outputs: (graph.output ?? []).map((output) => output.name ?? ''),
    unsupported,
  };
}
