import { readFileSync } from 'node:fs';
import { createMatrix, sharedPath } from '@genrec/core';
import { readItemCatalog, readSequenceFile, leaveOneOutSplit } from '@genrec/data';
import { fitItemCodes } from '../src/item-codes.js';
import { buildItemVectors } from '../src/item-vectors.js';
import { resolveTigerSpec, type ItemVectorSource } from '../src/options.js';
const ds = await readSequenceFile(sharedPath('data', 'amazon2014-toys', 'Toys_and_Games.txt')!);
const split = leaveOneOutSplit(ds);
const catalog = await readItemCatalog(sharedPath('data', 'amazon2014-toys', 'items.jsonl')!);
const bytes = readFileSync('/tmp/genrec-tiger-cache/sasrec-toys-42.f32');
const given = createMatrix(ds.itemCount, 64, new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)));
const indexed = new Uint8Array(ds.itemCount + 1).fill(1);
for (const [vectors, quantizer] of [['given', 'residual-kmeans'], ['given', 'balanced-kmeans'], ['text', 'residual-kmeans'], ['given+text', 'residual-kmeans']] as const) {
  const spec = resolveTigerSpec({ itemVectors: vectors.split('+') as ItemVectorSource[], quantizer, seed: 42 }, { hasItemVectors: true, hasCatalog: true });
  const t = performance.now();
  const v = await buildItemVectors({ train: split.train, catalog, itemVectors: given }, spec, undefined, undefined);
  const { table, report } = await fitItemCodes(v.vectors, indexed, spec);
  console.log(vectors, quantizer, `vectors+codes ${((performance.now() - t) / 1000).toFixed(1)} s`, JSON.stringify({ ...report, collisionCodes: table.levelSizes.at(-1), elapsedMs: Math.round(report.elapsedMs) }));
}
