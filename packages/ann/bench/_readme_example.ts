import { FlatIndex, HnswIndex, loadVectorIndex } from '@genrec/ann';
import { Rng, createMatrix } from '@genrec/core';

const rng = new Rng(0);
const items = createMatrix(10_000, 64, rng.fillNormal(new Float32Array(10_000 * 64)));
const itemIds = Int32Array.from({ length: 10_000 }, (_, i) => i + 1);
const queries = createMatrix(2, 64, rng.fillNormal(new Float32Array(2 * 64)));

const exact = new FlatIndex({ dimension: 64, metric: 'ip' });
exact.add(itemIds, items);
const hnsw = new HnswIndex({ dimension: 64, metric: 'ip', m: 16, efConstruction: 200 });
hnsw.add(itemIds, items);

const histories = [new Set([1, 2, 3]), [42]]; // per query: ids never to return
const { ids, scores } = await hnsw.search(queries, 10, { ef: 128, exclude: histories, filter: (id) => id % 2 === 0 });
// ids: Int32Array of 2 x 10, best first; -1 / -Infinity pad rows with fewer than 10 results

await hnsw.save('/tmp/ann-work/readme-items.index'); // folder: index.hnsw + index.json, written atomically
const again = await loadVectorIndex('/tmp/ann-work/readme-items.index', { dimension: 64 }); // an HnswIndex

console.log(Array.from(ids), Array.from(scores).map((v) => v.toFixed(3)), again.kind, again.size);
const exactResult = await exact.search(queries, 10, { exclude: histories, filter: (id) => id % 2 === 0 });
console.log(Array.from(exactResult.ids));
