import { init, type Graph, type SymbolicTensor } from '../graph/graph.js';

/** Learned position embeddings `<name>.weight` `[length, dim]` (normal(0, 0.02)), to add to `[batch, length, dim]`. */
export function learnedPositions(graph: Graph, name: string, length: number, dim: number): SymbolicTensor {
  return graph.scope(name, () => graph.parameter('weight', [length, dim], init.normal(0.02)));
}

/** Sinusoidal positions (Vaswani et al.): `PE[p, 2i] = sin(p / 10000^(2i/d))`, `PE[p, 2i+1] = cos(…)`, a constant `[length, dim]`. */
export function sinusoidalPositions(graph: Graph, length: number, dim: number): SymbolicTensor {
  const data = new Float32Array(length * dim);
  for (let p = 0; p < length; p++) {
    for (let i = 0; i < dim; i++) {
      const rate = Math.pow(10000, -(2 * Math.floor(i / 2)) / dim);
      data[p * dim + i] = i % 2 === 0 ? Math.sin(p * rate) : Math.cos(p * rate);
    }
  }
  return graph.constant(data, [length, dim], 'float32');
}
