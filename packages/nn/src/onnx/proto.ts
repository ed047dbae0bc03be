import onnxProto from 'onnx-proto';
import { GenrecError } from '@genrec/core';

/** The generated protobuf namespace of ONNX (onnx-proto 8, protobufjs 6). */
export const onnx = onnxProto.onnx;
/** Types of the generated protobuf namespace. */
export type OnnxNamespace = typeof onnxProto.onnx;

/** Element types the graph builder and runtime use. */
export type DType = 'float32' | 'float64' | 'int64' | 'int32' | 'bool';

/** ONNX `TensorProto.DataType` codes of each {@link DType}. */
export const ONNX_DTYPE: Readonly<Record<DType, number>> = {
  float32: 1,
  int32: 6,
  int64: 7,
  bool: 9,
  float64: 11,
};

/** The typed array holding each {@link DType} at the onnxruntime boundary. */
export interface TypedArrayByDType {
  float32: Float32Array;
  float64: Float64Array;
  int64: BigInt64Array;
  int32: Int32Array;
  bool: Uint8Array;
}

/** Any typed array the runtime exchanges. */
export type AnyTypedArray = TypedArrayByDType[DType];

/** The opset of the default ONNX domain that every genrec model declares. */
export const OPSET_VERSION = 18;
/** The ONNX IR version written into models (IR 8 = ONNX 1.10+ files, read by onnxruntime 1.30). */
export const IR_VERSION = 8;

/** An attribute value with its ONNX type made explicit. */
export type Attribute =
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'ints'; readonly value: readonly number[] }
  | { readonly kind: 'floats'; readonly value: readonly number[] }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'tensor'; readonly value: TensorProtoInit }
  | { readonly kind: 'graph'; readonly value: SubgraphInit };

/** Attribute helpers: `attr.int(1)`, `attr.ints([0, 1])`, `attr.float(0.5)`… */
export const attr = {
  /** An INT attribute. */
  int: (value: number): Attribute => ({ kind: 'int', value }),
  /** A FLOAT attribute. */
  float: (value: number): Attribute => ({ kind: 'float', value }),
  /** An INTS attribute. */
  ints: (value: readonly number[]): Attribute => ({ kind: 'ints', value }),
  /** A FLOATS attribute. */
  floats: (value: readonly number[]): Attribute => ({ kind: 'floats', value }),
  /** A STRING attribute. */
  string: (value: string): Attribute => ({ kind: 'string', value }),
  /** A TENSOR attribute. */
  tensor: (value: TensorProtoInit): Attribute => ({ kind: 'tensor', value }),
  /** A GRAPH attribute (e.g. an `If` branch). */
  graph: (value: SubgraphInit): Attribute => ({ kind: 'graph', value }),
};

/**
 * A graph held by a node's attribute (an `If` branch, a `Loop` body): its nodes may read any value
 * of the enclosing graph by name (initialisers included, never copied).
 */
export interface SubgraphInit {
  readonly name: string;
  readonly nodes: readonly NodeInit[];
  readonly inputs?: readonly ValueInfoInit[];
  readonly outputs: readonly ValueInfoInit[];
}

/** A tensor to store in a model (initialiser or constant). */
export interface TensorProtoInit {
  readonly name?: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: AnyTypedArray;
}

/** One node of an ONNX graph. */
export interface NodeInit {
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes?: Readonly<Record<string, Attribute>>;
  readonly name?: string;
  readonly domain?: string;
}

/** A graph input or output: name, dtype and shape (a string is a symbolic dimension). */
export interface ValueInfoInit {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly (number | string)[];
}

/** Everything needed to serialise a model. */
export interface ModelInit {
  readonly name?: string;
  readonly nodes: readonly NodeInit[];
  readonly inputs: readonly ValueInfoInit[];
  readonly outputs: readonly ValueInfoInit[];
  readonly initializers?: readonly TensorProtoInit[];
  /** @defaultValue {@link OPSET_VERSION} */
  readonly opset?: number;
  /** Extra opset imports, e.g. `{ 'com.microsoft': 1 }`. */
  readonly extraOpsets?: Readonly<Record<string, number>>;
  readonly docString?: string;
}

function bytesOfTypedArray(data: AnyTypedArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Builds a protobuf `TensorProto` (data stored as little-endian `raw_data`). */
export function tensorProto(init: TensorProtoInit): InstanceType<OnnxNamespace['TensorProto']> {
  let size = 1;
  for (const d of init.shape) size *= d;
  if (size !== init.data.length) {
    throw new GenrecError('SHAPE_MISMATCH', `tensor ${init.name ?? ''} of shape [${init.shape.join(', ')}] needs ${size} values, got ${init.data.length}`);
  }
  return onnx.TensorProto.create({
    name: init.name ?? '',
    dataType: ONNX_DTYPE[init.dtype],
    dims: [...init.shape],
    rawData: bytesOfTypedArray(init.data),
  });
}

function attributeProto(name: string, a: Attribute): InstanceType<OnnxNamespace['AttributeProto']> {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.kind) {
    case 'int':
      return onnx.AttributeProto.create({ name, type: T.INT, i: a.value });
    case 'float':
      return onnx.AttributeProto.create({ name, type: T.FLOAT, f: a.value });
    case 'ints':
      return onnx.AttributeProto.create({ name, type: T.INTS, ints: [...a.value] });
    case 'floats':
      return onnx.AttributeProto.create({ name, type: T.FLOATS, floats: [...a.value] });
    case 'string':
      return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(a.value) });
    case 'tensor':
      return onnx.AttributeProto.create({ name, type: T.TENSOR, t: tensorProto(a.value) });
    case 'graph':
      return onnx.AttributeProto.create({ name, type: T.GRAPH, g: graphProto(a.value.name, a.value.nodes, a.value.inputs ?? [], a.value.outputs, []) });
  }
}

/** A `GraphProto`; nodes without a name are named `<graph>/<opType>_<index>` (unique across subgraphs). */
function graphProto(
  name: string,
  nodes: readonly NodeInit[],
  inputs: readonly ValueInfoInit[],
  outputs: readonly ValueInfoInit[],
  initializers: readonly TensorProtoInit[],
  prefix = `${name}/`,
): InstanceType<OnnxNamespace['GraphProto']> {
  return onnx.GraphProto.create({
    name,
    node: nodes.map((n, index) =>
      onnx.NodeProto.create({
        name: n.name ?? `${prefix}${n.opType}_${index}`,
        opType: n.opType,
        domain: n.domain ?? '',
        input: [...n.inputs],
        output: [...n.outputs],
        attribute: Object.entries(n.attributes ?? {}).map(([k, v]) => attributeProto(k, v)),
      }),
    ),
    input: inputs.map(valueInfoProto),
    output: outputs.map(valueInfoProto),
    initializer: initializers.map(tensorProto),
  });
}

function valueInfoProto(info: ValueInfoInit): InstanceType<OnnxNamespace['ValueInfoProto']> {
  return onnx.ValueInfoProto.create({
    name: info.name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType: ONNX_DTYPE[info.dtype],
        shape: onnx.TensorShapeProto.create({
          dim: info.shape.map((d) =>
            typeof d === 'string' ? onnx.TensorShapeProto.Dimension.create({ dimParam: d }) : onnx.TensorShapeProto.Dimension.create({ dimValue: d }),
          ),
        }),
      }),
    }),
  });
}

/**
 * Serialises a model to ONNX protobuf bytes (IR {@link IR_VERSION}, default opset {@link OPSET_VERSION}).
 *
 * @param init - nodes, graph inputs and outputs, initialisers.
 * @returns the `.onnx` file bytes.
 */
export function encodeModel(init: ModelInit): Uint8Array {
  const graph = graphProto(init.name ?? 'genrec', init.nodes, init.inputs, init.outputs, init.initializers ?? [], '');
  const opsetImport = [onnx.OperatorSetIdProto.create({ domain: '', version: init.opset ?? OPSET_VERSION })];
  for (const [domain, version] of Object.entries(init.extraOpsets ?? {})) opsetImport.push(onnx.OperatorSetIdProto.create({ domain, version }));
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'genrec',
    producerVersion: '0.0.0',
    docString: init.docString ?? '',
    graph,
    opsetImport,
  });
  return onnx.ModelProto.encode(model).finish();
}
