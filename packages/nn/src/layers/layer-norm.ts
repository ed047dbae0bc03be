import { init, type SymbolicTensor } from '../graph/graph.js';
import { layerNorm } from '../graph/ops.js';

/** Layer normalisation over the last axis with parameters `<name>.weight` (ones) and `<name>.bias` (zeros). */
export function layerNormLayer(x: SymbolicTensor, name: string, epsilon = 1e-5): SymbolicTensor {
  const g = x.graph;
  const d = x.shape[x.rank - 1]!;
  const dtype = x.dtype === 'float64' ? 'float64' : 'float32';
  return g.scope(name, () => layerNorm(x, g.parameter('weight', [d], init.ones(), dtype), g.parameter('bias', [d], init.zeros(), dtype), epsilon));
}
