import type { ModelParts } from '../graph/graph.js';
import type { Attribute, TensorProtoInit, ValueInfoInit } from '../onnx/proto.js';

/** A training model whose bucket-sized axes are symbolic, with what each symbol is worth. */
export interface SymbolicBucketPlan {
  /** The first build's parts with symbolic dimensions on every axis that follows the bucket. */
  readonly parts: ModelParts;
  /** Symbol name → its size as a multiple of the bucket (`bucket` → 1, `bucket_x2` → 2). */
  readonly symbols: ReadonlyMap<string, number>;
}

/**
 * Compares the training models built for two buckets and, when they differ only in the sizes of
 * input and output axes that are a fixed multiple of the bucket, returns the first model with
 * those axes symbolic: one onnxruntime session (and one arena) then serves every bucket. Any
 * other difference (a node, an attribute, a constant, a shape constant that bakes the bucket in,
 * an axis that is not a multiple of it) means the graph depends on the bucket in a way a symbolic
 * dimension cannot express; the reason names the first one.
 *
 * @param a - the model built for bucket `bucketA`.
 * @param bucketA - its bucket (> 1).
 * @param b - the model built for bucket `bucketB`.
 * @param bucketB - its bucket (> 1, not `bucketA`).
 * @returns the symbolic plan, or `{ reason }`.
 */
export function planSymbolicBuckets(a: ModelParts, bucketA: number, b: ModelParts, bucketB: number): SymbolicBucketPlan | { reason: string } {
  if (a.nodes.length !== b.nodes.length) return { reason: `the graphs of buckets ${bucketA} and ${bucketB} have ${a.nodes.length} and ${b.nodes.length} nodes` };
  for (let i = 0; i < a.nodes.length; i++) {
    const x = a.nodes[i]!;
    const y = b.nodes[i]!;
    const same =
      x.opType === y.opType &&
      (x.domain ?? '') === (y.domain ?? '') &&
      sameList(x.inputs, y.inputs) &&
      sameList(x.outputs, y.outputs) &&
      sameAttributes(x.attributes ?? {}, y.attributes ?? {});
    if (!same) return { reason: `node ${i} (${x.opType} -> ${x.outputs.join(', ')}) differs between buckets ${bucketA} and ${bucketB}` };
  }
  if (a.initializers.length !== b.initializers.length) return { reason: `the graphs of buckets ${bucketA} and ${bucketB} store different constants` };
  for (let i = 0; i < a.initializers.length; i++) {
    if (!sameTensor(a.initializers[i]!, b.initializers[i]!)) {
      const name = a.initializers[i]!.name ?? String(i);
      const user = a.nodes.find((n) => n.inputs.includes(name));
      const where = user ? `, input of ${user.opType} -> ${user.outputs.join(', ')}` : '';
      return { reason: `constant ${name}${where} differs between buckets ${bucketA} and ${bucketB} (a shape or index that depends on the bucket)` };
    }
  }
  const symbols = new Map<string, number>();
  const symbolic = (x: readonly ValueInfoInit[], y: readonly ValueInfoInit[], what: string): ValueInfoInit[] | string => {
    if (x.length !== y.length) return `the graphs of buckets ${bucketA} and ${bucketB} have different ${what}s`;
    const out: ValueInfoInit[] = [];
    for (let i = 0; i < x.length; i++) {
      const p = x[i]!;
      const q = y[i]!;
      if (p.name !== q.name || p.dtype !== q.dtype || p.shape.length !== q.shape.length) return `${what} ${p.name} differs between buckets ${bucketA} and ${bucketB}`;
      const shape: (number | string)[] = [];
      for (let k = 0; k < p.shape.length; k++) {
        const da = p.shape[k] as number;
        const db = q.shape[k] as number;
        if (da === db) {
          shape.push(da);
          continue;
        }
        const factor = da / bucketA;
        if (!Number.isInteger(factor) || factor < 1 || db !== factor * bucketB) {
          return `axis ${k} of ${what} ${p.name} is ${da} for bucket ${bucketA} and ${db} for bucket ${bucketB}: not a multiple of the bucket`;
        }
        const name = factor === 1 ? 'bucket' : `bucket_x${factor}`;
        symbols.set(name, factor);
        shape.push(name);
      }
      out.push({ name: p.name, dtype: p.dtype, shape });
    }
    return out;
  };
  const inputs = symbolic(a.inputs, b.inputs, 'input');
  if (typeof inputs === 'string') return { reason: inputs };
  const outputs = symbolic(a.outputs, b.outputs, 'output');
  if (typeof outputs === 'string') return { reason: outputs };
  return { parts: { ...a, inputs, outputs }, symbols };
}

function sameList(x: readonly string[], y: readonly string[]): boolean {
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

function sameTensor(x: TensorProtoInit, y: TensorProtoInit): boolean {
  if (x.name !== y.name || x.dtype !== y.dtype || x.shape.length !== y.shape.length || x.shape.some((d, i) => d !== y.shape[i])) return false;
  if (x.data.length !== y.data.length) return false;
  for (let i = 0; i < x.data.length; i++) if (!Object.is(x.data[i], y.data[i])) return false;
  return true;
}

function sameAttributes(x: Readonly<Record<string, Attribute>>, y: Readonly<Record<string, Attribute>>): boolean {
  const keys = Object.keys(x);
  if (keys.length !== Object.keys(y).length) return false;
  for (const key of keys) {
    const p = x[key]!;
    const q = y[key];
    if (!q || p.kind !== q.kind) return false;
    if (p.kind === 'tensor') {
      if (!sameTensor(p.value, (q as typeof p).value)) return false;
    } else if (Array.isArray(p.value)) {
      if (!sameList((p.value as number[]).map(String), ((q as typeof p).value as number[]).map(String))) return false;
    } else if (!Object.is(p.value, q.value)) return false;
  }
  return true;
}
