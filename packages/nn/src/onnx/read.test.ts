import { GenrecError, sharedPath } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { attr, encodeModel, onnx } from './proto.js';
import { readOnnxModel } from './read.js';

describe('readOnnxModel', () => {
  it('reads back initialisers, Constant values and the graph outline of an encoded model', () => {
    const weight = Float32Array.from([1.5, -2, 0.25, 3, 4, -0.125]);
    const offsets = BigInt64Array.from([-3n, 2n ** 40n]);
    const bytes = encodeModel({
      nodes: [
        { opType: 'Constant', inputs: [], outputs: ['c'], attributes: { value: attr.tensor({ dtype: 'float32', shape: [2], data: Float32Array.from([7, 8]) }) } },
        { opType: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] },
        { opType: 'Add', inputs: ['y', 'c'], outputs: ['z'] },
        { opType: 'Identity', inputs: ['w'], outputs: ['w_alias'] },
      ],
      inputs: [{ name: 'x', dtype: 'float32', shape: ['n', 3] }],
      outputs: [{ name: 'z', dtype: 'float32', shape: ['n', 2] }],
      initializers: [
        { name: 'w', dtype: 'float32', shape: [3, 2], data: weight },
        { name: 'offsets', dtype: 'int64', shape: [2], data: offsets },
      ],
    });
    const model = readOnnxModel(bytes);
    expect(model.inputs).toEqual(['x']);
    expect(model.outputs).toEqual(['z']);
    expect(model.nodes.map((node) => node.opType)).toEqual(['Constant', 'MatMul', 'Add', 'Identity']);
    expect(model.tensors.get('w_alias')!.data).toBe(model.tensors.get('w')!.data);
    expect(model.nodes[2]!.inputs).toEqual(['y', 'c']);
    expect(model.tensors.get('w')).toEqual({ dtype: 'float32', shape: [3, 2], data: weight });
    expect(model.tensors.get('offsets')).toEqual({ dtype: 'int64', shape: [2], data: offsets });
    expect(Array.from(model.tensors.get('c')!.data as Float32Array)).toEqual([7, 8]);
    expect(model.unsupported).toEqual([]);
  });

  it('lists tensors of other element types (and their Identity aliases) as unsupported', () => {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 18 }],
      graph: onnx.GraphProto.create({
        name: 'half',
        node: [onnx.NodeProto.create({ opType: 'Identity', input: ['h'], output: ['h_alias'] })],
        initializer: [onnx.TensorProto.create({ name: 'h', dims: [2], dataType: 10, rawData: Uint8Array.of(0, 60, 0, 64) })],
        output: [],
      }),
    });
    const read = readOnnxModel(onnx.ModelProto.encode(model).finish());
    expect(read.unsupported).toEqual(['h', 'h_alias']);
    expect(read.tensors.size).toBe(0);
  });

  it('rejects bytes that are not a model', () => {
    const error = (() => {
      try {
        readOnnxModel(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f]));
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(GenrecError.isInstance(error) && error.code).toBe('PARSE_ERROR');
    expect(() => readOnnxModel('/nonexistent/model.onnx')).toThrow(/could not read/);
  });

  const fixture = sharedPath('peers', 'fixtures', 'tiger_onnx', 'encoder.onnx');
  it.skipIf(!fixture)('reads the weights of a PyTorch export (TIGER fixture)', () => {
    const model = readOnnxModel(fixture!);
    const embedding = model.tensors.get('p.tok_emb')!;
    expect(embedding.shape).toEqual([787, 128]);
    expect(embedding.dtype).toBe('float32');
    const data = embedding.data as Float32Array;
    let sum = 0;
    for (const value of data) sum += value * value;
    // N(0, 0.02) entries: mean square 4e-4
    expect(sum / data.length).toBeGreaterThan(3.5e-4);
    expect(sum / data.length).toBeLessThan(4.5e-4);
    expect(model.nodes.filter((node) => node.opType === 'LayerNormalization')).toHaveLength(9);
  });
  if (!fixture) console.warn('skipped: shared/peers/fixtures/tiger_onnx not found (set GENREC_SHARED_DIR)');
});

describe('readOnnxModel checks a tensor before building it', () => {
  const modelWith = (initializers: InstanceType<typeof onnx.TensorProto>[], nodes: InstanceType<typeof onnx.NodeProto>[] = []) =>
    onnx.ModelProto.encode(
      onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 18 }], graph: onnx.GraphProto.create({ name: 'g', node: nodes, initializer: initializers }) }),
    ).finish();
  const codeOf = (bytes: Uint8Array): string | undefined => {
    try {
      readOnnxModel(bytes);
    } catch (error) {
      return GenrecError.isInstance(error) ? error.code : `not a GenrecError: ${String(error)}`;
    }
    return undefined;
  };
  const raw = new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer);

  it('refuses negative or huge dimensions even when their product matches the data', () => {
    expect(codeOf(modelWith([onnx.TensorProto.create({ name: 'w', dataType: 1, dims: [-2, -3], rawData: raw })]))).toBe('CORRUPT_ARTIFACT');
    expect(codeOf(modelWith([onnx.TensorProto.create({ name: 'w', dataType: 1, dims: [0, 2 ** 40], rawData: new Uint8Array() })]))).toBe('CORRUPT_ARTIFACT');
    expect(codeOf(modelWith([onnx.TensorProto.create({ name: 'w', dataType: 1, dims: new Array(65).fill(1), floatData: [1] })]))).toBe('CORRUPT_ARTIFACT');
    expect(readOnnxModel(modelWith([onnx.TensorProto.create({ name: 'w', dataType: 1, dims: [2, 3], rawData: raw })])).tensors.get('w')!.shape).toEqual([2, 3]);
  });

  it('refuses uint8 and bool values that would wrap, and data of the wrong length', () => {
    expect(codeOf(modelWith([onnx.TensorProto.create({ name: 'u', dataType: 2, dims: [2], int32Data: [7, 300] })]))).toBe('CORRUPT_ARTIFACT');
    expect(codeOf(modelWith([onnx.TensorProto.create({ name: 'b', dataType: 9, dims: [1], int32Data: [2] })]))).toBe('CORRUPT_ARTIFACT');
    expect(Array.from(readOnnxModel(modelWith([onnx.TensorProto.create({ name: 'u', dataType: 2, dims: [2], int32Data: [7, 255] })])).tensors.get('u')!.data as Uint8Array)).toEqual([7, 255]);
    expect(codeOf(modelWith([onnx.TensorProto.create({ name: 'w', dataType: 1, dims: [7], rawData: raw })]))).toBe('CORRUPT_ARTIFACT');
    expect(codeOf(modelWith([onnx.TensorProto.create({ name: 'w', dataType: 1, dims: [2], rawData: raw.subarray(0, 7) })]))).toBe('CORRUPT_ARTIFACT');
  });

  it('refuses a stored tensor name defined twice (the last would win silently)', () => {
    const first = onnx.TensorProto.create({ name: 'w', dataType: 1, dims: [1], floatData: [1] });
    const second = onnx.TensorProto.create({ name: 'w', dataType: 1, dims: [1], floatData: [2] });
    expect(codeOf(modelWith([first, second]))).toBe('CORRUPT_ARTIFACT');
    const alias = onnx.NodeProto.create({ opType: 'Identity', input: ['w'], output: ['v'] });
    const other = onnx.TensorProto.create({ name: 'v', dataType: 1, dims: [1], floatData: [3] });
    expect(codeOf(modelWith([first, other], [alias]))).toBe('CORRUPT_ARTIFACT');
  });

  it('gives a GenrecError for truncated or bit-flipped models, never another exception', () => {
    const bytes = modelWith([onnx.TensorProto.create({ name: 'w', dataType: 1, dims: [2, 3], rawData: raw })]);
    const codes = new Set<string | undefined>();
    for (let cut = 0; cut < bytes.length; cut++) codes.add(codeOf(bytes.subarray(0, cut)));
    for (let i = 0; i < bytes.length; i++) {
      const flipped = bytes.slice();
      flipped[i] = flipped[i]! ^ 0x80;
      codes.add(codeOf(flipped));
    }
    for (const code of codes) expect(code === undefined || ['PARSE_ERROR', 'CORRUPT_ARTIFACT', 'UNSUPPORTED'].includes(code), String(code)).toBe(true);
  });
});

