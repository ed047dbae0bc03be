import { createSemanticIdTable, createTokenLayout, GenrecError, sharedPath, type SemanticIdTable, type TokenLayout } from '@genrec/core';
import { describe, expect, it } from 'vitest';
import { OnnxSeq2SeqStepModel } from './onnx-seq2seq-step-model.js';
import { PrefixTrie } from './prefix-trie.js';
import { runScript, sourcePath } from './test-helpers.js';
import { loadTigerFixture } from './testing/tiger-fixture.js';

// Issue 11 for @genrec/decoder: newcomer traps and absurd options.

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return GenrecError.isInstance(error) ? error.code : `not a GenrecError: ${String(error)}`;
  }
  return undefined;
}

async function rejectionCode(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return GenrecError.isInstance(error) ? error.code : `not a GenrecError: ${String(error)}`;
  }
  return undefined;
}

/** What `@genrec/semantic-id`'s SemanticIds looks like to the trie: the table as `.table`, a `levels` getter, a layout method. */
class SemanticIdsLike {
  constructor(readonly table: SemanticIdTable) {}
  get levels(): number {
    return this.table.levels;
  }
  tokenLayout(): TokenLayout {
    return createTokenLayout({ levelSizes: this.table.codebookSizes });
  }
}

describe('PrefixTrie.fromTable accepts the SemanticIds object (issue 11)', () => {
  const table = createSemanticIdTable({ itemIds: [10, 11, 12], codes: [0, 1, 0, 2, 3, 0], levels: 2, codebookSizes: [4, 4] });
  const layout = createTokenLayout({ levelSizes: [4, 4] });

  it('fromTable(semanticIds) builds the same trie as fromTable(semanticIds.table)', () => {
    const holder = new SemanticIdsLike(table);
    const fromObject = PrefixTrie.fromTable(holder, holder.tokenLayout());
    const fromTable = PrefixTrie.fromTable(table, layout);
    expect(fromObject.itemCount).toBe(3);
    expect(fromObject.nodeCount).toBe(fromTable.nodeCount);
    for (const prefix of [[], [3], [6]]) expect(Array.from(fromObject.allowedTokens(prefix))).toEqual(Array.from(fromTable.allowedTokens(prefix)));
    expect(fromObject.itemAt(fromObject.walk([3, 9]))).toBe(11);
  });

  it('anything else is a clear INVALID_INPUT, not a TypeError', () => {
    for (const bad of [undefined, null, 42, {}, { table: {} }, { table: { levels: 2 } }, { levels: 2, codes: [0, 1], itemIds: [1], itemCount: 1, codebookSizes: [4, 4] }]) {
      expect(codeOf(() => PrefixTrie.fromTable(bad as unknown as SemanticIdTable, layout))).toBe('INVALID_INPUT');
    }
    expect(codeOf(() => PrefixTrie.fromTable(table, undefined as unknown as TokenLayout))).toBe('INVALID_INPUT');
  });
});

describe('absurd result sizes are INVALID_OPTION before anything is allocated (child process, issue 11)', () => {
  it('beamWidth, resultCount, samplesPerUser and SetIdDecoder k of 2^31 - 1', () => {
    const run = runScript(`
import { createMatrix, createSemanticIdTable, createTokenLayout } from ${JSON.stringify(sourcePath('../../core/src/index.ts'))};
import { PrefixTrie, SetIdDecoder, beamSearch, maxBeamsFor, sampleSequences } from ${JSON.stringify(sourcePath('index.ts'))};
import { ToyStepModel, hashedLogits } from ${JSON.stringify(sourcePath('testing/toy-step-model.ts'))};
const layout = createTokenLayout({ levelSizes: [8, 8] });
const table = createSemanticIdTable({ itemIds: [1, 2, 3], codes: [0, 1, 2, 3, 4, 5], levels: 2, codebookSizes: [8, 8] });
const trie = PrefixTrie.fromTable(table, layout);
const model = new ToyStepModel(layout.vocabularySize, hashedLogits(3));
const inputs = { tokens: Int32Array.of(3, 4, 5, 6), batchSize: 2, length: 2 };
const huge = 2 ** 31 - 1;
const code = async (promise) => { try { await promise; return 'ok'; } catch (error) { return error.code; } };
console.log('beamWidth ' + await code(beamSearch(model, inputs, { trie, beamWidth: huge })));
console.log('resultCount ' + await code(beamSearch(model, inputs, { trie, beamWidth: 2, resultCount: huge })));
console.log('samplesPerUser ' + await code(sampleSequences(model, inputs, { trie, samplesPerUser: huge, seed: 1 })));
const limit = maxBeamsFor(2, layout.vocabularySize);
console.log('limit ' + limit);
console.log('beamWidth limit+1 ' + await code(beamSearch(model, inputs, { trie, beamWidth: limit + 1 })));
const result = await beamSearch(model, inputs, { trie, beamWidth: 8, resultCount: 5 });
const ids = Array.from(result.user(0).itemIds);
console.log('padded ' + ids.filter((id) => id >= 0).sort().join(',') + ' then ' + ids.filter((id) => id < 0).join(','));
const setTable = { variant: 'continuous', slotCount: 1, slotDimensions: [2], slotWeights: Float32Array.of(1), itemCount: 3, itemIds: Int32Array.of(1, 2, 3),
  slotVectors: () => createMatrix(3, 2, Float32Array.of(1, 0, 0, 1, 1, 1)), flatten: () => createMatrix(3, 2, Float32Array.of(1, 0, 0, 1, 1, 1)) };
const decoder = new SetIdDecoder(setTable);
console.log('k ' + await code(decoder.decode(createMatrix(1, 2, Float32Array.of(1, 0)), { k: huge })));
console.log('k 1025 ' + await code(decoder.decode(createMatrix(1, 2, Float32Array.of(1, 0)), { k: 1025 })));
const padded = await decoder.decode(createMatrix(1, 2, Float32Array.of(1, 0)), { k: 1024 });
console.log('k 1024 ' + Array.from(padded.ids.subarray(0, 4)).join(','));
console.log('rss below 1 GiB ' + (process.memoryUsage().rss < 2 ** 30));
`);
    expect({ status: run.status, signal: run.signal, stderr: run.stderr.slice(-2000) }).toMatchObject({ status: 0, signal: null });
    const lines = run.stdout.trim().split('\n');
    const limit = Math.floor(2 ** 28 / (2 * createTokenLayout({ levelSizes: [8, 8] }).vocabularySize));
    expect(lines).toEqual([
      'beamWidth INVALID_OPTION',
      'resultCount INVALID_OPTION',
      'samplesPerUser INVALID_OPTION',
      `limit ${limit}`,
      'beamWidth limit+1 INVALID_OPTION',
      // beyond the catalogue's 3 items the rows are padded, as the search result documents
      'padded 1,2,3 then -1,-1',
      'k INVALID_OPTION',
      'k 1025 INVALID_OPTION',
      'k 1024 1,3,2,-1',
      'rss below 1 GiB true',
    ]);
  });
});

const fixtureDirectory = sharedPath('peers', 'fixtures', 'tiger_onnx');
if (!fixtureDirectory) console.warn('[decoder] skipping the negative-token check: shared/peers/fixtures/tiger_onnx not found (set GENREC_SHARED_DIR)');

describe.skipIf(!fixtureDirectory)('OnnxSeq2SeqStepModel refuses negative tokens instead of wrapping them (issue 11)', () => {
  it('encode and step: INVALID_INPUT naming the position; tokens beyond the vocabulary too', async () => {
    const fixture = loadTigerFixture(fixtureDirectory!);
    const model = await OnnxSeq2SeqStepModel.create({ encoder: fixture.encoderPath, decoder: fixture.decoderPath, intraOpNumThreads: 1 });
    try {
      const length = 4;
      const tokens = Int32Array.of(0, 0, 5, 9, 0, 0, 7, 8);
      const negative = tokens.slice();
      negative[6] = -1; // would read the last token's embedding (ONNX Gather counts from the end)
      expect(await rejectionCode(model.encode({ tokens: negative, batchSize: 2, length }))).toBe('INVALID_INPUT');
      const session = await model.encode({ tokens, batchSize: 2, length });
      expect(await rejectionCode(session.step(Int32Array.of(1, -1), null, 1))).toBe('INVALID_INPUT');
      expect(await rejectionCode(session.step(Int32Array.of(1, model.vocabularySize), null, 1))).toBe('INVALID_INPUT');
      const logits = await session.step(Int32Array.of(1, 1), null, 1);
      expect(logits.length).toBe(2 * model.vocabularySize);
      session.dispose();
    } finally {
      await model.dispose();
    }
  });
});
