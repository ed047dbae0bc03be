// Fuzz module for readOnnxModel, run in a child process by readers.fuzz.test.ts (fuzzInChild).
// Inputs: valid models mutated byte-wise, and models whose tensors are built from pieces (every
// element type, raw and typed data, negative/huge/Long dimensions, wrong data lengths, external
// data, duplicate names, values out of range). Every input must give a GenrecError or contents
// that pass the invariants.
import fc from 'fast-check';
import { MAX_STORED_DIMENSION, bytesOf, shapeSize, type Tensor, type TensorDType } from '@genrec/core';
import { FuzzOutcomes, mutateBytes, type FuzzReport } from '@genrec/core/testing';
import { attr, encodeModel, onnx } from './proto.js';
import { readOnnxModel } from './read.js';

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(`invariant broken: ${message}`);
}

const CODE_OF: Readonly<Record<TensorDType, number>> = { float32: 1, uint8: 2, int32: 6, int64: 7, float64: 11 };

function encode(initializer: InstanceType<typeof onnx.TensorProto>[], node: InstanceType<typeof onnx.NodeProto>[] = []): Uint8Array {
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 18 }], graph: onnx.GraphProto.create({ name: 'g', node, initializer, output: [] }) }),
  ).finish();
}

function validModels(): Uint8Array[] {
  return [
    encodeModel({
      nodes: [
        { opType: 'Constant', inputs: [], outputs: ['c'], attributes: { value: attr.tensor({ dtype: 'float32', shape: [2], data: Float32Array.from([7, 8]) }) } },
        { opType: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] },
        { opType: 'Add', inputs: ['y', 'c'], outputs: ['z'] },
        { opType: 'Identity', inputs: ['w'], outputs: ['w_alias'] },
      ],
      inputs: [{ name: 'x', dtype: 'float32', shape: ['n', 3] }],
      outputs: [{ name: 'z', dtype: 'float32', shape: ['n', 2] }],
      initializers: [
        { name: 'w', dtype: 'float32', shape: [3, 2], data: Float32Array.from([1.5, -2, 0.25, 3, 4, -0.125]) },
        { name: 'offsets', dtype: 'int64', shape: [2], data: BigInt64Array.from([-3n, 2n ** 40n]) },
        { name: 'mask', dtype: 'bool', shape: [3], data: Uint8Array.from([1, 0, 1]) },
        { name: 'd', dtype: 'float64', shape: [], data: Float64Array.from([0.5]) },
        { name: 'i', dtype: 'int32', shape: [1, 2], data: Int32Array.from([-7, 9]) },
      ],
    }),
    encode([
      onnx.TensorProto.create({ name: 'f', dataType: 1, dims: [2, 2], floatData: [1, 2, 3, 4] }),
      onnx.TensorProto.create({ name: 'l', dataType: 7, dims: [3], int64Data: [1, -2, 2 ** 40] }),
      onnx.TensorProto.create({ name: 'u', dataType: 2, dims: [2], int32Data: [0, 255] }),
      onnx.TensorProto.create({ name: 'h', dataType: 10, dims: [2], rawData: Uint8Array.of(0, 60, 0, 64) }),
    ]),
  ];
}

const DIMENSIONS: readonly (number | { low: number; high: number; unsigned: boolean })[] = [
  -1,
  -6,
  2 ** 31,
  2 ** 40,
  Number.MAX_SAFE_INTEGER,
  { low: 0, high: -1, unsigned: false },
  { low: -1, high: 0x7fffffff, unsigned: false },
  { low: 6, high: 0, unsigned: false },
];

const generatedModel = fc
  .record({
    tensors: fc.array(
      fc.record({
        name: fc.constantFrom('w', 'b', 'emb', 'w'),
        dataType: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(1, 2, 6, 7, 9, 11) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 24 }) }),
        dims: fc.array(fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: 4 }) }, { weight: 1, arbitrary: fc.constantFrom(...DIMENSIONS) }), { maxLength: 3 }),
        storage: fc.constantFrom('raw', 'raw', 'typed', 'empty', 'external'),
        lengthDelta: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: -5, max: 5 }) }),
        outOfRange: fc.oneof({ weight: 8, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
      }),
      { minLength: 1, maxLength: 3 },
    ),
    alias: fc.constantFrom('none', 'none', 'identity', 'identity-collides', 'constant'),
  })
  .map((c) => {
    const protos = c.tensors.map((t) => {
      const plainDims = t.dims.map((d) => (typeof d === 'number' ? d : 3));
      const count = Math.max(0, Math.min(64, Math.abs(plainDims.reduce((product, d) => product * d, 1))) + t.lengthDelta);
      const size = ({ 1: 4, 2: 1, 6: 4, 7: 8, 9: 1, 11: 8 } as Record<number, number>)[t.dataType] ?? 2;
      const init: Record<string, unknown> = { name: t.name, dataType: t.dataType, dims: t.dims };
      if (t.storage === 'raw') init.rawData = Uint8Array.from({ length: count * size + (t.lengthDelta === 1 ? 1 : 0) }, (_, i) => (i * 7 + 1) & 0xff);
      if (t.storage === 'typed') {
        const values = Array.from({ length: count }, (_, i) => (t.outOfRange ? 1000 - i : i % 2));
        if (t.dataType === 1) init.floatData = values;
        else if (t.dataType === 11) init.doubleData = values;
        else if (t.dataType === 7) init.int64Data = values;
        else init.int32Data = values;
      }
      if (t.storage === 'external') init.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
      return onnx.TensorProto.create(init);
    });
    const nodes: InstanceType<typeof onnx.NodeProto>[] = [];
    if (c.alias === 'identity') nodes.push(onnx.NodeProto.create({ opType: 'Identity', input: [c.tensors[0]!.name], output: ['alias'] }));
    if (c.alias === 'identity-collides') nodes.push(onnx.NodeProto.create({ opType: 'Identity', input: [c.tensors[0]!.name], output: [c.tensors[c.tensors.length - 1]!.name] }));
    if (c.alias === 'constant') {
      const [first, ...rest] = protos;
      nodes.push(onnx.NodeProto.create({ opType: 'Constant', output: ['k'], attribute: [onnx.AttributeProto.create({ name: 'value', type: 4, t: first! })] }));
      return encode(rest, nodes);
    }
    return encode(protos, nodes);
  });

function mutatedModel(valid: Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc
    .record({ base: fc.constantFrom(...valid), plan: fc.oneof({ weight: 3, arbitrary: fc.array(fc.nat(), { minLength: 3, maxLength: 6 }) }, fc.array(fc.nat(), { minLength: 3, maxLength: 24 })) })
    .map(({ base, plan }) => mutateBytes(base, plan));
}

function attempt(bytes: Uint8Array): string {
  const model = readOnnxModel(bytes);
  const initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  for (const [name, tensor] of model.tensors) {
    check(['float32', 'float64', 'int32', 'int64', 'uint8'].includes(tensor.dtype), `"${name}": dtype ${tensor.dtype}`);
    check(tensor.shape.length <= 64 && tensor.shape.every((d) => Number.isSafeInteger(d) && d >= 0 && d <= MAX_STORED_DIMENSION), `"${name}": bad shape [${tensor.shape}]`);
    check(shapeSize(tensor.shape) === tensor.data.length, `"${name}": shape [${tensor.shape}] vs ${tensor.data.length} values`);
    initializers.push(onnx.TensorProto.create({ name, dataType: CODE_OF[tensor.dtype], dims: [...tensor.shape], rawData: bytesOf(tensor.data).slice() }));
  }
  check(model.nodes.every((node) => typeof node.opType === 'string' && node.inputs.every((input) => typeof input === 'string')), 'node outline');
  // write -> read reproduces the tensors
  const again = readOnnxModel(encode(initializers));
  for (const [name, tensor] of model.tensors) {
    const other: Tensor | undefined = again.tensors.get(name);
    check(other !== undefined && other.dtype === tensor.dtype && other.shape.join() === tensor.shape.join(), `round trip changed "${name}"`);
    check(Buffer.compare(Buffer.from(bytesOf(other!.data)), Buffer.from(bytesOf(tensor.data))) === 0, `round trip changed the data of "${name}"`);
  }
  return 'accepted';
}

/** The fuzz run (fast-check, shrinking on failure). */
export function fuzz({ runs, seed }: { runs: number; seed: number }): FuzzReport {
  const outcomes = new FuzzOutcomes('onnx');
  fc.assert(
    fc.property(fc.oneof(mutatedModel(validModels()), generatedModel), (bytes) => {
      outcomes.run(() => attempt(bytes));
    }),
    { numRuns: runs, seed },
  );
  outcomes.notes.push('readOnnxModel parses with protobufjs in JavaScript and never hands the bytes to onnxruntime');
  return outcomes.report();
}
