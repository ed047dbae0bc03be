import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GenrecError } from '../errors.js';
import { openArtifactDirectory } from '../io/artifact-directory.js';
import type { Rng } from '../random.js';
import type { FuzzOutcomes } from './fuzz.js';

// The artifact-folder fuzz kit shared by the packages that save folders with
// `writeArtifactDirectory` (indexes, semantic-id tables, model folders): random mutations drawn
// from core's seeded Rng (no property-testing library here: callers wrap them, e.g.
// `fc.noBias(fc.nat()).map((seed) => randomArtifactMutation(new Rng(seed), options))`), their
// application to a saved folder with the checksums regenerated, and the classification of a
// load's outcome.

/** Numbers that break parsers and validators (boundaries of 8/16/32/53/64-bit fields, fractions, a huge float). */
export const FUZZ_INTERESTING_NUMBERS: readonly number[] = [
  0, 1, -1, 2, 3, 7, 8, 20, 63, 64, 65, 255, 256, 1023, 1024, 65535, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53, -(2 ** 31), 0.5, 1.5, 1e30,
];

/**
 * What happens to the folder's integrity records after a file is mutated: `none` leaves them (the
 * checksum list catches the change), `checksums` regenerates the checksum list's entry, `all` also
 * regenerates the `data` entry of a sidecar (see {@link ArtifactFixture}) when the data file changed.
 */
export type ArtifactResign = 'none' | 'checksums' | 'all';

/** One edit of a `bytes` mutation: `at` is a fraction of the file's length in [0, 1). */
export interface ByteEdit {
  at: number;
  op: 'flip' | 'set' | 'insert' | 'delete';
  /** The byte set or inserted, or (low 3 bits) the bit flipped. */
  value: number;
}

/**
 * One mutation of a saved artifact folder. `file` indexes {@link ArtifactFixture.files} (modulo
 * their count); positions (`at`) are fractions of the file's length in [0, 1).
 *
 * - `bytes`: 1 to 4 single-byte edits (flip a bit, set, insert, delete);
 * - `word`: a little-endian word of `width` bytes overwritten with `value` (an integer, or a float
 *   for widths 4 and 8 when `value` is fractional), at an offset aligned to `width` when `aligned`;
 * - `truncate`: the file cut at `at`;
 * - `append`: bytes added at the end;
 * - `json`: a JSON file's `path`-th key or element (modulo their count, containers included) set
 *   to `value`, deleted or duplicated (an object's field is written twice, an array element
 *   repeated; a file that is not JSON is left as it is; the JSON is rewritten compactly);
 * - `pointer`: the folder's `CURRENT` rewritten to `text`.
 */
export type ArtifactMutation =
  | { kind: 'bytes'; file: number; edits: ByteEdit[]; resign: ArtifactResign }
  | { kind: 'word'; file: number; at: number; aligned: boolean; width: 1 | 2 | 4 | 8; value: number; resign: ArtifactResign }
  | { kind: 'truncate'; file: number; at: number; resign: ArtifactResign }
  | { kind: 'append'; file: number; bytes: Uint8Array; resign: ArtifactResign }
  | { kind: 'json'; file: number; path: number; action: 'set' | 'delete' | 'duplicate'; value: unknown; resign: ArtifactResign }
  | { kind: 'pointer'; text: string };

/** The kinds of {@link ArtifactMutation}. */
export type ArtifactMutationKind = ArtifactMutation['kind'];

/** A mutation of one file's content (every kind but `pointer`). */
export type FileMutation = Exclude<ArtifactMutation, { kind: 'pointer' }>;

/** Options of {@link randomArtifactMutation}. */
export interface ArtifactMutationOptions {
  /** How many files of the version can be chosen (`ArtifactFixture.files.length`). */
  files: number;
  /**
   * Values a `json` mutation may set besides {@link FUZZ_INTERESTING_NUMBERS}, random integers,
   * doubles and short strings: the format's own words (kinds, dtypes, metric names, file names).
   * @defaultValue `[null, true, false, '', '../x', [], {}, [1, 2]]`
   */
  jsonValues?: readonly unknown[];
  /** Restricts the draw to these kinds (their relative weights are kept). @defaultValue every kind */
  kinds?: readonly ArtifactMutationKind[];
}

/** Relative weights of the kinds drawn by {@link randomArtifactMutation}. */
export const ARTIFACT_MUTATION_WEIGHTS: Readonly<Record<ArtifactMutationKind, number>> = { bytes: 3, word: 4, truncate: 1, append: 1, json: 4, pointer: 1 };

const RESIGN: readonly ArtifactResign[] = ['none', 'checksums', 'all', 'all', 'all'];
const WIDTHS = [1, 2, 4, 8] as const;
const OPS = ['flip', 'set', 'insert', 'delete'] as const;
const JSON_ACTIONS = ['set', 'set', 'delete', 'duplicate'] as const;
const POINTERS = ['', 'v1-1-1', '../x', 'CURRENT'];
const DEFAULT_JSON_VALUES: readonly unknown[] = [null, true, false, '', '../x', [], {}, [1, 2]];
const SPECIAL_DOUBLES = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, Number.MIN_VALUE, -Number.MAX_VALUE, Number.MAX_VALUE, Number.EPSILON];

function pick<T>(rng: Rng, values: readonly T[]): T {
  return values[rng.int(values.length)]!;
}

/** An integer biased toward small magnitudes and the int32 boundaries, else uniform over int32. */
function randomInteger(rng: Rng): number {
  switch (rng.int(4)) {
    case 0:
      return rng.int(33) - 16;
    case 1:
      return pick(rng, [2 ** 31 - 1, 2 ** 31 - 2, -(2 ** 31), -(2 ** 31) + 1]);
    default:
      return rng.nextUint32() | 0;
  }
}

/** A double: a special value (NaN, ±Infinity, -0, extremes), one in [-1e6, 1e6), or any bit pattern. */
function randomDouble(rng: Rng): number {
  switch (rng.int(3)) {
    case 0:
      return pick(rng, SPECIAL_DOUBLES);
    case 1:
      return rng.uniformIn(-1e6, 1e6);
    default: {
      const words = new Uint32Array([rng.nextUint32(), rng.nextUint32()]);
      return new Float64Array(words.buffer)[0]!;
    }
  }
}

/** A printable-ASCII string of 0 to `maxLength` characters. */
function randomString(rng: Rng, maxLength: number): string {
  const length = rng.int(maxLength + 1);
  let text = '';
  for (let i = 0; i < length; i++) text += String.fromCharCode(0x20 + rng.int(0x7f - 0x20));
  return text;
}

/**
 * A position as a fraction of a file's length in [0, 1): the first byte 1 time in 8, the last 1 in
 * 8 (headers and trailers), else uniform over the file.
 */
function randomPosition(rng: Rng): number {
  const draw = rng.int(8);
  return draw === 0 ? 0 : draw === 1 ? 1 - Number.EPSILON / 2 : rng.uniform();
}

function randomBytes(rng: Rng, minLength: number, maxLength: number): Uint8Array {
  const bytes = new Uint8Array(minLength + rng.int(maxLength - minLength + 1));
  for (let i = 0; i < bytes.length; i++) bytes[i] = rng.int(256);
  return bytes;
}

function randomEdits(rng: Rng, maxEdits: number): ByteEdit[] {
  return Array.from({ length: 1 + rng.int(maxEdits) }, () => ({ at: randomPosition(rng), op: pick(rng, OPS), value: rng.int(256) }));
}

/**
 * A JSON value for a `json` mutation: one of {@link FUZZ_INTERESTING_NUMBERS}, one of `pool`, a
 * random integer, a random double (NaN and infinities included: JSON writes them as `null`) or a
 * short string, each with probability 1/5.
 *
 * @param rng - the random stream
 * @param pool - the format's own values
 * @returns the value (a fresh copy when it is an array or object)
 * @example
 * ```ts
 * randomJsonValue(new Rng(1), ['l2', 'ip']);
 * ```
 */
export function randomJsonValue(rng: Rng, pool: readonly unknown[] = DEFAULT_JSON_VALUES): unknown {
  switch (rng.int(5)) {
    case 0:
      return pick(rng, FUZZ_INTERESTING_NUMBERS);
    case 1:
      return pool.length === 0 ? null : structuredClone(pick(rng, pool));
    case 2:
      return randomInteger(rng);
    case 3:
      return randomDouble(rng);
    default:
      return randomString(rng, 8);
  }
}

/**
 * Draws one mutation of a saved artifact folder from `rng`, with the kinds weighted as in
 * {@link ARTIFACT_MUTATION_WEIGHTS} (bytes 3, word 4, truncate 1, append 1, json 4, pointer 1)
 * and the integrity records regenerated in 4 cases of 5 (`checksums` 1, `all` 3, `none` 1).
 * Positions are the file's first byte 1 time in 8, its last 1 in 8, else uniform. The same seed
 * gives the same mutation on every machine.
 *
 * @param rng - the random stream (one `new Rng(seed)` per case)
 * @param options - {@link ArtifactMutationOptions}
 * @returns the mutation, for {@link ArtifactFixture.apply}
 * @throws GenrecError `INVALID_OPTION` when `files` is not a positive integer or `kinds` is empty.
 * @example
 * ```ts
 * const mutations = fc.noBias(fc.nat()).map((seed) => randomArtifactMutation(new Rng(seed), { files: fixture.files.length }));
 * ```
 */
export function randomArtifactMutation(rng: Rng, options: ArtifactMutationOptions): ArtifactMutation {
  const { files } = options;
  if (!Number.isSafeInteger(files) || files < 1) throw new GenrecError('INVALID_OPTION', `files must be a positive integer, got ${files}`, { details: { field: 'files' } });
  const kinds = options.kinds ?? (Object.keys(ARTIFACT_MUTATION_WEIGHTS) as ArtifactMutationKind[]);
  if (kinds.length === 0) throw new GenrecError('INVALID_OPTION', 'kinds must name at least one mutation kind', { details: { field: 'kinds' } });
  const kind = kinds[rng.weightedIndex(kinds.map((name) => ARTIFACT_MUTATION_WEIGHTS[name]))]!;
  if (kind === 'pointer') return { kind, text: rng.int(2) === 0 ? pick(rng, POINTERS) : randomString(rng, 12) };
  const file = rng.int(files);
  switch (kind) {
    case 'bytes':
      return { kind, file, edits: randomEdits(rng, 4), resign: pick(rng, RESIGN) };
    case 'word': {
      const at = randomPosition(rng);
      const aligned = rng.int(2) === 0;
      const width = pick(rng, WIDTHS);
      const value = rng.int(2) === 0 ? pick(rng, FUZZ_INTERESTING_NUMBERS) : randomInteger(rng);
      return { kind, file, at, aligned, width, value, resign: pick(rng, RESIGN) };
    }
    case 'truncate':
      return { kind, file, at: randomPosition(rng), resign: pick(rng, RESIGN) };
    case 'append':
      return { kind, file, bytes: randomBytes(rng, 1, 16), resign: pick(rng, RESIGN) };
    case 'json': {
      const path = rng.nextUint32() >>> 1;
      const action = pick(rng, JSON_ACTIONS);
      const value = randomJsonValue(rng, options.jsonValues);
      return { kind, file, path, action, value, resign: pick(rng, RESIGN) };
    }
  }
}

/**
 * Draws a mutation of one (binary) file only, always re-signed everywhere (`resign: 'all'`), with
 * small values (element ids, counts, levels: 0 to 40) favoured: these reach the deepest checks of
 * a format validator, and many give valid files whose structure differs. Kinds: aligned words 6
 * (widths 1, 2, 4, 4, 8), byte edits 2 (1 to 3), truncation 1, 1 to 64 appended bytes 1.
 *
 * @param rng - the random stream
 * @param file - index of the file in {@link ArtifactFixture.files}
 * @returns the mutation
 * @throws GenrecError `INVALID_OPTION` when `file` is not a non-negative integer.
 * @example
 * ```ts
 * const mutations = fc.noBias(fc.nat()).map((seed) => randomDataFileMutation(new Rng(seed), fixture.files.indexOf('index.hnsw')));
 * ```
 */
export function randomDataFileMutation(rng: Rng, file: number): FileMutation {
  if (!Number.isSafeInteger(file) || file < 0) throw new GenrecError('INVALID_OPTION', `file must be a non-negative integer, got ${file}`, { details: { field: 'file' } });
  switch (rng.weightedIndex([6, 2, 1, 1])) {
    case 0: {
      const at = randomPosition(rng);
      const width = pick(rng, [1, 2, 4, 4, 8] as const);
      const draw = rng.int(3);
      const value = draw === 0 ? rng.int(41) : draw === 1 ? pick(rng, FUZZ_INTERESTING_NUMBERS) : randomInteger(rng);
      return { kind: 'word', file, at, aligned: true, width, value, resign: 'all' };
    }
    case 1:
      return { kind: 'bytes', file, edits: randomEdits(rng, 3), resign: 'all' };
    case 2:
      return { kind: 'truncate', file, at: randomPosition(rng), resign: 'all' };
    default:
      return { kind: 'append', file, bytes: randomBytes(rng, 1, 64), resign: 'all' };
  }
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

const DUPLICATE_MARKER = 'genrec-fuzz: duplicate this field';

function mutateJson(bytes: Uint8Array, mutation: Extract<ArtifactMutation, { kind: 'json' }>): Uint8Array {
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
  if (mutation.action === 'set') parent[key] = structuredClone(mutation.value);
  else if (mutation.action === 'delete') {
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete parent[key];
  } else if (Array.isArray(parent)) parent.splice(Number(key), 0, parent[Number(key)]);
  else {
    // a JavaScript object cannot hold a key twice: mark the field, then write it twice in the text
    const field = `${JSON.stringify(String(key))}:${JSON.stringify(parent[key])}`;
    parent[key] = DUPLICATE_MARKER;
    const marked = `${JSON.stringify(String(key))}:${JSON.stringify(DUPLICATE_MARKER)}`;
    return new TextEncoder().encode(JSON.stringify(root).replace(marked, () => `${field},${field}`));
  }
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

/**
 * Applies a file mutation to a copy of one file's bytes (the input, a Buffer included, is never
 * modified). A `json` mutation of bytes that are not JSON returns them unchanged.
 *
 * @param original - the file's bytes
 * @param mutation - any {@link ArtifactMutation} but `pointer` (its `file` and `resign` are ignored)
 * @returns the mutated copy
 * @example
 * ```ts
 * mutateArtifactFile(bytes, { kind: 'truncate', file: 0, at: 0.5, resign: 'none' }); // the first half
 * ```
 */
export function mutateArtifactFile(original: Uint8Array, mutation: FileMutation): Uint8Array {
  original = Uint8Array.prototype.slice.call(original); // a copy even for a Buffer (whose slice shares memory)
  const position = (fraction: number, length: number) => Math.min(length, Math.floor(fraction * (length + 1)));
  switch (mutation.kind) {
    case 'bytes': {
      const bytes = Array.from(original);
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
      let at = position(mutation.at, Math.max(0, original.length - mutation.width));
      if (mutation.aligned) at -= at % mutation.width;
      writeWord(original, at, mutation.width, mutation.value);
      return original;
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

/** A sidecar JSON file whose `data` entry (`{ bytes, sha256 }`) describes another file of the version. */
export interface ArtifactSidecar {
  /** The sidecar's name (`'index.json'`). */
  file: string;
  /** The file its `data` entry describes (`'index.hnsw'`). */
  dataFile: string;
}

/**
 * A saved artifact folder held in memory and restored before every case: {@link apply} mutates
 * one file of the current version (or the `CURRENT` pointer) and regenerates the checksum list
 * (and a sidecar's `data` entry) as the mutation's `resign` says, so that a loader's own parsers
 * and validators are reached behind the checksums.
 *
 * @example
 * ```ts
 * const fixture = new ArtifactFixture(path);
 * fixture.apply(randomArtifactMutation(new Rng(seed), { files: fixture.files.length }));
 * await loadMyArtifact(path); // a GenrecError, or data that passes its invariants
 * ```
 */
export class ArtifactFixture {
  /** Files of the current version (relative names), `checksums.json` last. */
  readonly files: string[];
  private readonly version: string;
  private readonly originals = new Map<string, Uint8Array>();
  private readonly dirty = new Set<string>();

  /**
   * @param path - a folder written by `writeArtifactDirectory`
   * @param sidecar - a JSON file whose `data` entry describes a data file (ann's sidecars), if any
   * @throws GenrecError from `openArtifactDirectory` when `path` is not a readable artifact folder.
   */
  constructor(
    /** The artifact folder. */
    readonly path: string,
    private readonly sidecar?: ArtifactSidecar,
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

  /**
   * Restores the folder, then applies `mutation` (to `files[mutation.file % files.length]`).
   *
   * @param mutation - the mutation
   * @returns the name of the mutated file (`'CURRENT'` for a pointer mutation)
   */
  apply(mutation: ArtifactMutation): string {
    this.restore();
    if (mutation.kind === 'pointer') {
      writeFileSync(join(this.path, 'CURRENT'), mutation.text);
      this.dirty.add('../CURRENT');
      return 'CURRENT';
    }
    const file = this.files[mutation.file % this.files.length]!;
    const bytes = mutateArtifactFile(this.originals.get(file)!, mutation);
    this.write(file, bytes);
    if (mutation.resign === 'none' || file === 'checksums.json') return file;
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
    return file;
  }
}

/** Options of {@link classifyArtifactLoad}. */
export interface ClassifyArtifactLoadOptions {
  /**
   * Further layers of `CORRUPT_ARTIFACT`, by message, tried after the checksum list and before
   * `content` (`{ 'hnsw layout': /not a valid hnswlib index/ }`). @defaultValue `{}`
   */
  layers?: Readonly<Record<string, RegExp>>;
}

/** Messages of the checksum list's `CORRUPT_ARTIFACT` errors (`openArtifactDirectory`). */
const CHECKSUM_MESSAGE = /checksum|SHA-256|after the save|listed in/;

/**
 * Runs one case with core's outcome counter: `accepted` when `load` (which loads the folder and
 * checks the result's invariants) returns, else `GenrecError:<code>`; a `CORRUPT_ARTIFACT` is
 * split by the layer that caught it: `GenrecError:CORRUPT_ARTIFACT (checksum)` (the folder's
 * checksum list), one of `options.layers`, or `(content)` (the loader's own checks). Anything
 * but a GenrecError is rethrown (the property fails), as is a case over the counter's limit.
 *
 * @param outcomes - the counter
 * @param load - loads the mutated folder and checks what it got (throwing a plain Error when an invariant fails)
 * @param options - {@link ClassifyArtifactLoadOptions}
 * @returns the outcome class
 * @throws whatever `load` throws that is not a GenrecError; Error for a near-hang.
 * @example
 * ```ts
 * await classifyArtifactLoad(outcomes, async () => checkLoaded(await loadMyArtifact(path)));
 * ```
 */
export function classifyArtifactLoad(outcomes: FuzzOutcomes, load: () => Promise<void>, options: ClassifyArtifactLoadOptions = {}): Promise<string> {
  const layers = Object.entries(options.layers ?? {});
  return outcomes.runAsync(async () => {
    try {
      await load();
      return 'accepted';
    } catch (error) {
      if (!GenrecError.isInstance(error) || error.code !== 'CORRUPT_ARTIFACT') throw error;
      if (CHECKSUM_MESSAGE.test(error.message)) return 'GenrecError:CORRUPT_ARTIFACT (checksum)';
      for (const [name, pattern] of layers) if (pattern.test(error.message)) return `GenrecError:CORRUPT_ARTIFACT (${name})`;
      return 'GenrecError:CORRUPT_ARTIFACT (content)';
    }
  });
}
