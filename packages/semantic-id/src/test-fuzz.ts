import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { createTensor, encodeNpy, encodeSafetensors, GenrecError, openArtifactDirectory, type Matrix } from '@genrec/core';
import { FuzzOutcomes, type FuzzReport } from '@genrec/core/testing';
import { loadEmbeddings } from './embedding-source.js';
import { ResidualQuantizer } from './residual-quantizer.js';
import { SemanticIds } from './semantic-ids.js';
import { SetIds } from './set-ids.js';
import { gaussianMatrix } from './test-helpers.js';

// Property-based fuzzing of semantic-id's loaders (test-only; not part of the build): saved
// semantic-id and set-id folders, and item embedding files (.npy, safetensors, JSONL) read by
// loadEmbeddings. A case mutates a file (bytes, words, truncation, JSON fields, header text, lines)
// and, for artifact folders, mostly regenerates the checksums so that the loaders' own checks are
// reached. The outcome must be a GenrecError or data that passes the invariants below.

/** Interesting numbers for words and JSON fields. */
const INTERESTING = [0, 1, -1, 2, 3, 7, 8, 20, 63, 64, 65, 255, 256, 1023, 1024, 65535, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53, -(2 ** 31), 0.5, 1.5, 1e30];

/** One mutation of a saved artifact folder. */
export type Mutation =
  | { kind: 'bytes'; file: number; edits: Array<{ at: number; op: 'flip' | 'set' | 'insert' | 'delete'; value: number }>; resign: Resign }
  | { kind: 'word'; file: number; at: number; aligned: boolean; width: 1 | 2 | 4 | 8; value: number; resign: Resign }
  | { kind: 'truncate'; file: number; at: number; resign: Resign }
  | { kind: 'append'; file: number; bytes: Uint8Array; resign: Resign }
  | { kind: 'json'; file: number; path: number; action: 'set' | 'delete' | 'duplicate'; value: unknown; resign: Resign }
  | { kind: 'pointer'; text: string };

/** none: the checksums catch it; checksums: the list is regenerated; all: the sidecar's data entry too. */
export type Resign = 'none' | 'checksums' | 'all';

const jsonValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...INTERESTING),
  fc.constantFrom(null, true, false, '', 'continuous', 'discrete', 'genrec.semantic-ids', 'genrec.set-ids', '<f4', '<i4', 'F32', 'I64', '../x', [], {}, [1, 2], [0, 4, 8]),
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 8 }),
);

/** The mutation arbitrary: `files` is how many files of the version can be chosen. */
export function mutationArbitrary(files: number): fc.Arbitrary<Mutation> {
  const file = fc.nat({ max: files - 1 });
  const at = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });
  const resign = fc.constantFrom<Resign>('none', 'checksums', 'all', 'all', 'all');
  return fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('bytes' as const), file, edits: fc.array(fc.record({ at, op: fc.constantFrom('flip' as const, 'set' as const, 'insert' as const, 'delete' as const), value: fc.nat({ max: 255 }) }), { minLength: 1, maxLength: 4 }), resign }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('word' as const), file, at, aligned: fc.boolean(), width: fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const), value: fc.oneof(fc.constantFrom(...INTERESTING), fc.integer()), resign }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), file, at, resign }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('append' as const), file, bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }), resign }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('json' as const), file, path: fc.nat(), action: fc.constantFrom('set' as const, 'set' as const, 'delete' as const, 'duplicate' as const), value: jsonValue, resign }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('pointer' as const), text: fc.oneof(fc.constantFrom('', 'v1-1-1', '../x', 'CURRENT'), fc.string({ maxLength: 12 })) }) },
  );
}

/**
 * Mutations of one binary file only, always re-signed everywhere (checksum list and sidecar), with
 * small values (element ids, counts, levels) favoured: they reach the deepest checks of a format
 * validator, and many of them give valid files whose graph differs.
 */
export function dataFileMutationArbitrary(file: number): fc.Arbitrary<Mutation> {
  const at = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });
  const value = fc.oneof(fc.nat({ max: 40 }), fc.constantFrom(...INTERESTING), fc.integer());
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('word' as const), file: fc.constant(file), at, aligned: fc.constant(true), width: fc.constantFrom(1 as const, 2 as const, 4 as const, 4 as const, 8 as const), value, resign: fc.constant<Resign>('all') }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('bytes' as const), file: fc.constant(file), edits: fc.array(fc.record({ at, op: fc.constantFrom('flip' as const, 'set' as const, 'insert' as const, 'delete' as const), value: fc.nat({ max: 255 }) }), { minLength: 1, maxLength: 3 }), resign: fc.constant<Resign>('all') }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), file: fc.constant(file), at, resign: fc.constant<Resign>('all') }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('append' as const), file: fc.constant(file), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }), resign: fc.constant<Resign>('all') }) },
  );
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Every path (keys and array indices) of a JSON value, containers included. */
function jsonPaths(value: unknown, prefix: Array<string | number> = [], out: Array<Array<string | number>> = []): Array<Array<string | number>> {
  if (typeof value !== 'object' || value === null) return out;
  const entries: Array<[string | number, unknown]> = Array.isArray(value) ? value.map((item, index) => [index, item]) : Object.entries(value);
  for (const [key, item] of entries) {
    out.push([...prefix, key]);
    jsonPaths(item, [...prefix, key], out);
  }
  return out;
}

function mutateJson(bytes: Uint8Array, mutation: Extract<Mutation, { kind: 'json' }>): Uint8Array {
  let root: unknown;
  try {
    root = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return bytes;
  }
  const paths = jsonPaths(root);
  if (paths.length === 0) return bytes;
  const path = paths[mutation.path % paths.length]!;
  let parent = root as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const key = path[path.length - 1]!;
  if (mutation.action === 'set') parent[key] = mutation.value;
  else if (mutation.action === 'delete') {
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete parent[key];
  } else if (Array.isArray(parent)) parent.splice(Number(key), 0, parent[Number(key)]);
  else parent[`${key}`] = structuredClone(parent[key]);
  return new TextEncoder().encode(JSON.stringify(root));
}

function writeWord(bytes: Uint8Array, at: number, width: 1 | 2 | 4 | 8, value: number): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (at + width > bytes.byteLength) return;
  if (width === 1) view.setUint8(at, value & 0xff);
  else if (width === 2) view.setUint16(at, value & 0xffff, true);
  else if (width === 4) {
    if (Number.isInteger(value)) view.setUint32(at, value >>> 0, true);
    else view.setFloat32(at, value, true);
  } else if (Number.isInteger(value)) view.setBigInt64(at, BigInt.asIntN(64, BigInt(value)), true);
  else view.setFloat64(at, value, true);
}

/** Applies `mutation` to a copy of `original` (one file). */
export function mutateBytes(original: Uint8Array, mutation: Exclude<Mutation, { kind: 'pointer' }>): Uint8Array {
  original = Uint8Array.prototype.slice.call(original); // a copy even for a Buffer
  const position = (fraction: number, length: number) => Math.min(length, Math.floor(fraction * (length + 1)));
  switch (mutation.kind) {
    case 'bytes': {
      let bytes = Array.from(original);
      for (const edit of mutation.edits) {
        const at = position(edit.at, bytes.length - 1);
        if (edit.op === 'insert') bytes.splice(at, 0, edit.value);
        else if (bytes.length === 0) continue;
        else if (edit.op === 'delete') bytes.splice(at, 1);
        else if (edit.op === 'flip') bytes[at] = bytes[at]! ^ (1 << (edit.value & 7));
        else bytes[at] = edit.value;
      }
      return Uint8Array.from(bytes);
    }
    case 'word': {
      const bytes = original.slice();
      let at = position(mutation.at, Math.max(0, bytes.length - mutation.width));
      if (mutation.aligned) at -= at % mutation.width;
      writeWord(bytes, at, mutation.width, mutation.value);
      return bytes;
    }
    case 'truncate':
      return original.slice(0, position(mutation.at, original.length - 1));
    case 'append': {
      const bytes = new Uint8Array(original.length + mutation.bytes.length);
      bytes.set(original);
      bytes.set(mutation.bytes, original.length);
      return bytes;
    }
    case 'json':
      return mutateJson(original, mutation);
  }
}

/** A saved artifact folder held in memory, restored before every case. */
export class ArtifactFixture {
  /** Files of the current version (relative names), `checksums.json` last. */
  readonly files: string[];
  private readonly version: string;
  private readonly originals = new Map<string, Uint8Array>();
  private readonly dirty = new Set<string>();

  /**
   * @param path - a folder written by `writeArtifactDirectory`
   * @param sidecar - the JSON file whose `data` entry describes `dataFile` (ann's sidecars), if any
   */
  constructor(
    readonly path: string,
    private readonly sidecar?: { file: string; dataFile: string },
  ) {
    this.version = openArtifactDirectory(path).directory;
    this.files = readdirSync(this.version).filter((name) => statSync(join(this.version, name)).isFile());
    this.files.sort((a, b) => Number(a === 'checksums.json') - Number(b === 'checksums.json') || a.localeCompare(b));
    for (const file of this.files) this.originals.set(file, new Uint8Array(readFileSync(join(this.version, file))));
    this.originals.set('../CURRENT', new Uint8Array(readFileSync(join(path, 'CURRENT'))));
  }

  /**
   * Puts every original file back (the version folder too: opening a folder whose `CURRENT` was
   * mutated into another version's name removes the real version as a leftover).
   */
  restore(): void {
    if (!existsSync(this.version)) {
      mkdirSync(this.version, { recursive: true });
      for (const file of this.files) this.dirty.add(file);
    }
    for (const file of this.dirty) writeFileSync(join(this.version, file), this.originals.get(file)!);
    this.dirty.clear();
  }

  private write(file: string, bytes: Uint8Array): void {
    writeFileSync(join(this.version, file), bytes);
    this.dirty.add(file);
  }

  /** Restores the folder, then applies `mutation`. */
  apply(mutation: Mutation): void {
    this.restore();
    if (mutation.kind === 'pointer') {
      writeFileSync(join(this.path, 'CURRENT'), mutation.text);
      this.dirty.add('../CURRENT');
      return;
    }
    const file = this.files[mutation.file % this.files.length]!;
    const bytes = mutateBytes(this.originals.get(file)!, mutation);
    this.write(file, bytes);
    if (mutation.resign === 'none' || file === 'checksums.json') return;
    const changed = new Map<string, Uint8Array>([[file, bytes]]);
    if (mutation.resign === 'all' && this.sidecar !== undefined && file === this.sidecar.dataFile) {
      const sidecar = JSON.parse(new TextDecoder().decode(this.originals.get(this.sidecar.file)!)) as { data: { bytes: number; sha256: string } };
      sidecar.data = { ...sidecar.data, bytes: bytes.byteLength, sha256: sha256(bytes) };
      const sidecarBytes = new TextEncoder().encode(JSON.stringify(sidecar));
      this.write(this.sidecar.file, sidecarBytes);
      changed.set(this.sidecar.file, sidecarBytes);
    }
    const checksums = JSON.parse(new TextDecoder().decode(this.originals.get('checksums.json')!)) as { files: Record<string, { bytes: number; sha256: string }> };
    for (const [name, content] of changed) checksums.files[name] = { bytes: content.byteLength, sha256: sha256(content) };
    this.write('checksums.json', new TextEncoder().encode(JSON.stringify(checksums)));
  }
}

/**
 * Runs one case with core's outcome counter: `accepted` when the loaded data passed its
 * invariants, else `GenrecError:<code>`; a `CORRUPT_ARTIFACT` is split by the layer that caught it
 * (the folder's `checksum` list, or the loader's `content` checks). Anything but a GenrecError
 * fails the property.
 */
async function classify(outcomes: FuzzOutcomes, load: () => Promise<void>): Promise<void> {
  await outcomes.runAsync(async () => {
    try {
      await load();
      return 'accepted';
    } catch (error) {
      if (!GenrecError.isInstance(error) || error.code !== 'CORRUPT_ARTIFACT') throw error;
      if (/checksum|SHA-256|after the save|listed in/.test(error.message)) return 'GenrecError:CORRUPT_ARTIFACT (checksum)';
      return 'GenrecError:CORRUPT_ARTIFACT (content)';
    }
  });
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

/** Structure-aware mutation of a single embedding file: header text of `.npy`, header JSON of safetensors, lines of JSONL; or raw bytes. */
type FileMutation = { kind: 'raw'; mutation: Exclude<Mutation, { kind: 'pointer' } | { kind: 'json' }> } | { kind: 'text'; mutation: TextMutation } | { kind: 'header-json'; mutation: Extract<Mutation, { kind: 'json' }>; keepLength: boolean };

function fileMutationArbitrary(): fc.Arbitrary<FileMutation> {
  const raw = mutationArbitrary(1).filter((m): m is Exclude<Mutation, { kind: 'pointer' } | { kind: 'json' }> => m.kind !== 'pointer' && m.kind !== 'json');
  const json = mutationArbitrary(1).filter((m): m is Extract<Mutation, { kind: 'json' }> => m.kind === 'json');
  return fc.oneof(
    { weight: 2, arbitrary: raw.map((mutation) => ({ kind: 'raw' as const, mutation })) },
    { weight: 3, arbitrary: textMutationArbitrary.map((mutation) => ({ kind: 'text' as const, mutation })) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('header-json' as const), mutation: json, keepLength: fc.boolean() }) },
  );
}

function applyFileMutation(target: 'npy' | 'safetensors' | 'jsonl', original: Uint8Array, mutation: FileMutation): Uint8Array {
  if (mutation.kind === 'raw') return mutateBytes(original, mutation.mutation);
  if (target === 'jsonl') {
    if (mutation.kind === 'text') return new TextEncoder().encode(mutateText(new TextDecoder().decode(original), mutation.mutation));
    return mutateBytes(original, { ...mutation.mutation, resign: 'none' });
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
  const mutated = mutation.kind === 'text' ? new TextEncoder().encode(mutateText(new TextDecoder().decode(header), mutation.mutation)) : mutateBytes(header, { ...mutation.mutation, resign: 'none' });
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
        fc.asyncProperty(fileMutationArbitrary(), async (mutation) => {
          writeFileSync(path, applyFileMutation(target, original, mutation));
          await classify(outcomes, async () => checkEmbeddings(await loadEmbeddings(path), scratch));
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
          await classify(outcomes, async () => {
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
