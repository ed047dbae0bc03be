import { Rng, type Seed } from '@genrec/core';
import { CompiledGraph } from '../runtime/compiled-graph.js';
import type { AnyTypedArray } from '../onnx/proto.js';
import { gradients } from './autodiff.js';
import { Graph, type Shape, type SymbolicTensor } from './graph.js';
import { mul, reduceSum } from './ops.js';

/** One input of a gradient check. */
export interface GradientCheckInput {
  readonly shape: Shape;
  /** @defaultValue the check's dtype */
  readonly dtype?: 'float32' | 'float64' | 'int64' | 'bool';
  /** Fixed values (e.g. integer indices); random normal values when omitted. */
  readonly values?: AnyTypedArray;
  /** Draw values in `[low, high]` instead of N(0, 1). */
  readonly range?: readonly [number, number];
  /** Not differentiated (e.g. a dropout mask). */
  readonly constant?: boolean;
}

/** Options of {@link checkGradients}. */
export interface GradientCheckOptions {
  /** @defaultValue 'float64' */
  dtype?: 'float32' | 'float64';
  /** Finite-difference step. @defaultValue 1e-6 (float64), 1e-2 (float32) */
  step?: number;
  /** @defaultValue 1 */
  seed?: Seed;
}

/** Result of {@link checkGradients}: the worst error found. */
export interface GradientCheckResult {
  /** max over elements of |analytic - numeric| / max(1, |numeric|). */
  maxError: number;
  /** Number of elements compared. */
  checked: number;
  analytic: Float64Array[];
  numeric: Float64Array[];
}

/**
 * Compares the gradients emitted by {@link gradients} with central finite differences of
 * `sum(build(inputs) * W)` for a random weight tensor `W`.
 */
export async function checkGradients(
  build: (graph: Graph, inputs: SymbolicTensor[]) => SymbolicTensor,
  inputs: readonly GradientCheckInput[],
  options: GradientCheckOptions = {},
): Promise<GradientCheckResult> {
  const dtype = options.dtype ?? 'float64';
  const step = options.step ?? (dtype === 'float64' ? 1e-6 : 1e-2);
  const rng = new Rng(options.seed ?? 1);
  const graph = new Graph({ seed: 0 });
  const symbols = inputs.map((spec, i) => graph.input(`x${i}`, spec.dtype ?? dtype, spec.shape));
  const out = build(graph, symbols);
  const weights = new (out.dtype === 'float64' ? Float64Array : Float32Array)(out.size);
  for (let i = 0; i < weights.length; i++) weights[i] = rng.normal();
  const f = reduceSum(mul(out, graph.constant(weights, out.shape, out.dtype)));
  const differentiable = symbols.filter((s, i) => s.isFloat && !inputs[i]!.constant);
  const grads = gradients(f, differentiable);
  const full = await CompiledGraph.create(graph, { outputs: [f, ...grads], outputNames: ['f', ...grads.map((_, i) => `g${i}`)], intraOpNumThreads: 1 });
  const forward = await CompiledGraph.create(graph, { outputs: [f], outputNames: ['f'], intraOpNumThreads: 1 });
  const feeds: Record<string, AnyTypedArray> = {};
  symbols.forEach((s, i) => {
    const spec = inputs[i]!;
    if (spec.values) feeds[s.name] = spec.values;
    else {
      const data = s.dtype === 'float64' ? new Float64Array(s.size) : new Float32Array(s.size);
      for (let j = 0; j < data.length; j++) data[j] = spec.range ? rng.uniformIn(spec.range[0], spec.range[1]) : rng.normal();
      feeds[s.name] = data;
    }
  });
  for (const site of graph.dropouts) {
    const mask = new (site.mask.dtype === 'float64' ? Float64Array : Float32Array)(site.mask.size);
    for (let j = 0; j < mask.length; j++) mask[j] = rng.uniform() < site.rate ? 0 : 1 / (1 - site.rate);
    feeds[site.mask.name] = mask;
  }
  // onnxruntime may not list an unused input; feed only what each model declares
  const pick = (model: CompiledGraph): Record<string, AnyTypedArray> => Object.fromEntries(model.inputs.map((info) => [info.name, feeds[info.name]!]));
  const result = await full.run(pick(full));
  const analytic = grads.map((_, i) => Float64Array.from(result[`g${i}`] as Float64Array | Float32Array));
  const numeric: Float64Array[] = [];
  let maxError = 0;
  let checked = 0;
  for (let k = 0; k < differentiable.length; k++) {
    const data = feeds[differentiable[k]!.name] as Float64Array | Float32Array;
    const est = new Float64Array(data.length);
    for (let j = 0; j < data.length; j++) {
      const original = data[j]!;
      data[j] = original + step;
      const plus = Number((await forward.run(pick(forward))).f![0]);
      data[j] = original - step;
      const minus = Number((await forward.run(pick(forward))).f![0]);
      data[j] = original;
      est[j] = (plus - minus) / (2 * step);
      const error = Math.abs(est[j]! - analytic[k]![j]!) / Math.max(1, Math.abs(est[j]!));
      maxError = Math.max(maxError, error);
      checked++;
    }
    numeric.push(est);
  }
  await full.release();
  await forward.release();
  return { maxError, checked, analytic, numeric };
}
