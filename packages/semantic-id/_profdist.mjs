import { createMatrix, RawDump } from '@genrec/core';
import { fitResidualKMeans } from './dist/index.js';
const dump = new RawDump('/tmp/peer-dumps/rq_kmeans');
const t = dump.read('rq_titles');
const v = createMatrix(t.shape[0], t.shape[1], t.data);
for (let r = 0; r < 6; r++) { const s = performance.now(); const fit = await fitResidualKMeans(v, { levels: 3, codebookSize: 256, maxIterations: 25, seed: 0 }); console.log(((performance.now()-s)/1000).toFixed(3), fit.relativeError); }
