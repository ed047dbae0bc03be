import { createMatrix, RawDump } from '@genrec/core';
import { fitResidualKMeans } from '../src/index.js';
const dump = new RawDump('/tmp/peer-dumps/rq_kmeans');
for (const name of ['rq_titles', 'rq_synthetic']) {
  const t = dump.read(name); const x = createMatrix(t.shape[0]!, t.shape[1]!, t.data as Float32Array);
  const times: number[] = []; let err = 0; let its = '';
  for (let rep = 0; rep < 4; rep++) { const st = performance.now(); const r = await fitResidualKMeans(x, { seed: 0 }); times.push(performance.now() - st); err = r.relativeError; its = r.iterationsPerLevel.join(','); }
  console.log(name, err.toFixed(6), its, times.map((v) => v.toFixed(0)).join(' '));
}
