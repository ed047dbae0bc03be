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
