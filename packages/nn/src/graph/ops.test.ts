import { describe, expect, it } from 'vitest';
import { GenrecError } from '@genrec/core';
import { checkGradients, type GradientCheckInput } from './gradient-check.js';
import { Graph, type SymbolicTensor } from './graph.js';
import * as ops from './ops.js';
import { gradients } from './autodiff.js';
import { CompiledGraph } from '../runtime/compiled-graph.js';

type Case = [name: string, build: (g: Graph, x: SymbolicTensor[]) => SymbolicTensor, inputs: GradientCheckInput[]];
const pos: [number, number] = [0.5, 2];
const away: [number, number] = [0.2, 1.5];

const float64Cases: Case[] = [
  ['Add broadcast [2,3]+[3]', (_g, [a, b]) => ops.add(a!, b!), [{ shape: [2, 3] }, { shape: [3] }]],
  ['Add broadcast [2,1]+[1,3]', (_g, [a, b]) => ops.add(a!, b!), [{ shape: [2, 1] }, { shape: [1, 3] }]],
  ['Sub broadcast', (_g, [a, b]) => ops.sub(a!, b!), [{ shape: [4] }, { shape: [3, 4] }]],
  ['Mul broadcast', (_g, [a, b]) => ops.mul(a!, b!), [{ shape: [2, 3, 4] }, { shape: [3, 1] }]],
  ['Div broadcast', (_g, [a, b]) => ops.div(a!, b!), [{ shape: [2, 3] }, { shape: [2, 1], range: pos }]],
  ['Pow tensor exponent', (_g, [a, b]) => ops.pow(a!, b!), [{ shape: [2, 3], range: pos }, { shape: [3] }]],
  ['Pow scalar exponent', (_g, [a]) => ops.pow(a!, 3), [{ shape: [5] }]],
  ['Neg', (_g, [a]) => ops.neg(a!), [{ shape: [3, 2] }]],
  ['Exp', (_g, [a]) => ops.exp(a!), [{ shape: [3, 2] }]],
  ['Log', (_g, [a]) => ops.log(a!), [{ shape: [3, 2], range: pos }]],
  ['Sqrt', (_g, [a]) => ops.sqrt(a!), [{ shape: [3, 2], range: pos }]],
  ['Abs', (_g, [a]) => ops.abs(ops.sub(a!, 0)), [{ shape: [6], values: Float64Array.of(-1.3, 0.7, -0.4, 2, 0.3, -2.2) }]],
  ['Relu', (_g, [a]) => ops.relu(a!), [{ shape: [6], values: Float64Array.of(-1.3, 0.7, -0.4, 2, 0.3, -2.2) }]],
  ['Sigmoid', (_g, [a]) => ops.sigmoid(a!), [{ shape: [2, 3] }]],
  ['Tanh', (_g, [a]) => ops.tanh(a!), [{ shape: [2, 3] }]],
  ['Maximum/Minimum', (_g, [a, b]) => ops.add(ops.maximum(a!, b!), ops.minimum(a!, b!)), [{ shape: [2, 3] }, { shape: [3] }]],
  ['Softmax axis 0', (_g, [a]) => ops.softmax(a!, 0), [{ shape: [3, 4] }]],
  ['Softmax axis -1', (_g, [a]) => ops.softmax(a!, -1), [{ shape: [2, 3, 4] }]],
  ['LogSoftmax axis 1', (_g, [a]) => ops.logSoftmax(a!, 1), [{ shape: [2, 5, 3] }]],
  ['ReduceSum axes keepdims', (_g, [a]) => ops.reduceSum(a!, [0, 2], true), [{ shape: [2, 3, 4] }]],
  ['ReduceSum all', (_g, [a]) => ops.reduceSum(a!), [{ shape: [2, 3] }]],
  ['ReduceMean axis 1', (_g, [a]) => ops.reduceMean(a!, [1]), [{ shape: [2, 3, 4] }]],
  ['ReduceMax axis -1', (_g, [a]) => ops.reduceMax(a!, [-1]), [{ shape: [3, 4] }]],
  ['Transpose', (_g, [a]) => ops.transpose(a!, [2, 0, 1]), [{ shape: [2, 3, 4] }]],
  ['Reshape/Squeeze/Unsqueeze', (_g, [a]) => ops.squeeze(ops.unsqueeze(ops.reshape(a!, [3, -1]), [0]), [0]), [{ shape: [2, 3, 2] }]],
  ['Concat', (_g, [a, b]) => ops.concat([a!, b!, a!], 1), [{ shape: [2, 3] }, { shape: [2, 2] }]],
  ['Slice', (_g, [a]) => ops.slice(a!, [1, -3], [3, 10], [0, 1]), [{ shape: [4, 5] }]],
  ['Expand', (_g, [a]) => ops.expand(a!, [2, 3, 4]), [{ shape: [3, 1] }]],
  ['Gather with repeated indices', (_g, [t, i]) => ops.gather(t!, i!), [{ shape: [5, 3] }, { shape: [2, 3], dtype: 'int64', values: BigInt64Array.of(0n, 4n, 0n, 2n, 2n, 0n) }]],
  ['Where with mask', (g, [a, b]) => ops.where(ops.greater(g.constant(Float64Array.of(1, -1, 2, -3, 0.5, -1), [2, 3], 'float64'), 0), a!, b!), [{ shape: [2, 3] }, { shape: [3] }]],
  ['LayerNormalization', (_g, [x, s, b]) => ops.layerNorm(x!, s!, b!), [{ shape: [2, 3, 5] }, { shape: [5] }, { shape: [5] }]],
  ['MatMul batched with broadcast', (_g, [a, b]) => ops.matMul(a!, b!), [{ shape: [2, 3, 4] }, { shape: [4, 2] }]],
  ['MatMul batched both', (_g, [a, b]) => ops.matMul(a!, b!), [{ shape: [2, 1, 3, 4] }, { shape: [3, 4, 2] }]],
  ['Gemm plain with C', (_g, [a, b, c]) => ops.gemm(a!, b!, { alpha: 0.7, beta: 1.5 }, c), [{ shape: [3, 4] }, { shape: [4, 2] }, { shape: [2] }]],
  ['Gemm transA', (_g, [a, b]) => ops.gemm(a!, b!, { transA: true }), [{ shape: [4, 3] }, { shape: [4, 2] }]],
  ['Gemm transB', (_g, [a, b]) => ops.gemm(a!, b!, { transB: true, alpha: -2 }), [{ shape: [3, 4] }, { shape: [2, 4] }]],
  ['Gemm transA transB', (_g, [a, b]) => ops.gemm(a!, b!, { transA: true, transB: true }), [{ shape: [4, 3] }, { shape: [2, 4] }]],
  ['Dropout (mask input)', (_g, [a]) => ops.dropout(a!, 0.5), [{ shape: [2, 3] }]],
  ['SoftmaxCrossEntropy ignore index', (_g, [l, y]) => ops.softmaxCrossEntropy(l!, y!, { ignoreIndex: -1 }), [{ shape: [4, 5] }, { shape: [4], dtype: 'int64', values: BigInt64Array.of(2n, -1n, 0n, 4n) }]],
  ['SoftmaxCrossEntropy label smoothing', (_g, [l, y]) => ops.softmaxCrossEntropy(l!, y!, { labelSmoothing: 0.1, ignoreIndex: 3 }), [{ shape: [4, 5] }, { shape: [4], dtype: 'int64', values: BigInt64Array.of(2n, 3n, 0n, 4n) }]],
  ['Pad', (_g, [a]) => ops.pad(a!, [1, 0], [0, 2]), [{ shape: [2, 3] }]],
  ['ScatterND add (data and updates)', (g, [d, u]) => ops.scatterAdd(d!, g.constant(BigInt64Array.of(1n, 3n, 1n), [3, 1], 'int64'), u!), [{ shape: [4, 2] }, { shape: [3, 2] }]],
  ['L2 normalise', (_g, [a]) => ops.l2Normalize(a!, -1), [{ shape: [3, 4] }]],
  ['Repeated use x*x + exp(x) * x', (_g, [a]) => ops.add(ops.mul(a!, a!), ops.mul(ops.exp(a!), a!)), [{ shape: [4] }]],
  ['Cast float64 -> float64', (_g, [a]) => ops.cast(a!, 'float64'), [{ shape: [3] }]],
];

// the dropout graph has a mask input: the gradient check feeds it as a constant input
describe('gradients agree with central finite differences (float64)', () => {
  for (const [name, build, inputs] of float64Cases) {
    it(name, async () => {
      const result = await checkGradients((g, xs) => build(g, xs), inputs);
      expect(result.checked).toBeGreaterThan(0);
      expect(result.maxError).toBeLessThan(1e-6);
    });
  }
});

describe('gradients in float32 where onnxruntime has no float64 kernel (Erf), tolerance 2e-2', () => {
  it('Erf', async () => {
    const r = await checkGradients((_g, [a]) => ops.erf(a!), [{ shape: [6] }], { dtype: 'float32', step: 1e-2 });
    expect(r.maxError).toBeLessThan(2e-2);
  });
  it('Gelu exact', async () => {
    const r = await checkGradients((_g, [a]) => ops.gelu(a!), [{ shape: [6] }], { dtype: 'float32', step: 1e-2 });
    expect(r.maxError).toBeLessThan(2e-2);
  });
  it('Gelu tanh (float64 too)', async () => {
    const r = await checkGradients((_g, [a]) => ops.gelu(a!, 'tanh'), [{ shape: [6] }]);
    expect(r.maxError).toBeLessThan(1e-6);
  });
  it('Cast float32 -> float64', async () => {
    const r = await checkGradients((_g, [a]) => ops.exp(ops.cast(a!, 'float64')), [{ shape: [4] }], { dtype: 'float32', step: 1e-2 });
    expect(r.maxError).toBeLessThan(2e-2);
  });
});

describe('autodiff rules', () => {
  it('stopGradient blocks the gradient and int paths carry none', async () => {
    const g = new Graph();
    const x = g.input('x', 'float64', [3]);
    const y = ops.add(ops.mul(x, 2), ops.mul(ops.stopGradient(x), x)); // d/dx = 2 + stop(x)
    const [dx] = gradients(ops.reduceSum(y), [x]);
    const m = await CompiledGraph.create(g, { outputs: [dx!], outputNames: ['dx'] });
    const out = await m.run({ x: Float64Array.of(1, 2, 3) });
    expect(Array.from(out.dx as Float64Array)).toEqual([3, 4, 5]);
  });

  it('returns zeros for an unrelated tensor', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [2]);
    const z = g.input('z', 'float32', [2]);
    const [dz] = gradients(ops.reduceSum(ops.exp(x)), [z]);
    const m = await CompiledGraph.create(g, { outputs: [dz!], outputNames: ['dz'] });
    expect(Array.from((await m.run({})).dz as Float32Array)).toEqual([0, 0]);
  });

  it('raises shape and dtype errors while building, naming the op and both shapes', () => {
    const g = new Graph();
    const a = g.input('a', 'float32', [2, 3]);
    const b = g.input('b', 'float32', [4, 5]);
    const i = g.input('i', 'int64', [2]);
    expect(() => ops.matMul(a, b)).toThrow(/MatMul: inner dimensions differ: \[2, 3\] x \[4, 5\]/);
    expect(() => ops.add(a, b)).toThrow(/Add: shapes \[2, 3\] and \[4, 5\] do not broadcast/);
    expect(() => ops.add(a, i)).toThrow(/Add: dtypes differ/);
    expect(() => ops.exp(i)).toThrow(GenrecError);
    expect(() => ops.reshape(a, [4, 2])).toThrow(/Reshape: cannot reshape/);
    expect(() => gradients(ops.reduceSum(a), [i])).toThrow(/not float/);
  });
});

describe('LayerNormalization float32 (fused onnxruntime kernel, same gradient rule)', () => {
  it('matches finite differences within 2e-2', async () => {
    const r = await checkGradients((_g, [x, s, b]) => ops.layerNorm(x!, s!, b!), [{ shape: [2, 5] }, { shape: [5] }, { shape: [5] }], { dtype: 'float32', step: 1e-2 });
    expect(r.maxError).toBeLessThan(2e-2);
  });
});
