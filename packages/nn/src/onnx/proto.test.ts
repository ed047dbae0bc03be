import { describe, expect, it } from 'vitest';
import { createSession, ortTensor } from '../runtime/session.js';
import { attr, encodeModel, onnx } from './proto.js';

describe('encodeModel graph attributes', () => {
  it("writes If branches that read the enclosing graph's inputs and initialisers", async () => {
    const model = encodeModel({
      name: 'choose',
      nodes: [
        {
          opType: 'If',
          inputs: ['flag'],
          outputs: ['y'],
          attributes: {
            then_branch: attr.graph({ name: 'add', nodes: [{ opType: 'Add', inputs: ['x', 'ten'], outputs: ['sum'] }], outputs: [{ name: 'sum', dtype: 'float32', shape: [2] }] }),
            else_branch: attr.graph({ name: 'mul', nodes: [{ opType: 'Mul', inputs: ['x', 'ten'], outputs: ['product'] }], outputs: [{ name: 'product', dtype: 'float32', shape: [2] }] }),
          },
        },
      ],
      inputs: [
        { name: 'flag', dtype: 'bool', shape: [] },
        { name: 'x', dtype: 'float32', shape: [2] },
      ],
      outputs: [{ name: 'y', dtype: 'float32', shape: [2] }],
      initializers: [{ name: 'ten', dtype: 'float32', shape: [1], data: Float32Array.of(10) }],
    });
    // the branch nodes are named after their graph, apart from the enclosing graph's
    const decoded = onnx.ModelProto.decode(model);
    const branch = decoded.graph!.node![0]!.attribute!.find((a) => a.name === 'then_branch')!;
    expect(branch.g!.node![0]!.name).toBe('add/Add_0');
    expect(decoded.graph!.node![0]!.name).toBe('If_0');
    const session = await createSession(model, { intraOpNumThreads: 1 });
    const x = ortTensor('float32', Float32Array.of(1, 2), [2]);
    const run = async (flag: boolean) => Array.from((await session.run({ flag: ortTensor('bool', Uint8Array.of(flag ? 1 : 0), []), x })).y!.data as Float32Array);
    expect(await run(true)).toEqual([11, 12]);
    expect(await run(false)).toEqual([10, 20]);
    await session.release();
  });
});
