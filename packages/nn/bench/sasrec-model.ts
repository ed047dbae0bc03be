/**
 * SASRec as defined by the `sasrec_ce` peer (README of ../shared/peers, section 1): d = 64, L = 50,
 * 2 blocks, 1 head, dropout 0.2, LayerNorm eps 1e-8, embedding scaled by sqrt(d), tied output
 * layer over items 1..N, full-softmax cross-entropy over the selected (target != 0) positions.
 */
import { Rng } from '@genrec/core';
import { init, ops, type Graph, type SymbolicTensor } from '../src/index.js';

export interface SasrecShape {
  items: number;
  batch: number;
  length: number;
  hidden: number;
  blocks: number;
  dropout: number;
}

function xavierNormal(rows: number, cols: number) {
  return init.normal(Math.sqrt(2 / (rows + cols)));
}

/** PyTorch's default Linear bias: U(-1/sqrt(fanIn), 1/sqrt(fanIn)). */
function linearBias(fanIn: number) {
  const bound = 1 / Math.sqrt(fanIn);
  return init.uniform(-bound, bound);
}

function dense(x: SymbolicTensor, weight: SymbolicTensor, bias: SymbolicTensor): SymbolicTensor {
  return ops.gemm(x, weight, { transB: true }, bias);
}

/** Builds the encoder; returns `h` as `[batch * length, hidden]`. */
export function sasrecFeatures(g: Graph, shape: SasrecShape, seq: SymbolicTensor): { h: SymbolicTensor; table: SymbolicTensor } {
  const { items, batch, length, hidden: d, blocks, dropout: p } = shape;
  const rows = batch * length;
  const embedding = g.parameter('item_emb.weight', [items + 1, d], xavierNormal(items + 1, d));
  g.parameters[g.parameters.length - 1]!.initial.fill(0, 0, d); // padding row 0 = 0
  const positions = g.parameter('pos_emb.weight', [length, d], xavierNormal(length, d));
  const keep = ops.reshape(ops.cast(ops.not(ops.equal(seq, g.scalar(0, 'int64'))), 'float32'), [rows, 1]);
  let x = ops.add(ops.reshape(ops.mul(ops.gather(embedding, seq), Math.sqrt(d)), [batch, length, d]), positions);
  x = ops.mul(ops.reshape(ops.dropout(x, p), [rows, d]), keep);
  const causal = new Float32Array(length * length);
  for (let i = 0; i < length; i++) for (let j = i + 1; j < length; j++) causal[i * length + j] = -1e9;
  const causalBias = g.constant(causal, [length, length], 'float32');
  const eps = 1e-8;
  for (let b = 0; b < blocks; b++) {
    const ln = (name: string, t: SymbolicTensor) => ops.layerNorm(t, g.parameter(`${name}.weight`, [d], init.ones()), g.parameter(`${name}.bias`, [d], init.zeros()), eps);
    const q = ln(`attn_ln.${b}`, x);
    const wq = g.parameter(`attn.${b}.q_proj_weight`, [d, d], xavierNormal(3 * d, d));
    const wk = g.parameter(`attn.${b}.k_proj_weight`, [d, d], xavierNormal(3 * d, d));
    const wv = g.parameter(`attn.${b}.v_proj_weight`, [d, d], xavierNormal(3 * d, d));
    const bq = g.parameter(`attn.${b}.q_proj_bias`, [d], init.zeros());
    const bk = g.parameter(`attn.${b}.k_proj_bias`, [d], init.zeros());
    const bv = g.parameter(`attn.${b}.v_proj_bias`, [d], init.zeros());
    const Q = ops.reshape(dense(q, wq, bq), [batch, length, d]);
    const K = ops.reshape(dense(x, wk, bk), [batch, length, d]);
    const V = ops.reshape(dense(x, wv, bv), [batch, length, d]);
    const scores = ops.add(ops.mul(ops.matMul(Q, ops.transpose(K, [0, 2, 1])), 1 / Math.sqrt(d)), causalBias);
    const weights = ops.dropout(ops.softmax(scores, -1), p);
    const context = ops.reshape(ops.matMul(weights, V), [rows, d]);
    const a = dense(context, g.parameter(`attn.${b}.out_proj.weight`, [d, d], xavierNormal(d, d)), g.parameter(`attn.${b}.out_proj.bias`, [d], init.zeros()));
    x = ln(`ffn_ln.${b}`, ops.add(q, a));
    const fc1 = dense(x, g.parameter(`ffn.${b}.fc1.weight`, [d, d], xavierNormal(d, d)), g.parameter(`ffn.${b}.fc1.bias`, [d], linearBias(d)));
    const fc2 = dense(ops.dropout(ops.relu(fc1), p), g.parameter(`ffn.${b}.fc2.weight`, [d, d], xavierNormal(d, d)), g.parameter(`ffn.${b}.fc2.bias`, [d], linearBias(d)));
    x = ops.mul(ops.add(x, ops.dropout(fc2, p)), keep);
  }
  const h = ops.layerNorm(x, g.parameter('last_ln.weight', [d], init.ones()), g.parameter('last_ln.bias', [d], init.zeros()), eps);
  const table = ops.slice(embedding, [1], [items + 1], [0]); // items 1..N (row j = item j+1)
  return { h, table };
}

/** Training graph for one bucket of `positions` scored rows. */
export function sasrecTrainGraph(g: Graph, shape: SasrecShape, positions: number) {
  const seq = g.input('seq', 'int64', [shape.batch, shape.length]);
  const selected = g.input('positions', 'int64', [positions]);
  const labels = g.input('labels', 'int64', [positions]);
  const { h, table } = sasrecFeatures(g, shape, seq);
  const logits = ops.gemm(ops.gather(h, selected), table, { transB: true });
  return { loss: ops.softmaxCrossEntropy(logits, labels, { ignoreIndex: -100 }) };
}

/** Inference graph: scores of every item for the last position of each row, `[batch, items]`. */
export function sasrecScoreGraph(g: Graph, shape: SasrecShape) {
  const seq = g.input('seq', 'int64', [shape.batch, shape.length]);
  const { h, table } = sasrecFeatures(g, shape, seq);
  const last = ops.reshape(ops.slice(ops.reshape(h, [shape.batch, shape.length, shape.hidden]), [shape.length - 1], [shape.length], [1]), [shape.batch, shape.hidden]);
  return { scores: ops.gemm(last, table, { transB: true }) };
}

/** A seeded permutation helper re-exported for the bench. */
export function permutation(rng: Rng, n: number): Int32Array {
  return rng.permutation(n);
}
