import { GenrecError } from '@genrec/core';

/**
 * A JavaScript check of hnswlib's index file (`HierarchicalNSW::saveIndex`, hnswlib 0.8 as vendored
 * by hnswlib-node 3), run before the bytes reach the native loader. hnswlib's `loadIndex` trusts
 * every field: a link to an element that does not exist, a neighbour on a level it does not reach,
 * or an entry point above its own level is a read outside the graph (a segfault) at the next search,
 * and a checksum does not help against a crafted or corrupted file whose checksum was regenerated.
 *
 * Layout (little-endian, `size_t` = 8 bytes, `int`/`tableint`/`linklistsizeint` = 4 bytes):
 *
 * ```text
 * header (96 bytes): offsetLevel0 size_t, maxElements size_t, elementCount size_t,
 *   sizeDataPerElement size_t, labelOffset size_t, offsetData size_t, maxLevel int,
 *   enterPoint tableint, maxM size_t, maxM0 size_t, M size_t, mult double, efConstruction size_t
 * level 0 (elementCount x sizeDataPerElement): per element
 *   [u16 link count, u8 flags (bit 0 = deleted), u8 0] [maxM0 x u32 links] [dimension x f32] [u64 label]
 * upper levels, per element: u32 byte size (0, or level x (maxM x 4 + 4)), then per level 1..level
 *   [u16 link count, u16 0] [maxM x u32 links]
 * ```
 */

/** What the loader expects of the file, from the (checksummed) sidecar. */
export interface HnswFileExpectations {
  /** Vector dimension (data size = 4 x dimension bytes per element). */
  dimension: number;
  /** hnswlib `M`. */
  m: number;
  /** hnswlib `ef_construction` as given (the file stores `max(efConstruction, M)`). */
  efConstruction: number;
  /** Elements the graph holds (labels handed out, deleted ones included). */
  elementCount: number;
  /** The graph's capacity (`max_elements`). */
  capacity: number;
  /** Per label: true when the sidecar maps it to no id (a deleted element). */
  deleted: (label: number) => boolean;
}

/** Size in bytes of the fixed header of an hnswlib index file. */
export const HNSW_HEADER_BYTES = 96;

/**
 * Most bytes the native loader may reserve for capacity beyond the stored elements (its level-0
 * block, locks, visited lists and level table are sized by `max_elements`): 2 GiB.
 */
export const MAX_SPARE_CAPACITY_BYTES = 2 ** 31;

/** Bytes hnswlib allocates per unit of capacity besides the level-0 record: lock, level, link pointer, visited mark. */
const PER_SLOT_OVERHEAD = 40 + 4 + 8 + 2;

/** hnswlib caps `M` at 10,000; genrec's own option at 1,024. */
const MAX_M = 1024;

/** Highest level an element may reach: hnswlib draws `-ln(U) / ln(M)` with `U` a double in (0, 1). */
const MAX_LEVEL = 1100;

/**
 * Checks an hnswlib index file against its layout and the sidecar's expectations.
 *
 * @param bytes - the whole file
 * @param file - its path, for messages
 * @throws GenrecError `CORRUPT_ARTIFACT` naming the file and the first field that is wrong
 * @example
 * ```ts
 * validateHnswFile(readFileSync(path), path, { dimension: 64, m: 16, efConstruction: 200, elementCount: 1000, capacity: 1024, deleted: () => false });
 * ```
 */
export function validateHnswFile(bytes: Uint8Array, file: string, expected: HnswFileExpectations): void {
  const corrupt = (message: string, field?: string): GenrecError =>
    new GenrecError('CORRUPT_ARTIFACT', `${file} is not a valid hnswlib index for this sidecar: ${message}`, { details: field === undefined ? { file } : { file, field } });
  if (bytes.byteLength < HNSW_HEADER_BYTES) throw corrupt(`${bytes.byteLength} bytes, shorter than the ${HNSW_HEADER_BYTES}-byte header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = (offset: number, field: string): number => {
    const value = view.getBigUint64(offset, true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(`header field ${field} is ${value}, not a plausible size`, field);
    return Number(value);
  };
  const equal = (actual: number, wanted: number, field: string): void => {
    if (actual !== wanted) throw corrupt(`header field ${field} is ${actual}, expected ${wanted}`, field);
  };
  const { dimension, m, elementCount, capacity } = expected;
  if (!Number.isSafeInteger(m) || m < 2 || m > MAX_M) throw corrupt(`M ${m} is outside 2..${MAX_M}`, 'M');
  const maxM = m;
  const maxM0 = 2 * m;
  const linksLevel0 = maxM0 * 4 + 4;
  const linksUpper = maxM * 4 + 4;
  const dataBytes = dimension * 4;
  const perElement = linksLevel0 + dataBytes + 8;

  equal(size(0, 'offsetLevel0'), 0, 'offsetLevel0');
  equal(size(8, 'maxElements'), capacity, 'maxElements');
  equal(size(16, 'elementCount'), elementCount, 'elementCount');
  equal(size(24, 'sizeDataPerElement'), perElement, 'sizeDataPerElement');
  equal(size(32, 'labelOffset'), linksLevel0 + dataBytes, 'labelOffset');
  equal(size(40, 'offsetData'), linksLevel0, 'offsetData');
  const maxLevel = view.getInt32(48, true);
  const enterPoint = view.getUint32(52, true);
  equal(size(56, 'maxM'), maxM, 'maxM');
  equal(size(64, 'maxM0'), maxM0, 'maxM0');
  equal(size(72, 'M'), m, 'M');
  const mult = view.getFloat64(80, true);
  const expectedMult = 1 / Math.log(m);
  if (!(Math.abs(mult - expectedMult) <= 1e-12 * expectedMult)) throw corrupt(`header field mult is ${mult}, expected 1 / ln(${m}) = ${expectedMult}`, 'mult');
  equal(size(88, 'efConstruction'), Math.max(expected.efConstruction, m), 'efConstruction');

  if (elementCount > capacity) throw corrupt(`${elementCount} elements exceed the capacity ${capacity}`, 'elementCount');
  // the element count is bounded by the file: every element needs its level-0 record and a u32
  const minimum = HNSW_HEADER_BYTES + elementCount * (perElement + 4);
  if (minimum > bytes.byteLength) throw corrupt(`${elementCount} elements need at least ${minimum} bytes, the file has ${bytes.byteLength}`, 'elementCount');
  const spare = (capacity - elementCount) * (perElement + PER_SLOT_OVERHEAD);
  if (spare > MAX_SPARE_CAPACITY_BYTES) {
    throw corrupt(`a capacity of ${capacity} for ${elementCount} elements would reserve ${spare} bytes of empty slots (at most ${MAX_SPARE_CAPACITY_BYTES})`, 'maxElements');
  }

  // upper levels first (level-0 links are checked against every element's level afterwards)
  const levels = new Int32Array(elementCount);
  const upperStart = new Float64Array(elementCount); // byte offset of each element's first upper list
  let offset = HNSW_HEADER_BYTES + elementCount * perElement;
  let highest = -1;
  for (let element = 0; element < elementCount; element++) {
    if (offset + 4 > bytes.byteLength) throw corrupt(`the link lists end early, at element ${element}`, 'linkLists');
    const listBytes = view.getUint32(offset, true);
    offset += 4;
    if (listBytes % linksUpper !== 0) throw corrupt(`element ${element}'s upper link lists take ${listBytes} bytes, not a multiple of ${linksUpper}`, 'linkLists');
    const level = listBytes / linksUpper;
    if (level > MAX_LEVEL) throw corrupt(`element ${element} reaches level ${level}, above ${MAX_LEVEL}`, 'linkLists');
    if (offset + listBytes > bytes.byteLength) throw corrupt(`element ${element}'s upper link lists run past the end of the file`, 'linkLists');
    levels[element] = level;
    upperStart[element] = offset;
    offset += listBytes;
    if (level > highest) highest = level;
  }
  if (offset !== bytes.byteLength) throw corrupt(`${bytes.byteLength - offset} bytes follow the last link list`, 'linkLists');

  if (elementCount === 0) {
    if (maxLevel !== -1) throw corrupt(`an empty graph has maxLevel ${maxLevel}, expected -1`, 'maxLevel');
    if (enterPoint !== 0xffffffff) throw corrupt(`an empty graph has entry point ${enterPoint}, expected none (-1)`, 'enterPoint');
  } else {
    if (maxLevel !== highest) throw corrupt(`header field maxLevel is ${maxLevel}, the highest element level is ${highest}`, 'maxLevel');
    if (enterPoint >= elementCount) throw corrupt(`the entry point ${enterPoint} is not an element (${elementCount} elements)`, 'enterPoint');
    if (levels[enterPoint] !== maxLevel) throw corrupt(`the entry point ${enterPoint} is on level ${levels[enterPoint]}, not the top level ${maxLevel}`, 'enterPoint');
  }

  const labels = new Uint8Array(elementCount);
  for (let element = 0; element < elementCount; element++) {
    const record = HNSW_HEADER_BYTES + element * perElement;
    const count = view.getUint16(record, true);
    const flags = view.getUint8(record + 2);
    if (view.getUint8(record + 3) !== 0 || flags > 1) throw corrupt(`element ${element}'s level-0 header has unknown flag bits`, 'level0');
    if (count > maxM0) throw corrupt(`element ${element} has ${count} level-0 links, more than maxM0 ${maxM0}`, 'level0');
    for (let j = 0; j < count; j++) {
      const neighbour = view.getUint32(record + 4 + 4 * j, true);
      if (neighbour >= elementCount) throw corrupt(`element ${element} links to ${neighbour} on level 0, which is not an element`, 'level0');
    }
    for (let c = 0; c < dimension; c++) {
      const value = view.getFloat32(record + linksLevel0 + 4 * c, true);
      if (value - value !== 0) throw corrupt(`element ${element} has a non-finite vector value ${value}`, 'vectors');
    }
    const label = view.getBigUint64(record + linksLevel0 + dataBytes, true);
    if (label >= BigInt(elementCount)) throw corrupt(`element ${element} carries label ${label}, outside 0..${elementCount - 1}`, 'labels');
    const labelNumber = Number(label);
    if (labels[labelNumber] === 1) throw corrupt(`label ${labelNumber} appears twice`, 'labels');
    labels[labelNumber] = 1;
    if ((flags === 1) !== expected.deleted(labelNumber)) {
      throw corrupt(`element ${element} (label ${labelNumber}) is ${flags === 1 ? '' : 'not '}marked deleted, the sidecar says the opposite`, 'labels');
    }
    const level = levels[element]!;
    for (let l = 1; l <= level; l++) {
      const list = upperStart[element]! + (l - 1) * linksUpper;
      const upperCount = view.getUint16(list, true);
      if (upperCount > maxM) throw corrupt(`element ${element} has ${upperCount} links on level ${l}, more than maxM ${maxM}`, 'linkLists');
      for (let j = 0; j < upperCount; j++) {
        const neighbour = view.getUint32(list + 4 + 4 * j, true);
        // a neighbour below this level would be read outside its own link lists
        if (neighbour >= elementCount || levels[neighbour]! < l) {
          throw corrupt(`element ${element} links to ${neighbour} on level ${l}, which ${neighbour >= elementCount ? 'is not an element' : `only reaches level ${levels[neighbour]}`}`, 'linkLists');
        }
      }
    }
  }
}
