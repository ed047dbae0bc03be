import { Graph, init, nn, ops, type SymbolicTensor } from '@genrec/nn';
import { setRecAutoencoder } from '@genrec/semantic-id';
import { GenrecError } from '@genrec/core';
import { dense, encoderLayer, norm, parameter, queryDecoderLayer, type AttentionSettings, type ParameterValues } from './layers.js';
import { interleavedCausalMask, prefixCrossMask, queryCausalMask, siblingMask } from './masks.js';
import type { SetrecBackbone, SetrecSpec } from './options.js';

/** Everything that fixes the shapes of a SETRec graph. */
export interface SetrecArchitecture {
  itemCount: number;
  /** Width of the frozen CF vectors. */
  cfDimension: number;
  /** Width of the item content vectors. */
  contentDimension: number;
  semanticTokens: number;
  hiddenSize: number;
  autoencoderHidden: readonly number[];
  backbone: SetrecBackbone;
  layers: number;
  decoderLayers: number;
  heads: number;
  feedForwardSize: number;
  maxLength: number;
  dropout: number;
  alpha: number;
  lastItemResidual: boolean;
}

/** Graph input names of the item data (fed, never trained). */
export const ITEM_INPUTS = { cf: 'item.cf', content: 'item.content', bias: 'item.bias', tokens: 'item.tokens', weights: 'slot.weights' } as const;

/** The architecture of a spec over a catalogue and its item vectors. */
export function architectureOf(spec: SetrecSpec, itemCount: number, cfDimension: number, contentDimension: number): SetrecArchitecture {
  return {
    itemCount,
    cfDimension,
    contentDimension,
    semanticTokens: spec.semanticTokens,
    hiddenSize: spec.hiddenSize,
    autoencoderHidden: spec.autoencoderHidden,
    backbone: spec.backbone,
    layers: spec.layers,
    decoderLayers: spec.decoderLayers,
    heads: spec.heads,
    feedForwardSize: spec.feedForwardSize,
    maxLength: spec.maxLength,
    dropout: spec.dropout,
    alpha: spec.alpha,
    lastItemResidual: spec.lastItemResidual,
  };
}

/** Slots per item: the CF token and the n semantic tokens. */
export function slotCount(a: SetrecArchitecture): number {
  return a.semanticTokens + 1;
}

function settingsOf(a: SetrecArchitecture): AttentionSettings {
  return { heads: a.heads, dropout: a.dropout, feedForwardSize: a.feedForwardSize };
}

/** The item token table of one graph: built once per graph, shared by every builder in it. */
export interface TokenTable {
  /** `[itemCount + 1, slots, d]`: row 0 (padding) is zeros, row `i` = item `i`'s tokens, CF first. */
  table: SymbolicTensor;
  /** `[itemCount + 1, n·d]`: the autoencoder's latent of every item (row 0 zeros); absent on a fed table. */
  latent?: SymbolicTensor;
  /** `[itemCount + 1, contentDimension]`: the content vectors (row 0 zeros); absent on a fed table. */
  content?: SymbolicTensor;
}

const tables = new WeakMap<Graph, TokenTable>();

/**
 * Declares the precomputed token table as an input (`item.tokens` `[itemCount, slots·d]`, as
 * {@link buildTableGraph} computes it) for inference graphs, which then never run the autoencoder.
 * Call before any builder that needs the table.
 */
export function tokenTableInput(g: Graph, a: SetrecArchitecture): TokenTable {
  const cached = tables.get(g);
  if (cached) return cached;
  const slots = slotCount(a);
  const d = a.hiddenSize;
  const tokens = g.input(ITEM_INPUTS.tokens, 'float32', [a.itemCount, slots * d]);
  const table = ops.concat([g.constant(new Float32Array(slots * d), [1, slots, d], 'float32'), ops.reshape(tokens, [a.itemCount, slots, d])], 0);
  const built = { table };
  tables.set(g, built);
  return built;
}

/**
 * The token table: CF token = `cf_projection(frozen CF vector)`, semantic tokens = the SETRec
 * autoencoder's latent over the item's content vector (`@genrec/semantic-id`'s
 * `setRecAutoencoder`, scope `autoencoder`), split into n tokens. The CF and content vectors are
 * graph inputs (`item.cf` `[itemCount, cfDimension]`, `item.content` `[itemCount, contentDimension]`,
 * row `j` = item `j + 1`), or constants when `constants` is given. Built once per graph; later
 * calls return the same tensors.
 */
export function tokenTable(g: Graph, a: SetrecArchitecture, values: ParameterValues, constants?: { cf: Float32Array; content: Float32Array }): TokenTable {
  const cached = tables.get(g);
  if (cached) return cached;
  const n = a.itemCount;
  const d = a.hiddenSize;
  const slots = slotCount(a);
  // graph inputs, or constants embedded in the graph (the preference hook's graphs take no item feeds)
  const cf = constants ? g.constant(constants.cf, [n, a.cfDimension], 'float32') : g.input(ITEM_INPUTS.cf, 'float32', [n, a.cfDimension]);
  const content = constants ? g.constant(constants.content, [n, a.contentDimension], 'float32') : g.input(ITEM_INPUTS.content, 'float32', [n, a.contentDimension]);
  const before = g.parameters.length;
  const cfTokens = nn.linear(cf, 'cf_projection', d);
  const autoencoder = setRecAutoencoder(content, { semanticSlots: a.semanticTokens, hidden: a.autoencoderHidden, name: 'autoencoder' });
  if (values !== undefined) {
    // nn's layers draw their initial values; a model's own values replace them
    for (const p of g.parameters.slice(before)) {
      const value = values.get(p.tensor.name);
      if (value !== undefined) p.initial.set(value);
    }
  }
  const items = ops.concat([ops.reshape(cfTokens, [n, 1, d]), autoencoder.tokens], 1);
  const table = ops.concat([g.constant(new Float32Array(slots * d), [1, slots, d], 'float32'), items], 0);
  // the autoencoder's own reconstruction of every item is left unused (and pruned from the model):
  // the loss reconstructs the items of each batch (see batchReconstructionLoss)
  const latentSize = a.semanticTokens * d;
  const latent = ops.concat([g.constant(new Float32Array(latentSize), [1, latentSize], 'float32'), autoencoder.latent], 0);
  const paddedContent = ops.concat([g.constant(new Float32Array(a.contentDimension), [1, a.contentDimension], 'float32'), content], 0);
  const built = { table, latent, content: paddedContent };
  tables.set(g, built);
  return built;
}

function boolConstant(g: Graph, data: Uint8Array, shape: number[]): SymbolicTensor {
  return g.constant(data, shape, 'bool');
}

/** `[rows, length·slots]` bool: true where the token belongs to a padding column (item 0). */
function tokenPadding(seq: SymbolicTensor, slots: number): SymbolicTensor {
  const [rows, length] = seq.shape as [number, number];
  const padding = ops.equal(seq, seq.graph.scalar(0, 'int64'));
  return ops.reshape(ops.expand(ops.reshape(padding, [rows, length, 1]), [rows, length, slots]), [rows, length * slots]);
}

/** `[rows, 1, 1, keys]` "allowed" from a `[rows, keys]` padding tensor. */
function keysAllowed(padding: SymbolicTensor): SymbolicTensor {
  const [rows, keys] = padding.shape as [number, number];
  return ops.reshape(ops.not(padding), [rows, 1, 1, keys]);
}

/**
 * History tokens with their shared position ids: `[rows, length, slots, d]`. Columns are
 * right-aligned (left padding), so column `c` of a `length`-wide batch has position
 * `maxLength - length + c` and the most recent item always sits at `maxLength - 1`.
 */
function historyTokens(g: Graph, a: SetrecArchitecture, seq: SymbolicTensor, table: SymbolicTensor, values: ParameterValues): { tokens: SymbolicTensor; positions: SymbolicTensor } {
  const length = seq.shape[1]!;
  const d = a.hiddenSize;
  const positionTable = parameter(g, 'position.weight', [a.maxLength, d], init.normal(0.02), values);
  const positions = ops.reshape(ops.slice(positionTable, [a.maxLength - length], [a.maxLength], [0]), [1, length, 1, d]);
  const tokens = ops.add(ops.gather(table, seq), positions); // [rows, length, slots, d]
  return { tokens, positions };
}

/** The learnable queries `[slots, d]`. */
function queryEmbedding(g: Graph, a: SetrecArchitecture, values: ParameterValues): SymbolicTensor {
  return parameter(g, 'queries.weight', [slotCount(a), a.hiddenSize], init.normal(0.02), values);
}

/**
 * The query vectors of a batch of histories (`seq` int64 `[rows, length]`, left-padded with 0, at
 * most `maxLength` columns).
 *
 * - `everyPosition: true` (training): one group of n+1 query vectors per column `t`, reading the
 *   history up to and including column `t` (it predicts item `t + 1`): `[rows·length, slots, d]`.
 * - `everyPosition: false` (inference): one group reading the whole history: `[rows, slots, d]`.
 *
 * Dropout follows `g.training`.
 */
export function queryVectors(g: Graph, a: SetrecArchitecture, seq: SymbolicTensor, everyPosition: boolean, values: ParameterValues): SymbolicTensor {
  const [rows, length] = seq.shape as [number, number];
  const slots = slotCount(a);
  const d = a.hiddenSize;
  const { table } = tokenTable(g, a, values);
  const { tokens, positions } = historyTokens(g, a, seq, table, values);
  const settings = settingsOf(a);
  const queries = queryEmbedding(g, a, values);
  const padding = tokenPadding(seq, slots); // [rows, length·slots]
  if (a.backbone === 'query-decoder') {
    let x = ops.dropout(ops.reshape(tokens, [rows, length * slots, d]), a.dropout);
    const encoderMask = ops.and(boolConstant(g, siblingMask(length, slots), [length * slots, length * slots]), keysAllowed(padding));
    for (let i = 0; i < a.layers; i++) x = encoderLayer(x, `encoder.layers.${i}`, encoderMask, settings, values);
    const memory = norm(x, 'encoder.norm', values);
    // a query group carries the position of the last item it reads (column t in training, the last column at inference)
    const groups = everyPosition ? length : 1;
    const lastTokens = everyPosition ? tokens : ops.slice(tokens, [length - 1], [length], [1]); // [rows, groups, slots, d]
    const queryPositions = everyPosition ? positions : ops.slice(positions, [length - 1], [length], [1]); // [1, groups, 1, d]
    let h = ops.add(ops.expand(ops.reshape(queries, [1, 1, slots, d]), [rows, groups, slots, d]), a.lastItemResidual ? lastTokens : queryPositions);
    h = ops.dropout(ops.reshape(h, [rows, groups * slots, d]), a.dropout);
    const crossMask = everyPosition ? ops.and(boolConstant(g, prefixCrossMask(length, slots), [length * slots, length * slots]), keysAllowed(padding)) : keysAllowed(padding);
    for (let i = 0; i < a.decoderLayers; i++) h = queryDecoderLayer(h, memory, `decoder.layers.${i}`, crossMask, settings, values);
    return ops.reshape(norm(h, 'decoder.norm', values), [rows * groups, slots, d]);
  }
  // causal: queries get the query embedding plus the position of the column they follow
  if (everyPosition) {
    const queryInputs = ops.add(ops.expand(ops.reshape(queries, [1, 1, slots, d]), [rows, length, slots, d]), a.lastItemResidual ? tokens : positions);
    let x = ops.dropout(ops.reshape(ops.concat([tokens, queryInputs], 2), [rows, 2 * length * slots, d]), a.dropout);
    const size = 2 * length * slots;
    const queryPadding = boolConstant(g, new Uint8Array(rows * length * slots), [rows, length, slots]);
    const keyPadding = ops.reshape(ops.concat([ops.reshape(padding, [rows, length, slots]), queryPadding], 2), [rows, size]);
    const mask = ops.and(boolConstant(g, interleavedCausalMask(length, slots), [size, size]), keysAllowed(keyPadding));
    for (let i = 0; i < a.layers; i++) x = encoderLayer(x, `layers.${i}`, mask, settings, values);
    const out = ops.reshape(norm(x, 'norm', values), [rows, length, 2 * slots, d]);
    return ops.reshape(ops.slice(out, [slots], [2 * slots], [2]), [rows * length, slots, d]);
  }
  const last = ops.reshape(ops.slice(positions, [length - 1], [length], [1]), [1, 1, d]);
  const lastTokens = ops.reshape(ops.slice(tokens, [length - 1], [length], [1]), [rows, slots, d]); // with their position
  const queryInputs = ops.add(ops.expand(ops.reshape(queries, [1, slots, d]), [rows, slots, d]), a.lastItemResidual ? lastTokens : last);
  let x = ops.dropout(ops.concat([ops.reshape(tokens, [rows, length * slots, d]), queryInputs], 1), a.dropout);
  const size = (length + 1) * slots;
  const keyPadding = ops.concat([padding, boolConstant(g, new Uint8Array(rows * slots), [rows, slots])], 1);
  const mask = ops.and(boolConstant(g, queryCausalMask(length, slots), [size, size]), keysAllowed(keyPadding));
  for (let i = 0; i < a.layers; i++) x = encoderLayer(x, `layers.${i}`, mask, settings, values);
  const out = norm(x, 'norm', values);
  return ops.reshape(ops.slice(out, [length * slots], [size], [1]), [rows, slots, d]);
}

/**
 * Per-slot logits of every item for query vectors `[positions, slots, d]`: `[slots, positions, itemCount]`,
 * entry `(s, p, j)` = `<q_s(p), v_s(item j + 1)>`.
 */
export function slotLogits(g: Graph, a: SetrecArchitecture, queries: SymbolicTensor, values: ParameterValues): SymbolicTensor {
  const { table } = tokenTable(g, a, values);
  const items = ops.transpose(ops.slice(table, [1], [a.itemCount + 1], [0]), [1, 2, 0]); // [slots, d, N]
  return ops.matMul(ops.transpose(queries, [1, 0, 2]), items);
}

/**
 * The SETRec autoencoder's reconstruction MSE over the items of a batch (`ids` int64, any shape;
 * 0 = padding, left out), as SETRec trains it: each item's latent through the mirrored decoder
 * (`autoencoder.decoder{l}`, the parameters `setRecAutoencoder` declared) against its content
 * vector, `Σ (x̂ − x)² / (items · contentDimension)`.
 */
export function batchReconstructionLoss(g: Graph, a: SetrecArchitecture, ids: SymbolicTensor, values: ParameterValues): SymbolicTensor {
  const { latent, content } = tokenTable(g, a, values);
  if (!latent || !content) throw new GenrecError('UNSUPPORTED', 'the reconstruction needs a token table computed by the autoencoder, not a fed one');
  const flat = ops.reshape(ids, [ids.size]);
  let h = ops.gather(latent, flat); // [rows, n·d]
  const widths = [...a.autoencoderHidden.slice(0, -1)].reverse();
  widths.forEach((width, layer) => {
    h = ops.relu(dense(h, `autoencoder.decoder${layer}`, width, values));
  });
  const reconstruction = dense(h, `autoencoder.decoder${widths.length}`, a.contentDimension, values);
  const difference = ops.sub(reconstruction, ops.gather(content, flat));
  const real = ops.cast(ops.not(ops.equal(flat, g.scalar(0, 'int64'))), 'float32'); // [rows]
  const perRow = ops.reduceSum(ops.mul(difference, difference), [1]); // [rows]
  const count = ops.maximum(ops.reduceSum(real), 1);
  return ops.div(ops.reduceSum(ops.mul(perRow, real)), ops.mul(count, a.contentDimension));
}

/**
 * Mean over the n+1 slots of the full-softmax cross-entropy of `queries` `[positions, slots, d]`
 * against `labels` `[positions]` (item id − 1, or `ignoreIndex`), one slot at a time (each slot's
 * `[positions, itemCount]` logits are freed before the next). `bias` `[itemCount]` is added to
 * every logit when given.
 */
export function slotCrossEntropy(g: Graph, a: SetrecArchitecture, queries: SymbolicTensor, labels: SymbolicTensor, bias: SymbolicTensor | undefined, ignoreIndex: number, values: ParameterValues): SymbolicTensor {
  const { table } = tokenTable(g, a, values);
  const slots = slotCount(a);
  const positions = queries.shape[0]!;
  const d = a.hiddenSize;
  let total: SymbolicTensor | undefined;
  for (let s = 0; s < slots; s++) {
    const q = ops.reshape(ops.slice(queries, [s], [s + 1], [1]), [positions, d]);
    const items = ops.reshape(ops.slice(table, [1, s], [a.itemCount + 1, s + 1], [0, 1]), [a.itemCount, d]);
    let logits = ops.gemm(q, items, { transB: true });
    if (bias) logits = ops.add(logits, bias);
    const loss = ops.softmaxCrossEntropy(logits, labels, { ignoreIndex });
    total = total ? ops.add(total, loss) : loss;
  }
  return ops.mul(total!, 1 / slots);
}

/**
 * The training graph of one length bucket: `rows` histories of `length` columns (`seq`, left-padded),
 * the next item at every column (`labels` `[rows·length]`, item id − 1, or −100 for padding), and
 * with `itemBias` an input `item.bias` `[itemCount]` added to every logit (0, or −1e9 for items left
 * out of the training softmax: those without training interactions). Loss = mean over slots and
 * scored positions of the full-softmax cross-entropy (every query has the same gold item) + α · the
 * autoencoder's reconstruction MSE over the batch's history items.
 */
export function buildTrainingGraph(g: Graph, a: SetrecArchitecture, rows: number, length: number, itemBias = false): { loss: SymbolicTensor } {
  const seq = g.input('seq', 'int64', [rows, length]);
  const labels = g.input('labels', 'int64', [rows * length]);
  const bias = itemBias ? g.input(ITEM_INPUTS.bias, 'float32', [a.itemCount]) : undefined;
  const queries = queryVectors(g, a, seq, true, undefined);
  const crossEntropy = slotCrossEntropy(g, a, queries, labels, bias, -100, undefined);
  return { loss: a.alpha === 0 ? crossEntropy : ops.add(crossEntropy, ops.mul(batchReconstructionLoss(g, a, seq, undefined), a.alpha)) };
}

/** Graph input names of the discrete variant's code training. */
export const CODE_INPUTS = { labels: 'code.labels', rotation: 'code.rotation', codebook: (slot: number) => `code.book.${slot}` } as const;

/**
 * The discrete variant's fine-tuning graph: the history is encoded as in training (from the fed,
 * frozen token table `item.tokens`), and each slot's queries are trained with cross-entropy over
 * **that slot's codes** (`code.book.<s>` `[codebookSizes[s], d]`, fed), the gold code being the
 * next item's code in the slot (`code.labels` `[slots, rows·length]`, −100 for padding). With
 * `rotated`, the semantic queries are multiplied by the OPQ rotation (`code.rotation`
 * `[n·d, n·d]`) first, as the codebooks live in the rotated space. Only the transformer, the
 * queries and the positions are parameters here.
 */
export function buildCodeTrainingGraph(g: Graph, a: SetrecArchitecture, rows: number, length: number, codebookSizes: readonly number[], rotated: boolean): { loss: SymbolicTensor } {
  tokenTableInput(g, a);
  const slots = slotCount(a);
  const d = a.hiddenSize;
  const positions = rows * length;
  const seq = g.input('seq', 'int64', [rows, length]);
  const labels = g.input(CODE_INPUTS.labels, 'int64', [slots, positions]);
  const queries = queryVectors(g, a, seq, true, undefined); // [positions, slots, d]
  let semantic = ops.reshape(ops.slice(queries, [1], [slots], [1]), [positions, (slots - 1) * d]);
  if (rotated) semantic = ops.matMul(semantic, g.input(CODE_INPUTS.rotation, 'float32', [(slots - 1) * d, (slots - 1) * d]));
  let total: SymbolicTensor | undefined;
  for (let s = 0; s < slots; s++) {
    const q = s === 0 ? ops.reshape(ops.slice(queries, [0], [1], [1]), [positions, d]) : ops.slice(semantic, [(s - 1) * d], [s * d], [1]);
    const codebook = g.input(CODE_INPUTS.codebook(s), 'float32', [codebookSizes[s]!, d]);
    const slotLabels = ops.reshape(ops.slice(labels, [s], [s + 1], [0]), [positions]);
    const loss = ops.softmaxCrossEntropy(ops.gemm(q, codebook, { transB: true }), slotLabels, { ignoreIndex: -100 });
    total = total ? ops.add(total, loss) : loss;
  }
  return { loss: ops.mul(total!, 1 / slots) };
}

/**
 * Inference graph on the precomputed token table (`item.tokens`): the query vectors of `rows`
 * histories of `length` columns, `'queries'` `[rows, slots·d]`, and with `scores` also the
 * score of every item, `'scores'` `[rows, itemCount]` = `Σ_s w_s · log-softmax_s(<q_s, v_s(·)>)`
 * with the slot weights fed as `slot.weights` `[slots]` (each slot's softmax over the whole
 * catalogue).
 */
export function buildQueryGraph(g: Graph, a: SetrecArchitecture, rows: number, length: number, scores: boolean): { queries: SymbolicTensor; scores?: SymbolicTensor } {
  tokenTableInput(g, a);
  const slots = slotCount(a);
  const seq = g.input('seq', 'int64', [rows, length]);
  const vectors = queryVectors(g, a, seq, false, undefined);
  const queries = ops.reshape(vectors, [rows, slots * a.hiddenSize]);
  if (!scores) return { queries };
  const weights = g.input(ITEM_INPUTS.weights, 'float32', [slots]);
  const logp = ops.logSoftmax(slotLogits(g, a, vectors, undefined), -1); // [slots, rows, N]
  return { queries, scores: ops.reduceSum(ops.mul(logp, ops.reshape(weights, [slots, 1, 1])), [0]) };
}

/** Inference graph: every item's tokens, `'table'` `[itemCount, slots·d]` (row `j` = item `j + 1`, CF first). */
export function buildTableGraph(g: Graph, a: SetrecArchitecture): { table: SymbolicTensor } {
  const { table } = tokenTable(g, a, undefined);
  return { table: ops.reshape(ops.slice(table, [1], [a.itemCount + 1], [0]), [a.itemCount, slotCount(a) * a.hiddenSize]) };
}

/**
 * Names and shapes of every parameter, in declaration order (the safetensors layout of a saved model).
 *
 * @example
 * ```ts
 * setrecParameterShapes(architecture).get('queries.weight'); // [5, 32]
 * ```
 */
export function setrecParameterShapes(a: SetrecArchitecture): Map<string, number[]> {
  const g = new Graph({ training: false });
  buildTrainingGraph(g, a, 1, 1);
  return new Map(g.parameters.map((p) => [p.tensor.name, [...p.tensor.shape]]));
}
