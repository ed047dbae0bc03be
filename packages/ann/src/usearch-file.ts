import { GenrecError, type VectorMetric } from '@genrec/core';
import type { UsearchScalarName } from './usearch-binding.js';

/**
 * A JavaScript check of usearch's index file (`index_dense_gt::save`, usearch 2.x with 64-bit keys
 * and 32-bit slots, as the npm package 2.25.3 writes it), run before the bytes reach the native
 * loader. usearch's `load` trusts every field: a neighbour slot outside the graph, a neighbour on a
 * level it does not reach, an entry point above its own level, or a vector row of another width is
 * a read outside the graph (a segfault) at the next search, and a checksum does not help against a
 * crafted or corrupted file whose checksums were regenerated.
 *
 * Layout (little-endian):
 *
 * ```text
 * matrix:  u32 rows, u32 bytesPerVector, then rows x bytesPerVector vector bytes (slot order)
 * head (64 bytes): "usearch" (7 bytes), u16 major (2), u16 minor (≥ 10), u16 patch, u8 metric ('i' ip,
 *   'c' cos, 'e' l2sq), u8 scalar kind (f32 11, f16 12, bf16 4, i8 23), u8 key kind (u64 = 14),
 *   u8 slot kind (u32 = 15), u64 present, u64 deleted, u64 dimensions, u8 multi, zero padding
 * graph header (40 bytes): u64 size, u64 connectivity, u64 connectivityBase, u64 maxLevel,
 *   u64 entrySlot
 * levels: size x i16
 * nodes, one after another: u64 key (2^64 - 1 = a removed slot), i16 level,
 *   level 0: u32 count + connectivityBase x u32 slots, then per level 1..level: u32 count +
 *   connectivity x u32 slots
 * ```
 */

/** Scalar kind codes of usearch's header, and bytes per value. */
export const USEARCH_SCALARS: Readonly<Record<UsearchScalarName, { code: number; bytes: number }>> = {
  f32: { code: 11, bytes: 4 },
  f16: { code: 12, bytes: 2 },
  bf16: { code: 4, bytes: 2 },
  i8: { code: 23, bytes: 1 },
};

/** Metric codes of usearch's header. */
export const USEARCH_METRIC_CODES: Readonly<Record<VectorMetric, number>> = { ip: 0x69, cosine: 0x63, l2: 0x65 };

/** The file format major version this validator reads (usearch refuses other majors itself). */
export const USEARCH_FORMAT_MAJOR = 2;
/** The lowest minor version with this layout (usearch converts the scalar kinds of older files). */
export const USEARCH_FORMAT_MINOR = 10;

const HEAD_BYTES = 64;
const GRAPH_HEADER_BYTES = 40;
const MAGIC = 'usearch';
const KEY_KIND_U64 = 14;
const SLOT_KIND_U32 = 15;
/** Highest level a node may reach: usearch draws `-ln(U) / ln(M)` with `U` a double in (0, 1). */
const MAX_LEVEL = 1100;

/** Where the parts of a usearch file are, as {@link parseUsearchLayout} found them. */
export interface UsearchLayout {
  /** Slots (nodes) in the graph, removed ones included. */
  rows: number;
  bytesPerVector: number;
  /** Byte offset of the 64-byte head. */
  headOffset: number;
  /** Byte offset of the 40-byte graph header. */
  graphOffset: number;
  /** Level of each node. */
  levels: Int16Array;
  /** Byte offset of each node. */
  nodeOffsets: Float64Array;
  /** Item id of each slot (the key; must be below 2^31), -1 for a removed slot. */
  ids: Int32Array;
  connectivity: number;
  connectivityBase: number;
}

/** What the loader expects of the file, from the (checksummed) sidecar. */
export interface UsearchFileExpectations {
  dimension: number;
  metric: VectorMetric;
  quantization: UsearchScalarName;
  /** Links per node (`connectivity`); level 0 keeps 2·m. */
  m: number;
  /** Per slot: the item id, -1 for a removed slot. */
  ids: readonly number[];
}

/**
 * Parses the structure of a usearch file: the matrix and head sizes, the graph header, the levels
 * and every node's offset and key. Checks only what it needs to walk the file safely (sizes add up
 * to the file's length, keys are ids or the removed mark); {@link validateUsearchFile} checks the rest.
 *
 * @param bytes - the whole file
 * @param file - its path, for messages
 * @returns the layout.
 * @throws GenrecError `CORRUPT_ARTIFACT` naming the file and the first field that is wrong.
 * @example
 * ```ts
 * const { rows, ids } = parseUsearchLayout(readFileSync(path), path);
 * ```
 */
export function parseUsearchLayout(bytes: Uint8Array, file: string): UsearchLayout {
  const corrupt = usearchCorruption(file);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = bytes.byteLength;
  if (length < 8) throw corrupt(`${length} bytes, shorter than the 8-byte matrix header`);
  const rows = view.getUint32(0, true);
  const bytesPerVector = view.getUint32(4, true);
  const headOffset = 8 + rows * bytesPerVector;
  if (headOffset + HEAD_BYTES + GRAPH_HEADER_BYTES > length) {
    throw corrupt(`${rows} rows of ${bytesPerVector} bytes and the headers need ${headOffset + HEAD_BYTES + GRAPH_HEADER_BYTES} bytes, the file has ${length}`, 'rows');
  }
  const graphOffset = headOffset + HEAD_BYTES;
  const u64 = (offset: number, field: string): number => {
    const value = view.getBigUint64(offset, true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(`${field} is ${value}, not a plausible size`, field);
    return Number(value);
  };
  const size = u64(graphOffset, 'size');
  if (size !== rows) throw corrupt(`the graph holds ${size} nodes, the matrix ${rows} rows`, 'size');
  const connectivity = u64(graphOffset + 8, 'connectivity');
  const connectivityBase = u64(graphOffset + 16, 'connectivityBase');
  if (connectivity < 2 || connectivity > 1 << 16 || connectivityBase < connectivity || connectivityBase > 1 << 17) {
    throw corrupt(`connectivity ${connectivity} / base ${connectivityBase} outside 2..65536 with base ≥ connectivity`, 'connectivity');
  }
  const levelsOffset = graphOffset + GRAPH_HEADER_BYTES;
  if (levelsOffset + 2 * rows > length) throw corrupt(`the ${rows} node levels run past the end of the file`, 'levels');
  const levels = new Int16Array(rows);
  const nodeOffsets = new Float64Array(rows);
  const ids = new Int32Array(rows);
  const baseBytes = 4 + 4 * connectivityBase;
  const upperBytes = 4 + 4 * connectivity;
  let offset = levelsOffset + 2 * rows;
  for (let slot = 0; slot < rows; slot++) {
    const level = view.getInt16(levelsOffset + 2 * slot, true);
    if (level < 0 || level > MAX_LEVEL) throw corrupt(`node ${slot} has level ${level}, outside 0..${MAX_LEVEL}`, 'levels');
    levels[slot] = level;
    nodeOffsets[slot] = offset;
    const nodeBytes = 10 + baseBytes + level * upperBytes;
    if (offset + nodeBytes > length) throw corrupt(`node ${slot} (level ${level}) runs past the end of the file`, 'nodes');
    const low = view.getUint32(offset, true);
    const high = view.getUint32(offset + 4, true);
    if (low === 0xffffffff && high === 0xffffffff) ids[slot] = -1;
    else if (high === 0 && low <= 0x7fffffff) ids[slot] = low;
    else throw corrupt(`node ${slot} has key ${(BigInt(high) << 32n) | BigInt(low)}, not an item id in 0..2^31-1`, 'key');
    if (view.getInt16(offset + 8, true) !== level) throw corrupt(`node ${slot} states level ${view.getInt16(offset + 8, true)}, the level table ${level}`, 'level');
    offset += nodeBytes;
  }
  if (offset !== length) throw corrupt(`the nodes end at byte ${offset}, the file has ${length} bytes`, 'nodes');
  return { rows, bytesPerVector, headOffset, graphOffset, levels, nodeOffsets, ids, connectivity, connectivityBase };
}

/**
 * Checks a usearch file against its layout and the sidecar's expectations: the head (magic,
 * format major 2, metric, scalar kind, key and slot kinds, present and deleted counts, dimension,
 * not multi-key), the row width, the graph header (connectivity M and 2·M, maximum level, entry
 * slot on that level), every node (key equal to the sidecar's id of that slot, level, neighbour
 * counts within M / 2·M, every neighbour an existing slot that reaches that level) and every vector
 * value finite in its scalar type.
 *
 * @param bytes - the whole file
 * @param file - its path, for messages
 * @param expected - what the sidecar says
 * @throws GenrecError `CORRUPT_ARTIFACT` naming the file and the first field that is wrong.
 * @example
 * ```ts
 * validateUsearchFile(bytes, path, { dimension: 64, metric: 'ip', quantization: 'f32', m: 16, ids: sidecar.ids });
 * ```
 */
export function validateUsearchFile(bytes: Uint8Array, file: string, expected: UsearchFileExpectations): void {
  const corrupt = usearchCorruption(file);
  const layout = parseUsearchLayout(bytes, file);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { rows, headOffset, graphOffset, levels, nodeOffsets, ids } = layout;
  const scalar = USEARCH_SCALARS[expected.quantization];
  const equal = (actual: number | bigint, wanted: number | bigint, field: string): void => {
    if (actual !== wanted) throw corrupt(`${field} is ${actual}, expected ${wanted}`, field);
  };
  equal(layout.bytesPerVector, expected.dimension * scalar.bytes, 'bytesPerVector');
  equal(rows, expected.ids.length, 'rows');
  // head
  const magic = new TextDecoder().decode(bytes.subarray(headOffset, headOffset + MAGIC.length));
  if (magic !== MAGIC) throw corrupt(`the head does not start with "${MAGIC}"`, 'magic');
  equal(view.getUint16(headOffset + 7, true), USEARCH_FORMAT_MAJOR, 'versionMajor');
  // usearch reinterprets the scalar kinds of files older than 2.10 (another code table): a minor
  // version below 10 would make it read this file's f32 rows with another width (found by fuzzing)
  const minor = view.getUint16(headOffset + 9, true);
  if (minor < USEARCH_FORMAT_MINOR) throw corrupt(`versionMinor is ${minor}, this reader needs at least ${USEARCH_FORMAT_MINOR} (the layout of usearch 2.10 and later)`, 'versionMinor');
  equal(view.getUint8(headOffset + 13), USEARCH_METRIC_CODES[expected.metric], 'metric');
  equal(view.getUint8(headOffset + 14), scalar.code, 'scalarKind');
  equal(view.getUint8(headOffset + 15), KEY_KIND_U64, 'keyKind');
  equal(view.getUint8(headOffset + 16), SLOT_KIND_U32, 'slotKind');
  let present = 0;
  for (const id of expected.ids) if (id >= 0) present++;
  equal(view.getBigUint64(headOffset + 17, true), BigInt(present), 'countPresent');
  equal(view.getBigUint64(headOffset + 25, true), BigInt(rows - present), 'countDeleted');
  equal(view.getBigUint64(headOffset + 33, true), BigInt(expected.dimension), 'dimensions');
  equal(view.getUint8(headOffset + 41), 0, 'multi');
  // graph header
  equal(layout.connectivity, expected.m, 'connectivity');
  equal(layout.connectivityBase, 2 * expected.m, 'connectivityBase');
  const seen = new Set<number>();
  let maxLevel = -1;
  for (let slot = 0; slot < rows; slot++) {
    const id = ids[slot]!;
    if (id !== expected.ids[slot]) throw corrupt(`slot ${slot} holds key ${id === -1 ? 'removed' : id}, the sidecar's id map says ${expected.ids[slot]}`, 'key');
    if (id >= 0) {
      if (seen.has(id)) throw corrupt(`key ${id} is stored twice`, 'key');
      seen.add(id);
    }
    if (levels[slot]! > maxLevel) maxLevel = levels[slot]!;
  }
  if (rows > 0) {
    equal(view.getBigUint64(graphOffset + 24, true), BigInt(maxLevel), 'maxLevel');
    const entry = view.getBigUint64(graphOffset + 32, true);
    if (entry >= BigInt(rows)) throw corrupt(`entry slot ${entry} is outside the ${rows} nodes`, 'entrySlot');
    if (levels[Number(entry)] !== maxLevel) throw corrupt(`entry slot ${entry} has level ${levels[Number(entry)]}, the graph's top level is ${maxLevel}`, 'entrySlot');
  }
  // links
  const baseBytes = 4 + 4 * layout.connectivityBase;
  const upperBytes = 4 + 4 * layout.connectivity;
  for (let slot = 0; slot < rows; slot++) {
    const level = levels[slot]!;
    for (let l = 0; l <= level; l++) {
      const list = nodeOffsets[slot]! + 10 + (l === 0 ? 0 : baseBytes + (l - 1) * upperBytes);
      const count = view.getUint32(list, true);
      const limit = l === 0 ? layout.connectivityBase : layout.connectivity;
      if (count > limit) throw corrupt(`node ${slot} has ${count} links on level ${l}, at most ${limit}`, 'links');
      for (let j = 0; j < count; j++) {
        const target = view.getUint32(list + 4 + 4 * j, true);
        if (target >= rows) throw corrupt(`node ${slot} links to slot ${target} on level ${l}, outside the ${rows} nodes`, 'links');
        if (levels[target]! < l) throw corrupt(`node ${slot} links to slot ${target} on level ${l}, which only reaches level ${levels[target]}`, 'links');
      }
    }
  }
  checkVectorValues(view, rows * layout.bytesPerVector, expected.quantization, corrupt);
}

/** First placeholder key of {@link reviveRemovedSlots}: far above every item id (< 2^31). */
export const PLACEHOLDER_KEY_BASE = 1n << 63n;

/**
 * Works around a heap overflow in usearch 2.25.3's JavaScript binding: after reading a file, its
 * `load` and `view` reserve room for `ceil2(present)` slots (`try_reserve(ceil2(size()))`) and copy
 * every slot's vector pointer into it, so a file whose removed slots make the slot count exceed that
 * room writes past the buffer (measured: 1,000 vectors, 990 of them removed, saved and loaded —
 * glibc aborts with "free(): corrupted unsorted chunks"). This returns a copy of the file in which
 * every removed slot is present under a placeholder key (2^63 + slot) and the head counts say so,
 * so that the native loader reserves room for all slots; the caller removes the placeholders right
 * after loading, which leaves the graph exactly as it was saved.
 *
 * @param bytes - a file that passed {@link validateUsearchFile} (or was just written by usearch)
 * @param layout - its layout ({@link parseUsearchLayout})
 * @returns the patched copy and the placeholder keys (empty, and the bytes unchanged, when no slot is removed).
 * @example
 * ```ts
 * const { bytes: patched, placeholders } = reviveRemovedSlots(bytes, parseUsearchLayout(bytes, path));
 * ```
 */
export function reviveRemovedSlots(bytes: Uint8Array, layout: UsearchLayout): { bytes: Uint8Array; placeholders: BigUint64Array } {
  const removed: number[] = [];
  for (let slot = 0; slot < layout.rows; slot++) if (layout.ids[slot] === -1) removed.push(slot);
  if (removed.length === 0) return { bytes, placeholders: new BigUint64Array(0) };
  const copy = bytes.slice();
  const view = new DataView(copy.buffer, copy.byteOffset, copy.byteLength);
  const placeholders = new BigUint64Array(removed.length);
  removed.forEach((slot, i) => {
    placeholders[i] = PLACEHOLDER_KEY_BASE + BigInt(slot);
    view.setBigUint64(layout.nodeOffsets[slot]!, placeholders[i]!, true);
  });
  view.setBigUint64(layout.headOffset + 17, BigInt(layout.rows), true); // present
  view.setBigUint64(layout.headOffset + 25, 0n, true); // deleted
  return { bytes: copy, placeholders };
}

function checkVectorValues(view: DataView, byteLength: number, quantization: UsearchScalarName, corrupt: (message: string, field?: string) => GenrecError): void {
  const start = 8;
  if (quantization === 'f32') {
    for (let offset = 0; offset < byteLength; offset += 4) {
      const value = view.getFloat32(start + offset, true);
      if (value - value !== 0) throw corrupt(`vector value ${value} at byte ${start + offset} is not finite`, 'vectors');
    }
    return;
  }
  if (quantization === 'i8') return; // every byte is a valid value
  // half precision: exponent all ones = infinity or NaN (f16: 5 bits, bf16: 8 bits)
  const mask = quantization === 'f16' ? 0x7c00 : 0x7f80;
  for (let offset = 0; offset < byteLength; offset += 2) {
    if ((view.getUint16(start + offset, true) & mask) === mask) throw corrupt(`the ${quantization} vector value at byte ${start + offset} is not finite`, 'vectors');
  }
}

function usearchCorruption(file: string): (message: string, field?: string) => GenrecError {
  return (message, field) =>
    new GenrecError('CORRUPT_ARTIFACT', `${file} is not a valid usearch index for this sidecar: ${message}`, { details: field === undefined ? { file } : { file, field } });
}
