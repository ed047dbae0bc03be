import { describe, expect, it } from 'vitest';
import { runScript, sourcePath } from './test-helpers.js';

// Crash-class checks of issue 11. Each runs in a child process: before the fixes these inputs
// aborted (exit 134), segfaulted (exit 139) or exhausted memory, which would have killed the test
// runner instead of failing a test.

const INDEX = JSON.stringify(sourcePath('index.ts'));
const HELPERS = JSON.stringify(sourcePath('test-helpers.ts'));

function expectCleanExit(run: ReturnType<typeof runScript>): string[] {
  expect({ status: run.status, signal: run.signal, stderr: run.stderr.slice(-2000) }).toMatchObject({ status: 0, signal: null });
  return run.stdout.trim().split('\n');
}

/**
 * A script that searches a 20-vector index with filter callbacks that throw (once on the first
 * candidate, once after a few) and then searches again: prints what each search threw, how often
 * the first callback ran, and whether the index still filters.
 */
function throwingFilterScript(importName: string, construct: string): string {
  return `
import { ${importName} } from ${INDEX};
const index = ${construct};
const vectors = new Float32Array(80).map((_, i) => Math.sin(i * 1.7));
await index.add(Array.from({ length: 20 }, (_, i) => i + 1), vectors);
const query = vectors.slice(12, 16);
const boom = new Error('boom');
let calls = 0;
for (const options of [{ filter: () => { calls++; throw boom; } }, { filter: (id: number) => { if (id > 3) throw boom; return true; }, exclude: [[2]] }]) {
  try {
    await index.search(query, 3, options);
    console.log('no error');
  } catch (error) {
    console.log(error === boom ? 'caught boom' : 'caught another error: ' + String(error));
  }
}
console.log('calls ' + calls);
const after = await index.search(query, 1, { filter: (id) => id % 2 === 0 });
console.log('after ' + (after.ids[0]! % 2 === 0));
`;
}

describe('issue 11: inputs that crashed the process', () => {
  it('a filter callback that throws inside HnswIndex.search reaches the caller as an error; the index keeps working', () => {
    const run = runScript(throwingFilterScript('HnswIndex', 'new HnswIndex({ dimension: 4, m: 4, efConstruction: 20 })'));
    expect(expectCleanExit(run)).toEqual(['caught boom', 'caught boom', 'calls 1', 'after true']);
  });

  it('search(q, 2**31 - 1) on a 20-vector index is INVALID_OPTION before anything is allocated (flat, HNSW, usearch)', () => {
    const run = runScript(`
import { FlatIndex, HnswIndex, UsearchIndex } from ${INDEX};
for (const index of [new FlatIndex({ dimension: 4 }), new HnswIndex({ dimension: 4 }), new UsearchIndex({ dimension: 4 })]) {
  await index.add(Array.from({ length: 20 }, (_, i) => i), new Float32Array(80).map((_, i) => Math.cos(i)));
  for (const k of [2 ** 31 - 1, 1025, 0, 2.5, Number.NaN]) {
    try {
      await index.search(new Float32Array(4).fill(1), k);
      console.log(index.kind + ' ' + k + ' ok');
    } catch (error) {
      console.log(index.kind + ' ' + k + ' ' + (error as { code?: string }).code);
    }
  }
  // up to max(size, 1024) is allowed: rows padded with -1, as the VectorIndex contract says
  const padded = await index.search(new Float32Array(4).fill(1), 1024);
  console.log(index.kind + ' 1024 ' + padded.ids.filter((id) => id >= 0).length + ' ' + index.maxK);
}
console.log('rss below 1 GiB ' + (process.memoryUsage().rss < 2 ** 30));
`);
    const lines = expectCleanExit(run);
    for (const kind of ['flat', 'hnsw', 'usearch']) {
      expect(lines).toContain(`${kind} 2147483647 INVALID_OPTION`);
      expect(lines).toContain(`${kind} 1025 INVALID_OPTION`);
      expect(lines).toContain(`${kind} 0 INVALID_OPTION`);
      expect(lines).toContain(`${kind} 2.5 INVALID_OPTION`);
      expect(lines).toContain(`${kind} NaN INVALID_OPTION`);
      expect(lines).toContain(`${kind} 1024 20 1024`);
    }
    expect(lines).toContain('rss below 1 GiB true');
  });

  it('a corrupted index.hnsw with consistent checksums fails with CORRUPT_ARTIFACT and never reaches hnswlib (no segfault)', () => {
    const run = runScript(`
import { HnswIndex, loadHnswIndex } from ${INDEX};
import { hnswLayout, readArtifactFile, replaceIndexData } from ${HELPERS};
import { join } from 'node:path';
const index = new HnswIndex({ dimension: 4, m: 2, efConstruction: 20, initialCapacity: 64, seed: 5 });
await index.add(Array.from({ length: 60 }, (_, i) => i + 1), new Float32Array(240).map((_, i) => Math.sin(i * 1.3)));
await index.remove([7]);
const path = join(import.meta.dirname, 'index'); // the script's folder, removed by runScript
await index.save(path);
const original = readArtifactFile(path, 'index.hnsw');
const layout = hnswLayout(original);
const high = layout.levels.findIndex((level) => level >= 1);
const low = layout.levels.findIndex((level) => level === 0);
const corruptions: Record<string, (view: DataView) => void> = {
  'level-0 link outside the graph': (view) => view.setUint32(layout.level0[0]! + 4, 1_000_000, true),
  'level-0 link count above maxM0': (view) => view.setUint16(layout.level0[0]!, 60_000, true),
  'element count above the file': (view) => view.setBigUint64(16, 65n, true),
  'element count below the file': (view) => view.setBigUint64(16, 59n, true),
  'entry point outside the graph': (view) => view.setUint32(52, 5_000_000, true),
  'max level above every element': (view) => view.setInt32(48, 7, true),
  'record size of another dimension': (view) => view.setBigUint64(24, view.getBigUint64(24, true) + 4n, true),
  'upper-level link to an element below that level': (view) => { view.setUint16(layout.upper[high]!, 1, true); view.setUint32(layout.upper[high]! + 4, low, true); },
  'upper-level list size not a whole level': (view) => view.setUint32(layout.upper[high]! - 4, layout.upperListBytes + 1, true),
  'deleted mark cleared': (view) => view.setUint8(layout.level0[6]! + 2, 0),
  'label outside the id map': (view) => view.setBigUint64(layout.level0[3]! + layout.perElement - 8, 999n, true),
  'NaN in a vector': (view) => view.setFloat32(layout.level0[2]! + 4 + 4 * 4, Number.NaN, true),
  'capacity of 2^31 elements': (view) => view.setBigUint64(8, 2n ** 31n - 1n, true),
  'truncated': () => {},
};
for (const [name, corrupt] of Object.entries(corruptions)) {
  const bytes = name === 'truncated' ? original.slice(0, original.length - 7) : original.slice();
  corrupt(new DataView(bytes.buffer));
  replaceIndexData(path, 'index.hnsw', bytes);
  try {
    const loaded = await loadHnswIndex(path);
    await loaded.search(new Float32Array([1, 0, 0, 0]), 10);
    console.log(name + ': loaded');
  } catch (error) {
    console.log(name + ': ' + (error as { code?: string }).code);
  }
}
replaceIndexData(path, 'index.hnsw', original);
const again = await loadHnswIndex(path);
console.log('restored ' + again.size + ' ' + (await again.search(new Float32Array([1, 0, 0, 0]), 3)).ids.length);
`);
    const lines = expectCleanExit(run);
    expect(lines.at(-1)).toBe('restored 59 3');
    const results = lines.slice(0, -1);
    expect(results).toHaveLength(14);
    for (const line of results) expect(line).toMatch(/: CORRUPT_ARTIFACT$/);
  });
});

describe('UsearchIndex: inputs that would crash usearch', () => {
  it('a filter callback that throws reaches the caller as an error (it runs in JavaScript, on the candidates); the index keeps working', () => {
    const run = runScript(throwingFilterScript('UsearchIndex', 'new UsearchIndex({ dimension: 4, m: 4, efConstruction: 20, threads: 2 })'));
    expect(expectCleanExit(run)).toEqual(['caught boom', 'caught boom', 'calls 1', 'after true']);
  });

  it('a corrupted index.usearch with consistent checksums fails with CORRUPT_ARTIFACT and never reaches usearch (no segfault)', () => {
    // measured before writing the validator: usearch's own loader accepts a level-0 link to slot
    // 1,000,000 or an entry slot of 5,000,000 and the next search segfaults (exit 139); a row width
    // of 8 bytes for 4 f32 values aborts in free() (exit 134)
    const run = runScript(`
import { UsearchIndex, loadUsearchIndex } from ${INDEX};
import { parseUsearchLayout } from ${JSON.stringify(sourcePath('usearch-file.ts'))};
import { readArtifactFile, replaceIndexData } from ${HELPERS};
import { join } from 'node:path';
const index = new UsearchIndex({ dimension: 4, m: 2, efConstruction: 20 });
await index.add(Array.from({ length: 60 }, (_, i) => i + 1), new Float32Array(240).map((_, i) => Math.sin(i * 1.3)));
await index.remove([7]);
const path = join(import.meta.dirname, 'index'); // the script's folder, removed by runScript
await index.save(path);
const original = readArtifactFile(path, 'index.usearch');
const layout = parseUsearchLayout(original, 'index.usearch');
const levels = Array.from(layout.levels);
const high = levels.findIndex((level) => level >= 1);
const low = levels.findIndex((level) => level === 0);
const removed = Array.from(layout.ids).indexOf(-1);
const node = (slot: number) => layout.nodeOffsets[slot]!;
const head = layout.headOffset;
const graph = layout.graphOffset;
const level1 = (slot: number) => node(slot) + 10 + 4 + 4 * layout.connectivityBase;
const corruptions: Record<string, (view: DataView) => void> = {
  'level-0 link outside the graph': (view) => { view.setUint32(node(0) + 10, 1, true); view.setUint32(node(0) + 14, 1_000_000, true); },
  'level-0 link count above 2M': (view) => view.setUint32(node(0) + 10, 60_000, true),
  'upper-level link to a node below that level': (view) => { view.setUint32(level1(high), 1, true); view.setUint32(level1(high) + 4, low, true); },
  'entry slot outside the graph': (view) => view.setBigUint64(graph + 32, 5_000_000n, true),
  'entry slot below the top level': (view) => view.setBigUint64(graph + 32, BigInt(low), true),
  'max level above every node': (view) => view.setBigUint64(graph + 24, BigInt(Math.max(...levels) + 3), true),
  'row width of another dimension': (view) => view.setUint32(4, 8, true),
  'graph size other than the rows': (view) => view.setBigUint64(graph, BigInt(layout.rows + 1), true),
  'connectivity changed': (view) => view.setBigUint64(graph + 8, 3n, true),
  'level table disagrees with the node': (view) => view.setInt16(graph + 40 + 2 * high, 0, true),
  'format major 3': (view) => view.setUint16(head + 7, 3, true),
  'format minor 0 (pre-2.10 scalar codes; aborted in free() before the check)': (view) => view.setUint16(head + 9, 0, true),
  'metric l2sq instead of ip': (view) => view.setUint8(head + 13, 0x65),
  'scalar kind f16 instead of f32': (view) => view.setUint8(head + 14, 12),
  'dimensions 5': (view) => view.setBigUint64(head + 33, 5n, true),
  'present count off by one': (view) => view.setBigUint64(head + 17, 58n, true),
  'a key stored twice': (view) => view.setBigUint64(node(1), view.getBigUint64(node(0), true), true),
  'removed mark replaced by an id': (view) => view.setBigUint64(node(removed), 999n, true),
  'NaN in a vector': (view) => view.setFloat32(8 + 4 * 5, Number.NaN, true),
  'truncated': () => {},
  'one byte appended': () => {},
};
for (const [name, corrupt] of Object.entries(corruptions)) {
  let bytes = name === 'truncated' ? original.slice(0, original.length - 7) : original.slice();
  if (name === 'one byte appended') bytes = Uint8Array.from([...original, 0]);
  corrupt(new DataView(bytes.buffer));
  replaceIndexData(path, 'index.usearch', bytes);
  try {
    const loaded = await loadUsearchIndex(path);
    await loaded.search(new Float32Array([1, 0, 0, 0]), 10);
    console.log(name + ': loaded');
  } catch (error) {
    console.log(name + ': ' + (error as { code?: string }).code);
  }
}
replaceIndexData(path, 'index.usearch', original);
const again = await loadUsearchIndex(path);
console.log('restored ' + again.size + ' ' + (await again.search(new Float32Array([1, 0, 0, 0]), 3)).ids.length);
`);
    const lines = expectCleanExit(run);
    expect(lines.at(-1)).toBe('restored 59 3');
    const results = lines.slice(0, -1);
    expect(results).toHaveLength(21);
    for (const line of results) expect(line).toMatch(/: CORRUPT_ARTIFACT$/);
  });

  it('an index with most of its vectors removed saves, loads and searches with another ef (usearch load/view overflowed its slot table)', () => {
    // measured before the workaround (reviveRemovedSlots): 1,000 vectors, 990 removed, saved and
    // loaded through usearch -> glibc abort ("free(): corrupted unsorted chunks", exit 134)
    const run = runScript(`
import { UsearchIndex, loadUsearchIndex } from ${INDEX};
import { join } from 'node:path';
const dimension = 8;
const count = 3000;
const index = new UsearchIndex({ dimension, m: 8, efConstruction: 40 });
await index.add(Int32Array.from({ length: count }, (_, i) => i), new Float32Array(count * dimension).map((_, i) => Math.sin(i * 0.37)));
await index.remove(Array.from({ length: count - 5 }, (_, i) => i + 5));
const query = new Float32Array(dimension).fill(1);
const before = await index.search(query, 8, { ef: 100 }); // a view of a graph with 2,995 removed slots
const path = join(import.meta.dirname, 'index'); // the script's folder, removed by runScript
await index.save(path);
for (let round = 0; round < 3; round++) {
  const loaded = await loadUsearchIndex(path);
  const plain = await loaded.search(query, 8);
  const wide = await loaded.search(query, 8, { ef: 100 });
  await loaded.add([count + round], query);
  const after = await loaded.search(query, 1);
  console.log([loaded.size, Array.from(plain.ids).join(), Array.from(wide.ids).join() === Array.from(before.ids).join(), after.ids[0]].join(' '));
}
`);
    const lines = expectCleanExit(run);
    expect(lines).toHaveLength(3);
    for (const [round, line] of lines.entries()) {
      const [size, ids, same, best] = line.split(' ');
      expect(size).toBe('6');
      expect(ids!.split(',').map(Number).sort()).toEqual([-1, -1, -1, 0, 1, 2, 3, 4]);
      expect(same).toBe('true');
      expect(best).toBe(String(3000 + round));
    }
  });
});
