import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSemanticIdTable, createTokenLayout, type StepModelInput } from '@genrec/core';
import { readOnnxModel, type OnnxModelContents } from '@genrec/nn';
import { PrefixTrie } from '../prefix-trie.js';
import type { TransformerSpec, TransformerWeights } from '../transformer/spec.js';

/** The TIGER peer's ONNX fixture (`shared/peers/fixtures/tiger_onnx`), parsed. */
export interface TigerFixture {
  directory: string;
  encoderPath: string;
  decoderPath: string;
  trie: PrefixTrie;
  /** Users of cases.json: encoder tokens (80 each) and the reference top-10. */
  users: Array<{ srcTokens: Int32Array; itemIds: number[]; scores: number[] }>;
  sourceLength: number;
}

/** Reads the fixture folder (catalogue.json, cases.json) and builds the trie. */
export function loadTigerFixture(directory: string): TigerFixture {
  const catalogue = JSON.parse(readFileSync(join(directory, 'catalogue.json'), 'utf8')) as { item_ids: number[]; codes: number[][] };
  const cases = JSON.parse(readFileSync(join(directory, 'cases.json'), 'utf8')) as {
    users: Array<{ src_tokens: number[]; item_ids: number[]; scores: number[] }>;
  };
  const layout = createTokenLayout({ levelSizes: [256, 256, 256, 16] });
  const table = createSemanticIdTable({ itemIds: catalogue.item_ids, codes: catalogue.codes.flat(), levels: 4, codebookSizes: [256, 256, 256, 16], hasCollisionLevel: true });
  const trie = PrefixTrie.fromTable(table, layout);
  const users = cases.users.map((user) => ({ srcTokens: Int32Array.from(user.src_tokens), itemIds: user.item_ids, scores: user.scores }));
  return {
    directory,
    encoderPath: join(directory, 'encoder.onnx'),
    decoderPath: join(directory, 'decoder_step.onnx'),
    trie,
    users,
    sourceLength: users[0]!.srcTokens.length,
  };
}

/** Encoder input for users `first .. first + count - 1`, taken cyclically from the fixture's users. */
export function fixtureBatch(fixture: TigerFixture, first: number, count: number): StepModelInput {
  const length = fixture.sourceLength;
  const tokens = new Int32Array(count * length);
  for (let i = 0; i < count; i++) tokens.set(fixture.users[(first + i) % fixture.users.length]!.srcTokens, i * length);
  return { tokens, batchSize: count, length };
}

/**
 * The fixture's weights under the canonical names of {@link TransformerWeights} (`@genrec/nn`'s
 * parameter names, projections `[out, in]`), read from the two ONNX files, and its architecture
 * from manifest.json. The peer stores its projections as `x W` (`[in, out]`): they are transposed
 * here, at the fixture boundary. Its LayerNorm parameters are found through the files'
 * LayerNormalization nodes, in graph order (PyTorch's exporter deduplicated some of them into
 * `Identity` aliases).
 */
export function loadTigerFixtureTransformer(fixture: TigerFixture): { spec: TransformerSpec; weights: Map<string, Float32Array> } {
  const manifest = JSON.parse(readFileSync(join(fixture.directory, 'manifest.json'), 'utf8')) as {
    model: { d_model: number; heads: number; head_dim: number; ffn: number; encoder_layers: number; decoder_layers: number; vocab: number; src_len_max: number; decoder_positions: number };
  };
  const m = manifest.model;
  const spec: TransformerSpec = {
    vocabularySize: m.vocab,
    modelDimension: m.d_model,
    heads: m.heads,
    headDimension: m.head_dim,
    feedForwardDimension: m.ffn,
    encoderLayers: m.encoder_layers,
    decoderLayers: m.decoder_layers,
    maxSourceLength: m.src_len_max,
    maxTargetLength: m.decoder_positions,
  };
  const weights = new Map<string, Float32Array>();
  const encoder = readOnnxModel(fixture.encoderPath);
  const decoder = readOnnxModel(fixture.decoderPath);
  const tensor = (model: OnnxModelContents, from: string): { data: Float32Array; shape: readonly number[] } => {
    const found = model.tensors.get(from);
    if (!found || found.dtype !== 'float32') throw new Error(`fixture tensor ${from} missing`);
    return { data: found.data as Float32Array, shape: found.shape };
  };
  const take = (model: OnnxModelContents, from: string, to: string): void => {
    weights.set(to, tensor(model, from).data);
  };
  /** A peer projection `[in, out]` as the canonical `[out, in]`. */
  const takeTransposed = (model: OnnxModelContents, from: string, to: string): void => {
    const { data, shape } = tensor(model, from);
    const [rows, columns] = shape as [number, number];
    const transposed = new Float32Array(data.length);
    for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) transposed[c * rows + r] = data[r * columns + c]!;
    weights.set(to, transposed);
  };
  take(encoder, 'p.tok_emb', 'embedding.weight');
  take(encoder, 'p.enc_pos', 'encoder.position.weight');
  take(decoder, 'p.dec_pos', 'decoder.position.weight');
  const attention = { wq: 'q', wk: 'k', wv: 'v', wo: 'out' } as const;
  const cross = { cq: 'q', ck: 'k', cv: 'v', co: 'out' } as const;
  for (let i = 0; i < m.encoder_layers; i++) {
    for (const [from, to] of Object.entries(attention)) takeTransposed(encoder, `p.enc${i}_${from}`, `encoder.layers.${i}.self_attn.${to}.weight`);
    takeTransposed(encoder, `p.enc${i}_w1`, `encoder.layers.${i}.ffn.fc1.weight`);
    takeTransposed(encoder, `p.enc${i}_w2`, `encoder.layers.${i}.ffn.fc2.weight`);
  }
  for (let i = 0; i < m.decoder_layers; i++) {
    for (const [from, to] of Object.entries(attention)) takeTransposed(decoder, `p.dec${i}_${from}`, `decoder.layers.${i}.self_attn.${to}.weight`);
    for (const [from, to] of Object.entries(cross)) takeTransposed(from === 'ck' || from === 'cv' ? encoder : decoder, `p.dec${i}_${from}`, `decoder.layers.${i}.cross_attn.${to}.weight`);
    takeTransposed(decoder, `p.dec${i}_w1`, `decoder.layers.${i}.ffn.fc1.weight`);
    takeTransposed(decoder, `p.dec${i}_w2`, `decoder.layers.${i}.ffn.fc2.weight`);
  }
  const norms = (model: OnnxModelContents, names: string[]): void => {
    const nodes = model.nodes.filter((node) => node.opType === 'LayerNormalization');
    if (nodes.length !== names.length) throw new Error(`expected ${names.length} LayerNormalization nodes, found ${nodes.length}`);
    nodes.forEach((node, k) => {
      take(model, node.inputs[1]!, `${names[k]}.weight`);
      take(model, node.inputs[2]!, `${names[k]}.bias`);
    });
  };
  const encoderNorms: string[] = [];
  for (let i = 0; i < m.encoder_layers; i++) encoderNorms.push(`encoder.layers.${i}.norm1`, `encoder.layers.${i}.norm2`);
  norms(encoder, [...encoderNorms, 'encoder.norm']);
  const decoderNorms: string[] = [];
  for (let i = 0; i < m.decoder_layers; i++) decoderNorms.push(`decoder.layers.${i}.norm1`, `decoder.layers.${i}.norm2`, `decoder.layers.${i}.norm3`);
  norms(decoder, [...decoderNorms, 'decoder.norm']);
  return { spec, weights };
}
