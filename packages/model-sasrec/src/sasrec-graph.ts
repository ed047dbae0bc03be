import { init, ops, rowSparseParameter, type Graph, type Initializer, type SymbolicTensor } from '@genrec/nn';

/**
 * The architecture of a SASRec model (Kang & McAuley 2018, as the `sasrec_ce` peer defines it):
 * item embedding `E` `[itemCount + 1, d]` (row 0 = padding), learned positions `[maxLength, d]`,
 * `blocks` pre-LayerNorm self-attention blocks with a causal mask, a final LayerNorm, and the tied
 * output layer `h · E[1..N]ᵀ`.
 */
export interface SasrecArchitecture {
  itemCount: number;
  hiddenSize: number;
  blocks: number;
  heads: number;
  maxLength: number;
  dropout: number;
}

/** LayerNorm epsilon of the peer (its `nn.LayerNorm(d, eps=1e-8)`). */
export const LAYER_NORM_EPSILON = 1e-8;

/**
 * Where a builder takes parameters from: `'random'` draws the peer's initialisation from the
 * graph's seed (training from scratch); `'zeros'` skips drawing (parameters are fed at run time);
 * a map gives each parameter's value (it becomes the graph's initial value, so a `Trainer` built on
 * the graph starts from it).
 */
export type ParameterSource = 'random' | 'zeros' | ReadonlyMap<string, Float32Array>;

function xavierNormal(rows: number, cols: number): Initializer {
  return init.normal(Math.sqrt(2 / (rows + cols)));
}

/** PyTorch's default Linear bias: U(-1/sqrt(fanIn), 1/sqrt(fanIn)). */
function linearBias(fanIn: number): Initializer {
  const bound = 1 / Math.sqrt(fanIn);
  return init.uniform(-bound, bound);
}

/**
 * Declares a parameter, or returns the one of that name the graph already has (so that several
 * builders, e.g. the preference hook's log-probability and supervised loss, can share one graph).
 */
function parameter(g: Graph, source: ParameterSource, name: string, shape: number[], initializer: Initializer): SymbolicTensor {
  const existing = g.parameters.find((p) => p.tensor.name === name);
  if (existing) return existing.tensor;
  if (source === 'random') return g.parameter(name, shape, initializer);
  if (source === 'zeros') return g.parameter(name, shape, init.zeros());
  const value = source.get(name);
  return g.parameter(name, shape, value === undefined ? init.zeros() : init.fromData(value));
}

/**
 * Names and shapes of every parameter, in declaration order (the safetensors layout of a saved
 * model; PyTorch's `[out, in]` layout for linear weights).
 *
 * @param a - the architecture.
 * @returns shapes by `@genrec/nn` parameter name.
 * @example
 * ```ts
 * sasrecParameterShapes({ itemCount: 100, hiddenSize: 8, blocks: 1, heads: 1, maxLength: 5, dropout: 0 }).get('item_emb.weight'); // [101, 8]
 * ```
 */
export function sasrecParameterShapes(a: SasrecArchitecture): Map<string, number[]> {
  const d = a.hiddenSize;
  const shapes = new Map<string, number[]>([
    ['item_emb.weight', [a.itemCount + 1, d]],
    ['pos_emb.weight', [a.maxLength, d]],
  ]);
  for (let b = 0; b < a.blocks; b++) {
    shapes.set(`attn_ln.${b}.weight`, [d]);
    shapes.set(`attn_ln.${b}.bias`, [d]);
    for (const p of ['q', 'k', 'v']) shapes.set(`attn.${b}.${p}_proj_weight`, [d, d]);
    for (const p of ['q', 'k', 'v']) shapes.set(`attn.${b}.${p}_proj_bias`, [d]);
    shapes.set(`attn.${b}.out_proj.weight`, [d, d]);
    shapes.set(`attn.${b}.out_proj.bias`, [d]);
    shapes.set(`ffn_ln.${b}.weight`, [d]);
    shapes.set(`ffn_ln.${b}.bias`, [d]);
    shapes.set(`ffn.${b}.fc1.weight`, [d, d]);
    shapes.set(`ffn.${b}.fc1.bias`, [d]);
    shapes.set(`ffn.${b}.fc2.weight`, [d, d]);
    shapes.set(`ffn.${b}.fc2.bias`, [d]);
  }
  shapes.set('last_ln.weight', [d]);
  shapes.set('last_ln.bias', [d]);
  return shapes;
}

function dense(x: SymbolicTensor, weight: SymbolicTensor, bias: SymbolicTensor): SymbolicTensor {
  return ops.gemm(x, weight, { transB: true }, bias);
}

/** The encoder's outputs. */
export interface SasrecEncoder {
  /** Hidden states `[batch * maxLength, d]` (row `b * L + t`). */
  hidden: SymbolicTensor;
  /**
   * The full embedding `[itemCount + 1, d]` (row 0 = padding). With row-sparse embeddings it may
   * not be used in ops (look items up with `lookup`).
   */
  embedding: SymbolicTensor;
  /** The output table `[itemCount, d]`: row `j` = item `j + 1` (dense embeddings only). */
  table: SymbolicTensor;
  /** Looks item ids up (`[...ids.shape, d]`): a Gather, or the row-sparse lookup (ids must be graph inputs). */
  lookup(ids: SymbolicTensor): SymbolicTensor;
}

/**
 * Builds the SASRec encoder on `seq` (`[batch, maxLength]` int64, left-padded with 0), exactly as
 * the peer: `x = E[seq]·sqrt(d) + P`, dropout, padding rows zeroed; per block `q = LN1(x)`,
 * `x = q + MHA(q, x, x)` (causal, no key-padding mask), `x = LN2(x)`, `x = x + FFN(x)`, padding
 * rows zeroed; then the last LayerNorm. With `sparseRows` (training graphs of the sampled losses),
 * the item embedding is `@genrec/nn`'s row-sparse parameter: a step feeds, differentiates and
 * updates (lazy Adam) at most `sparseRows` rows, those of its items.
 */
export function buildSasrecEncoder(g: Graph, a: SasrecArchitecture, seq: SymbolicTensor, source: ParameterSource, sparseRows?: number): SasrecEncoder {
  const { itemCount, hiddenSize: d, blocks, heads, maxLength: length, dropout: p } = a;
  const batch = seq.shape[0]!;
  const rows = batch * length;
  const headSize = d / heads;
  const param = (name: string, shape: number[], initializer: Initializer) => parameter(g, source, name, shape, initializer);
  const hadEmbedding = g.parameters.some((x) => x.tensor.name === 'item_emb.weight');
  let embedding: SymbolicTensor;
  let lookup: (ids: SymbolicTensor) => SymbolicTensor;
  if (sparseRows !== undefined) {
    // row-sparse training: only the rows of this step's items are fed, differentiated and updated (lazy Adam)
    const initial = source === 'random' ? xavierNormal(itemCount + 1, d) : source === 'zeros' ? init.zeros() : init.fromData(source.get('item_emb.weight') ?? new Float32Array((itemCount + 1) * d));
    const sparse = rowSparseParameter(g, 'item_emb.weight', [itemCount + 1, d], initial, { maxRows: sparseRows });
    embedding = sparse.tensor;
    lookup = (ids) => sparse.gather(ids);
  } else {
    const dense = param('item_emb.weight', [itemCount + 1, d], xavierNormal(itemCount + 1, d));
    embedding = dense;
    lookup = (ids) => ops.gather(dense, ids);
  }
  if (source === 'random' && !hadEmbedding) g.parameters.find((x) => x.tensor === embedding)!.initial.fill(0, 0, d); // padding row 0 = 0
  const positions = param('pos_emb.weight', [length, d], xavierNormal(length, d));
  const keep = ops.reshape(ops.cast(ops.not(ops.equal(seq, g.scalar(0, 'int64'))), 'float32'), [rows, 1]);
  let x = ops.add(ops.reshape(ops.mul(lookup(seq), Math.sqrt(d)), [batch, length, d]), positions);
  x = ops.mul(ops.reshape(ops.dropout(x, p), [rows, d]), keep);
  const causal = new Float32Array(length * length);
  for (let i = 0; i < length; i++) for (let j = i + 1; j < length; j++) causal[i * length + j] = -1e9;
  const causalBias = g.constant(causal, [length, length], 'float32');
  const ln = (name: string, t: SymbolicTensor) => ops.layerNorm(t, param(`${name}.weight`, [d], init.ones()), param(`${name}.bias`, [d], init.zeros()), LAYER_NORM_EPSILON);
  for (let b = 0; b < blocks; b++) {
    const q = ln(`attn_ln.${b}`, x);
    const wq = param(`attn.${b}.q_proj_weight`, [d, d], xavierNormal(3 * d, d));
    const wk = param(`attn.${b}.k_proj_weight`, [d, d], xavierNormal(3 * d, d));
    const wv = param(`attn.${b}.v_proj_weight`, [d, d], xavierNormal(3 * d, d));
    const bq = param(`attn.${b}.q_proj_bias`, [d], init.zeros());
    const bk = param(`attn.${b}.k_proj_bias`, [d], init.zeros());
    const bv = param(`attn.${b}.v_proj_bias`, [d], init.zeros());
    let context: SymbolicTensor;
    if (heads === 1) {
      const Q = ops.reshape(dense(q, wq, bq), [batch, length, d]);
      const K = ops.reshape(dense(x, wk, bk), [batch, length, d]);
      const V = ops.reshape(dense(x, wv, bv), [batch, length, d]);
      const scores = ops.add(ops.mul(ops.matMul(Q, ops.transpose(K, [0, 2, 1])), 1 / Math.sqrt(d)), causalBias);
      const weights = ops.dropout(ops.softmax(scores, -1), p);
      context = ops.reshape(ops.matMul(weights, V), [rows, d]);
    } else {
      const split = (t: SymbolicTensor) => ops.transpose(ops.reshape(t, [batch, length, heads, headSize]), [0, 2, 1, 3]);
      const Q = split(dense(q, wq, bq));
      const K = split(dense(x, wk, bk));
      const V = split(dense(x, wv, bv));
      const scores = ops.add(ops.mul(ops.matMul(Q, ops.transpose(K, [0, 1, 3, 2])), 1 / Math.sqrt(headSize)), causalBias);
      const weights = ops.dropout(ops.softmax(scores, -1), p);
      context = ops.reshape(ops.transpose(ops.matMul(weights, V), [0, 2, 1, 3]), [rows, d]);
    }
    const attended = dense(context, param(`attn.${b}.out_proj.weight`, [d, d], xavierNormal(d, d)), param(`attn.${b}.out_proj.bias`, [d], init.zeros()));
    x = ln(`ffn_ln.${b}`, ops.add(q, attended));
    const fc1 = dense(x, param(`ffn.${b}.fc1.weight`, [d, d], xavierNormal(d, d)), param(`ffn.${b}.fc1.bias`, [d], linearBias(d)));
    const fc2 = dense(ops.dropout(ops.relu(fc1), p), param(`ffn.${b}.fc2.weight`, [d, d], xavierNormal(d, d)), param(`ffn.${b}.fc2.bias`, [d], linearBias(d)));
    x = ops.mul(ops.add(x, ops.dropout(fc2, p)), keep);
  }
  const hidden = ops.layerNorm(x, param('last_ln.weight', [d], init.ones()), param('last_ln.bias', [d], init.zeros()), LAYER_NORM_EPSILON);
  const table = ops.slice(embedding, [1], [itemCount + 1], [0]); // serialised only when an output uses it (never for row-sparse embeddings)
  return { hidden, embedding, table, lookup };
}

/** The hidden state of the last position of each row, `[batch, d]`. */
export function lastHidden(encoder: SasrecEncoder, a: SasrecArchitecture, batch: number): SymbolicTensor {
  const d = a.hiddenSize;
  const L = a.maxLength;
  return ops.reshape(ops.slice(ops.reshape(encoder.hidden, [batch, L, d]), [L - 1], [L], [1]), [batch, d]);
}

/** Inference graph: the last hidden state of each of `batch` rows (`'hidden'`, `[batch, d]`). */
export function buildHiddenGraph(g: Graph, a: SasrecArchitecture, batch: number, source: ParameterSource = 'zeros'): { hidden: SymbolicTensor } {
  const seq = g.input('seq', 'int64', [batch, a.maxLength]);
  const encoder = buildSasrecEncoder(g, a, seq, source);
  return { hidden: lastHidden(encoder, a, batch) };
}

/** Inference graph of the exported scoring model: logits of every item, `'scores'` `[batch, itemCount]`. */
export function buildScoreGraph(g: Graph, a: SasrecArchitecture, batch: number, source: ParameterSource): { scores: SymbolicTensor } {
  const seq = g.input('seq', 'int64', [batch, a.maxLength]);
  const encoder = buildSasrecEncoder(g, a, seq, source);
  return { scores: ops.gemm(lastHidden(encoder, a, batch), encoder.table, { transB: true }) };
}

/**
 * Training graph of the full-softmax cross-entropy (the peer's `ce_loss`) for one bucket of
 * `positions` scored rows: inputs `seq` `[batch, L]`, `positions` (row indices `b * L + t` into
 * the hidden states) and `labels` (item id − 1, or −100 for padding rows).
 */
export function buildCrossEntropyGraph(g: Graph, a: SasrecArchitecture, batch: number, positions: number, source: ParameterSource): { loss: SymbolicTensor } {
  const seq = g.input('seq', 'int64', [batch, a.maxLength]);
  const selected = g.input('positions', 'int64', [positions]);
  const labels = g.input('labels', 'int64', [positions]);
  const { hidden, table } = buildSasrecEncoder(g, a, seq, source);
  const logits = ops.gemm(ops.gather(hidden, selected), table, { transB: true });
  return { loss: ops.softmaxCrossEntropy(logits, labels, { ignoreIndex: -100 }) };
}

/**
 * Training graph of the original paper's binary cross-entropy with one sampled negative per
 * position: `-log σ(h·e_pos) - log(1 - σ(h·e_neg))`, averaged over scored positions. Inputs `seq`,
 * `positions`, `targets` and `negatives` (item ids), `labels` (0 for a real row, −100 for padding).
 * Each term is a two-class cross-entropy on the logits `[0, s]`, which is numerically stable.
 * `sparseRows`: row-sparse item embedding with that many rows per step (see {@link buildSasrecEncoder}).
 */
export function buildBinaryCrossEntropyGraph(g: Graph, a: SasrecArchitecture, batch: number, positions: number, source: ParameterSource, sparseRows?: number): { loss: SymbolicTensor } {
  const seq = g.input('seq', 'int64', [batch, a.maxLength]);
  const selected = g.input('positions', 'int64', [positions]);
  const targets = g.input('targets', 'int64', [positions]);
  const negatives = g.input('negatives', 'int64', [positions]);
  const valid = g.input('labels', 'int64', [positions]);
  const { hidden, lookup } = buildSasrecEncoder(g, a, seq, source, sparseRows);
  const h = ops.gather(hidden, selected);
  const positive = ops.reduceSum(ops.mul(h, lookup(targets)), [1], true);
  const negative = ops.reduceSum(ops.mul(h, lookup(negatives)), [1], true);
  const zeros = ops.zerosLike(positive);
  // rows [0, s_pos] with label 1 and [0, s_neg] with label 0 (padding rows carry -100): two means
  // over the same real positions, i.e. the paper's sum of both terms per position, averaged
  const positiveLabels = ops.where(ops.equal(valid, g.scalar(0, 'int64')), g.scalar(1, 'int64'), valid);
  const positiveLoss = ops.softmaxCrossEntropy(ops.concat([zeros, positive], 1), positiveLabels, { ignoreIndex: -100 });
  const negativeLoss = ops.softmaxCrossEntropy(ops.concat([zeros, negative], 1), valid, { ignoreIndex: -100 });
  return { loss: ops.add(positiveLoss, negativeLoss) };
}

/**
 * Training graph of sampled softmax with log-Q correction: per scored position the logits are
 * `[h·e_target − log Q(target), h·e_s − log Q(s) for the shared sampled items s]`, sampled items
 * equal to the target masked out (accidental hits), and the loss is the cross-entropy with the
 * target at column 0. `Q(i)` = expected number of draws of item `i` (`negatives · q(i)`). Inputs
 * `seq`, `positions`, `targets` (item ids), `labels` (0, or −100 for padding rows), `samples`
 * (`[negatives]` item ids), `targetLogQ` `[positions]` and `sampleLogQ` `[negatives]`.
 * `sparseRows`: row-sparse item embedding with that many rows per step (see {@link buildSasrecEncoder}).
 */
export function buildSampledSoftmaxGraph(g: Graph, a: SasrecArchitecture, batch: number, positions: number, negatives: number, source: ParameterSource, sparseRows?: number): { loss: SymbolicTensor } {
  const seq = g.input('seq', 'int64', [batch, a.maxLength]);
  const selected = g.input('positions', 'int64', [positions]);
  const targets = g.input('targets', 'int64', [positions]);
  const labels = g.input('labels', 'int64', [positions]);
  const samples = g.input('samples', 'int64', [negatives]);
  const targetLogQ = g.input('targetLogQ', 'float32', [positions]);
  const sampleLogQ = g.input('sampleLogQ', 'float32', [negatives]);
  const { hidden, lookup } = buildSasrecEncoder(g, a, seq, source, sparseRows);
  const h = ops.gather(hidden, selected);
  const positive = ops.sub(ops.reduceSum(ops.mul(h, lookup(targets)), [1], true), ops.reshape(targetLogQ, [positions, 1]));
  const hits = ops.cast(ops.equal(ops.reshape(targets, [positions, 1]), ops.reshape(samples, [1, negatives])), 'float32');
  const sampled = ops.sub(ops.sub(ops.gemm(h, lookup(samples), { transB: true }), ops.reshape(sampleLogQ, [1, negatives])), ops.mul(hits, 1e9));
  return { loss: ops.softmaxCrossEntropy(ops.concat([positive, sampled], 1), labels, { ignoreIndex: -100 }) };
}
