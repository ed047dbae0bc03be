import { createMatrix, RawDump } from '@genrec/core';
import { fitResidualKMeans } from '../src/index.js';
const dump = new RawDump('/tmp/peer-dumps/rq_kmeans');
const name = process.argv[2] ?? 'rq_titles';
const s = Number(process.argv[3] ?? 2048);
const t = dump.read(name); const x = createMatrix(t.shape[0]!, t.shape[1]!, t.data as Float32Array);
for (let rep = 0; rep < 3; rep++) {
  const changes: string[] = [];
  const st = performance.now(); const r = await fitResidualKMeans(x, { initSampleSize: s, seed: 0, onProgress: (e) => { if (rep === 0 && e.type === 'progress' && e.task.startsWith('rq-level-')) changes.push(`${e.task.slice(9)}:${e.metrics?.changed}`); } });
  console.log(name, s, (performance.now() - st).toFixed(0), 'ms', r.relativeError.toFixed(5), r.iterationsPerLevel.join(','), r.skippedFractionPerLevel.map((v) => v.toFixed(2)).join(','));
  if (rep === 0) console.log(changes.join(' '));
}
