/*
 * The graph ops with their gradient rules. They are kept in one file (an exception to "one concept
 * per file") because every gradient rule is written with the other ops.
 */
import { GenrecError } from '@genrec/core';
import { attr, type DType } from '../onnx/proto.js';
import { type Shape, type SymbolicTensor, type VjpFunction, typedArrayOf } from './graph.js';

/** A tensor or a plain number (turned into a scalar constant of the other operand's dtype). */
export type TensorLike = SymbolicTensor | number;

function fmt(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

function fail(code: 'SHAPE_MISMATCH' | 'DTYPE_MISMATCH' | 'INVALID_INPUT', op: string, message: string): never {
  throw new GenrecError(code, `${op}: ${message}`, { details: { op } });
}

function requireFloat(op: string, t: SymbolicTensor): void {
  if (!t.isFloat) fail('DTYPE_MISMATCH', op, `needs a float32 or float64 tensor, got ${t.describe()}`);
}

function sameDType(op: string, a: SymbolicTensor, b: SymbolicTensor): void {
  if (a.dtype !== b.dtype) fail('DTYPE_MISMATCH', op, `dtypes differ: ${a.describe()} and ${b.describe()}`);
}

function sameGraph(op: string, a: SymbolicTensor, b: SymbolicTensor): void {
  if (a.graph !== b.graph) fail('INVALID_INPUT', op, `${a.name} and ${b.name} belong to different graphs`);
}

function lift(value: TensorLike, like: SymbolicTensor): SymbolicTensor {
  return typeof value === 'number' ? like.graph.scalar(value, like.dtype) : value;
}

function normalizeAxis(op: string, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) fail('INVALID_INPUT', op, `axis ${axis} is out of range for rank ${rank}`);
  return a;
}

/** Numpy-style broadcast of two shapes; throws naming the op and both shapes. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) fail('SHAPE_MISMATCH', op, `shapes ${fmt(a)} and ${fmt(b)} do not broadcast (axis ${i}: ${da} vs ${db})`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Sums a gradient over the axes that broadcasting added or stretched, so it gets `shape`.
 */
export function sumToShape(g: SymbolicTensor, shape: Shape): SymbolicTensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead) axes.push(i);
    else if (shape[i - lead] === 1 && g.shape[i] !== 1) axes.push(i);
  }
  const summed = axes.length === 0 ? g : reduceSum(g, axes, true);
  return sameShape(summed.shape, shape) ? summed : reshape(summed, shape);
}

function unary(opType: string, x: SymbolicTensor, vjp: ((g: SymbolicTensor, out: SymbolicTensor) => SymbolicTensor) | undefined, float = true): SymbolicTensor {
  if (float) requireFloat(opType, x);
  let out!: SymbolicTensor;
  [out] = x.graph.addNode({
    opType,
    inputs: [x],
    outputs: [{ dtype: x.dtype, shape: x.shape }],
    ...(vjp ? { vjp: ([g]) => [g ? vjp(g, out) : undefined] } : {}),
  });
  return out;
}

function binary(opType: string, a0: TensorLike, b0: TensorLike, vjp: (g: SymbolicTensor, a: SymbolicTensor, b: SymbolicTensor, out: SymbolicTensor, needs: readonly boolean[]) => (SymbolicTensor | undefined)[]): SymbolicTensor {
  if (typeof a0 === 'number' && typeof b0 === 'number') fail('INVALID_INPUT', opType, 'needs at least one tensor operand');
  const a = typeof a0 === 'number' ? lift(a0, b0 as SymbolicTensor) : a0;
  const b = lift(b0, a);
  sameGraph(opType, a, b);
  sameDType(opType, a, b);
  const shape = broadcastShapes(opType, a.shape, b.shape);
  let out!: SymbolicTensor;
  [out] = a.graph.addNode({
    opType,
    inputs: [a, b],
    outputs: [{ dtype: a.dtype, shape }],
    vjp: ([g], needs) => {
      if (!g) return [undefined, undefined];
      const [ga, gb] = vjp(g, a, b, out, needs);
      return [ga && needs[0] ? sumToShape(ga, a.shape) : undefined, gb && needs[1] ? sumToShape(gb, b.shape) : undefined];
    },
  });
  return out;
}

// ---------------------------------------------------------------- elementwise arithmetic

/** `a + b` with broadcasting. */
export function add(a: TensorLike, b: TensorLike): SymbolicTensor {
  return binary('Add', a, b, (g) => [g, g]);
}

/** `a - b` with broadcasting. */
export function sub(a: TensorLike, b: TensorLike): SymbolicTensor {
  return binary('Sub', a, b, (g, _a, _b, _o, needs) => [g, needs[1] ? neg(g) : undefined]);
}

/** `a * b` with broadcasting. */
export function mul(a: TensorLike, b: TensorLike): SymbolicTensor {
  return binary('Mul', a, b, (g, x, y, _o, needs) => [needs[0] ? mul(g, y) : undefined, needs[1] ? mul(g, x) : undefined]);
}

/** `a / b` with broadcasting. */
export function div(a: TensorLike, b: TensorLike): SymbolicTensor {
  return binary('Div', a, b, (g, _x, y, out, needs) => [needs[0] ? div(g, y) : undefined, needs[1] ? neg(div(mul(g, out), y)) : undefined]);
}

/** `a ** b` with broadcasting (the gradient in `b` needs `a > 0`). */
export function pow(a: TensorLike, b: TensorLike): SymbolicTensor {
  return binary('Pow', a, b, (g, x, y, out, needs) => [
    needs[0] ? mul(g, mul(y, pow(x, sub(y, 1)))) : undefined,
    needs[1] ? mul(g, mul(out, log(x))) : undefined,
  ]);
}

/** `max(a, b)` elementwise with broadcasting (gradient to `a` on ties). */
export function maximum(a: TensorLike, b: TensorLike): SymbolicTensor {
  return binary('Max', a, b, (g, x, y, _o, needs) => {
    const takeA = greaterOrEqual(x, y);
    const zero = g.graph.scalar(0, g.dtype);
    return [needs[0] ? where(takeA, g, zero) : undefined, needs[1] ? where(takeA, zero, g) : undefined];
  });
}

/** `min(a, b)` elementwise with broadcasting (gradient to `a` on ties). */
export function minimum(a: TensorLike, b: TensorLike): SymbolicTensor {
  return binary('Min', a, b, (g, x, y, _o, needs) => {
    const takeA = lessOrEqual(x, y);
    const zero = g.graph.scalar(0, g.dtype);
    return [needs[0] ? where(takeA, g, zero) : undefined, needs[1] ? where(takeA, zero, g) : undefined];
  });
}

/** `-x`. */
export function neg(x: SymbolicTensor): SymbolicTensor {
  return unary('Neg', x, (g) => neg(g));
}

/** `e^x`. */
export function exp(x: SymbolicTensor): SymbolicTensor {
  return unary('Exp', x, (g, out) => mul(g, out));
}

/** Natural logarithm. */
export function log(x: SymbolicTensor): SymbolicTensor {
  return unary('Log', x, (g) => div(g, x));
}

/** Square root. */
export function sqrt(x: SymbolicTensor): SymbolicTensor {
  return unary('Sqrt', x, (g, out) => div(mul(g, 0.5), out));
}

/** `|x|` (gradient sign(x), 0 at 0). */
export function abs(x: SymbolicTensor): SymbolicTensor {
  return unary('Abs', x, (g) => mul(g, sign(x)));
}

/** Sign of x (-1, 0, 1); no gradient. */
export function sign(x: SymbolicTensor): SymbolicTensor {
  return unary('Sign', x, undefined);
}

/** `max(x, 0)`. */
export function relu(x: SymbolicTensor): SymbolicTensor {
  return unary('Relu', x, (g) => where(greater(x, 0), g, g.graph.scalar(0, g.dtype)));
}

/** Logistic sigmoid. */
export function sigmoid(x: SymbolicTensor): SymbolicTensor {
  return unary('Sigmoid', x, (g, out) => mul(g, mul(out, sub(1, out))));
}

/** Hyperbolic tangent. */
export function tanh(x: SymbolicTensor): SymbolicTensor {
  return unary('Tanh', x, (g, out) => mul(g, sub(1, mul(out, out))));
}

/** Error function (onnxruntime's CPU kernel is float32 only). */
export function erf(x: SymbolicTensor): SymbolicTensor {
  return unary('Erf', x, (g) => mul(g, mul(exp(neg(mul(x, x))), 2 / Math.sqrt(Math.PI))));
}

/**
 * GELU: exact `0.5 x (1 + erf(x / sqrt 2))`, or the tanh approximation
 * `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`. Built from Erf/Tanh, so gradients are exact.
 */
export function gelu(x: SymbolicTensor, approximate: 'none' | 'tanh' = 'none'): SymbolicTensor {
  requireFloat('Gelu', x);
  if (approximate === 'tanh') {
    const inner = mul(add(x, mul(pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
    return mul(mul(x, 0.5), add(tanh(inner), 1));
  }
  return mul(mul(x, 0.5), add(erf(mul(x, Math.SQRT1_2)), 1));
}

/** Stops gradients: an Identity node that autodiff does not cross. */
export function stopGradient(x: SymbolicTensor): SymbolicTensor {
  return unary('Identity', x, undefined, false);
}

/** Identity (gradient passes through). */
export function identity(x: SymbolicTensor): SymbolicTensor {
  return unary('Identity', x, (g) => g, false);
}

// ---------------------------------------------------------------- comparisons and logic (no gradient)

function compare(opType: string, a0: TensorLike, b0: TensorLike): SymbolicTensor {
  const a = typeof a0 === 'number' ? lift(a0, b0 as SymbolicTensor) : a0;
  const b = lift(b0, a);
  sameDType(opType, a, b);
  const shape = broadcastShapes(opType, a.shape, b.shape);
  return a.graph.addNode({ opType, inputs: [a, b], outputs: [{ dtype: 'bool', shape }] })[0]!;
}

/** `a > b` (bool). */
export function greater(a: TensorLike, b: TensorLike): SymbolicTensor {
  return compare('Greater', a, b);
}
/** `a < b` (bool). */
export function less(a: TensorLike, b: TensorLike): SymbolicTensor {
  return compare('Less', a, b);
}
/** `a >= b` (bool). */
export function greaterOrEqual(a: TensorLike, b: TensorLike): SymbolicTensor {
  return compare('GreaterOrEqual', a, b);
}
/** `a <= b` (bool). */
export function lessOrEqual(a: TensorLike, b: TensorLike): SymbolicTensor {
  return compare('LessOrEqual', a, b);
}
/** `a == b` (bool). */
export function equal(a: TensorLike, b: TensorLike): SymbolicTensor {
  return compare('Equal', a, b);
}
/** Logical not of a bool tensor. */
export function not(x: SymbolicTensor): SymbolicTensor {
  if (x.dtype !== 'bool') fail('DTYPE_MISMATCH', 'Not', `needs a bool tensor, got ${x.describe()}`);
  return x.graph.addNode({ opType: 'Not', inputs: [x], outputs: [{ dtype: 'bool', shape: x.shape }] })[0]!;
}
/** Logical and of bool tensors (broadcasting). */
export function and(a: SymbolicTensor, b: SymbolicTensor): SymbolicTensor {
  if (a.dtype !== 'bool' || b.dtype !== 'bool') fail('DTYPE_MISMATCH', 'And', `needs bool tensors, got ${a.describe()} and ${b.describe()}`);
  return compare('And', a, b);
}
/** Logical or of bool tensors (broadcasting). */
export function or(a: SymbolicTensor, b: SymbolicTensor): SymbolicTensor {
  if (a.dtype !== 'bool' || b.dtype !== 'bool') fail('DTYPE_MISMATCH', 'Or', `needs bool tensors, got ${a.describe()} and ${b.describe()}`);
  return compare('Or', a, b);
}

/** `condition ? x : y` elementwise with broadcasting; gradients flow to `x` and `y`, not the mask. */
export function where(condition: SymbolicTensor, x0: TensorLike, y0: TensorLike): SymbolicTensor {
  if (condition.dtype !== 'bool') fail('DTYPE_MISMATCH', 'Where', `condition must be bool, got ${condition.describe()}`);
  if (typeof x0 === 'number' && typeof y0 === 'number') fail('INVALID_INPUT', 'Where', 'needs at least one tensor branch');
  const x = typeof x0 === 'number' ? lift(x0, y0 as SymbolicTensor) : x0;
  const y = lift(y0, x);
  sameDType('Where', x, y);
  const shape = broadcastShapes('Where', broadcastShapes('Where', condition.shape, x.shape), y.shape);
  return x.graph.addNode({
    opType: 'Where',
    inputs: [condition, x, y],
    outputs: [{ dtype: x.dtype, shape }],
    vjp: ([g], needs) => {
      if (!g) return [undefined, undefined, undefined];
      const zero = g.graph.scalar(0, g.dtype);
      return [
        undefined,
        needs[1] ? sumToShape(where(condition, g, zero), x.shape) : undefined,
        needs[2] ? sumToShape(where(condition, zero, g), y.shape) : undefined,
      ];
    },
  })[0]!;
}

/** Changes the dtype; gradients flow between float dtypes only. */
export function cast(x: SymbolicTensor, dtype: DType): SymbolicTensor {
  const codes: Record<DType, number> = { float32: 1, int32: 6, int64: 7, bool: 9, float64: 11 };
  return x.graph.addNode({
    opType: 'Cast',
    inputs: [x],
    outputs: [{ dtype, shape: x.shape }],
    attributes: { to: attr.int(codes[dtype]) },
    vjp: ([g]) => [g && x.isFloat && (dtype === 'float32' || dtype === 'float64') ? cast(g, x.dtype) : undefined],
  })[0]!;
}

// ---------------------------------------------------------------- matrix products

function transposeLast(x: SymbolicTensor): SymbolicTensor {
  const perm = x.shape.map((_, i) => i);
  perm[x.rank - 1] = x.rank - 2;
  perm[x.rank - 2] = x.rank - 1;
  return transpose(x, perm);
}

/**
 * Batched matrix product with numpy semantics for ranks >= 2 (batch axes broadcast).
 * @throws GenrecError `SHAPE_MISMATCH` naming both shapes when the inner dimensions differ.
 */
export function matMul(a: SymbolicTensor, b: SymbolicTensor): SymbolicTensor {
  sameGraph('MatMul', a, b);
  sameDType('MatMul', a, b);
  requireFloat('MatMul', a);
  if (a.rank < 2 || b.rank < 2) fail('SHAPE_MISMATCH', 'MatMul', `needs rank >= 2 operands, got ${fmt(a.shape)} and ${fmt(b.shape)}`);
  const m = a.shape[a.rank - 2]!;
  const k = a.shape[a.rank - 1]!;
  const k2 = b.shape[b.rank - 2]!;
  const n = b.shape[b.rank - 1]!;
  if (k !== k2) fail('SHAPE_MISMATCH', 'MatMul', `inner dimensions differ: ${fmt(a.shape)} x ${fmt(b.shape)} (${k} vs ${k2})`);
  const batch = broadcastShapes('MatMul', a.shape.slice(0, -2), b.shape.slice(0, -2));
  return a.graph.addNode({
    opType: 'MatMul',
    inputs: [a, b],
    outputs: [{ dtype: a.dtype, shape: [...batch, m, n] }],
    vjp: ([g], needs) => {
      if (!g) return [undefined, undefined];
      let ga: SymbolicTensor | undefined;
      let gb: SymbolicTensor | undefined;
      if (needs[0]) ga = sumToShape(matMul(g, transposeLast(b)), a.shape);
      if (needs[1]) {
        if (b.rank === 2 && a.rank > 2) {
          // weight shared over a batch: one (rows x k)^T (rows x n) product instead of a batched one plus a sum
          gb = gemm(reshape(a, [-1, k]), reshape(g, [-1, n]), { transA: true });
        } else gb = sumToShape(matMul(transposeLast(a), g), b.shape);
      }
      return [ga, gb];
    },
  })[0]!;
}

/** Options of {@link gemm}. */
export interface GemmOptions {
  /** @defaultValue false */
  transA?: boolean;
  /** @defaultValue false */
  transB?: boolean;
  /** @defaultValue 1 */
  alpha?: number;
  /** @defaultValue 1 */
  beta?: number;
}

/** `alpha * op(a) * op(b) + beta * c` for 2-D `a`, `b` (and `c` broadcast to the result). */
export function gemm(a: SymbolicTensor, b: SymbolicTensor, options: GemmOptions = {}, c?: SymbolicTensor): SymbolicTensor {
  const transA = options.transA ?? false;
  const transB = options.transB ?? false;
  const alpha = options.alpha ?? 1;
  const beta = options.beta ?? 1;
  sameDType('Gemm', a, b);
  requireFloat('Gemm', a);
  if (a.rank !== 2 || b.rank !== 2) fail('SHAPE_MISMATCH', 'Gemm', `needs 2-D operands, got ${fmt(a.shape)} and ${fmt(b.shape)}`);
  const [m, k] = transA ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
  const [k2, n] = transB ? [b.shape[1]!, b.shape[0]!] : [b.shape[0]!, b.shape[1]!];
  if (k !== k2) fail('SHAPE_MISMATCH', 'Gemm', `inner dimensions differ: op(a) ${m}x${k} from ${fmt(a.shape)}, op(b) ${k2}x${n} from ${fmt(b.shape)}`);
  if (c) {
    sameDType('Gemm', a, c);
    const s = broadcastShapes('Gemm', [m, n], c.shape);
    if (!sameShape(s, [m, n])) fail('SHAPE_MISMATCH', 'Gemm', `c of shape ${fmt(c.shape)} does not broadcast to ${fmt([m, n])}`);
  }
  return a.graph.addNode({
    opType: 'Gemm',
    inputs: c ? [a, b, c] : [a, b],
    outputs: [{ dtype: a.dtype, shape: [m, n] }],
    attributes: { transA: attr.int(transA ? 1 : 0), transB: attr.int(transB ? 1 : 0), alpha: attr.float(alpha), beta: attr.float(beta) },
    vjp: ([g], needs) => {
      if (!g) return [undefined, undefined, undefined];
      let ga: SymbolicTensor | undefined;
      let gb: SymbolicTensor | undefined;
      if (needs[0]) {
        ga = transA ? gemm(b, g, { transA: transB, transB: true, alpha }) : gemm(g, b, { transB: !transB, alpha });
      }
      if (needs[1]) {
        gb = transB ? gemm(g, a, { transA: true, transB: transA, alpha }) : gemm(a, g, { transA: !transA, alpha });
      }
      const gc = c && needs[2] ? sumToShape(beta === 1 ? g : mul(g, beta), c.shape) : undefined;
      return [ga, gb, gc];
    },
  })[0]!;
}

// ---------------------------------------------------------------- softmax family

/** Softmax along `axis`. */
export function softmax(x: SymbolicTensor, axis = -1): SymbolicTensor {
  requireFloat('Softmax', x);
  const ax = normalizeAxis('Softmax', axis, x.rank);
  let out!: SymbolicTensor;
  [out] = x.graph.addNode({
    opType: 'Softmax',
    inputs: [x],
    outputs: [{ dtype: x.dtype, shape: x.shape }],
    attributes: { axis: attr.int(ax) },
    vjp: ([g]) => (g ? [mul(out, sub(g, reduceSum(mul(g, out), [ax], true)))] : [undefined]),
  });
  return out;
}

/** Log-softmax along `axis`. */
export function logSoftmax(x: SymbolicTensor, axis = -1): SymbolicTensor {
  requireFloat('LogSoftmax', x);
  const ax = normalizeAxis('LogSoftmax', axis, x.rank);
  let out!: SymbolicTensor;
  [out] = x.graph.addNode({
    opType: 'LogSoftmax',
    inputs: [x],
    outputs: [{ dtype: x.dtype, shape: x.shape }],
    attributes: { axis: attr.int(ax) },
    vjp: ([g]) => (g ? [sub(g, mul(exp(out), reduceSum(g, [ax], true)))] : [undefined]),
  });
  return out;
}

// ---------------------------------------------------------------- reductions

function reducedShape(op: string, x: SymbolicTensor, axes: readonly number[] | undefined, keepDims: boolean): { axes: number[]; shape: number[]; kept: number[] } {
  const list = (axes ?? x.shape.map((_, i) => i)).map((a) => normalizeAxis(op, a, x.rank));
  const set = new Set(list);
  if (set.size !== list.length) fail('INVALID_INPUT', op, `repeated axes [${list.join(', ')}]`);
  const kept = x.shape.map((d, i) => (set.has(i) ? 1 : d));
  const shape = keepDims ? kept : x.shape.filter((_, i) => !set.has(i));
  return { axes: [...set].sort((p, q) => p - q), shape, kept };
}

function reduce(opType: 'ReduceSum' | 'ReduceMean' | 'ReduceMax', x: SymbolicTensor, axes: readonly number[] | undefined, keepDims: boolean): SymbolicTensor {
  if (opType !== 'ReduceSum' || x.dtype !== 'int64') requireFloat(opType, x);
  const r = reducedShape(opType, x, axes, keepDims);
  const count = r.axes.reduce((p, a) => p * x.shape[a]!, 1);
  let out!: SymbolicTensor;
  [out] = x.graph.addNode({
    opType,
    inputs: [x, x.graph.int64s(r.axes)],
    outputs: [{ dtype: x.dtype, shape: r.shape }],
    attributes: { keepdims: attr.int(keepDims ? 1 : 0) },
    gradInputs: [x],
    vjp: ([g]) => {
      if (!g) return [undefined];
      const gk = keepDims ? g : reshape(g, r.kept);
      if (opType === 'ReduceSum') return [expandToShapeOf(gk, x)];
      if (opType === 'ReduceMean') return [expand(mul(gk, 1 / count), x.shape)];
      const ok = keepDims ? out : reshape(out, r.kept);
      const hits = cast(equal(x, ok), x.dtype);
      return [div(mul(hits, gk), reduceSum(hits, r.axes, true))];
    },
  });
  return out;
}

/** Sum over `axes` (all axes when omitted). */
export function reduceSum(x: SymbolicTensor, axes?: readonly number[], keepDims = false): SymbolicTensor {
  return reduce('ReduceSum', x, axes, keepDims);
}
/** Mean over `axes` (all axes when omitted). */
export function reduceMean(x: SymbolicTensor, axes?: readonly number[], keepDims = false): SymbolicTensor {
  return reduce('ReduceMean', x, axes, keepDims);
}
/** Maximum over `axes` (all when omitted); the gradient is shared equally among tied maxima. */
export function reduceMax(x: SymbolicTensor, axes?: readonly number[], keepDims = false): SymbolicTensor {
  return reduce('ReduceMax', x, axes, keepDims);
}

// ---------------------------------------------------------------- shapes

/** Permutes axes (reverses them when `perm` is omitted). */
export function transpose(x: SymbolicTensor, perm?: readonly number[]): SymbolicTensor {
  const p = perm ? perm.map((a) => normalizeAxis('Transpose', a, x.rank)) : x.shape.map((_, i) => x.rank - 1 - i);
  if (p.length !== x.rank || new Set(p).size !== p.length) fail('INVALID_INPUT', 'Transpose', `perm [${perm?.join(', ')}] is not a permutation of ${x.rank} axes of ${x.describe()}`);
  const inverse = new Array<number>(p.length);
  p.forEach((from, to) => (inverse[from] = to));
  return x.graph.addNode({
    opType: 'Transpose',
    inputs: [x],
    outputs: [{ dtype: x.dtype, shape: p.map((a) => x.shape[a]!) }],
    attributes: { perm: attr.ints(p) },
    vjp: ([g]) => [g ? transpose(g, inverse) : undefined],
  })[0]!;
}

/** Reshapes (one `-1` is inferred, `0` copies the input's dimension). */
export function reshape(x: SymbolicTensor, shape: readonly number[]): SymbolicTensor {
  const resolved = shape.map((d, i) => (d === 0 ? (x.shape[i] ?? fail('SHAPE_MISMATCH', 'Reshape', `0 at axis ${i} beyond rank of ${x.describe()}`)) : d));
  const unknown = resolved.indexOf(-1);
  if (resolved.filter((d) => d === -1).length > 1) fail('SHAPE_MISMATCH', 'Reshape', `more than one -1 in ${fmt(shape)}`);
  const known = resolved.reduce((p, d) => (d === -1 ? p : p * d), 1);
  if (unknown >= 0) {
    if (known === 0 || x.size % known !== 0) fail('SHAPE_MISMATCH', 'Reshape', `cannot reshape ${x.describe()} to ${fmt(shape)}`);
    resolved[unknown] = x.size / known;
  }
  if (resolved.some((d) => !Number.isInteger(d) || d < 0) || resolved.reduce((p, d) => p * d, 1) !== x.size) {
    fail('SHAPE_MISMATCH', 'Reshape', `cannot reshape ${x.describe()} (${x.size} values) to ${fmt(shape)}`);
  }
  if (sameShape(resolved, x.shape)) return x;
  return x.graph.addNode({
    opType: 'Reshape',
    inputs: [x, x.graph.int64s(portableReshapeTarget(x.shape, resolved))],
    outputs: [{ dtype: x.dtype, shape: resolved }],
    gradInputs: [x],
    vjp: ([g]) => [g ? reshape(g, x.shape) : undefined],
  })[0]!;
}

/**
 * The target shape a Reshape node stores: `0` (keep the input's size) on every axis whose size the
 * reshape does not change, `-1` (inferred) on the largest of the others. It means the same as the
 * static target, but the node no longer depends on the sizes it leaves alone, so one model serves
 * every size of such an axis (symbolic shape buckets of `Trainer`). Empty tensors keep the static
 * target (`-1` cannot be inferred from zero values).
 */
function portableReshapeTarget(input: Shape, output: readonly number[]): number[] {
  const encoded = output.map((d, i) => (i < input.length && input[i] === d ? 0 : d));
  if (output.includes(0) || input.includes(0)) return [...output];
  let largest = -1;
  for (let i = 0; i < encoded.length; i++) if (encoded[i] !== 0 && (largest < 0 || output[i]! > output[largest]!)) largest = i;
  if (largest >= 0 && output[largest]! > 1) encoded[largest] = -1;
  return encoded;
}

/** Removes the listed axes of size 1 (all of them when omitted). */
export function squeeze(x: SymbolicTensor, axes?: readonly number[]): SymbolicTensor {
  const list = new Set((axes ?? x.shape.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) => normalizeAxis('Squeeze', a, x.rank)));
  for (const a of list) if (x.shape[a] !== 1) fail('SHAPE_MISMATCH', 'Squeeze', `axis ${a} of ${x.describe()} is not 1`);
  return reshape(x, x.shape.filter((_, i) => !list.has(i)));
}

/** Inserts axes of size 1 at the listed positions (of the output). */
export function unsqueeze(x: SymbolicTensor, axes: readonly number[]): SymbolicTensor {
  const rank = x.rank + axes.length;
  const list = new Set(axes.map((a) => normalizeAxis('Unsqueeze', a, rank)));
  const shape: number[] = [];
  let k = 0;
  for (let i = 0; i < rank; i++) shape.push(list.has(i) ? 1 : x.shape[k++]!);
  return reshape(x, shape);
}

/** Broadcasts to `shape` (numpy rules). */
export function expand(x: SymbolicTensor, shape: Shape): SymbolicTensor {
  const out = broadcastShapes('Expand', x.shape, shape);
  if (sameShape(out, x.shape)) return x;
  // 1 on every axis the input already has at full size: the node then depends only on the sizes it
  // stretches (the same broadcast; see portableReshapeTarget)
  const lead = out.length - x.rank;
  const target = out.map((d, i) => (i >= lead && x.shape[i - lead] === d ? 1 : d));
  return x.graph.addNode({
    opType: 'Expand',
    inputs: [x, x.graph.int64s(target)],
    outputs: [{ dtype: x.dtype, shape: out }],
    gradInputs: [x],
    vjp: ([g]) => [g ? sumToShape(g, x.shape) : undefined],
  })[0]!;
}

/** The runtime shape of `x` (int64 `[rank]`); onnxruntime folds it to a constant when `x`'s shape is static. */
function shapeOf(x: SymbolicTensor): SymbolicTensor {
  return x.graph.addNode({ opType: 'Shape', inputs: [x], outputs: [{ dtype: 'int64', shape: [x.rank] }] })[0]!;
}

/**
 * Broadcasts `x` to the shape of `like`, read at run time (`Expand(x, Shape(like))`), so the node
 * holds no size of its own. onnxruntime folds the Shape to a constant when `like`'s shape is static;
 * with a symbolic axis, `like` lives until the Shape node has run.
 */
function expandToShapeOf(x: SymbolicTensor, like: SymbolicTensor): SymbolicTensor {
  const out = broadcastShapes('Expand', x.shape, like.shape);
  if (!sameShape(out, like.shape)) fail('SHAPE_MISMATCH', 'Expand', `${x.describe()} does not broadcast to ${like.describe()}`);
  if (sameShape(out, x.shape)) return x;
  return x.graph.addNode({
    opType: 'Expand',
    inputs: [x, shapeOf(like)],
    outputs: [{ dtype: x.dtype, shape: out }],
    gradInputs: [x],
    vjp: ([g]) => [g ? sumToShape(g, x.shape) : undefined],
  })[0]!;
}

/** Concatenates along `axis`. */
export function concat(parts: readonly SymbolicTensor[], axis: number): SymbolicTensor {
  const first = parts[0] ?? fail('INVALID_INPUT', 'Concat', 'needs at least one tensor');
  const ax = normalizeAxis('Concat', axis, first.rank);
  let total = 0;
  for (const p of parts) {
    sameGraph('Concat', first, p);
    sameDType('Concat', first, p);
    if (p.rank !== first.rank || p.shape.some((d, i) => i !== ax && d !== first.shape[i])) {
      fail('SHAPE_MISMATCH', 'Concat', `shapes ${fmt(first.shape)} and ${fmt(p.shape)} differ outside axis ${ax}`);
    }
    total += p.shape[ax]!;
  }
  const shape = first.shape.map((d, i) => (i === ax ? total : d));
  return first.graph.addNode({
    opType: 'Concat',
    inputs: parts,
    outputs: [{ dtype: first.dtype, shape }],
    attributes: { axis: attr.int(ax) },
    vjp: ([g], needs) => {
      if (!g) return parts.map(() => undefined);
      let offset = 0;
      return parts.map((p, i) => {
        const start = offset;
        offset += p.shape[ax]!;
        return needs[i] ? slice(g, [start], [offset], [ax]) : undefined;
      });
    },
  })[0]!;
}

/** Slices `[starts, ends)` on `axes` with step 1 (negative indices count from the end, ends are clamped). */
export function slice(x: SymbolicTensor, starts: readonly number[], ends: readonly number[], axes?: readonly number[]): SymbolicTensor {
  const ax = (axes ?? starts.map((_, i) => i)).map((a) => normalizeAxis('Slice', a, x.rank));
  if (starts.length !== ax.length || ends.length !== ax.length) fail('INVALID_INPUT', 'Slice', 'starts, ends and axes must have the same length');
  const begin = x.shape.map(() => 0);
  const stop = [...x.shape];
  ax.forEach((a, i) => {
    const d = x.shape[a]!;
    const s = starts[i]! < 0 ? Math.max(0, starts[i]! + d) : Math.min(starts[i]!, d);
    const e = ends[i]! < 0 ? Math.max(0, ends[i]! + d) : Math.min(ends[i]!, d);
    begin[a] = s;
    stop[a] = Math.max(s, e);
  });
  const shape = x.shape.map((_, i) => stop[i]! - begin[i]!);
  if (sameShape(shape, x.shape)) return x;
  // only the sliced axes, with the bounds as given (ONNX resolves negative and out-of-range bounds
  // exactly as above), so the node does not depend on the sizes of the other axes
  const bound = (value: number, resolved: number) => (Number.isSafeInteger(value) ? value : resolved);
  return x.graph.addNode({
    opType: 'Slice',
    inputs: [x, x.graph.int64s(ax.map((a, i) => bound(starts[i]!, begin[a]!))), x.graph.int64s(ax.map((a, i) => bound(ends[i]!, stop[a]!))), x.graph.int64s(ax)],
    outputs: [{ dtype: x.dtype, shape }],
    gradInputs: [x],
    vjp: ([g]) => (g ? [pad(g, begin, x.shape.map((d, i) => d - stop[i]!))] : [undefined]),
  })[0]!;
}

/** Zero-pads `before[i]` and `after[i]` values on each axis. */
export function pad(x: SymbolicTensor, before: readonly number[], after: readonly number[]): SymbolicTensor {
  if (before.length !== x.rank || after.length !== x.rank) fail('INVALID_INPUT', 'Pad', `needs ${x.rank} pads per side for ${x.describe()}`);
  const shape = x.shape.map((d, i) => d + before[i]! + after[i]!);
  if (sameShape(shape, x.shape)) return x;
  return x.graph.addNode({
    opType: 'Pad',
    inputs: [x, x.graph.int64s([...before, ...after])],
    outputs: [{ dtype: x.dtype, shape }],
    attributes: { mode: attr.string('constant') },
    gradInputs: [x],
    vjp: ([g]) => (g ? [slice(g, before, x.shape.map((d, i) => before[i]! + d))] : [undefined]),
  })[0]!;
}

// ---------------------------------------------------------------- indexing

/**
 * Gathers slices of `data` along axis 0 at integer `indices` (embedding lookup): the output shape
 * is `indices.shape ++ data.shape[1:]`. The gradient is {@link scatterAdd} into zeros, so repeated
 * indices accumulate (exactly, on any thread count).
 */
export function gather(data: SymbolicTensor, indices: SymbolicTensor): SymbolicTensor {
  if (indices.dtype !== 'int64' && indices.dtype !== 'int32') fail('DTYPE_MISMATCH', 'Gather', `indices must be int64 or int32, got ${indices.describe()}`);
  if (data.rank < 1) fail('SHAPE_MISMATCH', 'Gather', `data must have rank >= 1, got ${data.describe()}`);
  const shape = [...indices.shape, ...data.shape.slice(1)];
  return data.graph.addNode({
    opType: 'Gather',
    inputs: [data, indices],
    outputs: [{ dtype: data.dtype, shape }],
    attributes: { axis: attr.int(0) },
    vjp: ([g], needs) => {
      if (!g || !needs[0]) return [undefined, undefined];
      const idx = unsqueeze(indices.dtype === 'int64' ? indices : cast(indices, 'int64'), [indices.rank]);
      return [scatterAdd(zerosLike(data), idx, g), undefined];
    },
  })[0]!;
}

/**
 * `ScatterND(data, indices, updates, reduction="add")`'s result — `data` plus every update added at
 * its index tuple (`indices` `[..., q]` into the first `q` axes of `data`, negative coordinates
 * counted from the end), repeated indices accumulating — computed as a `ScatterElements` add over
 * `data`'s first `q` axes flattened into one. onnxruntime's CPU `ScatterND` spreads updates over
 * its threads and loses additions when several updates hit one row (measured: a gather gradient
 * off by 10 at 2 threads; see README "Repeated indices"); its `ScatterElements` adds them one
 * after another, in order, on any thread count (bit for bit the sum `ScatterND` gives on one
 * thread). The gradient flows to `data` and `updates`.
 */
export function scatterAdd(data: SymbolicTensor, indices: SymbolicTensor, updates: SymbolicTensor): SymbolicTensor {
  sameDType('ScatterAdd', data, updates);
  if (indices.dtype !== 'int64') fail('DTYPE_MISMATCH', 'ScatterAdd', `indices must be int64, got ${indices.describe()}`);
  const depth = indices.shape[indices.rank - 1];
  if (indices.rank < 1 || depth === undefined || depth < 1 || depth > data.rank) {
    fail('SHAPE_MISMATCH', 'ScatterAdd', `indices must be [..., q] with 1 <= q <= rank(data), got ${indices.describe()} for ${data.describe()}`);
  }
  const lead = data.shape.slice(0, depth);
  const rest = data.shape.slice(depth);
  const count = indices.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const expected = [...indices.shape.slice(0, -1), ...rest];
  if (updates.rank !== expected.length || updates.shape.some((n, i) => n !== expected[i])) {
    fail('SHAPE_MISMATCH', 'ScatterAdd', `updates must be ${fmt(expected)}, got ${updates.describe()}`);
  }
  const g = data.graph;
  // each index tuple as one row of data's first `depth` axes flattened (negative coordinates normalised)
  let tuples = reshape(indices, [count, depth]);
  tuples = where(less(tuples, g.scalar(0, 'int64')), add(tuples, g.constant(BigInt64Array.from(lead, (n) => BigInt(n)), [depth], 'int64')), tuples);
  const strides = lead.map((_, i) => lead.slice(i + 1).reduce((a, b) => a * b, 1));
  const rows = depth === 1 ? reshape(tuples, [count]) : reduceSum(mul(tuples, g.constant(BigInt64Array.from(strides, (n) => BigInt(n)), [depth], 'int64')), [1]);
  const flatShape = [count, ...rest];
  const elementIndices = expand(reshape(rows, [count, ...rest.map(() => 1)]), flatShape);
  const flatData = reshape(data, [lead.reduce((a, b) => a * b, 1), ...rest]);
  const flatUpdates = reshape(updates, flatShape);
  const sum = scatterElementsAdd(flatData, elementIndices, flatUpdates, 0, ([grad], needs) => {
    if (!grad) return [undefined, undefined, undefined];
    return [needs[0] ? grad : undefined, undefined, needs[2] ? gather(grad, rows) : undefined];
  });
  return reshape(sum, data.shape);
}

/** `ScatterElements(data, indices, updates, axis, reduction="add")`, with the gradient rule `vjp` when given (none: used inside gradients). */
function scatterElementsAdd(data: SymbolicTensor, indices: SymbolicTensor, updates: SymbolicTensor, axis: number, vjp?: VjpFunction): SymbolicTensor {
  sameDType('ScatterElements', data, updates);
  return data.graph.addNode({
    opType: 'ScatterElements',
    inputs: [data, indices, updates],
    outputs: [{ dtype: data.dtype, shape: data.shape }],
    attributes: { axis: attr.int(axis), reduction: attr.string('add') },
    ...(vjp ? { vjp } : {}),
  })[0]!;
}

/** `GatherND(data, indices)` (batch_dims 0); no gradient rule. */
export function gatherND(data: SymbolicTensor, indices: SymbolicTensor): SymbolicTensor {
  const depth = indices.shape[indices.rank - 1]!;
  const shape = [...indices.shape.slice(0, -1), ...data.shape.slice(depth)];
  return data.graph.addNode({ opType: 'GatherND', inputs: [data, indices], outputs: [{ dtype: data.dtype, shape }] })[0]!;
}

/**
 * A tensor of zeros with the shape and dtype of `x` (`ConstantOfShape(Shape(x))`: no stored data,
 * and no stored size, so it follows `x` through symbolic shape buckets).
 */
export function zerosLike(x: SymbolicTensor): SymbolicTensor {
  return x.graph.addNode({
    opType: 'ConstantOfShape',
    inputs: [shapeOf(x)],
    outputs: [{ dtype: x.dtype, shape: x.shape }],
    attributes: { value: attr.tensor({ dtype: x.dtype, shape: [1], data: typedArrayOf(x.dtype, [0]) }) },
  })[0]!;
}

/**
 * One-hot float rows: int64 `labels` to `[..., depth]` of `dtype` (labels out of range give zero
 * rows). Built as `Equal(labels[..., None], [0, 1, …, depth-1])` and a Cast, because onnxruntime's
 * CPU OneHot has no float64 output.
 */
export function oneHot(labels: SymbolicTensor, depth: number, dtype: 'float32' | 'float64' = 'float32'): SymbolicTensor {
  if (labels.dtype !== 'int64') fail('DTYPE_MISMATCH', 'OneHot', `labels must be int64, got ${labels.describe()}`);
  const g = labels.graph;
  const range = new BigInt64Array(depth);
  for (let i = 0; i < depth; i++) range[i] = BigInt(i);
  return cast(equal(unsqueeze(labels, [labels.rank]), g.constant(range, [depth], 'int64')), dtype);
}

// ---------------------------------------------------------------- normalisation, dropout, losses

/**
 * Layer normalisation over the last axis (ONNX LayerNormalization), `scale` and `bias` of shape
 * `[lastDim]`. The gradient is emitted in closed form from the saved mean and inverse deviation.
 */
export function layerNorm(x: SymbolicTensor, scale: SymbolicTensor, bias: SymbolicTensor, epsilon = 1e-5): SymbolicTensor {
  requireFloat('LayerNormalization', x);
  sameDType('LayerNormalization', x, scale);
  sameDType('LayerNormalization', x, bias);
  const d = x.shape[x.rank - 1]!;
  if (!sameShape(scale.shape, [d]) || !sameShape(bias.shape, [d])) {
    fail('SHAPE_MISMATCH', 'LayerNormalization', `scale ${fmt(scale.shape)} and bias ${fmt(bias.shape)} must be [${d}] for input ${fmt(x.shape)}`);
  }
  const statShape = [...x.shape.slice(0, -1), 1];
  const vjpFrom =
    (mean: () => SymbolicTensor, invStd: () => SymbolicTensor): VjpFunction =>
    ([g], needs) => {
      if (!g) return [undefined, undefined, undefined];
      const xhat = mul(sub(x, mean()), invStd());
      let gx: SymbolicTensor | undefined;
      if (needs[0]) {
        const dxhat = mul(g, scale);
        const m1 = reduceMean(dxhat, [-1], true);
        const m2 = reduceMean(mul(dxhat, xhat), [-1], true);
        gx = mul(invStd(), sub(sub(dxhat, m1), mul(xhat, m2)));
      }
      return [gx, needs[1] ? sumToShape(mul(g, xhat), scale.shape) : undefined, needs[2] ? sumToShape(g, bias.shape) : undefined];
    };
  if (x.dtype === 'float64') {
    // onnxruntime's CPU LayerNormalization has no float64 kernel: compose it (same gradient rule)
    const g = x.graph;
    const stats = g.noGrad(() => {
      const mean = reduceMean(x, [-1], true);
      const centered = sub(x, mean);
      const invStd = div(1, sqrt(add(reduceMean(mul(centered, centered), [-1], true), epsilon)));
      return { mean, invStd, y: add(mul(mul(centered, invStd), scale), bias) };
    });
    return g.addNode({
      opType: 'Identity',
      inputs: [stats.y],
      outputs: [{ dtype: x.dtype, shape: x.shape }],
      gradInputs: [x, scale, bias],
      vjp: vjpFrom(() => stats.mean, () => stats.invStd),
    })[0]!;
  }
  const outs: SymbolicTensor[] = x.graph.addNode({
    opType: 'LayerNormalization',
    inputs: [x, scale, bias],
    outputs: [
      { dtype: x.dtype, shape: x.shape },
      { dtype: x.dtype, shape: statShape },
      { dtype: x.dtype, shape: statShape },
    ],
    attributes: { axis: attr.int(-1), epsilon: attr.float(epsilon) },
    vjp: (grads, needs) => vjpFrom(() => outs[1]!, () => outs[2]!)(grads, needs),
  });
  return outs[0]!;
}

/**
 * Inverted dropout: in a training graph, multiplies `x` by a mask input (values 0 or `1/(1-rate)`)
 * that the runtime draws from its seeded generator each step; in an inference graph returns `x`.
 */
export function dropout(x: SymbolicTensor, rate: number): SymbolicTensor {
  if (!(rate >= 0 && rate < 1)) fail('INVALID_INPUT', 'Dropout', `rate must be in [0, 1), got ${rate}`);
  if (!x.graph.training || rate === 0) return x;
  return mul(x, x.graph.dropoutMask(x.shape, rate, x.dtype));
}

/** Options of {@link softmaxCrossEntropy}. */
export interface CrossEntropyOptions {
  /**
   * Labels equal to this value contribute nothing (and are not counted in the mean).
   * @defaultValue -100
   */
  ignoreIndex?: number;
  /**
   * Label smoothing epsilon: the target is `(1 - eps) * onehot + eps / classes`.
   * @defaultValue 0
   */
  labelSmoothing?: number;
  /**
   * `'mean'` over non-ignored rows, or `'sum'`.
   * @defaultValue 'mean'
   */
  reduction?: 'mean' | 'sum';
}

/**
 * Softmax cross-entropy of `logits` `[rows, classes]` against int64 `labels` `[rows]`, as a scalar.
 * The gradient is fused: `(softmax - target) * weight` per row.
 */
export function softmaxCrossEntropy(logits: SymbolicTensor, labels: SymbolicTensor, options: CrossEntropyOptions = {}): SymbolicTensor {
  requireFloat('SoftmaxCrossEntropy', logits);
  if (labels.dtype !== 'int64') fail('DTYPE_MISMATCH', 'SoftmaxCrossEntropy', `labels must be int64, got ${labels.describe()}`);
  if (logits.rank !== 2 || labels.rank !== 1 || labels.shape[0] !== logits.shape[0]) {
    fail('SHAPE_MISMATCH', 'SoftmaxCrossEntropy', `needs logits [rows, classes] and labels [rows], got ${fmt(logits.shape)} and ${fmt(labels.shape)}`);
  }
  const eps = options.labelSmoothing ?? 0;
  const ignore = options.ignoreIndex ?? -100;
  const classes = logits.shape[1]!;
  const g = logits.graph;
  const dtype = logits.dtype;
  const inner = g.noGrad(() => {
    const lsm = logSoftmax(logits, 1);
    const valid = not(equal(labels, g.scalar(ignore, 'int64')));
    const safe = where(valid, labels, g.scalar(0, 'int64'));
    const picked = reshape(
      g.addNode({ opType: 'GatherElements', inputs: [lsm, unsqueeze(safe, [1])], outputs: [{ dtype, shape: [logits.shape[0]!, 1] }], attributes: { axis: attr.int(1) } })[0]!,
      [-1],
    );
    let perRow = neg(picked);
    if (eps > 0) perRow = sub(mul(perRow, 1 - eps), mul(reduceMean(lsm, [1]), eps));
    const weights = cast(valid, dtype);
    const total = reduceSum(mul(perRow, weights));
    const count = options.reduction === 'sum' ? g.scalar(1, dtype) : maximum(reduceSum(weights), 1);
    return { lsm, safe, weights, count, loss: div(total, count) };
  });
  return g.addNode({
    opType: 'Identity',
    inputs: [inner.loss],
    outputs: [{ dtype, shape: [] }],
    gradInputs: [logits],
    vjp: ([grad]) => {
      if (!grad) return [undefined];
      // d loss / d logits = (softmax - target) * rowWeight, with target = (1 - eps) onehot + eps / C:
      // softmax * rowWeight, then a ScatterElements add of -(1 - eps) * rowWeight at (row, label) —
      // no dense one-hot matrix is materialised.
      const rowWeight = div(mul(inner.weights, grad), inner.count); // [rows]
      let out = mul(exp(inner.lsm), unsqueeze(rowWeight, [1]));
      if (eps > 0) out = sub(out, unsqueeze(mul(rowWeight, eps / classes), [1]));
      // ScatterElements along the class axis needs no row-index constant, so the node does not depend on the row count
      return [scatterElementsAdd(out, unsqueeze(inner.safe, [1]), unsqueeze(mul(rowWeight, -(1 - eps)), [1]), 1)];
    },
  })[0]!;
}

/** Divides rows by their L2 norm along `axis`: `x / sqrt(sum(x^2) + eps)`. */
export function l2Normalize(x: SymbolicTensor, axis = -1, epsilon = 1e-12): SymbolicTensor {
  requireFloat('L2Normalize', x);
  return div(x, sqrt(add(reduceSum(mul(x, x), [axis], true), epsilon)));
}

/** Sum of squares of all elements (a scalar). */
export function sumOfSquares(x: SymbolicTensor): SymbolicTensor {
  return reduceSum(mul(x, x));
}

export type { VjpFunction };
