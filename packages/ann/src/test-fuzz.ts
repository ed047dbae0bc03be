import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { GenrecError, openArtifactDirectory, type VectorIndex } from '@genrec/core';
import { FuzzOutcomes, type FuzzReport } from '@genrec/core/testing';
import { FlatIndex, loadFlatIndex } from './flat-index.js';
import { HnswIndex, loadHnswIndex } from './hnsw-index.js';
import { loadVectorIndex } from './load-vector-index.js';

// Property-based fuzzing of the index folders (test-only; not part of the build). A case mutates
// one file of a saved folder (bytes, words at aligned offsets, truncation, JSON fields) and, in
// most cases, regenerates the checksums so that the loaders' own parsers and validators are
// reached; it then loads the folder and classifies the outcome. Anything but a GenrecError or an
// index that passes the invariants below fails the property.

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
  fc.constantFrom(null, true, false, '', 'ip', 'l2', 'cosine', 'hnsw', 'genrec.flat-index', 'genrec.hnsw-index', 'index.hnsw', 'vectors.f32', '../x', [], {}, [1, 2], { m: 2 }),
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
 * Runs one case with core's outcome counter: `accepted` when the loaded index passed its
 * invariants, else `GenrecError:<code>`; a `CORRUPT_ARTIFACT` is split by the layer that caught it
 * (`checksum` list, the `hnsw-layout` validator, or the `content` checks). Anything but a
 * GenrecError fails the property.
 */
async function classify(outcomes: FuzzOutcomes, load: () => Promise<void>): Promise<void> {
  await outcomes.runAsync(async () => {
    try {
      await load();
      return 'accepted';
    } catch (error) {
      if (!GenrecError.isInstance(error) || error.code !== 'CORRUPT_ARTIFACT') throw error;
      if (/checksum|SHA-256|after the save|listed in/.test(error.message)) return 'GenrecError:CORRUPT_ARTIFACT (checksum)';
      if (/not a valid hnswlib index/.test(error.message)) return 'GenrecError:CORRUPT_ARTIFACT (hnsw layout)';
      return 'GenrecError:CORRUPT_ARTIFACT (content)';
    }
  });
}

/**
 * Checks a loaded index: searches return stored ids best first with finite scores, and (with
 * `roundTrip`) a save/load round trip answers the same.
 */
async function checkLoadedIndex(index: VectorIndex, scratch: string, roundTrip: boolean): Promise<void> {
  const query = new Float32Array(index.dimension).map((_, c) => Math.cos(c + 1));
  const k = Math.min(5, Math.max(1, index.size));
  const { ids, scores } = await index.search(query, k);
  for (let j = 0; j < k; j++) {
    const id = ids[j]!;
    if (id === -1) {
      if (scores[j] !== Number.NEGATIVE_INFINITY) throw new Error(`padding with score ${scores[j]}`);
      continue;
    }
    if (!index.has(id)) throw new Error(`search returned id ${id}, which the index does not hold`);
    if (!Number.isFinite(scores[j]!) && index.metric !== 'l2') throw new Error(`score ${scores[j]} of id ${id}`);
    if (j > 0 && ids[j - 1] !== -1 && scores[j]! > scores[j - 1]! + 1e-4 * Math.max(1, Math.abs(scores[j]!))) throw new Error('scores not in descending order');
  }
  if (!roundTrip) return;
  const copy = join(scratch, 'round-trip');
  await index.save(copy);
  const again = await loadVectorIndex(copy);
  if (again.size !== index.size) throw new Error(`round trip changed the size ${index.size} -> ${again.size}`);
  const second = await again.search(query, k);
  if (index.kind === 'flat' && Array.from(second.ids).join() !== Array.from(ids).join()) throw new Error('round trip changed the answer');
  rmSync(copy, { recursive: true, force: true });
}

/** Options of {@link fuzzIndexLoader}. */
export interface IndexFuzzOptions {
  kind: 'flat' | 'hnsw';
  /** Cases to run. */
  runs: number;
  seed: number;
  /** `'folder'`: any file of the folder; `'data-file'`: only the data file, always re-signed. @defaultValue 'folder' */
  target?: 'folder' | 'data-file';
}

/**
 * Saves a small index of `kind`, then loads `runs` mutated copies of its folder (alternately
 * through the kind's loader and `loadVectorIndex`). Throws (with fast-check's counterexample) when
 * a case ends in anything but a GenrecError or a valid index, or takes over 5 s; returns core's
 * fuzz report (outcomes by class). Run it through `fuzzInChild` of `@genrec/core/testing`.
 */
export async function fuzzIndexLoader(options: IndexFuzzOptions): Promise<FuzzReport> {
  const target = options.target ?? 'folder';
  const scratch = mkdtempSync(join(tmpdir(), `genrec-ann-fuzz-${options.kind}-`));
  const path = join(scratch, 'index');
  const dimension = 4;
  const count = 24;
  const vectors = new Float32Array(count * dimension).map((_, i) => Math.sin(i * 0.7) * 2);
  const ids = Int32Array.from({ length: count }, (_, i) => 3 * i + 1);
  let dataFile: string;
  if (options.kind === 'flat') {
    const index = new FlatIndex({ dimension, metric: 'l2', initialCapacity: 8 });
    index.add(ids, vectors);
    index.remove([4]);
    await index.save(path);
    dataFile = 'vectors.f32';
  } else {
    const index = new HnswIndex({ dimension, metric: 'ip', m: 2, efConstruction: 10, initialCapacity: 32, seed: 9 });
    index.add(ids, vectors);
    index.remove([4, 10]);
    await index.save(path);
    dataFile = 'index.hnsw';
  }
  const fixture = new ArtifactFixture(path, { file: 'index.json', dataFile });
  const load = options.kind === 'flat' ? loadFlatIndex : loadHnswIndex;
  const outcomes = new FuzzOutcomes(`${options.kind === 'flat' ? 'FlatIndex' : 'HnswIndex'} folder${target === 'data-file' ? ` (${dataFile} alone, re-signed)` : ''}`);
  let round = 0;
  let loaded = 0;
  const mutations = target === 'data-file' ? dataFileMutationArbitrary(fixture.files.indexOf(dataFile)) : mutationArbitrary(fixture.files.length);
  try {
    await fc.assert(
      fc.asyncProperty(mutations, async (mutation) => {
        fixture.apply(mutation);
        await classify(outcomes, async () => {
          const index = round++ % 2 === 0 ? await load(path) : await loadVectorIndex(path);
          // a save round trip fsyncs several times: every 4th loaded index is enough
          await checkLoadedIndex(index, scratch, loaded++ % 4 === 0);
        });
      }),
      { numRuns: options.runs, seed: options.seed, endOnFailure: true },
    );
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return outcomes.report();
}
