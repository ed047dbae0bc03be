import { GenrecError } from '@genrec/core';
import type { OpNode, SymbolicTensor } from './graph.js';
import { add, reshape } from './ops.js';

/**
 * Reverse-mode differentiation: appends the vector-Jacobian product nodes of every op between
 * `wrt` and `output` to the graph and returns d(output)/d(wrt[i]) (zeros when `output` does not
 * depend on it). Gradients of values used several times are summed; integer and bool tensors,
 * constants, `stopGradient` and nodes built under `noGrad` carry no gradient.
 *
 * @param output - the value to differentiate (usually a scalar loss).
 * @param wrt - float tensors of the same graph.
 * @param seed - d(final)/d(output); defaults to ones (a scalar 1 for a scalar output).
 * @returns one gradient tensor per `wrt`, each with its shape.
 * @throws GenrecError `DTYPE_MISMATCH` for a non-float `wrt` or `output`.
 */
export function gradients(output: SymbolicTensor, wrt: readonly SymbolicTensor[], seed?: SymbolicTensor): SymbolicTensor[] {
  const g = output.graph;
  if (!output.isFloat) throw new GenrecError('DTYPE_MISMATCH', `gradients: output must be float, got ${output.describe()}`);
  for (const w of wrt) {
    if (!w.isFloat) throw new GenrecError('DTYPE_MISMATCH', `gradients: cannot differentiate with respect to ${w.describe()} (not float)`);
    if (w.graph !== g) throw new GenrecError('INVALID_INPUT', `gradients: ${w.name} belongs to another graph`);
  }
  // 1. nodes on some path from wrt to output: walk back from output (through gradInputs), then keep
  //    the nodes whose inputs reach a wrt tensor.
  const reachesOutput = new Set<OpNode>();
  const stack: OpNode[] = output.producer ? [output.producer] : [];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (reachesOutput.has(n) || n.vjp === undefined) continue;
    reachesOutput.add(n);
    for (const t of n.gradInputs) if (t.producer && t.isFloat) stack.push(t.producer);
  }
  const wrtIds = new Set(wrt.map((w) => w.id));
  const dependsOnWrt = new Set<number>(wrtIds); // tensor ids
  const ordered = [...reachesOutput].sort((p, q) => p.id - q.id);
  const active: OpNode[] = [];
  for (const n of ordered) {
    if (n.gradInputs.some((t) => dependsOnWrt.has(t.id))) {
      active.push(n);
      for (const o of n.outputs) dependsOnWrt.add(o.id);
    }
  }
  // 2. sweep in reverse creation order, accumulating gradients per tensor id
  const grads = new Map<number, SymbolicTensor>();
  const accumulate = (t: SymbolicTensor, grad: SymbolicTensor): void => {
    const fitted = grad.shape.length === t.shape.length && grad.shape.every((d, i) => d === t.shape[i]) ? grad : reshape(grad, t.shape);
    const previous = grads.get(t.id);
    grads.set(t.id, previous ? add(previous, fitted) : fitted);
  };
  if (dependsOnWrt.has(output.id)) {
    accumulate(output, seed ?? g.constant(onesLike(output), output.shape, output.dtype));
  }
  for (let i = active.length - 1; i >= 0; i--) {
    const node = active[i]!;
    const outGrads = node.outputs.map((o) => grads.get(o.id));
    if (outGrads.every((x) => x === undefined)) continue;
    const needs = node.gradInputs.map((t) => t.isFloat && dependsOnWrt.has(t.id));
    const inGrads = node.vjp!(outGrads, needs);
    node.gradInputs.forEach((t, k) => {
      const gi = inGrads[k];
      if (gi && needs[k]) accumulate(t, gi);
    });
  }
  return wrt.map((w) => grads.get(w.id) ?? zeros(w));
}

function onesLike(t: SymbolicTensor): Float32Array | Float64Array {
  return (t.dtype === 'float64' ? new Float64Array(t.size) : new Float32Array(t.size)).fill(1);
}

function zeros(t: SymbolicTensor): SymbolicTensor {
  return t.graph.constant(t.dtype === 'float64' ? new Float64Array(t.size) : new Float32Array(t.size), t.shape, t.dtype);
}
