import { init, type Initializer, type SymbolicTensor } from '../graph/graph.js';
import { gemm, reshape } from '../graph/ops.js';

/** Options of {@link linear}. */
export interface LinearOptions {
  /** @defaultValue true */
  bias?: boolean;
  /** @defaultValue xavier uniform */
  weightInit?: Initializer;
}

/**
 * A dense layer `x W^T + b` over the last axis. Parameters `<name>.weight` `[out, in]` (PyTorch's
 * layout, so checkpoints map one to one) and `<name>.bias` `[out]`. Inputs of any rank >= 2 are
 * flattened to 2-D and run through one Gemm.
 */
export function linear(x: SymbolicTensor, name: string, outFeatures: number, options: LinearOptions = {}): SymbolicTensor {
  const g = x.graph;
  const inFeatures = x.shape[x.rank - 1]!;
  return g.scope(name, () => {
    const weight = g.parameter('weight', [outFeatures, inFeatures], options.weightInit ?? init.xavier(), x.dtype === 'float64' ? 'float64' : 'float32');
    const bias = options.bias ?? true ? g.parameter('bias', [outFeatures], init.zeros(), weight.dtype as 'float32' | 'float64') : undefined;
    const flat = x.rank === 2 ? x : reshape(x, [-1, inFeatures]);
    const out = gemm(flat, weight, { transB: true }, bias);
    return x.rank === 2 ? out : reshape(out, [...x.shape.slice(0, -1), outFeatures]);
  });
}
