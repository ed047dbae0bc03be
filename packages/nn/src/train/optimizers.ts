import { GenrecError } from '@genrec/core';
import type { Graph, SymbolicTensor } from '../graph/graph.js';
import { add, cast, div, maximum, mul, pow, reduceSum, sqrt, sub } from '../graph/ops.js';

/** SGD with (heavy-ball) momentum: `v = momentum * v + g; p -= lr * v` (PyTorch's rule). */
export interface SgdConfig {
  readonly kind: 'sgd';
  /** @defaultValue 0 */
  readonly momentum?: number;
  /** L2 penalty added to the gradient. @defaultValue 0 */
  readonly weightDecay?: number;
}

/** Adam (Kingma & Ba) with bias correction; `weightDecay` is an L2 term added to the gradient. */
export interface AdamConfig {
  readonly kind: 'adam' | 'adamw';
  /** @defaultValue 0.9 */
  readonly beta1?: number;
  /** @defaultValue 0.999 */
  readonly beta2?: number;
  /** @defaultValue 1e-8 */
  readonly epsilon?: number;
  /** Adam: L2 added to the gradient; AdamW: decoupled decay `p *= 1 - lr * wd`. @defaultValue 0 (adam), 0.01 (adamw) */
  readonly weightDecay?: number;
}

/** An optimizer configuration. */
export type OptimizerConfig = SgdConfig | AdamConfig;

/** Optimizer helpers. */
export const optimizers = {
  /** SGD with momentum. */
  sgd: (options: Omit<SgdConfig, 'kind'> = {}): SgdConfig => ({ kind: 'sgd', ...options }),
  /** Adam. */
  adam: (options: Omit<AdamConfig, 'kind'> = {}): AdamConfig => ({ kind: 'adam', ...options }),
  /** AdamW (decoupled weight decay, PyTorch's `AdamW`). */
  adamw: (options: Omit<AdamConfig, 'kind'> = {}): AdamConfig => ({ kind: 'adamw', ...options }),
};

/** One optimizer state slot: a graph input fed with the current value and the output holding the next. */
export interface StateSlot {
  readonly name: string;
  readonly input: SymbolicTensor;
  readonly next: SymbolicTensor;
  /** The slot's kind (`'m'`, `'v'`, `'momentum'`): `name` is `optimizer.<slot>.<parameter name>`. */
  readonly slot: string;
  /** The parameter (or row-sparse rows) the slot belongs to. */
  readonly parameter: SymbolicTensor;
}

/** The update appended to a graph by {@link appendOptimizer}. */
export interface OptimizerUpdate {
  /** Updated parameters, in the order of the given parameters. */
  readonly newParameters: readonly SymbolicTensor[];
  /** State slots (momentum, first and second moments). */
  readonly state: readonly StateSlot[];
  /** Learning-rate input (scalar). */
  readonly learningRate: SymbolicTensor;
  /** Step-counter input (scalar, 1 for the first update). */
  readonly step: SymbolicTensor;
  /** The global gradient norm before clipping (scalar). */
  readonly gradientNorm: SymbolicTensor;
}

/** Options of {@link appendOptimizer}. */
export interface AppendOptimizerOptions {
  /** Clip gradients to this global L2 norm (PyTorch `clip_grad_norm_`); none when omitted. */
  clipNorm?: number;
}

/**
 * Appends an optimizer update to a graph: inputs `lr` and `step` (scalars) and one input per
 * state slot, outputs the updated parameters and states. Learning-rate schedules are computed in
 * TypeScript and fed as `lr`.
 */
export function appendOptimizer(
  graph: Graph,
  parameters: readonly SymbolicTensor[],
  grads: readonly SymbolicTensor[],
  config: OptimizerConfig,
  options: AppendOptimizerOptions = {},
): OptimizerUpdate {
  const dtype = parameters[0]?.dtype === 'float64' ? 'float64' : 'float32';
  const lr = graph.input('lr', dtype, []);
  const step = graph.input('step', dtype, []);
  const squares = grads.map((g) => reduceSum(mul(g, g)));
  let total = squares[0] ?? graph.scalar(0, dtype);
  for (let i = 1; i < squares.length; i++) total = add(total, squares[i]!);
  const norm = sqrt(total);
  let clipped = grads;
  if (options.clipNorm !== undefined) {
    if (!(options.clipNorm > 0)) throw new GenrecError('INVALID_OPTION', `clipNorm must be positive, got ${options.clipNorm}`, { details: { field: 'clipNorm' } });
    const coefficient = div(options.clipNorm, maximum(add(norm, 1e-6), options.clipNorm));
    clipped = grads.map((g) => mul(g, coefficient));
  }
  const state: StateSlot[] = [];
  const slot = (kind: string, p: SymbolicTensor): SymbolicTensor => graph.input(`optimizer.${kind}.${p.name}`, p.dtype, p.shape);
  const newParameters: SymbolicTensor[] = [];
  const asDType = (t: SymbolicTensor, p: SymbolicTensor): SymbolicTensor => (t.dtype === p.dtype ? t : cast(t, p.dtype));
  if (config.kind === 'sgd') {
    const momentum = config.momentum ?? 0;
    const decay = config.weightDecay ?? 0;
    parameters.forEach((p, i) => {
      let g = clipped[i]!;
      if (decay > 0) g = add(g, mul(p, decay));
      if (momentum > 0) {
        const v = slot('momentum', p);
        const next = add(mul(v, momentum), g);
        state.push({ name: v.name, input: v, next, slot: 'momentum', parameter: p });
        g = next;
      }
      newParameters.push(sub(p, mul(g, asDType(lr, p))));
    });
  } else {
    const beta1 = config.beta1 ?? 0.9;
    const beta2 = config.beta2 ?? 0.999;
    const epsilon = config.epsilon ?? 1e-8;
    const decay = config.weightDecay ?? (config.kind === 'adamw' ? 0.01 : 0);
    for (const [name, value] of [['beta1', beta1], ['beta2', beta2]] as const) {
      if (!(value >= 0 && value < 1)) throw new GenrecError('INVALID_OPTION', `${name} must be in [0, 1), got ${value}`, { details: { field: name } });
    }
    // scalars shared by every parameter: step size lr / (1 - beta1^t) and 1 / sqrt(1 - beta2^t)
    const stepSize = div(lr, sub(1, pow(graph.scalar(beta1, dtype), step)));
    const secondScale = div(1, sqrt(sub(1, pow(graph.scalar(beta2, dtype), step))));
    const decayFactor = config.kind === 'adamw' && decay > 0 ? sub(1, mul(lr, decay)) : undefined;
    parameters.forEach((p, i) => {
      let g = clipped[i]!;
      if (config.kind === 'adam' && decay > 0) g = add(g, mul(p, decay));
      const m = slot('m', p);
      const v = slot('v', p);
      const mNext = add(mul(m, beta1), mul(g, 1 - beta1));
      const vNext = add(mul(v, beta2), mul(mul(g, g), 1 - beta2));
      state.push({ name: m.name, input: m, next: mNext, slot: 'm', parameter: p }, { name: v.name, input: v, next: vNext, slot: 'v', parameter: p });
      const base = decayFactor ? mul(p, asDType(decayFactor, p)) : p;
      const update = div(mul(mNext, asDType(stepSize, p)), add(mul(sqrt(vNext), asDType(secondScale, p)), epsilon));
      newParameters.push(sub(base, update));
    });
  }
  return { newParameters, state, learningRate: lr, step, gradientNorm: norm };
}
