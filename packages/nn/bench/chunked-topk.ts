/**
 * A tried and not adopted form of a compiled top-k product: the fixed operand split into chunks of
 * rows, Gemm + TopK per chunk and a final TopK over the chunks' winners, in one session, against
 * the one-chunk form (`prepareMatMulTopK`'s graph), on the `ann_hnsw` peer's random 100,000 x 64
 * vectors (or the titles), 1,000 queries, k 10, 1 thread; median of 5 passes after a warm-up.
 * (Chunks are now `prepareMatMulTopK`'s `'chunked'` selection, with a block-maxima selection in
 * front of the final TopK: `src/chunked-top-k.ts`, measured by `bench/chunked-selection.ts`.)
 *
 *   flock /tmp/genrec-bench.lock npx tsx --conditions=@genrec/source bench/chunked-topk.ts [random|titles] [chunk:rows,...] [--dumps /tmp/peer-dumps/ann_hnsw]
 */
import * as ort from 'onnxruntime-node';
import { attr, encodeModel, type NodeInit, type TensorProtoInit } from '../src/index.js';
import { readPeerVectors } from './peer-vectors.js';

const args = process.argv.slice(2);
const dumpsAt = args.indexOf('--dumps');
const dumps = dumpsAt >= 0 ? args[dumpsAt + 1]! : '/tmp/peer-dumps/ann_hnsw';
const positional = dumpsAt >= 0 ? args.filter((_, i) => i !== dumpsAt && i !== dumpsAt + 1) : args;
const which = positional[0] ?? 'random';
const vectors = readPeerVectors(dumps, which);
if (vectors === undefined) {
  console.error(`skipped: no peer dumps in ${dumps}`);
  process.exit(0);
}
const baseMatrix = vectors.base;
const base = baseMatrix.data;
const queries = vectors.queries.data;
const d = baseMatrix.cols;
const n = base.length / d;
const queryCount = queries.length / d;
const k = 10;

/** Gemm + TopK per chunk of `chunk` rows, then a TopK over the chunks' winners. */
async function chunkedSession(chunk: number): Promise<ort.InferenceSession> {
  const nodes: NodeInit[] = [];
  const initializers: TensorProtoInit[] = [{ name: 'k', dtype: 'int64', shape: [1], data: BigInt64Array.of(BigInt(k)) }];
  const values: string[] = [];
  const indices: string[] = [];
  for (let start = 0, c = 0; start < n; start += chunk, c++) {
    const end = Math.min(n, start + chunk);
    initializers.push({ name: `b${c}`, dtype: 'float32', shape: [end - start, d], data: base.subarray(start * d, end * d) });
    initializers.push({ name: `offset${c}`, dtype: 'int64', shape: [1], data: BigInt64Array.of(BigInt(start)) });
    nodes.push({ opType: 'Gemm', inputs: ['a', `b${c}`], outputs: [`s${c}`], attributes: { transB: attr.int(1) } });
    nodes.push({ opType: 'TopK', inputs: [`s${c}`, 'k'], outputs: [`v${c}`, `i${c}`], attributes: { axis: attr.int(-1), largest: attr.int(1), sorted: attr.int(1) } });
    nodes.push({ opType: 'Add', inputs: [`i${c}`, `offset${c}`], outputs: [`j${c}`] });
    values.push(`v${c}`);
    indices.push(`j${c}`);
  }
  nodes.push({ opType: 'Concat', inputs: values, outputs: ['V'], attributes: { axis: attr.int(1) } });
  nodes.push({ opType: 'Concat', inputs: indices, outputs: ['I'], attributes: { axis: attr.int(1) } });
  nodes.push({ opType: 'TopK', inputs: ['V', 'k'], outputs: ['values', 'position'], attributes: { axis: attr.int(-1), largest: attr.int(1), sorted: attr.int(1) } });
  nodes.push({ opType: 'GatherElements', inputs: ['I', 'position'], outputs: ['indices'], attributes: { axis: attr.int(1) } });
  const model = encodeModel({
    name: 'chunked_topk',
    nodes,
    inputs: [{ name: 'a', dtype: 'float32', shape: ['m', d] }],
    outputs: [
      { name: 'values', dtype: 'float32', shape: ['m', k] },
      { name: 'indices', dtype: 'int64', shape: ['m', k] },
    ],
    initializers,
  });
  return ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all', enableMemPattern: false });
}

const specs = (positional[1] ?? `${n}:10,16384:64,16384:128,8192:64,32768:128`).split(',');
const sessions: [string, ort.InferenceSession, number][] = [];
for (const spec of specs) {
  const [chunk, rows] = spec.split(':').map(Number) as [number, number];
  sessions.push([spec, await chunkedSession(chunk), rows]);
}
let reference: string | undefined;
const times = new Map<string, number[]>(specs.map((spec) => [spec, []]));
for (let rep = 0; rep < 6; rep++) {
  for (const [spec, session, rows] of sessions) {
    const t = performance.now();
    const firstRows: number[] = [];
    for (let start = 0; start < queryCount; start += rows) {
      const r = Math.min(rows, queryCount - start);
      const out = await session.run({ a: new ort.Tensor('float32', queries.subarray(start * d, (start + r) * d), [r, d]) });
      if (start === 0) firstRows.push(...Array.from(out.indices!.data as BigInt64Array, Number));
    }
    const ms = performance.now() - t;
    const ids = firstRows.slice(0, k).join(','); // the first query's top k
    reference ??= ids;
    if (ids !== reference) throw new Error(`${spec}: results differ from the first form's`);
    if (rep > 0) times.get(spec)!.push(ms);
  }
}
for (const [spec, ms] of times) {
  const sorted = ms.sort((a, b) => a - b);
  console.log(`${which} chunk rows:queries per call ${spec}: ${((queryCount / sorted[2]!) * 1000).toFixed(0)} queries/s`);
}
for (const [, session] of sessions) await session.release();
