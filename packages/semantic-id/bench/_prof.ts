import { createMatrix, RawDump } from '@genrec/core';
import { fitResidualKMeans } from '/work/main/packages/semantic-id/src/index.js';
const dump = new RawDump('/tmp/peer-dumps/rq_kmeans');
const t = dump.read('rq_titles');
const v = createMatrix(t.shape[0]!, t.shape[1]!, t.data as Float32Array);
const reps = Number(process.argv[2] ?? 5);
for (let r = 0; r < reps; r++) {
  const s = performance.now();
  const events: [string, number][] = [];
  const fit = await fitResidualKMeans(v, { levels: 3, codebookSize: 256, maxIterations: 25, seed: 0, onProgress: (e: any) => { events.push([`${e.task}:${e.type}`, performance.now() - s]); } });
  const total = (performance.now() - s) / 1000;
  console.log(total.toFixed(3), fit.relativeError.toFixed(6), fit.iterationsPerLevel.join(','), fit.skippedFractionPerLevel.map((x) => x.toFixed(2)).join(','));
  if (r === reps - 1) { let prev = 0; for (const [k, tm] of events) { if (k.includes('rq-level-') || k.startsWith('rq-level:')) { console.log(k, (tm - prev).toFixed(1)); prev = tm; } } }
}
