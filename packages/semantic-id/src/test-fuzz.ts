import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Rng, createTensor, encodeNpy, encodeSafetensors, type Matrix } from '@genrec/core';
import {
  ArtifactFixture,
  FuzzOutcomes,
  classifyArtifactLoad,
  mutateArtifactFile,
  randomArtifactMutation,
  type ArtifactMutation,
  type ArtifactMutationKind,
  type FuzzReport,
} from '@genrec/core/testing';
import { loadEmbeddings } from './embedding-source.js';
import { ResidualQuantizer } from './residual-quantizer.js';
import { SemanticIds } from './semantic-ids.js';
import { SetIds } from './set-ids.js';
import { gaussianMatrix } from './test-helpers.js';

// Property-based fuzzing of semantic-id's loaders (test-only; not part of the build): saved
// semantic-id and set-id folders, and item embedding files (.npy, safetensors, JSONL) read by
// loadEmbeddings. A case mutates a file (core's artifact fuzz kit: bytes, words, truncation, JSON
// fields; here also header text and lines) and, for artifact folders, mostly regenerates the
// checksums so that the loaders' own checks are reached. The outcome must be a GenrecError or
// data that passes the invariants below.

/** semantic-id's own words for `json` mutations (core's kit adds interesting numbers, random numbers and strings). */
const JSON_VALUES: readonly unknown[] = [null, true, false, '', 'continuous', 'discrete', 'genrec.semantic-ids', 'genrec.set-ids', '<f4', '<i4', 'F32', 'I64', '../x', [], {}, [1, 2], [0, 4, 8]];

/** Mutations of a folder holding `files` files, or (with `kinds`) of one file (core's `randomArtifactMutation`, one seed per case). */
function mutationArbitrary(files: number, kinds?: readonly ArtifactMutationKind[]): fc.Arbitrary<ArtifactMutation> {
  return fc.noBias(fc.nat()).map((seed) => randomArtifactMutation(new Rng(seed), { files, jsonValues: JSON_VALUES, ...(kinds === undefined ? {} : { kinds }) }));
}

/** Mutations of a text header or a JSONL file: replace a token (number, string, keyword) or edit lines. */
export type TextMutation =
  | { kind: 'token'; index: number; replacement: string }
  | { kind: 'line'; index: number; action: 'delete' | 'duplicate' | 'swap' | 'insert' | 'truncate'; text: string; at: number };

const TOKEN = /-?\d+(?:\.\d+)?(?:e[-+]?\d+)?|'[^']*'|"[^"]*"|True|False|None|null|true|false|[()[\]{},:]/g;

const replacementText = fc.oneof(
  fc.constantFrom('0', '-1', '1', '2', '3', '2.9', '1e309', '-1e309', 'NaN', '4294967296', '9007199254740993', '2147483648', '99999999999', "'<f4'", "'<f8'", "'<i8'", "'>f4'", "'|b1'", 'True', 'None', '()', '(3,)', '[]', '{}', ',', '', '"id"', '"vector"', '"F32"', '"I64"', '"x"', 'null', '[1e39]', '[]'),
  fc.string({ maxLength: 6 }),
  fc.integer().map(String),
);

/** A token or line mutation. */
export const textMutationArbitrary: fc.Arbitrary<TextMutation> = fc.oneof(
  fc.record({ kind: fc.constant('token' as const), index: fc.nat(), replacement: replacementText }),
  fc.record({
    kind: fc.constant('line' as const),
    index: fc.nat(),
    action: fc.constantFrom('delete' as const, 'duplicate' as const, 'swap' as const, 'insert' as const, 'truncate' as const),
    text: fc.oneof(
      fc.constantFrom('{"id": 2147483648, "vector": [1, 2, 3]}', '{"id": 0, "vector": [1, 2, 3]}', '{"id": 5, "vector": [1e39, 0, 0]}', '{"id": 5, "vector": [1, 2]}', '{"id": 5}', '[1, 2, 3]', '{', '\u0000', '{"id": 1.5, "vector": [1, 2, 3]}', '{"id": "7", "vector": [1, 2, 3]}'),
      fc.json({ maxDepth: 2 }),
    ),
    at: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
  }),
);

/** Applies a token mutation to text (the `index`-th token, modulo the count). */
export function mutateText(text: string, mutation: TextMutation): string {
  if (mutation.kind === 'token') {
    const tokens = [...text.matchAll(TOKEN)];
    if (tokens.length === 0) return text;
    const token = tokens[mutation.index % tokens.length]!;
    return text.slice(0, token.index) + mutation.replacement + text.slice(token.index! + token[0].length);
  }
  const lines = text.split('\n');
  const index = mutation.index % lines.length;
  if (mutation.action === 'delete') lines.splice(index, 1);
  else if (mutation.action === 'duplicate') lines.splice(index, 0, lines[index]!);
  else if (mutation.action === 'swap') [lines[index], lines[0]] = [lines[0]!, lines[index]!];
  else if (mutation.action === 'insert') lines.splice(index, 0, mutation.text);
  else lines[index] = lines[index]!.slice(0, Math.floor(mutation.at * lines[index]!.length));
  return lines.join('\n');
}

/** Checks loaded item vectors: ids unique in [1, 2^31 - 1], finite values, shapes that agree, and a write/read round trip. */
async function checkEmbeddings(embeddings: { itemIds: Int32Array; vectors: Matrix }, scratch: string): Promise<void> {
  const { itemIds, vectors } = embeddings;
  if (vectors.data.length !== vectors.rows * vectors.cols || itemIds.length !== vectors.rows) throw new Error('shapes disagree');
  if (new Set(itemIds).size !== itemIds.length) throw new Error('repeated ids');
  for (const id of itemIds) if (id < 1) throw new Error(`id ${id} outside the range`);
  for (const value of vectors.data) if (!Number.isFinite(value)) throw new Error(`non-finite value ${value}`);
  const copy = join(scratch, 'round-trip.jsonl');
  writeFileSync(copy, Array.from(itemIds, (id, row) => JSON.stringify({ id, vector: Array.from(vectors.data.subarray(row * vectors.cols, (row + 1) * vectors.cols)) })).join('\n'));
  const again = await loadEmbeddings(copy);
  if (vectors.rows > 0 && (Array.from(again.itemIds).join() !== Array.from(itemIds).join() || Array.from(again.vectors.data).join() !== Array.from(vectors.data).join())) {
    throw new Error('the JSONL round trip changed the embeddings');
  }
}

/** Checks a loaded semantic-id table: every item encodes and decodes back, finite codebooks, save/load round trip. */
async function checkSemanticIds(ids: SemanticIds, scratch: string, roundTrip: boolean): Promise<void> {
  const table = ids.table;
  if (table.codes.length !== table.itemCount * table.levels) throw new Error('codes disagree with the shape');
  const decoded = ids.decode(ids.encode(table.itemIds));
  if (Array.from(decoded).join() !== Array.from(table.itemIds).join()) throw new Error('encode/decode does not round-trip');
  for (const codebook of ids.quantizer.codebooks) for (const value of codebook.data) if (!Number.isFinite(value)) throw new Error('non-finite codebook');
  if (!roundTrip) return;
  const copy = join(scratch, 'round-trip');
  await ids.save(copy);
  const again = await SemanticIds.load(copy);
  if (Array.from(again.table.codes).join() !== Array.from(table.codes).join()) throw new Error('save/load changed the codes');
  rmSync(copy, { recursive: true, force: true });
}

/** Checks a loaded set-id table: finite flattened rows and scores, codes inside their codebooks, save/load round trip. */
async function checkSetIds(table: SetIds, scratch: string, roundTrip: boolean): Promise<void> {
  const flat = table.flatten();
  for (const value of flat.data) if (!Number.isFinite(value)) throw new Error('non-finite flattened value');
  const scores = table.scores(table.slotDimensions.map((d) => new Float64Array(d).fill(0.5)));
  for (const value of scores) if (!Number.isFinite(value)) throw new Error('non-finite score');
  if (table.variant === 'discrete') {
    const codes = table.encode(table.itemIds);
    codes.forEach((code, i) => {
      if (code < 0 || code >= table.codebookSizes![i % table.slotCount]!) throw new Error(`code ${code} outside its codebook`);
    });
  }
  if (!roundTrip) return;
  const copy = join(scratch, 'round-trip');
  await table.save(copy);
  const again = await SetIds.load(copy);
  if (Array.from(again.flatten().data).join() !== Array.from(flat.data).join()) throw new Error('save/load changed the table');
  rmSync(copy, { recursive: true, force: true });
}

/** The loaders fuzzed here. */
export type SemanticIdFuzzTarget = 'semantic-ids' | 'set-ids-discrete' | 'set-ids-continuous' | 'npy' | 'safetensors' | 'jsonl';

/** Options of {@link fuzzSemanticIdLoader}. */
export interface SemanticIdFuzzOptions {
  target: SemanticIdFuzzTarget;
  /** Cases to run. */
  runs: number;
  seed: number;
}

async function savedFixture(target: 'semantic-ids' | 'set-ids-discrete' | 'set-ids-continuous', path: string): Promise<void> {
  if (target === 'semantic-ids') {
    const quantizer = new ResidualQuantizer([gaussianMatrix(4, 3, 1), gaussianMatrix(4, 3, 2)]);
    const ids = Int32Array.from({ length: 24 }, (_, i) => 2 * i + 1);
    const codes = Int32Array.from({ length: 48 }, (_, j) => ((j >> 1) * (1 + (j & 1))) % 4);
    await SemanticIds.fromCodes(quantizer, ids, codes, 'always').save(path);
  } else if (target === 'set-ids-continuous') {
    await SetIds.continuous([3, 1, 2, 9], [gaussianMatrix(4, 3, 1), gaussianMatrix(4, 2, 2)], [1, 0.5]).save(path);
  } else {
    const semantic = gaussianMatrix(16, 4, 3);
    const cf = gaussianMatrix(16, 2, 4);
    const ids = Int32Array.from({ length: 16 }, (_, i) => i + 10);
    await (await SetIds.fitDiscrete(ids, semantic, cf, { semanticSlots: 2, codebookSize: 3, rotation: 'opq', backend: 'js', seed: 1 })).save(path);
  }
}

/** The unmutated file, as a plain Uint8Array (a Buffer's `slice` would share memory with the mutations). */
function embeddingFile(target: 'npy' | 'safetensors' | 'jsonl'): Uint8Array {
  return Uint8Array.from(embeddingFileBytes(target));
}

function embeddingFileBytes(target: 'npy' | 'safetensors' | 'jsonl'): Uint8Array {
  const vectors = Float32Array.from({ length: 15 }, (_, i) => Math.sin(i) * 3);
  if (target === 'npy') return encodeNpy(createTensor(vectors, [5, 3]));
  if (target === 'safetensors') {
    const chunks = encodeSafetensors({ embeddings: createTensor(vectors, [5, 3]), ids: createTensor(BigInt64Array.from([4n, 8n, 15n, 16n, 23n]), [5]) }, { model: 'fuzz' });
    return Buffer.concat(chunks);
  }
  const lines = Array.from({ length: 5 }, (_, row) => JSON.stringify({ id: [4, 8, 15, 16, 23][row], vector: Array.from(vectors.subarray(row * 3, row * 3 + 3)) }));
  return new TextEncoder().encode(lines.join('\n') + '\n');
}

type RawMutation = Exclude<ArtifactMutation, { kind: 'pointer' } | { kind: 'json' }>;
type JsonMutation = Extract<ArtifactMutation, { kind: 'json' }>;
/** Structure-aware mutation of a single embedding file: header text of `.npy`, header JSON of safetensors, lines of JSONL; or raw bytes. */
type EmbeddingMutation = { kind: 'raw'; mutation: RawMutation } | { kind: 'text'; mutation: TextMutation } | { kind: 'header-json'; mutation: JsonMutation; keepLength: boolean };

function embeddingMutationArbitrary(): fc.Arbitrary<EmbeddingMutation> {
  // the kinds drawn are these only: the filters just narrow the type
  const raw = mutationArbitrary(1, ['bytes', 'word', 'truncate', 'append']).filter((m): m is RawMutation => m.kind !== 'pointer' && m.kind !== 'json');
  const json = mutationArbitrary(1, ['json']).filter((m): m is JsonMutation => m.kind === 'json');
  return fc.oneof(
    { weight: 2, arbitrary: raw.map((mutation) => ({ kind: 'raw' as const, mutation })) },
    { weight: 3, arbitrary: textMutationArbitrary.map((mutation) => ({ kind: 'text' as const, mutation })) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('header-json' as const), mutation: json, keepLength: fc.boolean() }) },
  );
}

function applyFileMutation(target: 'npy' | 'safetensors' | 'jsonl', original: Uint8Array, mutation: EmbeddingMutation): Uint8Array {
  if (mutation.kind === 'raw') return mutateArtifactFile(original, mutation.mutation);
  if (target === 'jsonl') {
    if (mutation.kind === 'text') return new TextEncoder().encode(mutateText(new TextDecoder().decode(original), mutation.mutation));
    return mutateArtifactFile(original, mutation.mutation);
  }
  if (target === 'npy') {
    // magic (6) + version (2) + header length (2), then the header text, then the data
    const headerLength = original[8]! | (original[9]! << 8);
    const header = new TextDecoder('latin1').decode(original.subarray(10, 10 + headerLength));
    const data = original.subarray(10 + headerLength);
    const text = mutation.kind === 'text' ? mutateText(header, mutation.mutation) : header.replace(/\(([^)]*)\)/, (_, inner: string) => `(${inner}${mutation.mutation.path % 3 === 0 ? ', 1' : ''})`);
    const bytes = Buffer.from(text, 'latin1');
    const prefix = Buffer.from(original.subarray(0, 10));
    if (mutation.kind === 'text' || !mutation.keepLength) prefix.writeUInt16LE(bytes.length & 0xffff, 8);
    return Buffer.concat([prefix, bytes, data]);
  }
  // safetensors: 8-byte little-endian header length, the JSON header, the data
  const headerLength = Number(new DataView(original.buffer, original.byteOffset).getBigUint64(0, true));
  const header = original.subarray(8, 8 + headerLength);
  const data = original.subarray(8 + headerLength);
  const mutated = mutation.kind === 'text' ? new TextEncoder().encode(mutateText(new TextDecoder().decode(header), mutation.mutation)) : mutateArtifactFile(header, mutation.mutation);
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(mutation.kind === 'header-json' && mutation.keepLength ? headerLength : mutated.length), true);
  return Buffer.concat([prefix, mutated, data]);
}

/**
 * Fuzzes one loader of this package for `runs` cases: artifact folders (mutations of any file,
 * mostly re-signed) or embedding files (structure-aware mutations). Throws with fast-check's
 * counterexample when a case ends in anything but a GenrecError or data that passes the
 * invariants, or takes over 5 s; returns core's fuzz report (outcomes by class). Run it through
 * `fuzzInChild` of `@genrec/core/testing`.
 */
export async function fuzzSemanticIdLoader(options: SemanticIdFuzzOptions): Promise<FuzzReport> {
  const target = options.target;
  const names: Record<SemanticIdFuzzTarget, string> = {
    'semantic-ids': 'SemanticIds.load folder',
    'set-ids-discrete': 'SetIds.load folder (discrete, OPQ)',
    'set-ids-continuous': 'SetIds.load folder (continuous)',
    npy: 'loadEmbeddings .npy',
    safetensors: 'loadEmbeddings safetensors',
    jsonl: 'loadEmbeddings JSONL',
  };
  const scratch = mkdtempSync(join(tmpdir(), `genrec-semantic-id-fuzz-${target}-`));
  const outcomes = new FuzzOutcomes(names[target]);
  let loaded = 0;
  try {
    if (target === 'npy' || target === 'safetensors' || target === 'jsonl') {
      const original = embeddingFile(target);
      const path = join(scratch, `embeddings.${target}`);
      await fc.assert(
        fc.asyncProperty(embeddingMutationArbitrary(), async (mutation) => {
          writeFileSync(path, applyFileMutation(target, original, mutation));
          await classifyArtifactLoad(outcomes, async () => checkEmbeddings(await loadEmbeddings(path), scratch));
        }),
        { numRuns: options.runs, seed: options.seed, endOnFailure: true },
      );
    } else {
      const path = join(scratch, 'artifact');
      await savedFixture(target, path);
      const fixture = new ArtifactFixture(path);
      await fc.assert(
        fc.asyncProperty(mutationArbitrary(fixture.files.length), async (mutation) => {
          fixture.apply(mutation);
          await classifyArtifactLoad(outcomes, async () => {
            const roundTrip = loaded++ % 4 === 0;
            if (target === 'semantic-ids') await checkSemanticIds(await SemanticIds.load(path), scratch, roundTrip);
            else await checkSetIds(await SetIds.load(path), scratch, roundTrip);
          });
        }),
        { numRuns: options.runs, seed: options.seed, endOnFailure: true },
      );
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return outcomes.report();
}
