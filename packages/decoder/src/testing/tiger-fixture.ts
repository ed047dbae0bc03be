import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSemanticIdTable, createTokenLayout, type StepModelInput } from '@genrec/core';
import { PrefixTrie } from '../prefix-trie.js';

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
